//! Hidden state: values that change, or are read, where no assignment
//! shows it. A closure over a `nonlocal` (`counter()` changes what the next
//! `counter()` returns), a `functools.lru_cache`d function (a call may fill
//! the cache the next call answers from), a generator (its body runs, and
//! reads, when it is consumed, not when it is made), and an instance reading
//! its class's attributes (`m.rate` is `Model.rate` until set on `m`).

use super::effects::Effects;
use super::graph::{Binding, NameId};
use super::Dataflow;
use crate::facts::{CallableKind, FunctionFact, StatementFacts};
use crate::symbol::Symbol;

impl Dataflow {
    /// The body a use of `id` runs: a notebook function's (a generator
    /// function's runs only when its generator is consumed), or, for a
    /// generator, the body of the function that made it.
    pub(super) fn body_run_by(&self, id: NameId) -> Option<&FunctionFact> {
        match self.callables.get(&id) {
            Some(fact) if fact.generator => None,
            Some(fact) => Some(fact),
            None => self.state[id.index()].runs.as_deref(),
        }
    }

    /// Whether any of `uses` holds a generator not yet consumed.
    pub(super) fn holds_generators(&self, uses: &[Symbol]) -> bool {
        uses.iter().any(|u| {
            self.lookup(&u.base)
                .is_some_and(|id| self.state[id.index()].runs.is_some())
        })
    }

    /// The state a statement's calls and uses change: calling a closure
    /// that keeps state or a cached function, consuming a generator. Each is
    /// a change of that name in place, read by its next call.
    pub(super) fn hidden_state_changes(&self, st: &StatementFacts, eff: &mut Effects) {
        for name in &st.calls {
            let Some(id) = self.lookup(name) else {
                continue;
            };
            let state = &self.state[id.index()];
            let cached = self.callables.get(&id).is_some_and(|f| f.cached);
            if (state.stateful || cached) && !state.live.is_empty() {
                eff.in_place.push(Symbol::name(name.clone()));
            }
        }
        for u in &st.uses {
            let consumed = self
                .lookup(&u.base)
                .is_some_and(|id| self.state[id.index()].runs.is_some());
            if consumed && !eff.in_place.iter().any(|m| m.base == u.base) {
                eff.in_place.push(Symbol::name(u.base.clone()));
            }
        }
    }

    /// `target = source(...)` ran: an instance of a notebook class, a
    /// closure that keeps state, or a generator waiting to run.
    pub(super) fn made_by_call(&mut self, target: &str, source: &str) {
        let (Some(tid), Some(sid)) = (self.lookup(target), self.lookup(source)) else {
            return;
        };
        if self.state[tid.index()].binding != Some(Binding::Data) {
            return;
        }
        let Some(fact) = self.callables.get(&sid) else {
            return;
        };
        let (class, keeps_state, generator) = (
            fact.kind == CallableKind::Class,
            fact.kind == CallableKind::Function && fact.keeps_state,
            fact.generator.then(|| Box::new(fact.clone())),
        );
        let class_object = self.object_of(source);
        let st = &mut self.state[tid.index()];
        if class {
            st.instance_of = class_object.map(|key| (sid, key));
        }
        st.stateful = keeps_state;
        st.runs = generator;
    }

    /// What reading `symbol` of an instance also reads of its class
    /// (`m.rate` reads `Model.rate`), while the class name still holds it.
    pub(super) fn class_symbol(&self, symbol: &Symbol) -> Option<Symbol> {
        let id = self.lookup(&symbol.base)?;
        let (class, key) = self.state[id.index()].instance_of?;
        (self.state[class.index()].object == Some(key)).then(|| Symbol {
            base: self.names[class.index()].clone(),
            path: symbol.path.clone(),
        })
    }
}
