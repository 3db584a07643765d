//! The AST walk behind [`crate::analyze_cell`]: scopes, targets, calls,
//! IPython escapes, and the guards that keep hostile input from crashing the
//! kernel.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as ast, Arguments, ExceptHandler, Expr, IpyEscapeKind, Mod, Number, Parameters, Pattern,
    PythonVersion, Stmt, TypeParam, TypeParams,
};
use ruff_python_parser::{lexer, parse_unchecked, Mode, ParseOptions};
use ruff_text_size::{Ranged, TextRange};

use crate::analysis::{
    AliasFact, CallableKind, CellAnalysis, FunctionFact, ImportFact, ParseError, StatementFacts,
    ANALYSIS_VERSION,
};
use crate::collections::{FxHashSet as HashSet, OrderedSet};
use crate::symbol::{Key, PathPart, Symbol};

/// Stack for the analysis thread. Parsing and dropping an AST recurse once
/// per nesting level; the pre-scan bounds the nesting, this bounds the stack
/// it may need with a wide margin (memory is only committed when touched).
const ANALYSIS_STACK: usize = 64 << 20;

/// Upper bound on expression nesting accepted, counted by [`prescan`].
/// CPython 3.11 already refuses to compile ~5,000 nested operators
/// ("maximum recursion depth exceeded during compilation").
const MAX_EXPR_DEPTH: u32 = 5_000;
/// CPython's own limit on nested brackets ("too many nested parentheses").
const MAX_BRACKETS: usize = 200;
/// CPython's own limit on indentation ("too many levels of indentation").
const MAX_INDENT: u32 = 100;
/// How deep `%time %time ...` and `{...}` interpolations may nest.
const MAX_SUB_DEPTH: u32 = 8;

/// Methods that do not change their receiver (unless called with
/// `inplace=True`). Any other method called on a name counts as a mutation.
const READ_ONLY_METHODS: &[&str] = &[
    // builtins: str, bytes, int, dict, list, set, tuple
    "copy",
    "count",
    "index",
    "get",
    "keys",
    "values",
    "items",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "rindex",
    "format",
    "format_map",
    "join",
    "split",
    "rsplit",
    "splitlines",
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "title",
    "capitalize",
    "casefold",
    "swapcase",
    "replace",
    "encode",
    "decode",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "isnumeric",
    "isdecimal",
    "isidentifier",
    "partition",
    "rpartition",
    "zfill",
    "center",
    "ljust",
    "rjust",
    "expandtabs",
    "translate",
    "removeprefix",
    "removesuffix",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "issubset",
    "issuperset",
    "isdisjoint",
    "bit_length",
    "bit_count",
    "conjugate",
    "hex",
    "is_integer",
    "as_integer_ratio",
    "to_bytes",
    // pandas / numpy (those with `inplace=` are caught by the inplace rule)
    "head",
    "tail",
    "describe",
    "info",
    "sum",
    "mean",
    "median",
    "mode",
    "std",
    "var",
    "min",
    "max",
    "abs",
    "round",
    "cumsum",
    "cumprod",
    "cummax",
    "cummin",
    "prod",
    "any",
    "all",
    "argmax",
    "argmin",
    "idxmax",
    "idxmin",
    "nunique",
    "unique",
    "value_counts",
    "isna",
    "isnull",
    "notna",
    "notnull",
    "groupby",
    "agg",
    "aggregate",
    "apply",
    "applymap",
    "map",
    "transform",
    "filter",
    "query",
    "merge",
    "pivot",
    "pivot_table",
    "melt",
    "stack",
    "unstack",
    "explode",
    "astype",
    "to_numpy",
    "to_list",
    "tolist",
    "to_dict",
    "to_csv",
    "to_json",
    "to_parquet",
    "to_excel",
    "to_string",
    "to_frame",
    "to_records",
    "to_markdown",
    "to_html",
    "to_latex",
    "to_pickle",
    "to_sql",
    "plot",
    "hist",
    "boxplot",
    "corr",
    "cov",
    "quantile",
    "rank",
    "diff",
    "pct_change",
    "shift",
    "rolling",
    "expanding",
    "ewm",
    "resample",
    "sample",
    "nlargest",
    "nsmallest",
    "sort_values",
    "sort_index",
    "drop",
    "dropna",
    "fillna",
    "rename",
    "reset_index",
    "set_index",
    "drop_duplicates",
    "duplicated",
    "where",
    "mask",
    "clip",
    "interpolate",
    "reindex",
    "select_dtypes",
    "memory_usage",
    "equals",
    "isin",
    "between",
    "dot",
    "reshape",
    "flatten",
    "ravel",
    "transpose",
    "squeeze",
    "item",
    "nonzero",
    "argsort",
    "searchsorted",
    "take",
    "assign",
    "pipe",
    "sum",
    "concat",
    // scikit-learn style read-only model methods
    "predict",
    "predict_proba",
    "predict_log_proba",
    "score",
    "decision_function",
    "get_params",
];

/// Attributes that are views on their whole owner (`df.loc[...] = v` writes
/// into `df`), so a path through them is cut at the owner.
const VIEW_ATTRS: &[&str] = &["loc", "iloc", "at", "iat", "values", "T", "flat", "array"];

/// Calls that can bind globals the analysis cannot see.
const DYNAMIC_CALLS: &[&str] = &[
    "exec",
    "eval",
    "globals",
    "locals",
    "vars",
    "setattr",
    "delattr",
    "__import__",
    "get_ipython",
    "execfile",
    "runpy",
];

/// Analyses `code` so that neither a deeply nested cell nor a panic in the
/// parser can take the kernel down: the nesting is bounded first (on any
/// stack: the lexer does not recurse), shallow cells — nearly all — are then
/// parsed here, deeper ones on a thread with a large stack, and a panic
/// becomes a "could not analyse" record.
pub(crate) fn analyze_guarded(code: &str) -> CellAnalysis {
    let prepared = match prepare(code) {
        Ok(p) => p,
        Err(done) => return done,
    };
    if prepared.nesting.is_shallow() {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            analyze_prepared(code, &prepared)
        }))
        .unwrap_or_else(|_| unanalysed("internal error: the analysis panicked", 1, 1));
    }
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pyflow-analysis".into())
            .stack_size(ANALYSIS_STACK)
            .spawn_scoped(scope, || analyze_prepared(code, &prepared))
            .map(|handle| handle.join())
    });
    match outcome {
        Ok(Ok(analysis)) => analysis,
        Ok(Err(_panic)) => unanalysed("internal error: the analysis panicked", 1, 1),
        Err(_spawn) => unanalysed("internal error: could not start the analysis thread", 1, 1),
    }
}

fn unanalysed(message: &str, line: usize, column: usize) -> CellAnalysis {
    CellAnalysis {
        analysis_version: ANALYSIS_VERSION,
        parse_error: Some(ParseError {
            message: message.to_string(),
            line,
            column,
        }),
        ..CellAnalysis::default()
    }
}

