//! The guards that run before the recursive parser sees a cell: CPython's own
//! limits on nesting checked with ruff's iterative lexer, mismatched brackets
//! refused up front, and the parser options chosen in one place.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::PythonVersion;
use ruff_python_parser::{lexer, Mode, ParseOptions};

/// Stack for the analysis thread. Parsing and dropping an AST recurse once
/// per nesting level; the pre-scan bounds the nesting, this bounds the stack
/// it may need with a wide margin (memory is only committed when touched).
pub(super) const ANALYSIS_STACK: usize = 64 << 20;

/// Upper bound on expression nesting accepted, counted by [`prescan`].
/// CPython 3.11 already refuses to compile ~5,000 nested operators
/// ("maximum recursion depth exceeded during compilation").
const MAX_EXPR_DEPTH: u32 = 5_000;
/// CPython's own limit on nested brackets ("too many nested parentheses").
const MAX_BRACKETS: usize = 200;
/// CPython's own limit on indentation ("too many levels of indentation").
const MAX_INDENT: u32 = 100;
/// How deep `%time %time ...` and `{...}` interpolations may nest.
pub(super) const MAX_SUB_DEPTH: u32 = 8;

/// The parser options every parse of the analysis uses: IPython syntax, Python up to 3.14.
pub(super) fn parse_options() -> ParseOptions {
    ParseOptions::from(Mode::Ipython).with_target_version(PythonVersion::PY314)
}

/// Bounds how deeply `source` can nest before the recursive parser sees it,
/// with CPython's own limits, using ruff's (iterative) lexer. Also rejects
/// unmatched and mismatched closing brackets, as CPython's tokenizer does:
/// ruff's error recovery on them can reach an `unreachable!` in IPython mode
/// (`[}` then `/f` on the next line).
pub(super) fn prescan(source: &str) -> Result<Nesting, String> {
    if source.len() >= u32::MAX as usize {
        return Err("the cell is too large to analyse".into());
    }
    let mut scan = Scan::default();
    let mut lexer = lexer::lex(source, Mode::Ipython);
    loop {
        let kind = lexer.next_token();
        match kind {
            TokenKind::EndOfFile => return Ok(scan.nesting),
            TokenKind::Lpar
            | TokenKind::Lsqb
            | TokenKind::Lbrace
            | TokenKind::FStringStart
            | TokenKind::TStringStart => scan.open(kind)?,
            TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd => scan.close(kind)?,
            TokenKind::Comma | TokenKind::Semi | TokenKind::Equal | TokenKind::Newline => {
                scan.end_element()
            }
            TokenKind::Indent => {
                scan.indent += 1;
                if scan.indent > MAX_INDENT {
                    return Err("too many levels of indentation".into());
                }
                scan.nesting.indent = scan.nesting.indent.max(scan.indent);
            }
            TokenKind::Dedent => scan.indent = scan.indent.saturating_sub(1),
            // A character no expression has (`$`, `?`, `€`) in an f-string's
            // replacement field: CPython refuses it, and Ruff 0.0.10's
            // recovery from it in IPython mode can reach an `unreachable!()`
            // (fuzzing: `f"{\u{ade}f{:\r,`).
            TokenKind::Unknown | TokenKind::Question if scan.in_replacement_field() => {
                return Err("invalid character in an f-string's replacement field".into())
            }
            kind if chains(kind) => scan.operator()?,
            _ => {}
        }
    }
}

/// Tokens that add a level to the expression the parser builds (binary and
/// unary operators, attribute access, conditional expressions, ...).
fn chains(kind: TokenKind) -> bool {
    matches!(
        kind,
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
            | TokenKind::Rarrow
    )
}

/// One open bracket as [`prescan`] tracks it.
struct Frame {
    opener: TokenKind,
    /// Operators chained in the current comma-separated element.
    ops: u32,
    /// The deepest element of this bracket so far.
    deepest: u32,
}

/// [`prescan`]'s state: the open brackets (the first frame is the top level,
/// never closed), the indentation, and the deepest nesting seen.
struct Scan {
    frames: Vec<Frame>,
    indent: u32,
    nesting: Nesting,
}

impl Default for Scan {
    fn default() -> Scan {
        Scan {
            frames: vec![Frame {
                opener: TokenKind::Unknown,
                ops: 0,
                deepest: 0,
            }],
            indent: 0,
            nesting: Nesting::default(),
        }
    }
}

