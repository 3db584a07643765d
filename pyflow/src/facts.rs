//! The facts the static analysis ([`crate::analyze_cell`]) produces for a
//! cell: plain data, stored as JSON with every execution and read by the
//! engine.

use serde::{Deserialize, Serialize};

use crate::symbol::{PathPart, Symbol};

/// Version of the analysis rules. Stored with every [`CellAnalysis`] so a
/// store that kept analyses from an older `pyflow` knows to re-analyse the
/// stored code before replaying it (see [`crate::Dataflow`]).
pub const ANALYSIS_VERSION: u32 = 3;

/// Everything the static analysis learnt about one cell's code.
///
/// This is what the kernel stores per execution (as JSON) and feeds to
/// [`crate::Dataflow::add_execution`]. A cell that does not parse still gets
/// one: no statements, `parse_error` set, so the execution is recorded as
/// unanalysed instead of breaking anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellAnalysis {
    /// [`ANALYSIS_VERSION`] at the time of the analysis.
    #[serde(default)]
    pub analysis_version: u32,
    /// Top-level statements in source order; empty when `parse_error` is set.
    #[serde(default)]
    pub statements: Vec<StatementFacts>,
    /// Why the cell could not be analysed, if it could not. Python does not
    /// run any of a cell that does not compile, so such a cell defines
    /// nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<ParseError>,
    /// 1-based lines holding IPython-only syntax (`%magic`, `!shell`,
    /// `x = !ls`, `obj?`, a `%%cell` magic line), which the analysis
    /// interpreted or skipped rather than parsed as Python.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_lines: Vec<usize>,
    /// The cell magic (`time` for a `%%time` cell), if the cell starts with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell_magic: Option<String>,
    /// Every `assert` statement of the cell, nested ones included, in source
    /// order (since version 3). Found even in a cell that does not parse, as
    /// far as the parser recovered, so its expectations show as not reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asserts: Vec<AssertFact>,
}

/// One `assert` statement: an expectation, identified across trials by its
/// cell and [`AssertFact::source`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertFact {
    /// The statement's text normalised: comments and line breaks dropped,
    /// each run of whitespace between two tokens one space, none added
    /// where the code had none (`assert  x>0 ,"m"  # why` is
    /// `assert x>0 ,"m"`). String contents are kept as written.
    pub source: String,
    /// First line (1-based) of the assert in the cell.
    pub line_start: usize,
    /// Last line (1-based, inclusive).
    pub line_end: usize,
    /// Index of the top-level statement holding it (itself when at top level).
    pub statement: usize,
    /// Inside a branch, loop, `with`, `try`, `match`, function or class
    /// body: it may not have run when its statement did.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nested: bool,
    /// The names its test and message read (each once, in order of first
    /// read), locals of an enclosing function included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
}

impl CellAnalysis {
    /// Whether the cell parsed, i.e. its statements can be trusted.
    pub fn is_analysed(&self) -> bool {
        self.parse_error.is_none()
    }
}

/// Where and why a cell failed to parse; `line` and `column` are 1-based,
/// the column counted in characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    /// The parser's message.
    pub message: String,
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column (characters) of the error.
    pub column: usize,
}

/// One `import` binding, so the engine knows which names hold modules (a
/// method call on a module is not a mutation of anything the notebook
/// tracks) and the magics can list what a slice needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFact {
    /// Dotted module path as written (`os.path`; empty for `from . import x`).
    pub module: String,
    /// The imported name for `from m import name` (`*` for a star import);
    /// `None` for `import m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The global name bound (`np` for `import numpy as np`, `os` for
    /// `import os.path`, `*` for a star import, which binds unknown names).
    pub bound_as: String,
    /// Number of leading dots of a relative import.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub level: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What kind of callable a [`FunctionFact`] describes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallableKind {
    /// `def f(...)`.
    #[default]
    Function,
    /// `class C`: calling it runs its methods, so its fact holds the union of
    /// what its methods' bodies read and write.
    Class,
    /// `f = lambda ...` at top level.
    Lambda,
}

