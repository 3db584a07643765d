//! A statement's effects with calls of notebook functions expanded: calling
//! `f` reads, writes and mutates what `f`'s body does, at call time (late
//! binding: `def f(): return x`, then `x = 2; f()` reads this `x`).

use super::graph::Binding;
use super::Dataflow;
use crate::facts::{ArgCall, CallableKind, FunctionFact, StatementFacts};
use crate::symbol::Symbol;

/// How deep calls of notebook functions are followed to map parameters to
/// arguments (`train` calling `fit_model` calling ...).
const MAX_CALL_DEPTH: u32 = 8;

/// A statement's effects once calls of notebook functions are expanded.
#[derive(Default)]
pub(super) struct Effects {
    pub(super) uses: Vec<Symbol>,
    pub(super) defines: Vec<(String, Binding)>,
    pub(super) stores: Vec<Symbol>,
    pub(super) in_place: Vec<Symbol>,
    pub(super) deletes: Vec<String>,
    /// In-place changes assumed, not known: an argument passed to a callee
    /// on no list (`f(x)` may change `x`), with the callee as written.
    pub(super) assumed: Vec<(Symbol, String)>,
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
        let mut assumed: Vec<(Symbol, String)> = Vec::new();
        for call in &st.arg_calls {
            self.arg_call(
                call,
                &|s| Some(s.clone()),
                0,
                &mut call_mutates,
                &mut assumed,
            );
        }

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
                // What the body passes on of globals (`random.shuffle(deck)`);
                // its parameters are mapped at the call that passes them.
                let globals = |s: &Symbol| (!fact.params.contains(&s.base)).then(|| s.clone());
                for call in &fact.arg_calls {
                    self.arg_call(call, &globals, 0, &mut call_mutates, &mut assumed);
                }
                queue.extend(fact.calls.iter().map(String::as_str));
                queue.extend(fact.globals_read.iter().map(|s| s.base.as_str()));
            }
        }
        // A method call on a module, function or class (`np.zeros(3)`,
        // `Model.load()`), or on a name the trial never bound, is not a
        // mutation of anything the notebook tracks.
        let is_data = |m: &Symbol| {
            eff.defines.iter().any(|(n, _)| *n == m.base)
                || (self.is_live(&m.base)
                    && self.binding_of(&m.base).unwrap_or(Binding::Data) == Binding::Data)
        };
        let mut in_place = Vec::new();
        for m in call_mutates {
            if is_data(&m) && !in_place.contains(&m) {
                in_place.push(m);
            }
        }
        // An assumption only for what can change in place: not a value
        // bound to a literal or a scalar (`n = 3`), nor one known to change.
        let mut kept = Vec::new();
        for (m, callee) in assumed {
            let immutable =
                m.path.is_empty() && !eff.defines_name(&m.base) && self.is_immutable(&m.base);
            if is_data(&m) && !immutable && !in_place.contains(&m) {
                in_place.push(m.clone());
                kept.push((m, callee));
            }
        }
        eff.in_place = in_place;
        eff.assumed = kept;
        self.hidden_state_changes(st, &mut eff);
        eff
    }

    /// What a call passing named values does to them: a notebook function's
    /// body changes the arguments of the parameters it changes (followed
    /// through the calls it makes), a listed mutator those it is known to
    /// change, and a callee on no list may change each one (`assumed`).
    /// `bind` turns a symbol as the call wrote it into the caller's symbol
    /// (a parameter into its argument), `None` when it is none of the
    /// caller's business.
    fn arg_call(
        &self,
        call: &ArgCall,
        bind: &dyn Fn(&Symbol) -> Option<Symbol>,
        depth: u32,
        known: &mut Vec<Symbol>,
        assumed: &mut Vec<(Symbol, String)>,
    ) {
        known.extend(call.changes.iter().filter_map(bind));
        if !call.unknown {
            return;
        }
        let passed = || {
            let args = call.args.iter().flatten().filter_map(bind);
            args.chain(call.keywords.iter().filter_map(|(_, s)| bind(s)))
        };
        match call.callee.split_once('.') {
            None => {
                let fact = self
                    .lookup(&call.callee)
                    .and_then(|id| self.callables.get(&id));
                if let Some(fact) = fact {
                    if fact.kind != CallableKind::Class && depth < MAX_CALL_DEPTH {
                        self.through_body(call, fact, bind, depth, known, assumed);
                    }
                    return;
                }
                // A notebook object called (a model's `__call__`) changes
                // itself, not its arguments, as a method does.
                if self.is_live(&call.callee)
                    && self.binding_of(&call.callee) != Some(Binding::Module)
                {
                    return;
                }
            }
            // `a.f(x)` changes `x` only if `a` is a module; a method of
            // notebook data changes its receiver.
            Some((root, _)) => {
                if self.binding_of(root) != Some(Binding::Module) {
                    return;
                }
            }
        }
        if call.for_effect {
            assumed.extend(passed().map(|s| (s, call.callee.clone())));
        }
    }

    /// A call of the notebook function `fact`: its parameters bound to the
    /// caller's arguments, what its body changes of them.
    fn through_body(
        &self,
        call: &ArgCall,
        fact: &FunctionFact,
        bind: &dyn Fn(&Symbol) -> Option<Symbol>,
        depth: u32,
        known: &mut Vec<Symbol>,
        assumed: &mut Vec<(Symbol, String)>,
    ) {
        let mut params: Vec<(&str, Symbol)> = Vec::new();
        for (param, arg) in fact.params.iter().zip(&call.args) {
            if let Some(s) = arg.as_ref().and_then(bind) {
                params.push((param, s));
            }
        }
        for (name, arg) in &call.keywords {
            if fact.params.contains(name) {
                if let Some(s) = bind(arg) {
                    params.push((name, s));
                }
            }
        }
        if params.is_empty() {
            return;
        }
        let of_param = |s: &Symbol| -> Option<Symbol> {
            let (_, outer) = params.iter().find(|(p, _)| *p == s.base)?;
            let mut outer = outer.clone();
            outer.path.extend(s.path.iter().cloned());
            Some(outer)
        };
        for p in &fact.params_mutated {
            known.extend(of_param(&Symbol::name(p.as_str())));
        }
        for inner in &fact.arg_calls {
            self.arg_call(inner, &of_param, depth + 1, known, assumed);
        }
    }
}
