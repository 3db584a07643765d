//! The cell's `assert` statements ([`AssertFact`]): the expectations the
//! store tracks across trials. Kept apart from the walker, which collects
//! effects on globals; an assert has none, but its identity (normalised
//! text), place and nesting matter.

use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::lines::LineIndex;
use crate::facts::AssertFact;

/// The asserts of `body` (a module's top-level statements) in source order.
pub(super) fn find_asserts(
    body: &[Stmt],
    source: &str,
    tokens: &Tokens,
    lines: &LineIndex,
) -> Vec<AssertFact> {
    let mut finder = Finder {
        source,
        tokens,
        lines,
        statement: 0,
        depth: 0,
        found: Vec::new(),
    };
    for (index, stmt) in body.iter().enumerate() {
        finder.statement = index;
        finder.depth = 0;
        finder.visit_stmt(stmt);
    }
    finder.found
}

struct Finder<'s> {
    source: &'s str,
    tokens: &'s Tokens,
    lines: &'s LineIndex,
    statement: usize,
    /// How many statements enclose the one visited (0: top level).
    depth: usize,
    found: Vec<AssertFact>,
}

impl<'a> Visitor<'a> for Finder<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assert(a) = stmt {
            let mut reads = Reads::default();
            reads.visit_expr(&a.test);
            if let Some(msg) = &a.msg {
                reads.visit_expr(msg);
            }
            let range = a.range();
            let start = range.start().to_usize();
            let end = range.end().to_usize();
            self.found.push(AssertFact {
                source: normalised(self.source, self.tokens, range),
                line_start: self.lines.line_of(start),
                line_end: self.lines.line_of(end.saturating_sub(1).max(start)),
                statement: self.statement,
                nested: self.depth > 0,
                reads: reads.names,
            });
            return;
        }
        self.depth += 1;
        walk_stmt(self, stmt);
        self.depth -= 1;
    }
}

/// Names loaded by an expression, each once.
#[derive(Default)]
struct Reads {
    names: Vec<String>,
}

impl<'a> Visitor<'a> for Reads {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            if n.ctx == ExprContext::Load && !self.names.iter().any(|s| s == n.id.as_str()) {
                self.names.push(n.id.to_string());
            }
        }
        walk_expr(self, expr);
    }
}

/// The text of `range` as its tokens, comments and line breaks dropped, one
/// space wherever the code had anything between two tokens.
fn normalised(source: &str, tokens: &Tokens, range: TextRange) -> String {
    let first = tokens.partition_point(|t| t.start() < range.start());
    let mut out = String::with_capacity(range.len().to_usize());
    let mut last_end = None;
    for token in tokens[first..]
        .iter()
        .take_while(|t| t.end() <= range.end())
    {
        if matches!(
            token.kind(),
            TokenKind::Comment
                | TokenKind::NonLogicalNewline
                | TokenKind::Newline
                | TokenKind::Indent
                | TokenKind::Dedent
        ) {
            continue;
        }
        let text = source.get(token.range().to_std_range()).unwrap_or("");
        if let Some(end) = last_end {
            if token.start() > end {
                out.push(' ');
            }
        }
        out.push_str(text);
        last_end = Some(token.end());
    }
    out
}