impl Scan {
    fn open(&mut self, kind: TokenKind) -> Result<(), String> {
        self.frames.push(Frame {
            opener: kind,
            ops: 0,
            deepest: 0,
        });
        if self.frames.len() > MAX_BRACKETS + 1 {
            return Err("too many nested parentheses".into());
        }
        self.nesting.brackets = self.nesting.brackets.max(self.frames.len() as u32 - 1);
        Ok(())
    }

    /// A closing bracket: it must match the innermost opener; the bracket's
    /// deepest element then counts as one operand of the enclosing element.
    fn close(&mut self, kind: TokenKind) -> Result<(), String> {
        let opener = self.frames.last().map_or(TokenKind::Unknown, |f| f.opener);
        let expected = match kind {
            TokenKind::Rpar => TokenKind::Lpar,
            TokenKind::Rsqb => TokenKind::Lsqb,
            TokenKind::Rbrace => TokenKind::Lbrace,
            TokenKind::FStringEnd => TokenKind::FStringStart,
            _ => TokenKind::TStringStart,
        };
        if opener != expected {
            if matches!(kind, TokenKind::FStringEnd | TokenKind::TStringEnd) {
                return Ok(()); // a malformed string: the parser reports it
            }
            let closer = bracket_char(kind);
            return Err(if self.frames.len() == 1 {
                format!("unmatched '{closer}'")
            } else {
                format!(
                    "closing parenthesis '{closer}' does not match opening parenthesis '{}'",
                    bracket_char(opener)
                )
            });
        }
        let Some(closed) = self.frames.pop() else {
            return Ok(());
        };
        self.add_ops(closed.ops.max(closed.deepest) + 1)
    }

    /// Inside the `{...}` of an f-string or a t-string (the string's frame
    /// is open and a brace was opened after it).
    fn in_replacement_field(&self) -> bool {
        self.frames
            .iter()
            .any(|f| matches!(f.opener, TokenKind::FStringStart | TokenKind::TStringStart))
    }

    /// A separator: the current element ends, the next starts from zero.
    fn end_element(&mut self) {
        if let Some(top) = self.frames.last_mut() {
            top.deepest = top.deepest.max(top.ops);
            top.ops = 0;
        }
    }

    fn operator(&mut self) -> Result<(), String> {
        self.add_ops(1)
    }

    fn add_ops(&mut self, n: u32) -> Result<(), String> {
        if let Some(top) = self.frames.last_mut() {
            top.ops = top.ops.saturating_add(n);
            if top.ops > MAX_EXPR_DEPTH {
                return Err("expression too deeply nested to compile".into());
            }
            self.nesting.operators = self.nesting.operators.max(top.ops);
        }
        Ok(())
    }
}

/// How deeply a cell nests, as [`prescan`] bounds it.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Nesting {
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
    pub(super) fn is_shallow(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::prescan;
    use crate::analyze::{analyze_prepared, prepare};

    /// Runs the analysis as `analyze_cell` does but with panics NOT caught,
    /// so a parser panic the guards let through fails the test.
    fn analyze_uncaught(code: &str) -> crate::facts::CellAnalysis {
        match prepare(code) {
            Ok(prepared) => analyze_prepared(code, &prepared),
            Err(refused) => *refused,
        }
    }

    #[test]
    fn an_invalid_character_in_a_replacement_field_is_refused_before_parsing() {
        for code in [
            "f\"{\u{ade}f{:\r,",
            "f\"{\u{ade}f{:\n,",
            "f\"{$f{:\n,",
            "f\"{?f{:\n,",
            "x = f\"{a?}\"",
            "t\"{\u{20ac}x}\"",
        ] {
            let error = prescan(code).expect_err(code);
            assert!(error.contains("f-string"), "{code:?}: {error}");
            let analysis = analyze_uncaught(code);
            assert!(analysis.parse_error.is_some(), "{code:?}");
        }
    }

    #[test]
    fn valid_f_strings_pass_the_guard() {
        for code in [
            "x = f\"{a!r:>{w}} {b=}\"",
            "x = f\"{'?'} {d['$']} {x:?>10} {y:\u{20ac}^9}\"",
            "x = f\"cost: {price}\u{20ac} $ ?\"",
            "x = t\"{a} {b!s:{w}}\"",
            "x = f'{f\"nested {y}\"}'",
            "a?",
        ] {
            assert!(prescan(code).is_ok(), "{code:?}");
            let analysis = analyze_uncaught(code);
            assert!(analysis.parse_error.is_none(), "{code:?}: {analysis:?}");
        }
    }
}
