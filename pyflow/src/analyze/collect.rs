//! What the walk collects while it goes: the facts of the top-level
//! statement, and those of each function, class and named lambda it defines
//! (what their bodies do when called), each behind a typed id.

use crate::collections::OrderedSet;
use crate::facts::{AliasFact, ArgCall, CallableKind, FunctionFact, ImportFact, StatementFacts};
use crate::symbol::Symbol;

/// A [`FnAcc`]'s place among the statement's callables ([`Accs`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct AccId(u32);

/// What a piece of code does to globals, in source order: the same six
/// lists for the statement (what it does now) and for a callable's body
/// (what it does when called).
#[derive(Default)]
pub(super) struct GlobalEffects {
    pub(super) reads: OrderedSet<Symbol>,
    pub(super) binds: OrderedSet<String>,
    pub(super) deletes: OrderedSet<String>,
    /// Changed in place by a store (`d[k] = v`, `x += 1`, `del d[k]`).
    pub(super) mutates: OrderedSet<Symbol>,
    /// Changed in place by a method call (`lst.append(x)`).
    pub(super) call_mutates: OrderedSet<Symbol>,
    pub(super) calls: OrderedSet<String>,
    /// Calls passing named values on (see [`ArgCall`]).
    pub(super) arg_calls: Vec<ArgCall>,
}

/// The facts of the top-level statement being walked.
#[derive(Default)]
pub(super) struct StmtAcc {
    pub(super) effects: GlobalEffects,
    pub(super) imports: Vec<ImportFact>,
    pub(super) classes: Vec<String>,
    pub(super) aliases: Vec<AliasFact>,
    pub(super) dynamic: bool,
    pub(super) immutable: Vec<String>,
    /// Names bound inside a `try` body that has handlers.
    pub(super) unsure: OrderedSet<String>,
    /// Names bound in a handler or `finally`: bound either way.
    pub(super) sure: OrderedSet<String>,
}

impl StmtAcc {
    /// The statement's facts, with the callables it defined; positions are
    /// the caller's to fill in. Empties the accumulator but keeps its
    /// allocations for the next statement (a cell has thousands).
    pub(super) fn finish(&mut self, functions: Vec<FunctionFact>) -> StatementFacts {
        let e = &mut self.effects;
        let facts = StatementFacts {
            defines: e.binds.drain(..).map(Symbol::name).collect(),
            uses: e.reads.drain(..).collect(),
            mutates: e.mutates.drain(..).collect(),
            call_mutates: e.call_mutates.drain(..).collect(),
            deletes: e.deletes.drain(..).map(Symbol::name).collect(),
            imports: std::mem::take(&mut self.imports),
            functions,
            classes: std::mem::take(&mut self.classes),
            calls: e.calls.drain(..).collect(),
            aliases: std::mem::take(&mut self.aliases),
            dynamic: self.dynamic,
            arg_calls: std::mem::take(&mut e.arg_calls),
            immutable: std::mem::take(&mut self.immutable),
            unsure_defines: self
                .unsure
                .drain(..)
                .filter(|n| !self.sure.contains(n))
                .collect(),
            ..StatementFacts::default()
        };
        self.dynamic = false;
        self.sure.clear();
        facts
    }
}

/// What the body of one callable does to globals when called.
pub(super) struct FnAcc {
    name: String,
    kind: CallableKind,
    pub(super) effects: GlobalEffects,
    pub(super) params: Vec<String>,
    pub(super) params_mutated: OrderedSet<String>,
    /// Parameters rebound so far: a change after that is not the caller's.
    pub(super) params_rebound: OrderedSet<String>,
    /// See [`FunctionFact::keeps_state`], `generator`, `cached`.
    pub(super) keeps_state: bool,
    pub(super) generator: bool,
    pub(super) cached: bool,
}

impl FnAcc {
    fn finish(self) -> FunctionFact {
        let e = self.effects;
        FunctionFact {
            name: self.name,
            kind: self.kind,
            globals_read: e.reads.into_iter().collect(),
            globals_written: e.binds.into_iter().collect(),
            globals_deleted: e.deletes.into_iter().collect(),
            globals_mutated: e.mutates.into_iter().collect(),
            globals_call_mutated: e.call_mutates.into_iter().collect(),
            calls: e.calls.into_iter().collect(),
            params: self.params,
            params_mutated: self.params_mutated.into_iter().collect(),
            arg_calls: e.arg_calls,
            keeps_state: self.keeps_state,
            generator: self.generator,
            cached: self.cached,
        }
    }
}

/// The callables of the statement being walked, in definition order.
#[derive(Default)]
pub(super) struct Accs(Vec<FnAcc>);

impl Accs {
    /// Starts the facts of a callable called `name`.
    pub(super) fn open(&mut self, name: &str, kind: CallableKind) -> AccId {
        let id = AccId(self.0.len() as u32);
        self.0.push(FnAcc {
            name: name.to_string(),
            kind,
            effects: GlobalEffects::default(),
            params: Vec::new(),
            params_mutated: OrderedSet::default(),
            params_rebound: OrderedSet::default(),
            keeps_state: false,
            generator: false,
            cached: false,
        });
        id
    }

    pub(super) fn get(&self, id: AccId) -> &FnAcc {
        &self.0[id.0 as usize]
    }

    pub(super) fn get_mut(&mut self, id: AccId) -> &mut FnAcc {
        &mut self.0[id.0 as usize]
    }

    /// The facts of every callable, emptying the list for the next statement.
    pub(super) fn finish(&mut self) -> Vec<FunctionFact> {
        self.0.drain(..).map(FnAcc::finish).collect()
    }
}
