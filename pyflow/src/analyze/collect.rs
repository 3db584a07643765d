//! What the walk collects while it goes: the facts of the top-level
//! statement, and those of each function, class and named lambda it defines
//! (what their bodies do when called), each behind a typed id.

use crate::collections::OrderedSet;
use crate::facts::{AliasFact, CallableKind, FunctionFact, ImportFact, StatementFacts};
use crate::symbol::Symbol;

/// A [`FnAcc`]'s place among the statement's callables ([`Accs`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct AccId(u32);

/// The facts of the top-level statement being walked, in source order.
#[derive(Default)]
pub(super) struct StmtAcc {
    pub(super) defines: OrderedSet<String>,
    pub(super) uses: OrderedSet<Symbol>,
    pub(super) mutates: OrderedSet<Symbol>,
    pub(super) call_mutates: OrderedSet<Symbol>,
    pub(super) deletes: OrderedSet<String>,
    pub(super) imports: Vec<ImportFact>,
    pub(super) classes: Vec<String>,
    pub(super) calls: OrderedSet<String>,
    pub(super) aliases: Vec<AliasFact>,
    pub(super) dynamic: bool,
}

impl StmtAcc {
    /// The statement's facts, with the callables it defined; positions are
    /// the caller's to fill in.
    pub(super) fn finish(self, functions: Vec<FunctionFact>) -> StatementFacts {
        StatementFacts {
            defines: self.defines.into_iter().map(Symbol::name).collect(),
            uses: self.uses.into_iter().collect(),
            mutates: self.mutates.into_iter().collect(),
            call_mutates: self.call_mutates.into_iter().collect(),
            deletes: self.deletes.into_iter().map(Symbol::name).collect(),
            imports: self.imports,
            functions,
            classes: self.classes,
            calls: self.calls.into_iter().collect(),
            aliases: self.aliases,
            dynamic: self.dynamic,
            ..StatementFacts::default()
        }
    }
}

/// What the body of one callable does to globals when called.
pub(super) struct FnAcc {
    name: String,
    kind: CallableKind,
    pub(super) read: OrderedSet<Symbol>,
    pub(super) written: OrderedSet<String>,
    pub(super) deleted: OrderedSet<String>,
    pub(super) mutated: OrderedSet<Symbol>,
    pub(super) call_mutated: OrderedSet<Symbol>,
    pub(super) calls: OrderedSet<String>,
}

impl FnAcc {
    fn finish(self) -> FunctionFact {
        FunctionFact {
            name: self.name,
            kind: self.kind,
            globals_read: self.read.into_iter().collect(),
            globals_written: self.written.into_iter().collect(),
            globals_deleted: self.deleted.into_iter().collect(),
            globals_mutated: self.mutated.into_iter().collect(),
            globals_call_mutated: self.call_mutated.into_iter().collect(),
            calls: self.calls.into_iter().collect(),
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
            read: OrderedSet::default(),
            written: OrderedSet::default(),
            deleted: OrderedSet::default(),
            mutated: OrderedSet::default(),
            call_mutated: OrderedSet::default(),
            calls: OrderedSet::default(),
        });
        id
    }

    pub(super) fn get_mut(&mut self, id: AccId) -> &mut FnAcc {
        &mut self.0[id.0 as usize]
    }

    /// The facts of every callable, emptying the list for the next statement.
    pub(super) fn finish(&mut self) -> Vec<FunctionFact> {
        self.0.drain(..).map(FnAcc::finish).collect()
    }
}
