//! # pyflow: which executions made this value
//!
//! The pure-Rust core of prov's dataflow: a per-statement static analysis of
//! each executed cell ([`analyze_cell`]) and an engine ([`Dataflow`]) that
//! turns the executions of a trial, in the order they really ran, plus what a
//! cheap runtime probe saw ([`RuntimeFacts`]), into versions of variables and
//! the dependencies between them. The kernel feeds it and stores its inputs;
//! the magics and `provctl deps` ask it questions.
//!
//! ## Parser: `ruff_python_parser`, pinned
//!
//! Cells are parsed with `ruff_python_parser` (with `ruff_python_ast` and
//! `ruff_text_size`), pinned to `=0.0.10`, the crates.io release of the
//! parser that Ruff and ty use. Why this one:
//!
//! * **Current syntax, maintained.** It is a hand-written parser kept in step
//!   with CPython by Astral: `match`, walrus, PEP 701 f-strings (nested
//!   quotes, nested format specs such as `f"{x!r:{width}}"`), PEP 695 type
//!   parameters and `type X = ...`, PEP 750 t-strings, async, decorators. It
//!   is told to accept everything up to Python 3.14; the real interpreter
//!   still has the last word (a `SyntaxError` at run time means nothing ran).
//! * **IPython built in.** Its IPython mode lexes `%line` magics, `%%cell`
//!   lines, `!shell`, `x = !ls`, `x = %magic`, `obj?`, `??obj` and the
//!   autocall escapes (`/f a`, `,f a b`) into dedicated AST nodes with exact
//!   ranges, so IPython syntax is masked by the parser itself instead of by
//!   rewriting lines with regexes, and `x = !ls` naturally defines `x`.
//! * **Typed AST, visitor, positions.** Scope analysis works on typed nodes
//!   (not node-kind strings), and every node carries a byte range, from which
//!   statement lines and a slice's code are cut.
//! * **Fast.** See the `bench` benchmark: a 2,000-statement cell is parsed
//!   and analysed in about a millisecond.
//!
//! Rejected: `tree-sitter-python` (an untyped concrete syntax tree queried by
//! node-kind strings, a C build step, no IPython mode — magics become
//! `ERROR` nodes that can swallow their neighbours — and its error recovery
//! answers "best-effort tree" where we need "would CPython run this");
//! `rustpython-parser` (unmaintained since Ruff forked it, no PEP 695/701).
//!
//! Costs, accepted knowingly: the 0.0.x crates are published as "internal
//! component crates of Ruff", so the API may change between releases — hence
//! the exact pin, and all parser-facing code lives in `walker.rs`; they need
//! rustc ≥ 1.95 (this crate's `rust-version`). The parser recurses once per
//! nesting level, so hostile input could overflow the stack: the analysis
//! first bounds the nesting with Ruff's iterative lexer, using CPython's own
//! limits (200 nested brackets, 100 indentation levels, a few thousand
//! chained operators — beyond which CPython refuses to compile too), then
//! parses on a thread with a 64 MiB stack and turns any panic into a
//! "could not analyse" record. [`analyze_cell`] never fails and never panics.
//!
//! ## What the analysis records
//!
//! Per top-level statement ([`StatementFacts`]; compound statements are one
//! statement with everything inside aggregated): names defined, [`Symbol`]s
//! used, mutated (by store, or by method call), deleted; imports; functions
//! and classes with what their bodies read and write *when called*
//! ([`FunctionFact`]); calls; `b = a` aliases; whether it can bind names the
//! analysis cannot see (`exec`, star import, magics). Symbols are a name plus
//! literal keys and attributes (`d['a']`, `o.x`), so `d['a'] = 1` stays out
//! of the history of `d['b']`. Comprehension variables, lambda and function
//! parameters stay in their scopes; a name bound earlier in the same
//! statement (`with open(p) as f: f.read()`) is not a use of an older value.
//!
//! ## The engine
//!
//! Each definition or mutation is a new version of a symbol, produced by a
//! statement of an execution; a statement depends on the current versions of
//! every symbol overlapping what it reads (`d` and `d['a']`), and a store into
//! `d['a']` on the current versions of its container `d`. A call of a
//! notebook function is expanded at call time into what its body reads,
//! writes and mutates, transitively. `del x` ends `x`'s history. Re-runs are
//! new executions. A failed execution's statements from the failing one on
//! define nothing. Runtime facts win over the static answer: names bound only
//! at run time become definitions, names the code "defines" that the probe
//! did not see bound are not, and names sharing an object `id()` are aliases,
//! so a mutation through one is a new version of the others. Queries
//! ([`Dataflow::backwards_deps`], [`Dataflow::global_backwards_deps`],
//! [`Dataflow::slice`], [`Dataflow::graph`]) walk a petgraph graph of
//! versions and statements and answer in execution order, statement-precise.
//!
//! The store keeps each [`ExecutionInput`] (serde JSON) and rebuilds a
//! trial with [`Dataflow::replay`], so queries work on any trial and survive
//! restarts; [`ANALYSIS_VERSION`] says when stored analyses should be redone
//! from the stored code.

#![warn(missing_docs)]

mod analysis;
mod collections;
mod dataflow;
mod symbol;
mod walker;

pub use analysis::{
    analyze_cell, statement_at_line, AliasFact, CallableKind, CellAnalysis, FunctionFact,
    ImportFact, ParseError, StatementFacts, ANALYSIS_VERSION,
};
pub use dataflow::{
    Dataflow, DepGraph, ExecDep, ExecRef, ExecutionFlow, ExecutionInput, GraphEdge, GraphNode,
    RuntimeFacts, StatementRef, UnknownVariable,
};
pub use symbol::{Key, PathPart, Symbol};