/// How a `%%magic` cell's body is treated.
#[derive(Clone, Copy)]
enum CellMagic {
    /// The body is Python run in the user namespace (`%%time`, `%%capture`).
    Python,
    /// The body is Python run in a throwaway local scope (`%%timeit`): it
    /// reads and mutates globals but binds none.
    UsesOnly,
    /// The body is not Python (`%%bash`, `%%writefile`, `%%html`, ...).
    Opaque,
}

/// A cell ready to parse: IPython cell magic handled, nesting bounded.
struct Prepared<'c> {
    source: std::borrow::Cow<'c, str>,
    lines: LineIndex,
    masked_lines: Vec<usize>,
    cell_magic: Option<String>,
    magic_mode: Option<CellMagic>,
    nesting: Nesting,
}

/// Everything before parsing; `Err` is already the answer (an opaque cell
/// magic, or a cell CPython would refuse to compile).
fn prepare(code: &str) -> Result<Prepared<'_>, CellAnalysis> {
    let lines = LineIndex::new(code);
    let mut masked_lines = Vec::new();
    let mut source = std::borrow::Cow::Borrowed(code);
    let mut magic_mode = None;
    let mut cell_magic = None;

    // IPython treats a cell as a cell magic when its first non-blank line
    // starts with `%%`.
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        if line.trim().is_empty() {
            offset += line.len();
            continue;
        }
        if let Some(rest) = line.strip_prefix("%%") {
            let line_no = lines.line_of(offset);
            let (name, args) = split_magic(rest.trim_end_matches(['\n', '\r']));
            let mode = match name {
                "time" | "capture" | "prun" => CellMagic::Python,
                "timeit" => CellMagic::UsesOnly,
                _ => CellMagic::Opaque,
            };
            cell_magic = Some(name.to_string());
            if let CellMagic::Opaque = mode {
                return Err(opaque_cell(code, &lines, name, args));
            }
            masked_lines.push(line_no);
            let mut blanked = String::with_capacity(code.len());
            blanked.push_str(&code[..offset]);
            blanked.extend(
                line.chars()
                    .map(|c| if c == '\n' || c == '\r' { c } else { ' ' }),
            );
            blanked.push_str(&code[offset + line.len()..]);
            source = std::borrow::Cow::Owned(blanked);
            magic_mode = Some(mode);
        }
        break;
    }

    match prescan(&source) {
        Ok(nesting) => Ok(Prepared {
            source,
            lines,
            masked_lines,
            cell_magic,
            magic_mode,
            nesting,
        }),
        Err(message) => Err(CellAnalysis {
            masked_lines,
            cell_magic,
            ..unanalysed(&message, 1, 1)
        }),
    }
}

/// Parses and walks a prepared cell. Recurses as deep as the cell nests.
fn analyze_prepared(code: &str, prepared: &Prepared<'_>) -> CellAnalysis {
    let lines = &prepared.lines;
    let mut masked_lines = prepared.masked_lines.clone();
    let cell_magic = prepared.cell_magic.clone();
    let parsed = parse_unchecked(&prepared.source, options());
    if let Some(error) = parsed.errors().first() {
        let start = error.location.start().to_usize();
        let mut analysis = unanalysed(
            &error.error.to_string(),
            lines.line_of(start),
            lines.column_of(code, start),
        );
        analysis.masked_lines = masked_lines;
        analysis.cell_magic = cell_magic;
        return analysis;
    }
    let Mod::Module(module) = parsed.syntax() else {
        return unanalysed("internal error: not a module", 1, 1);
    };

    let mut walker = Walker::new();
    let mut statements = Vec::with_capacity(module.body.len());
    for (index, stmt) in module.body.iter().enumerate() {
        let range = stmt.range();
        let byte_start = range.start().to_usize();
        let byte_end = range.end().to_usize();
        let mut facts = walker.top_level(stmt);
        facts.index = index;
        facts.byte_start = byte_start;
        facts.byte_end = byte_end;
        facts.line_start = lines.line_of(byte_start);
        facts.line_end = lines.line_of(byte_end.saturating_sub(1).max(byte_start));
        if let Some(CellMagic::UsesOnly) = prepared.magic_mode {
            facts.defines.clear();
            facts.deletes.clear();
            facts.imports.clear();
            facts.functions.clear();
            facts.classes.clear();
            facts.aliases.clear();
        }
        statements.push(facts);
    }
    for range in &walker.escapes {
        let first = lines.line_of(range.start().to_usize());
        let last = lines.line_of(
            range
                .end()
                .to_usize()
                .saturating_sub(1)
                .max(range.start().to_usize()),
        );
        masked_lines.extend(first..=last);
    }
    masked_lines.sort_unstable();
    masked_lines.dedup();
    CellAnalysis {
        analysis_version: ANALYSIS_VERSION,
        statements,
        parse_error: None,
        masked_lines,
        cell_magic,
    }
}

/// A `%%bash`-like cell: one opaque statement spanning the cell, reading what
/// its magic line interpolates, flagged dynamic so runtime-only bindings
/// (`%%sql result <<`) land on it.
fn opaque_cell(code: &str, lines: &LineIndex, name: &str, args: &str) -> CellAnalysis {
    let mut walker = Walker::new();
    walker.interpolations(args);
    let mut facts = walker.finish_statement();
    facts.dynamic = true;
    facts.line_start = 1;
    facts.line_end = lines.line_count();
    facts.byte_end = code.len();
    CellAnalysis {
        analysis_version: ANALYSIS_VERSION,
        statements: vec![facts],
        parse_error: None,
        masked_lines: (1..=lines.line_count()).collect(),
        cell_magic: Some(name.to_string()),
    }
}

fn options() -> ParseOptions {
    ParseOptions::from(Mode::Ipython).with_target_version(PythonVersion::PY314)
}

