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
//! * **Fast.** It parses a 2,000-statement cell in about 1.5 ms; the whole
//!   analysis of that cell takes 2.5–4 ms (`cargo bench -p pyflow`).
//!
//! Rejected: `tree-sitter-python` (an untyped concrete syntax tree queried by
//! node-kind strings, a C build step, no IPython mode — magics become
//! `ERROR` nodes that can swallow their neighbours — and its error recovery
//! answers "best-effort tree" where we need "would CPython run this");
//! `rustpython-parser` (unmaintained since Ruff forked it, no PEP 695/701).
//!
//! Costs, accepted knowingly: the 0.0.x crates are published as "internal
//! component crates of Ruff", so the API may change between releases — hence
//! the exact pin, and all parser-facing code lives in `analyze/`; they need
//! rustc ≥ 1.95 (this crate's `rust-version`). The parser recurses once per
//! nesting level, so hostile input could overflow the stack: the analysis
//! first bounds the nesting with Ruff's iterative lexer, using CPython's own
//! limits (200 nested brackets, 100 indentation levels, a few thousand
//! chained operators — beyond which CPython refuses to compile too), then
//! parses shallow cells (nearly all) on the caller's stack and deeper ones on
//! a thread with a 64 MiB stack, and turns any panic into a "could not
//! analyse" record. It also refuses mismatched brackets up front, as
//! CPython's tokenizer does: fuzzing found that Ruff 0.0.10's recovery from
//! them can reach an `unreachable!()` in IPython mode; so can a character no
//! expression has (`$`, `?`, `€`) inside an f-string's replacement field,
//! refused up front too (CPython refuses it as well). [`analyze_cell`]
//! never fails and never panics.
//!
//! ## What the analysis records
//!
//! Per top-level statement ([`StatementFacts`]; compound statements are one
//! statement with everything inside aggregated): names defined, [`Symbol`]s
//! used, mutated (by store, or by method call), deleted; imports; functions
//! and classes with what their bodies read and write *when called*
//! ([`FunctionFact`]); calls; aliases ([`AliasFact`]: `b = a`, an object
//! held in another, `first = rows[0]`, `d['m'] = model`, `for r in rows`, a
//! shallow copy, `copy.copy(x)`, what a call returned, `m = Model()`);
//! whether it can bind names the analysis cannot see (`exec`, star import,
//! magics). Symbols are a name plus
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
//! so a mutation through one is a new version of the others.
//!
//! Aliases count inside a cell exactly as across cells: `b = a` makes `b` a
//! name of `a`'s object from that statement on (the probe's `id()`s take
//! over after the cell); `x += v` is a change of the object, not a
//! rebinding, unless the probe says otherwise (another `id()`, or for a name
//! first bound in the cell an immutable type, [`RuntimeFacts::types`]).
//! Objects held in others are links between objects (`dataflow/links.rs`):
//! a change of the held object is a change of its holder at its place
//! (`first.append(9)` changes `rows[0]`), a change at or below that place a
//! change of the held object (`rows[0].append(1)` changes `first`), not
//! `rows.append` nor `rows[0] = [7]`, which also ends the link; a shallow
//! copy shares changes inside members (`c.items.append`), not of its own
//! slots. A value of an immutable type is nobody's alias.
//!
//! Hidden state (`dataflow/state.rs`): calling a closure that assigns a
//! `nonlocal` (`counter = make_counter()`), or a `functools.lru_cache` /
//! `cache`d function, is a change of it, so each call depends on the
//! earlier ones (for a cached function, sound rather than exact: a call
//! reads the globals now *and* the earlier calls, since whether the cache
//! answers is a runtime matter); a generator function's body runs, and
//! reads, when its generator is consumed (`next(g)`, `sum(g)`, `for`), and
//! consuming is a change of the generator; calling a decorated function
//! runs its decorator's facts (the wrapper); an instance of a notebook
//! class reads its class's attributes (`m.rate` reads `Model.rate`, also
//! after `Model.rate = 0.2`).
//!
//! Files (`dataflow/files.rs`): a file the code opened is a name, its
//! resolved path ([`is_file_name`]; [`RuntimeFacts::files`]). A write by a
//! statement is a new version of it made by that statement; a read makes the
//! statement depend on the file's current version when the content read
//! (its sha256) is the one the trial last wrote, and otherwise on a new
//! *external* version that no statement made ([`NewVersion::external`]):
//! the content came from outside, and nothing before it is a dependency. An
//! access with no line is placed like what only the probe saw (the first
//! dynamic statement, else the last that started). Lists of variables
//! ([`Dataflow::variables`], name suggestions) leave files out.
//!
//! Versions and statements are the nodes of a petgraph graph whose edges
//! point from what depends to what it depends on; node order is topological,
//! so a query is one sweep down from the versions asked about. Answers
//! ([`Dataflow::backwards_deps`], [`Dataflow::global_backwards_deps`],
//! [`Dataflow::slice`], [`Dataflow::graph`], [`Dataflow::backwards_graph`])
//! come in execution order and are statement-precise: an execution is in an
//! answer when one of its statements contributed.
//!
//! The store keeps each execution's facts (the analysis and the probe's
//! notes), from which [`Dataflow::replay`] rebuilds a trial (about 1.5 s per
//! 100,000 executions); [`ANALYSIS_VERSION`] says when stored analyses should
//! be redone from the stored code. So that queries need no replay, the
//! kernel's writer also feeds a live `Dataflow` with
//! [`Dataflow::add_execution_delta`] and writes down what each execution
//! added to the graph ([`ExecutionDelta`]: new versions, versions no longer
//! current, and what each producing statement read, statement to statement);
//! walking those rows from the current versions of a symbol gives exactly
//! the statements [`Dataflow::backwards_deps_statements`] gives (checked on
//! every case of `tests/deps_table.txt`). A `Dataflow` is also
//! serde-serialisable, as a cache.
//!
//! ## The runtime probe's contract
//!
//! [`RuntimeFacts::bound`] lists the globals whose binding changed during
//! the execution (new, or a different `id()`), with the new `id()`;
//! [`RuntimeFacts::deleted`] the globals that disappeared. A name rebound to
//! the very same object (`n = 10` run twice) is invisible to such a probe, so
//! its silence does not undo a static definition, except in a failed
//! execution whose failing statement is unknown ([`ExecutionInput::failed`]).
//!
//! ## Layout
//!
//! Layered, each module using only those above it (no import circle):
//!
//! 1. `symbol.rs` ([`Symbol`]) and `collections.rs` (the Fx hash and the
//!    ordered set): leaves.
//! 2. `facts.rs`: the analysis's output as plain data ([`CellAnalysis`],
//!    [`StatementFacts`], ...), what the store keeps and the engine reads.
//! 3. `analyze/`: [`analyze_cell`]. `guards.rs` (CPython's nesting limits,
//!    checked before the recursive parser runs), `known_names.rs` (read-only
//!    methods, view attributes, dynamic calls), `ipython.rs` (magic lines
//!    and interpolations as text), `lines.rs`; `scope.rs` (scopes in an
//!    arena with typed ids, and Python's lookup and binding rules),
//!    `bindings.rs` (a function's locals, found before its body is walked),
//!    `chain.rs` (`d['a'].x` to a symbol), `collect.rs` (the facts being
//!    collected); `walker/` (the AST walk: state and recording in `mod.rs`,
//!    then `statements.rs`, `expressions.rs`, `escapes.rs`, one type whose
//!    methods recurse as Python's grammar nests); `mod.rs` (the cell:
//!    cell magics, guards, parse, walk).
//! 4. `dataflow/`: [`Dataflow`], which reads `facts` but never `analyze`.
//!    `input.rs` and `answers.rs` (public data in and out), `graph.rs`
//!    (typed ids, nodes that are a statement or a version, per-name state),
//!    `links.rs` (objects held in others, copies, immutable types),
//!    `versions.rs` (making versions), `state.rs` (hidden state: closures,
//!    caches, generators, class attributes), `effects.rs` (calls of notebook
//!    functions expanded), `files.rs` (files read and written, by content),
//!    `query.rs` (reading the graph), `similar.rs`;
//!    `add.rs` (one execution, as named steps over an explicit pass state).
//!
//! ## Known limits
//!
//! * Granularity is the top-level statement: everything a `for`/`if`/`with`
//!   block defines depends on everything it reads.
//! * A method call on a name is a mutation unless the method is on a list of
//!   known read-only ones (`head`, `get`, `upper`, `predict`, ...) and not
//!   called with `inplace=True`; calls on modules, classes and functions are
//!   not mutations.
//! * Arguments changed by a call ([`ArgCall`]): a notebook function's
//!   parameters are mapped to the arguments (positional and keyword,
//!   through nested notebook calls, 8 deep), listed mutators
//!   (`random.shuffle`, `np.random.shuffle`, `np.copyto`, `rng.shuffle`,
//!   `heapq.heappush`, `next`, a trailing `_` as in `torch.nn.init.zeros_`)
//!   and `out=` change what they are given; a callee on no list called for
//!   its effect (a whole statement, its result dropped) changes every
//!   argument holding mutable data, *assumed* and reported as such
//!   (`clean(df) may change df`). What remains: a callee on no list whose
//!   result is used is taken to compute it (`model = fit(C, X)` leaves `X`
//!   alone, so a diff does not report `X` changed by `C`), which misses a
//!   function that both changes and returns; a method of notebook data
//!   changes its receiver, never its arguments (`model.fit_into(buf)`
//!   leaves `buf` alone); a CamelCase callee is taken for a constructor that
//!   keeps its arguments (`Pipeline(steps)`); a parameter changed by `+=`
//!   (`def f(a): a += [1]`) or after being passed through `*args` is not
//!   seen; an unknown function given a number, string or tuple is trusted
//!   not to change it only when the name was bound to a literal or a
//!   scalar function's result (`n = 3`, `k = len(x)`), not when its type is
//!   only known at run time (`n = compute()` then `log(n)` is assumed to
//!   change `n`).
//! * A failing statement's in-place mutations before the error are dropped
//!   with it.
//! * `del d['a']` and `del o.x` are changes of `d` and `o` (a version of
//!   `d['a']` and `o.x` with no value after it), so `d['b']` is untouched;
//!   `deps d['a']` afterwards still answers with that last version rather
//!   than "deleted".
//! * A binding inside a `try` body with handlers that the probe does not
//!   report did not happen (an exception skipped it: `try: x = f()` /
//!   `except: pass` keeps the older `x`). A same-object rebinding there
//!   (`try: n = 10` with `n` already 10) looks the same and keeps the older
//!   version too; without a probe the static answer (bound) stands.
//! * The global random generators are hidden symbols `<random>` and
//!   `<numpy.random>`: `random.seed`/`np.random.seed` write them, draws
//!   (`random.random()`, `np.random.rand(3)`, `random.shuffle(x)`) read and
//!   advance them. Only calls spelt `random.*`, `np.random.*` or
//!   `numpy.random.*` count: `from random import choice; choice(xs)` is not
//!   a draw. Seeded generators (`np.random.default_rng(0)`) are ordinary
//!   objects.
//! * `@name` in a literal string given to `.query(...)`/`.eval(...)` is a
//!   read of `name`; a string built at run time is not looked into.
//! * Aliasing through containers is followed at literal paths, in `for`
//!   loops and through `copy.copy`/`dataclasses.replace`, not through a
//!   non-literal subscript (`v = a[1:3]; v[0] = 9` changes a numpy `a`; so
//!   does `row = rows[i]; row.append(1)` a list's item), container literals
//!   (`d = {'m': model}`, `rows = [row]`), calls that store their argument
//!   (`rows.append(row)`, `setattr`), `x.copy()` (deep for pandas and
//!   numpy), or `from copy import copy`. A change through an unknown key
//!   (`rows[i].append(1)`) reaches no item named elsewhere, and `rows[0] +=
//!   [1]` ends `first = rows[0]`'s link as a store would.
//! * An instance attribute set on the instance still reads the class's
//!   (`m.rate = 0.5; m.rate` also depends on `Model.rate = 0.2`), and
//!   instances of classes the notebook did not define read nothing of
//!   their class. A stateful closure is recognised only when made by a
//!   notebook function that defines it (`counter = make_counter()`), not
//!   an object with `__call__`, `itertools.count()` or a bound method; a
//!   generator expression (`g = (x * k for x in data)`) reads `k` when made.
//!   A decorator counts as called, wrapper included, when the function is
//!   defined (only its own body runs then).
//! * Calling a class counts as running all of its methods; a method called
//!   on an instance (`m.train()`) is a mutation of `m`, its body is not
//!   expanded.
//! * Annotations and `type X = ...` values count as read at definition time.
//! * A name bound in one branch of a compound statement and read in another
//!   counts as a use of the older value (conservative).
//! * Cell magics other than `%%time`/`%%capture`/`%%prun`/`%%timeit` are
//!   opaque; what they bind comes only from the probe.

mod analyze;
mod collections;
mod dataflow;
mod facts;
mod symbol;

pub use analyze::{analyze_cell, starts_escape_line};
pub use dataflow::{
    is_file_name, similar_names, Dataflow, DepGraph, ExecDep, ExecRef, ExecutionDelta,
    ExecutionFlow, ExecutionInput, FileAccess, GraphEdge, GraphNode, NewVersion, RuntimeFacts,
    StatementRead, StatementRef, UnknownVariable,
};
pub use facts::{
    statement_at_line, AliasFact, AliasKind, ArgCall, AssertFact, CallableKind, CellAnalysis,
    FunctionFact, ImportFact, ParseError, StatementFacts, ANALYSIS_VERSION,
};
pub use symbol::{Key, PathPart, Symbol};