/// A global callable defined by a statement, with what its body does to
/// globals *when called*.
///
/// Exists because a function defined in one cell and called in a later one
/// reads the globals its body names at call time, not at definition time; the
/// engine expands a call into these facts (transitively through `calls`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionFact {
    /// The global name the callable is bound to.
    pub name: String,
    /// Function, class or named lambda.
    pub kind: CallableKind,
    /// Globals (with literal key/attribute paths) the body reads.
    pub globals_read: Vec<Symbol>,
    /// Globals the body rebinds through a `global` declaration.
    pub globals_written: Vec<String>,
    /// Globals the body deletes through a `global` declaration.
    pub globals_deleted: Vec<String>,
    /// Globals the body mutates by store (`d[k] = v`, `o.x = v`, `x += ...`
    /// on an attribute or key, `del d[k]`).
    pub globals_mutated: Vec<Symbol>,
    /// Globals the body mutates by calling a method on them (`lst.append`).
    pub globals_call_mutated: Vec<Symbol>,
    /// Global names the body calls (and the decorators wrapping it: a
    /// decorated function's call runs the wrapper too).
    pub calls: Vec<String>,
    /// The parameters, positional ones first in order, then keyword-only
    /// ones: a call's arguments map onto them (issue 12).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// Parameters whose object the body changes in place (`p.fit(...)`,
    /// `p[k] = v`) before rebinding them: the caller's argument changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params_mutated: Vec<String>,
    /// Calls in the body that pass parameters or globals on (see [`ArgCall`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arg_calls: Vec<ArgCall>,
    /// What a call returns keeps state that its own calls change: a
    /// closure assigning a `nonlocal` (`counter = make_counter()`, then each
    /// `counter()` is a new version of `counter`).
    #[serde(skip_serializing_if = "is_false")]
    pub keeps_state: bool,
    /// A generator function: a call runs nothing; the body runs, and reads
    /// what it reads, when the generator is consumed.
    #[serde(skip_serializing_if = "is_false")]
    pub generator: bool,
    /// Wrapped by `functools.lru_cache` / `functools.cache`: each call may
    /// fill the cache the next call answers from.
    #[serde(skip_serializing_if = "is_false")]
    pub cached: bool,
}

/// A call passing named values as arguments (`train(clf, X, y)`,
/// `random.shuffle(deck)`), so the engine can tell which arguments the call
/// may change: those a notebook function's body changes (parameters mapped
/// to arguments, transitively), those a listed mutator changes (`changes`),
/// and, for a callee on no list (`unknown`), every argument that holds
/// mutable notebook data — an assumption, reported as such. Callees known to
/// only read their arguments (`len`, `np.mean`, `train_test_split`, ...;
/// see `analyze/known_names.rs`) leave no record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArgCall {
    /// The callee as written: `train`, `random.shuffle`, `utils.clean`.
    pub callee: String,
    /// Positional arguments: the symbol passed, `None` for any other
    /// expression; nothing after a `*args`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Option<Symbol>>,
    /// `name=symbol` keyword arguments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<(String, Symbol)>,
    /// Arguments the callee is known to change (`random.shuffle(x)`,
    /// `np.multiply(a, b, out=a)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Symbol>,
    /// The callee is on no list: a notebook function's body is looked into;
    /// else, with `for_effect`, each argument may change.
    #[serde(skip_serializing_if = "is_false")]
    pub unknown: bool,
    /// The call is a whole statement, its result dropped (`clean(df)`): made
    /// for its effect, so a callee on no list is assumed to change what it
    /// is given. One whose result is used (`model = fit(C, X)`) is taken to
    /// compute it and leave its arguments alone.
    #[serde(skip_serializing_if = "is_false")]
    pub for_effect: bool,
}

/// `target = source` between two plain names, which makes `target` another
/// name for the same object; with a [`AliasKind`] other than `Same`, a name
/// for an object held inside `source` (`first = rows[0]`, `d['m'] = model`)
/// or sharing its members (`c = copy.copy(x)`). The engine uses them, inside
/// a cell and across cells, so a mutation through one name is a new version
/// of the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasFact {
    /// The name bound (for `d['m'] = model`: `model`, the name held).
    pub target: String,
    /// The name whose object it is bound to (or that holds it, or that it
    /// copies).
    pub source: String,
    /// How `target`'s object relates to `source`'s.
    #[serde(default, skip_serializing_if = "AliasKind::is_same")]
    pub kind: AliasKind,
    /// For `Item`/`Within`: where in `source` the object is held (`[0]`
    /// for `rows[0]`, `['m']` for `d['m'] = model`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathPart>,
}

