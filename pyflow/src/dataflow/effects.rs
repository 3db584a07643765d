//! A statement's effects with calls of notebook functions expanded: calling
//! `f` reads, writes and mutates what `f`'s body does, at call time (late
//! binding: `def f(): return x`, then `x = 2; f()` reads this `x`).

use super::graph::Binding;
use super::Dataflow;
use crate::facts::StatementFacts;
use crate::symbol::Symbol;

/// A statement's effects once calls of notebook functions are expanded.
#[derive(Default)]
pub(super) struct Effects {
    pub(super) uses: Vec<Symbol>,
    pub(super) defines: Vec<(String, Binding)>,
    pub(super) stores: Vec<Symbol>,
    pub(super) in_place: Vec<Symbol>,
    pub(super) deletes: Vec<String>,
}

impl Effects {
    /// Whether the statement (re)binds the name `base`.
    pub(super) fn defines_name(&self, base: &str) -> bool {
        self.defines.iter().any(|(n, _)| n == base)
    }

    /// Stores and in-place changes, in that order.
    pub(super) fn mutations(&self) -> impl Iterator<Item = &Symbol> {
        self.stores.iter().chain(self.in_place.iter())
    }
}

impl Dataflow {
    /// A statement's effects with calls of notebook functions expanded (at
    /// call time: the definitions current now), transitively.
    pub(super) fn effects(&self, st: &StatementFacts) -> Effects {
        let mut eff = Effects {
            uses: st.uses.clone(),
            stores: st.mutates.clone(),
            deletes: st.deletes.iter().map(|s| s.base.clone()).collect(),
            ..Effects::default()
        };
        for d in &st.defines {
            let binding = if st.functions.iter().any(|f| f.name == d.base) {
                Binding::Callable
            } else if st.imports.iter().any(|i| i.bound_as == d.base) {
                Binding::Module
            } else {
                Binding::Data
            };
            eff.defines.push((d.base.clone(), binding));
        }
        let mut call_mutates: Vec<Symbol> = st.call_mutates.clone();

        if !self.callables.is_empty() || self.holds_generators(&st.uses) {
            let mut queue: Vec<&str> = st.calls.iter().map(String::as_str).collect();
            queue.extend(st.uses.iter().map(|u| u.base.as_str()));
            let mut seen: Vec<&str> = Vec::new();
            while let Some(name) = queue.pop() {
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                let Some(fact) = self.lookup(name).and_then(|id| self.body_run_by(id)) else {
                    continue;
                };
                eff.uses.extend(fact.globals_read.iter().cloned());
                eff.defines.extend(
                    fact.globals_written
                        .iter()
                        .map(|n| (n.clone(), Binding::Data)),
                );
                eff.stores.extend(fact.globals_mutated.iter().cloned());
                call_mutates.extend(fact.globals_call_mutated.iter().cloned());
                eff.deletes.extend(fact.globals_deleted.iter().cloned());
                queue.extend(fact.calls.iter().map(String::as_str));
                queue.extend(fact.globals_read.iter().map(|s| s.base.as_str()));
            }
        }
        // A method call on a module, function or class (`np.zeros(3)`,
        // `Model.load()`), or on a name the trial never bound, is not a
        // mutation of anything the notebook tracks.
        for m in call_mutates {
            let data = eff.defines.iter().any(|(n, _)| *n == m.base)
                || (self.is_live(&m.base)
                    && self.binding_of(&m.base).unwrap_or(Binding::Data) == Binding::Data);
            if data {
                eff.in_place.push(m);
            }
        }
        self.hidden_state_changes(st, &mut eff);
        eff
    }
}