/// Splits `time y = f()` into (`time`, `y = f()`).
fn split_magic(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

/// Strips `%timeit`'s options (`-n 10 -r3 -q -o ...`) from its statement.
fn strip_timeit_options(mut rest: &str) -> &str {
    loop {
        rest = rest.trim_start();
        if !rest.starts_with('-') {
            return rest;
        }
        let (flag, after) = split_magic(rest);
        rest = if matches!(flag, "-n" | "-r" | "-p") {
            split_magic(after).1
        } else {
            after
        };
    }
}

/// Bounds how deeply `source` can nest before the recursive parser sees it,
/// with CPython's own limits, using ruff's (iterative) lexer. Also rejects
/// unmatched and mismatched closing brackets, as CPython's tokenizer does:
/// ruff's error recovery on them can reach an `unreachable!` in IPython mode
/// (`[}` then `/f` on the next line).
fn prescan(source: &str) -> Result<Nesting, String> {
    if source.len() >= u32::MAX as usize {
        return Err("the cell is too large to analyse".into());
    }
    // One frame per open bracket: its opener, the operators chained in the
    // current comma-separated element, and the deepest element so far.
    let mut frames: Vec<(TokenKind, u32, u32)> = vec![(TokenKind::Unknown, 0, 0)];
    let mut indent = 0u32;
    let mut nesting = Nesting::default();
    let mut lexer = lexer::lex(source, Mode::Ipython);
    loop {
        let kind = lexer.next_token();
        match kind {
            TokenKind::EndOfFile => return Ok(nesting),
            TokenKind::Lpar
            | TokenKind::Lsqb
            | TokenKind::Lbrace
            | TokenKind::FStringStart
            | TokenKind::TStringStart => {
                frames.push((kind, 0, 0));
                if frames.len() > MAX_BRACKETS + 1 {
                    return Err("too many nested parentheses".into());
                }
                nesting.brackets = nesting.brackets.max(frames.len() as u32 - 1);
            }
            TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd => {
                let opener = frames.last().map_or(TokenKind::Unknown, |f| f.0);
                let expected = match kind {
                    TokenKind::Rpar => TokenKind::Lpar,
                    TokenKind::Rsqb => TokenKind::Lsqb,
                    TokenKind::Rbrace => TokenKind::Lbrace,
                    TokenKind::FStringEnd => TokenKind::FStringStart,
                    _ => TokenKind::TStringStart,
                };
                if opener != expected {
                    if matches!(kind, TokenKind::FStringEnd | TokenKind::TStringEnd) {
                        continue; // a malformed string: the parser reports it
                    }
                    let closer = bracket_char(kind);
                    return Err(if frames.len() == 1 {
                        format!("unmatched '{closer}'")
                    } else {
                        format!(
                            "closing parenthesis '{closer}' does not match opening parenthesis '{}'",
                            bracket_char(opener)
                        )
                    });
                }
                let (_, ops, deepest) = frames.pop().unwrap_or((TokenKind::Unknown, 0, 0));
                if let Some(top) = frames.last_mut() {
                    top.1 = top.1.saturating_add(ops.max(deepest) + 1);
                    if top.1 > MAX_EXPR_DEPTH {
                        return Err("expression too deeply nested to compile".into());
                    }
                    nesting.operators = nesting.operators.max(top.1);
                }
            }
            TokenKind::Comma | TokenKind::Semi | TokenKind::Equal | TokenKind::Newline => {
                if let Some(top) = frames.last_mut() {
                    top.2 = top.2.max(top.1);
                    top.1 = 0;
                }
            }
            TokenKind::Indent => {
                indent += 1;
                if indent > MAX_INDENT {
                    return Err("too many levels of indentation".into());
                }
                nesting.indent = nesting.indent.max(indent);
            }
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Plus
            | TokenKind::Minus
            | TokenKind::Star
            | TokenKind::Slash
            | TokenKind::Vbar
            | TokenKind::Amper
            | TokenKind::Dot
            | TokenKind::Percent
            | TokenKind::Tilde
            | TokenKind::CircumFlex
            | TokenKind::LeftShift
            | TokenKind::RightShift
            | TokenKind::DoubleStar
            | TokenKind::DoubleSlash
            | TokenKind::At
            | TokenKind::ColonEqual
            | TokenKind::Not
            | TokenKind::If
            | TokenKind::Else
            | TokenKind::Lambda
            | TokenKind::Await
            | TokenKind::Yield
            | TokenKind::Rarrow => {
                if let Some(top) = frames.last_mut() {
                    top.1 += 1;
                    if top.1 > MAX_EXPR_DEPTH {
                        return Err("expression too deeply nested to compile".into());
                    }
                    nesting.operators = nesting.operators.max(top.1);
                }
            }
            _ => {}
        }
    }
}

/// How deeply a cell nests, as [`prescan`] bounds it.
#[derive(Clone, Copy, Default, Debug)]
struct Nesting {
    /// Chained operators in one expression element, nested brackets included.
    operators: u32,
    /// Open brackets (and f-strings) at once.
    brackets: u32,
    /// Indentation levels.
    indent: u32,
}

impl Nesting {
    /// Shallow enough to analyse on the caller's stack: measured at most
    /// ~1 KiB of stack per operator level (nested lambdas), ~5 KiB per
    /// bracket and ~10 KiB per indentation level in release builds, so this
    /// stays far below a 2 MiB thread stack even in debug builds.
    fn is_shallow(&self) -> bool {
        self.operators <= 64 && self.brackets <= 16 && self.indent <= 8
    }
}

fn bracket_char(kind: TokenKind) -> char {
    match kind {
        TokenKind::Lpar => '(',
        TokenKind::Rpar => ')',
        TokenKind::Lsqb => '[',
        TokenKind::Rsqb => ']',
        TokenKind::Lbrace => '{',
        TokenKind::Rbrace => '}',
        _ => '"',
    }
}

/// Byte offset → 1-based line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(code: &str) -> LineIndex {
        let mut starts = vec![0];
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    fn column_of(&self, code: &str, offset: usize) -> usize {
        let start = self.starts[self.line_of(offset) - 1];
        code.get(start..offset.min(code.len()))
            .map_or(1, |s| s.chars().count() + 1)
    }

    fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[derive(Default)]
struct StmtAcc {
    defines: OrderedSet<String>,
    uses: OrderedSet<Symbol>,
    mutates: OrderedSet<Symbol>,
    call_mutates: OrderedSet<Symbol>,
    deletes: OrderedSet<String>,
    imports: Vec<ImportFact>,
    classes: Vec<String>,
    calls: OrderedSet<String>,
    aliases: Vec<AliasFact>,
    dynamic: bool,
}

struct FnAcc {
    name: String,
    kind: CallableKind,
    read: OrderedSet<Symbol>,
    written: OrderedSet<String>,
    deleted: OrderedSet<String>,
    mutated: OrderedSet<Symbol>,
    call_mutated: OrderedSet<Symbol>,
    calls: OrderedSet<String>,
}

impl FnAcc {
    fn new(name: &str, kind: CallableKind) -> FnAcc {
        FnAcc {
            name: name.to_string(),
            kind,
            read: OrderedSet::default(),
            written: OrderedSet::default(),
            deleted: OrderedSet::default(),
            mutated: OrderedSet::default(),
            call_mutated: OrderedSet::default(),
            calls: OrderedSet::default(),
        }
    }

    fn finish(self) -> FunctionFact {
        FunctionFact {
            name: self.name,
            kind: self.kind,
            globals_read: self.read.into_vec(),
            globals_written: self.written.into_vec(),
            globals_deleted: self.deleted.into_vec(),
            globals_mutated: self.mutated.into_vec(),
            globals_call_mutated: self.call_mutated.into_vec(),
            calls: self.calls.into_vec(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ScopeKind {
    Module,
    Class,
    Function,
    Lambda,
    Comprehension,
    Annotation,
}

struct Scope {
    kind: ScopeKind,
    /// Function-like scopes: every local name (known before the body runs).
    locals: HashSet<String>,
    globals: HashSet<String>,
    nonlocals: HashSet<String>,
    /// Module and class scopes: names bound so far, in execution order.
    bound: HashSet<String>,
    /// Class scope: the accumulator its methods report to.
    acc: Option<usize>,
}

impl Scope {
    fn new(kind: ScopeKind) -> Scope {
        Scope {
            kind,
            locals: HashSet::default(),
            globals: HashSet::default(),
            nonlocals: HashSet::default(),
            bound: HashSet::default(),
            acc: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// Bound in a function-like or class scope.
    Local,
    /// A global; `internal` when bound earlier in the current top-level
    /// statement (so reading it is not a use of an earlier value).
    Global { internal: bool },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MutKind {
    /// `d[k] = v`, `o.x = v`, `del d[k]`: replaces the sub-object.
    Store,
    /// `x += v`: changes it using its old value.
    InPlace,
    /// `x.method(...)`.
    Call,
}

/// A name/attribute/subscript chain: the symbol it designates as precisely as
/// literal keys allow, the expressions still to evaluate (non-literal keys),
/// and, when the chain does not start at a name, the expression it starts at.
struct Chain<'e> {
    symbol: Option<Symbol>,
    root: Option<&'e Expr>,
    leftovers: Vec<&'e Expr>,
    /// The chain ends in a literal integer subscript (`lst[0]`).
    ends_in_int_key: bool,
    /// `symbol` covers the whole chain (no non-literal key or view cut it short).
    exact: bool,
}

fn chain(expr: &Expr) -> Chain<'_> {
    enum Step<'e> {
        Attr(&'e str),
        Sub(&'e Expr),
    }
    let mut steps = Vec::new();
    let mut cur = expr;
    let base = loop {
        match cur {
            Expr::Attribute(a) => {
                steps.push(Step::Attr(a.attr.id.as_str()));
                cur = &a.value;
            }
            Expr::Subscript(s) => {
                steps.push(Step::Sub(&s.slice));
                cur = &s.value;
            }
            Expr::Name(n) => break Some(n.id.as_str()),
            _ => break None,
        }
    };
    let mut leftovers = Vec::new();
    let mut symbol = base.map(Symbol::name);
    let mut precise = symbol.is_some();
    let mut ends_in_int_key = false;
    for step in steps.into_iter().rev() {
        ends_in_int_key = false;
        match step {
            Step::Attr(attr) => {
                if precise && VIEW_ATTRS.contains(&attr) {
                    precise = false;
                }
                if precise {
                    if let Some(s) = symbol.as_mut() {
                        s.path.push(PathPart::Attr(attr.to_string()));
                    }
                }
            }
            Step::Sub(slice) => match literal_key(slice) {
                Some(key) => {
                    ends_in_int_key = matches!(key, Key::Int(_));
                    if precise {
                        if let Some(s) = symbol.as_mut() {
                            s.path.push(PathPart::Key(key));
                        }
                    }
                }
                None => {
                    precise = false;
                    leftovers.push(slice);
                }
            },
        }
    }
    Chain {
        root: if base.is_none() { Some(cur) } else { None },
        exact: precise,
        symbol,
        leftovers,
        ends_in_int_key,
    }
}

fn literal_key(slice: &Expr) -> Option<Key> {
    match slice {
        Expr::StringLiteral(s) => Some(Key::Str(s.value.to_str().to_string())),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().filter(|v| *v >= 0).map(Key::Int),
            _ => None,
        },
        _ => None,
    }
}

fn is_mutating_call(method: &str, arguments: &Arguments) -> bool {
    let inplace = arguments.keywords.iter().any(|k| {
        k.arg.as_ref().is_some_and(|a| a.id.as_str() == "inplace")
            && !matches!(&k.value, Expr::BooleanLiteral(b) if !b.value)
            && !matches!(&k.value, Expr::NoneLiteral(_))
    });
    inplace || !READ_ONLY_METHODS.contains(&method)
}

/// Names a target expression binds (for comprehension scopes).
fn target_names(target: &Expr, out: &mut HashSet<String>) {
    match target {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// Local bindings of a function body, found before walking it because a name
/// assigned anywhere in a function is local everywhere in it.
#[derive(Default)]
struct BindingCollector {
    locals: HashSet<String>,
    globals: HashSet<String>,
    nonlocals: HashSet<String>,
}

impl BindingCollector {
    fn collect(parameters: Option<&Parameters>, body: &[Stmt]) -> BindingCollector {
        let mut c = BindingCollector::default();
        if let Some(parameters) = parameters {
            for p in parameters.iter() {
                c.locals.insert(p.name().id.to_string());
            }
        }
        for stmt in body {
            c.visit_stmt(stmt);
        }
        for name in c.globals.iter().chain(c.nonlocals.iter()) {
            c.locals.remove(name);
        }
        c
    }
}

impl<'a> Visitor<'a> for BindingCollector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                self.locals.insert(f.name.id.to_string());
            }
            Stmt::ClassDef(c) => {
                self.locals.insert(c.name.id.to_string());
            }
            Stmt::Global(g) => self
                .globals
                .extend(g.names.iter().map(|n| n.id.to_string())),
            Stmt::Nonlocal(n) => self
                .nonlocals
                .extend(n.names.iter().map(|n| n.id.to_string())),
            Stmt::Import(i) => {
                for alias in &i.names {
                    self.locals.insert(import_binding(alias));
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    if alias.name.id.as_str() != "*" {
                        self.locals.insert(from_import_binding(alias));
                    }
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) if !n.ctx.is_load() => {
                self.locals.insert(n.id.to_string());
            }
            Expr::Lambda(_) => {}
            Expr::ListComp(ast::ExprListComp {
                elt, generators, ..
            })
            | Expr::SetComp(ast::ExprSetComp {
                elt, generators, ..
            })
            | Expr::Generator(ast::ExprGenerator {
                elt, generators, ..
            }) => {
                // Only walrus targets inside bind in this scope.
                for g in generators {
                    self.visit_expr(&g.iter);
                    g.ifs.iter().for_each(|e| self.visit_expr(e));
                }
                self.visit_expr(elt);
            }
            Expr::DictComp(ast::ExprDictComp {
                key,
                value,
                generators,
                ..
            }) => {
                for g in generators {
                    self.visit_expr(&g.iter);
                    g.ifs.iter().for_each(|e| self.visit_expr(e));
                }
                if let Some(key) = key {
                    self.visit_expr(key);
                }
                self.visit_expr(value);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs { name: Some(n), .. })
            | Pattern::MatchStar(ast::PatternMatchStar { name: Some(n), .. })
            | Pattern::MatchMapping(ast::PatternMatchMapping { rest: Some(n), .. }) => {
                self.locals.insert(n.id.to_string());
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.locals.insert(name.id.to_string());
        }
        visitor::walk_except_handler(self, handler);
    }
}

fn import_binding(alias: &ast::Alias) -> String {
    match &alias.asname {
        Some(asname) => asname.id.to_string(),
        None => alias
            .name
            .id
            .as_str()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

fn from_import_binding(alias: &ast::Alias) -> String {
    alias.asname.as_ref().unwrap_or(&alias.name).id.to_string()
}

/// Walks one top-level statement at a time, keeping a stack of scopes.
struct Walker {
    scopes: Vec<Scope>,
    /// The function/class/lambda fact that global reads and writes go to,
    /// when inside a body that runs at call time.
    owner: Option<usize>,
    accs: Vec<FnAcc>,
    st: StmtAcc,
    /// Ranges of IPython escape commands (for `masked_lines`).
    escapes: Vec<TextRange>,
    /// Non-zero while walking code whose bindings do not reach the global
    /// scope (`%timeit` statements).
    no_bind: u32,
    sub_depth: u32,
}

impl Walker {
    fn new() -> Walker {
        Walker {
            scopes: vec![Scope::new(ScopeKind::Module)],
            owner: None,
            accs: Vec::new(),
            st: StmtAcc::default(),
            escapes: Vec::new(),
            no_bind: 0,
            sub_depth: 0,
        }
    }

    fn top_level(&mut self, stmt: &Stmt) -> StatementFacts {
        self.scopes.truncate(1);
        self.scopes[0].bound.clear();
        self.owner = None;
        self.stmt(stmt);
        self.finish_statement()
    }

    fn finish_statement(&mut self) -> StatementFacts {
        let st = std::mem::take(&mut self.st);
        let functions = self.accs.drain(..).map(FnAcc::finish).collect();
        StatementFacts {
            defines: st
                .defines
                .into_vec()
                .into_iter()
                .map(Symbol::name)
                .collect(),
            uses: st.uses.into_vec(),
            mutates: st.mutates.into_vec(),
            call_mutates: st.call_mutates.into_vec(),
            deletes: st
                .deletes
                .into_vec()
                .into_iter()
                .map(Symbol::name)
                .collect(),
            imports: st.imports,
            functions,
            classes: st.classes,
            calls: st.calls.into_vec(),
            aliases: st.aliases,
            dynamic: st.dynamic,
            ..StatementFacts::default()
        }
    }

    fn innermost(&self) -> ScopeKind {
        self.scopes.last().map_or(ScopeKind::Module, |s| s.kind)
    }

    fn at_module_level(&self) -> bool {
        self.owner.is_none() && self.innermost() == ScopeKind::Module
    }

    // ---- name resolution -------------------------------------------------

    fn resolve(&self, name: &str) -> Resolution {
        let last = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            match scope.kind {
                ScopeKind::Module => {
                    let internal = self.owner.is_none() && scope.bound.contains(name);
                    return Resolution::Global { internal };
                }
                ScopeKind::Class => {
                    if i == last {
                        if scope.globals.contains(name) {
                            return Resolution::Global { internal: false };
                        }
                        if scope.bound.contains(name) {
                            return Resolution::Local;
                        }
                    }
                }
                _ => {
                    if scope.globals.contains(name) {
                        return Resolution::Global { internal: false };
                    }
                    if scope.nonlocals.contains(name) || scope.locals.contains(name) {
                        return Resolution::Local;
                    }
                }
            }
        }
        Resolution::Global { internal: false }
    }

    /// A read of a bare name; allocates only when it is a use to record.
    fn use_name(&mut self, name: &str) {
        if let Resolution::Global { internal: false } = self.resolve(name) {
            let symbol = Symbol::name(name);
            match self.owner {
                Some(i) => self.accs[i].read.insert(symbol),
                None => self.st.uses.insert(symbol),
            }
        }
    }

    fn use_symbol(&mut self, symbol: Symbol) {
        if let Resolution::Global { internal: false } = self.resolve(&symbol.base) {
            match self.owner {
                Some(i) => self.accs[i].read.insert(symbol),
                None => self.st.uses.insert(symbol),
            }
        }
    }

    fn call_name(&mut self, name: &str) {
        if DYNAMIC_CALLS.contains(&name) && self.owner.is_none() {
            self.st.dynamic = true;
        }
        if let Resolution::Global { .. } = self.resolve(name) {
            match self.owner {
                Some(i) => self.accs[i].calls.insert(name.to_string()),
                None => self.st.calls.insert(name.to_string()),
            }
        }
    }

    fn mutate(&mut self, symbol: Symbol, kind: MutKind) {
        if kind != MutKind::Store {
            self.use_symbol(symbol.clone());
        }
        if let Resolution::Global { .. } = self.resolve(&symbol.base) {
            match (self.owner, kind) {
                (Some(i), MutKind::Call) => self.accs[i].call_mutated.insert(symbol),
                (Some(i), _) => self.accs[i].mutated.insert(symbol),
                (None, MutKind::Call) => self.st.call_mutates.insert(symbol),
                (None, _) => self.st.mutates.insert(symbol),
            }
        }
    }

    /// Binds `name` in the scope at `idx`.
    fn bind_in(&mut self, idx: usize, name: &str) {
        let kind = self.scopes[idx].kind;
        let declared_global = self.scopes[idx].globals.contains(name);
        match kind {
            ScopeKind::Module => {
                self.scopes[idx].bound.insert(name.to_string());
                self.global_write(name);
            }
            ScopeKind::Class if !declared_global => {
                self.scopes[idx].bound.insert(name.to_string());
            }
            _ if declared_global => self.global_write(name),
            _ => {}
        }
    }

    fn global_write(&mut self, name: &str) {
        self.global_effect(name, false);
    }

    /// Records that a global name is bound (or deleted, when `delete`): by
    /// the statement, or by the function whose body this is. The last effect
    /// on a name in a statement wins.
    fn global_effect(&mut self, name: &str, delete: bool) {
        if self.no_bind > 0 {
            return;
        }
        let name = name.to_string();
        match (self.owner, delete) {
            (Some(i), false) => self.accs[i].written.insert(name),
            (Some(i), true) => self.accs[i].deleted.insert(name),
            (None, false) => {
                self.st.deletes.remove(&name);
                self.st.defines.insert(name);
            }
            (None, true) => {
                self.st.defines.remove(&name);
                self.st.deletes.insert(name);
            }
        }
    }

    fn store_name(&mut self, name: &str) {
        let idx = self.scopes.len() - 1;
        self.bind_in(idx, name);
    }

    fn delete_name(&mut self, name: &str) {
        let idx = self.scopes.len() - 1;
        let scope = &mut self.scopes[idx];
        let declared_global = scope.globals.contains(name);
        match scope.kind {
            ScopeKind::Module | ScopeKind::Class if !declared_global => {
                scope.bound.remove(name);
                if scope.kind == ScopeKind::Class {
                    return;
                }
            }
            _ if declared_global => {}
            _ => return,
        }
        self.global_effect(name, true);
    }

    /// A walrus target binds in the nearest scope that is not a comprehension.
    fn walrus_target(&mut self, target: &Expr) {
        if let Expr::Name(n) = target {
            let idx = self
                .scopes
                .iter()
                .rposition(|s| s.kind != ScopeKind::Comprehension)
                .unwrap_or(0);
            self.bind_in(idx, n.id.as_str());
        } else {
            self.store(target);
        }
    }

    // ---- branches: what is definitely bound afterwards ---------------------

    fn bound_set(&mut self) -> Option<&mut HashSet<String>> {
        self.scopes
            .last_mut()
            .filter(|s| matches!(s.kind, ScopeKind::Module | ScopeKind::Class))
            .map(|s| &mut s.bound)
    }

    fn save_bound(&mut self) -> Option<HashSet<String>> {
        self.bound_set().map(|b| b.clone())
    }

    fn restore_bound(&mut self, saved: &Option<HashSet<String>>) {
        if let (Some(saved), Some(bound)) = (saved, self.bound_set()) {
            bound.clone_from(saved);
        }
    }

    // ---- statements --------------------------------------------------------

    fn body(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => self.class_def(c),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.load(v);
                }
            }
            Stmt::Delete(d) => d.targets.iter().for_each(|t| self.delete_target(t)),
            Stmt::TypeAlias(t) => {
                let pushed = self.push_type_params(t.type_params.as_deref());
                self.load(&t.value);
                if pushed {
                    self.scopes.pop();
                }
                self.store(&t.name);
            }
            Stmt::Assign(a) => self.assign(a),
            Stmt::AugAssign(a) => {
                self.load(&a.value);
                self.aug_target(&a.target);
            }
            Stmt::AnnAssign(a) => {
                if matches!(self.innermost(), ScopeKind::Module | ScopeKind::Class) {
                    self.load(&a.annotation);
                }
                if let Some(value) = &a.value {
                    self.load(value);
                    self.store(&a.target);
                }
            }
            Stmt::For(f) => self.loop_stmt(&f.iter, Some(&f.target), &f.body, &f.orelse),
            Stmt::While(w) => self.loop_stmt(&w.test, None, &w.body, &w.orelse),
            Stmt::If(i) => self.if_stmt(i),
            Stmt::With(w) => {
                for item in &w.items {
                    self.load(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.store(vars);
                    }
                }
                self.body(&w.body);
            }
            Stmt::Match(m) => {
                self.load(&m.subject);
                let saved = self.save_bound();
                for case in &m.cases {
                    self.restore_bound(&saved);
                    self.pattern(&case.pattern);
                    if let Some(guard) = &case.guard {
                        self.load(guard);
                    }
                    self.body(&case.body);
                }
                self.restore_bound(&saved);
            }
            Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.load(e);
                }
                if let Some(c) = &r.cause {
                    self.load(c);
                }
            }
            Stmt::Try(t) => {
                let saved = self.save_bound();
                self.body(&t.body);
                self.body(&t.orelse);
                for handler in &t.handlers {
                    let ExceptHandler::ExceptHandler(h) = handler;
                    self.restore_bound(&saved);
                    if let Some(ty) = &h.type_ {
                        self.load(ty);
                    }
                    // `except E as e` unbinds `e` when the handler ends, so it
                    // is neither a definition nor a deletion we can be sure of.
                    if let (Some(name), Some(bound)) = (&h.name, self.bound_set()) {
                        bound.insert(name.id.to_string());
                    }
                    self.body(&h.body);
                }
                self.restore_bound(&saved);
                self.body(&t.finalbody);
            }
            Stmt::Assert(a) => {
                self.load(&a.test);
                if let Some(m) = &a.msg {
                    self.load(m);
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let bound = import_binding(alias);
                    if self.at_module_level() && self.no_bind == 0 {
                        self.st.imports.push(ImportFact {
                            module: alias.name.id.to_string(),
                            name: None,
                            bound_as: bound.clone(),
                            level: 0,
                        });
                    }
                    self.store_name(&bound);
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i
                    .module
                    .as_ref()
                    .map(|m| m.id.to_string())
                    .unwrap_or_default();
                for alias in &i.names {
                    let name = alias.name.id.to_string();
                    let star = name == "*";
                    let bound = if star {
                        name.clone()
                    } else {
                        from_import_binding(alias)
                    };
                    if self.at_module_level() && self.no_bind == 0 {
                        self.st.imports.push(ImportFact {
                            module: module.clone(),
                            name: Some(name),
                            bound_as: bound.clone(),
                            level: i.level,
                        });
                    }
                    if star {
                        if self.owner.is_none() {
                            self.st.dynamic = true;
                        }
                    } else {
                        self.store_name(&bound);
                    }
                }
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            Stmt::Expr(e) => self.load(&e.value),
            Stmt::Pass(_) | Stmt::Break(_) | Stmt::Continue(_) => {}
            Stmt::IpyEscapeCommand(c) => self.escape(c.range, c.kind, &c.value, true),
        }
    }

    fn assign(&mut self, a: &ast::StmtAssign) {
        if let ([Expr::Name(target)], Expr::Lambda(lambda)) = (a.targets.as_slice(), &*a.value) {
            if self.at_module_level() {
                self.lambda(lambda, Some(target.id.as_str()));
                self.store_name(target.id.as_str());
                return;
            }
        }
        self.load(&a.value);
        if let Expr::Name(source) = &*a.value {
            if self.at_module_level() && self.no_bind == 0 {
                for target in &a.targets {
                    if let Expr::Name(t) = target {
                        self.st.aliases.push(AliasFact {
                            target: t.id.to_string(),
                            source: source.id.to_string(),
                        });
                    }
                }
            }
        }
        for target in &a.targets {
            self.store(target);
        }
    }

    /// `for target in head` / `while head`: the body may not run, so what
    /// it binds is not definitely bound afterwards.
    fn loop_stmt(&mut self, head: &Expr, target: Option<&Expr>, body: &[Stmt], orelse: &[Stmt]) {
        self.load(head);
        let saved = self.save_bound();
        if let Some(target) = target {
            self.store(target);
        }
        self.body(body);
        self.body(orelse);
        self.restore_bound(&saved);
    }

    fn if_stmt(&mut self, i: &ast::StmtIf) {
        self.load(&i.test);
        let saved = self.save_bound();
        self.body(&i.body);
        let mut branches = vec![self.save_bound()];
        let mut has_else = false;
        for clause in &i.elif_else_clauses {
            self.restore_bound(&saved);
            match &clause.test {
                Some(test) => self.load(test),
                None => has_else = true,
            }
            self.body(&clause.body);
            branches.push(self.save_bound());
        }
        if !has_else {
            self.restore_bound(&saved);
            return;
        }
        // Definitely bound after the `if`: bound on every branch.
        let mut merged: Option<HashSet<String>> = None;
        for branch in branches.into_iter().flatten() {
            merged = Some(match merged {
                None => branch,
                Some(m) => m.intersection(&branch).cloned().collect(),
            });
        }
        self.restore_bound(&merged);
    }

    fn push_type_params(&mut self, params: Option<&TypeParams>) -> bool {
        let Some(params) = params else { return false };
        let mut scope = Scope::new(ScopeKind::Annotation);
        for p in &params.type_params {
            let name = match p {
                TypeParam::TypeVar(t) => &t.name,
                TypeParam::TypeVarTuple(t) => &t.name,
                TypeParam::ParamSpec(t) => &t.name,
            };
            scope.locals.insert(name.id.to_string());
        }
        self.scopes.push(scope);
        for p in &params.type_params {
            let (bound, default) = match p {
                TypeParam::TypeVar(t) => (t.bound.as_deref(), t.default.as_deref()),
                TypeParam::TypeVarTuple(t) => (None, t.default.as_deref()),
                TypeParam::ParamSpec(t) => (None, t.default.as_deref()),
            };
            if let Some(b) = bound {
                self.load(b);
            }
            if let Some(d) = default {
                self.load(d);
            }
        }
        true
    }

    fn decorators(&mut self, decorators: &[ast::Decorator]) {
        for d in decorators {
            self.load(&d.expression);
            if let Expr::Name(n) = &d.expression {
                self.call_name(n.id.as_str());
            }
        }
    }

    fn function_def(&mut self, f: &ast::StmtFunctionDef) {
        self.decorators(&f.decorator_list);
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(default) = &p.default {
                self.load(default);
            }
        }
        let pushed = self.push_type_params(f.type_params.as_deref());
        for p in f.parameters.iter() {
            if let Some(annotation) = p.annotation() {
                self.load(annotation);
            }
        }
        if let Some(returns) = &f.returns {
            self.load(returns);
        }

        let saved_owner = self.owner;
        if self.owner.is_none() {
            let outer = self
                .scopes
                .iter()
                .rev()
                .find(|s| s.kind != ScopeKind::Annotation);
            self.owner = match outer {
                Some(s) if s.kind == ScopeKind::Class => s.acc,
                _ => None,
            };
            if self.owner.is_none() {
                self.accs
                    .push(FnAcc::new(f.name.id.as_str(), CallableKind::Function));
                self.owner = Some(self.accs.len() - 1);
            }
        }
        let bindings = BindingCollector::collect(Some(&f.parameters), &f.body);
        let mut scope = Scope::new(ScopeKind::Function);
        scope.locals = bindings.locals;
        scope.globals = bindings.globals;
        scope.nonlocals = bindings.nonlocals;
        self.scopes.push(scope);
        self.body(&f.body);
        self.scopes.pop();
        self.owner = saved_owner;
        if pushed {
            self.scopes.pop();
        }
        self.store_name(f.name.id.as_str());
    }

    fn class_def(&mut self, c: &ast::StmtClassDef) {
        self.decorators(&c.decorator_list);
        let module_level = self.at_module_level();
        let pushed = self.push_type_params(c.type_params.as_deref());
        if let Some(arguments) = &c.arguments {
            self.arguments(arguments);
        }
        let mut scope = Scope::new(ScopeKind::Class);
        scope.acc = if module_level && self.no_bind == 0 {
            self.accs
                .push(FnAcc::new(c.name.id.as_str(), CallableKind::Class));
            Some(self.accs.len() - 1)
        } else if self.owner.is_none() {
            // A class nested in a module-level class reports to the outer one.
            self.scopes
                .iter()
                .rev()
                .find(|s| s.kind == ScopeKind::Class)
                .and_then(|s| s.acc)
        } else {
            None
        };
        self.scopes.push(scope);
        self.body(&c.body);
        self.scopes.pop();
        if pushed {
            self.scopes.pop();
        }
        if module_level && self.no_bind == 0 {
            self.st.classes.push(c.name.id.to_string());
        }
        self.store_name(c.name.id.as_str());
    }

    fn lambda(&mut self, l: &ast::ExprLambda, named: Option<&str>) {
        let mut scope = Scope::new(ScopeKind::Lambda);
        if let Some(parameters) = &l.parameters {
            for p in parameters.iter_non_variadic_params() {
                if let Some(default) = &p.default {
                    self.load(default);
                }
            }
            for p in parameters.iter() {
                scope.locals.insert(p.name().id.to_string());
            }
        }
        let saved_owner = self.owner;
        if let Some(name) = named {
            self.accs.push(FnAcc::new(name, CallableKind::Lambda));
            self.owner = Some(self.accs.len() - 1);
        }
        self.scopes.push(scope);
        self.load(&l.body);
        self.scopes.pop();
        self.owner = saved_owner;
    }

    fn comprehension(&mut self, generators: &[ast::Comprehension], elts: &[&Expr]) {
        let Some(first) = generators.first() else {
            elts.iter().for_each(|e| self.load(e));
            return;
        };
        self.load(&first.iter);
        let mut scope = Scope::new(ScopeKind::Comprehension);
        for g in generators {
            target_names(&g.target, &mut scope.locals);
        }
        self.scopes.push(scope);
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                self.load(&g.iter);
            }
            self.store(&g.target);
            g.ifs.iter().for_each(|e| self.load(e));
        }
        elts.iter().for_each(|e| self.load(e));
        self.scopes.pop();
    }

    fn pattern(&mut self, pattern: &Pattern) {
        match pattern {
            Pattern::MatchValue(v) => self.load(&v.value),
            Pattern::MatchSingleton(_) => {}
            Pattern::MatchSequence(s) => s.patterns.iter().for_each(|p| self.pattern(p)),
            Pattern::MatchMapping(m) => {
                m.keys.iter().for_each(|k| self.load(k));
                m.patterns.iter().for_each(|p| self.pattern(p));
                if let Some(rest) = &m.rest {
                    self.store_name(rest.id.as_str());
                }
            }
            Pattern::MatchClass(c) => {
                self.load(&c.cls);
                c.arguments.patterns.iter().for_each(|p| self.pattern(p));
                c.arguments
                    .keywords
                    .iter()
                    .for_each(|k| self.pattern(&k.pattern));
            }
            Pattern::MatchStar(s) => {
                if let Some(name) = &s.name {
                    self.store_name(name.id.as_str());
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern(p);
                }
                if let Some(name) = &a.name {
                    self.store_name(name.id.as_str());
                }
            }
            Pattern::MatchOr(o) => o.patterns.iter().for_each(|p| self.pattern(p)),
        }
    }

    // ---- targets -----------------------------------------------------------

    fn store(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => self.store_name(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.store(e)),
            Expr::Starred(s) => self.store(&s.value),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    // A store through a non-literal key (`d[k] = v`) or a view
                    // (`df.loc[i] = v`) changes only part of what the symbol
                    // covers: the rest of the old value lives on.
                    let kind = if c.exact {
                        MutKind::Store
                    } else {
                        MutKind::InPlace
                    };
                    self.mutate(symbol, kind);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    fn delete_target(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => self.delete_name(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.delete_target(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.delete_target(e)),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(mut symbol) = c.symbol.clone() {
                    let mut kind = if c.exact {
                        MutKind::Store
                    } else {
                        MutKind::InPlace
                    };
                    // `del lst[0]` shifts every later element: it changes the
                    // whole sequence, not one key.
                    if c.ends_in_int_key
                        && matches!(symbol.path.last(), Some(PathPart::Key(Key::Int(_))))
                    {
                        symbol.path.pop();
                        kind = MutKind::InPlace;
                    }
                    self.mutate(symbol, kind);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    fn aug_target(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => {
                if self.innermost() == ScopeKind::Module {
                    self.mutate(Symbol::name(n.id.as_str()), MutKind::InPlace);
                } else {
                    self.use_symbol(Symbol::name(n.id.as_str()));
                    self.store_name(n.id.as_str());
                }
            }
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    self.mutate(symbol, MutKind::InPlace);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    /// Evaluates where a chain starts when it does not start at a name
    /// (`f(x).attr`): before its symbol, as Python does.
    fn chain_root(&mut self, c: &Chain<'_>) {
        if let Some(root) = c.root {
            self.load(root);
        }
    }

    /// Evaluates a chain's non-literal keys (`k` in `d[k]`): after its symbol.
    fn chain_keys(&mut self, c: &Chain<'_>) {
        for e in &c.leftovers {
            self.load(e);
        }
    }

    // ---- expressions -------------------------------------------------------

    fn load(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(n) => self.use_name(n.id.as_str()),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(expr);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    self.use_symbol(symbol);
                }
                self.chain_keys(&c);
            }
            Expr::Call(call) => self.call(call),
            Expr::Named(n) => {
                self.load(&n.value);
                self.walrus_target(&n.target);
            }
            Expr::Lambda(l) => self.lambda(l, None),
            Expr::ListComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => match &c.key {
                Some(key) => self.comprehension(&c.generators, &[key, &c.value]),
                None => self.comprehension(&c.generators, &[&c.value]),
            },
            Expr::IpyEscapeCommand(c) => self.escape(c.range, c.kind, &c.value, false),
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn arguments(&mut self, arguments: &Arguments) {
        arguments.args.iter().for_each(|a| self.load(a));
        arguments.keywords.iter().for_each(|k| self.load(&k.value));
    }

    fn call(&mut self, call: &ast::ExprCall) {
        match &*call.func {
            Expr::Name(n) => {
                self.use_name(n.id.as_str());
                self.call_name(n.id.as_str());
            }
            Expr::Attribute(a) => {
                let c = chain(&a.value);
                self.chain_root(&c);
                if let Some(receiver) = c.symbol.clone() {
                    if is_mutating_call(a.attr.id.as_str(), &call.arguments) {
                        self.mutate(receiver, MutKind::Call);
                    } else {
                        self.use_symbol(receiver);
                    }
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
        self.arguments(&call.arguments);
    }

    // ---- IPython -----------------------------------------------------------

    fn escape(&mut self, range: TextRange, kind: IpyEscapeKind, value: &str, statement: bool) {
        self.escapes.push(range);
        match kind {
            IpyEscapeKind::Magic | IpyEscapeKind::Magic2 => {
                let (name, rest) = split_magic(value);
                match name {
                    "time" => self.sub_code(rest, statement),
                    "timeit" => self.sub_code(strip_timeit_options(rest), false),
                    _ => {
                        if self.owner.is_none() {
                            self.st.dynamic = true;
                        }
                        self.interpolations(rest);
                    }
                }
            }
            IpyEscapeKind::Shell | IpyEscapeKind::ShCap => self.interpolations(value),
            IpyEscapeKind::Help | IpyEscapeKind::Help2 => {}
            IpyEscapeKind::Paren => {
                // `/f a, b` is `f(a, b)`.
                let (name, rest) = split_magic(value);
                self.sub_code(&format!("{name}({rest})"), false);
            }
            IpyEscapeKind::Quote | IpyEscapeKind::Quote2 => {
                // `,f a b` is `f("a", "b")`: only `f` is code.
                let (name, _) = split_magic(value);
                self.sub_code(&format!("{name}()"), false);
            }
        }
    }

    /// Analyses `code` found inside an escape (`%time` statement, `{expr}`
    /// interpolation) as part of the current statement. With `binds` false
    /// its bindings stay local (`%timeit` runs in a throwaway scope).
    fn sub_code(&mut self, code: &str, binds: bool) {
        // The cell's pre-scan saw an escape as one token: bound this code
        // too, and keep it shallow since it may be parsed on a small stack.
        let shallow = prescan(code).is_ok_and(|n| n.is_shallow());
        if code.trim().is_empty() || self.sub_depth >= MAX_SUB_DEPTH || !shallow {
            return;
        }
        let parsed = parse_unchecked(code, options());
        if !parsed.errors().is_empty() {
            return;
        }
        let Mod::Module(module) = parsed.syntax() else {
            return;
        };
        let escapes = self.escapes.len();
        self.sub_depth += 1;
        if !binds {
            self.no_bind += 1;
        }
        self.body(&module.body);
        if !binds {
            self.no_bind -= 1;
        }
        self.sub_depth -= 1;
        // Offsets inside `code` are not offsets in the cell.
        self.escapes.truncate(escapes);
    }

    /// IPython expands `{expr}` and `$name` in shell commands and most line
    /// magics; those are reads of globals.
    fn interpolations(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'$' if bytes.get(i + 1) == Some(&b'$') => i += 2,
                b'$' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric()
                            || bytes[end] == b'_'
                            || bytes[end] == b'.')
                    {
                        end += 1;
                    }
                    let name = text[start..end].trim_end_matches('.');
                    if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                        self.sub_code(name, false);
                    }
                    i = end.max(i + 1);
                }
                b'{' if bytes.get(i + 1) == Some(&b'{') => i += 2,
                b'{' => {
                    let mut depth = 0usize;
                    let mut end = None;
                    for (j, b) in bytes.iter().enumerate().skip(i) {
                        match b {
                            b'{' => depth += 1,
                            b'}' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = Some(j);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    match end {
                        Some(j) => {
                            self.sub_code(&format!("({})", &text[i + 1..j]), false);
                            i = j + 1;
                        }
                        None => break,
                    }
                }
                _ => i += 1,
            }
        }
    }
}

impl<'a> Visitor<'a> for Walker {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.stmt(stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.load(expr);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        self.pattern(pattern);
    }
}