/// How an alias's target relates to its source's object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AliasKind {
    /// `b = a`: the same object.
    #[default]
    Same,
    /// `first = rows[0]`, `d['m'] = model`: the object held at exactly
    /// `path` in the source.
    Item,
    /// `x = rows[i]`, `for r in rows`: an object held somewhere at or below
    /// `path` (a non-literal key).
    Within,
    /// `c = copy.copy(x)`, `dataclasses.replace(x, ...)`: another object
    /// holding the same members.
    Copy,
    /// `m = Model(...)`, `counter = make_counter()`: what calling `source`
    /// returned (an instance reads its class's attributes; a closure may
    /// keep state).
    Made,
}

impl AliasKind {
    fn is_same(&self) -> bool {
        *self == AliasKind::Same
    }
}

/// What one top-level statement of a cell does to the global namespace.
///
/// Compound statements (`for`, `if`, `with`, `try`, `match`, ...) are one
/// statement with the effects of everything inside them aggregated; names
/// bound inside a top-level `for` body are globals. Uses are the reads of
/// values that come from *before* the statement: a name bound earlier in the
/// same statement (`with open(p) as f: f.read()`) is not a use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementFacts {
    /// Position in [`CellAnalysis::statements`].
    pub index: usize,
    /// First line (1-based) of the statement in the cell.
    pub line_start: usize,
    /// Last line (1-based, inclusive).
    pub line_end: usize,
    /// Byte offset of the statement's start in the cell's code.
    pub byte_start: usize,
    /// Byte offset just past the statement's end, so `&code[byte_start..byte_end]`
    /// is its text (what a slice is assembled from).
    pub byte_end: usize,
    /// Global names (re)bound: assignment, `for`/`with`/`except`... targets,
    /// `def`, `class`, `import`, walrus, `match` captures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defines: Vec<Symbol>,
    /// Globals read, as precise as literal keys and attributes allow
    /// (`d['a']`, `cfg.lr`); a non-literal key falls back to the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<Symbol>,
    /// Globals changed in place by a store: `d[k] = v`, `o.x = v`, augmented
    /// assignment, `del x[i]`. A store does not read the old value of the
    /// stored symbol; augmented assignment also lists it in `uses`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mutates: Vec<Symbol>,
    /// Globals changed in place by calling a method on them
    /// (`lst.append(x)`, `df.fillna(0, inplace=True)`); they are in `uses`
    /// too. Kept apart from `mutates` because the engine ignores them when
    /// the receiver is a module, class or function. Methods known not to
    /// mutate (`df.head()`, `s.upper()`, `d.get(k)`) are not listed unless
    /// called with `inplace=True`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call_mutates: Vec<Symbol>,
    /// Global names deleted (`del x`), i.e. whose history ends here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<Symbol>,
    /// Imports at module level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<ImportFact>,
    /// Global functions, classes and named lambdas defined, with what their
    /// bodies do when called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionFact>,
    /// Global classes defined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Global names called at this statement's level (not inside a function
    /// body it defines); the engine expands calls of notebook functions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
    /// `b = a` between plain names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<AliasFact>,
    /// The statement may bind names the analysis cannot see: `exec`, `eval`,
    /// `globals()`, `setattr`, a star import, a line magic. Names only the
    /// runtime probe reports are attributed to such a statement.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dynamic: bool,
    /// Calls passing named values as arguments that may change them (issue 12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arg_calls: Vec<ArgCall>,
    /// Names bound to values that cannot change in place (`n = 3`,
    /// `s = "a"`, `t = (1, 2)`, `k = len(x)`), so passing them to an unknown
    /// function changes nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub immutable: Vec<String>,
    /// Names bound inside a `try` body with handlers: an exception before
    /// the binding skips it, so when the runtime probe answered and is
    /// silent about one, it kept its older value (see the crate docs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsure_defines: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Which statement of `analysis` contains 1-based `line` of the cell, e.g.
/// the line of the cell's own frame in a traceback (`Cell In[7], line 3`),
/// to turn it into `failed_at_statement`.
pub fn statement_at_line(analysis: &CellAnalysis, line: usize) -> Option<usize> {
    analysis
        .statements
        .iter()
        .find(|s| s.line_start <= line && line <= s.line_end)
        .map(|s| s.index)
}
