//! [`analyze_cell`]: a cell's code to its per-statement facts, guarded so
//! that no input can crash or hang the kernel.
//!
//! Layers, each file using only those above it: `known_names`, `ipython`,
//! `guards`, `lines` (plain data and text); `scope`, `bindings`, `chain`,
//! `collect` (Python's scoping rules and what is collected); `walker` (the
//! AST walk); `asserts` (the cell's asserts, for expectations); this file
//! (the cell: magics, guards, parse, walk).

mod asserts;
mod bindings;
mod chain;
mod collect;
mod guards;
mod ipython;
pub use ipython::starts_escape_line;
mod known_calls;
mod known_names;
mod lines;
mod scope;
mod walker;

use std::borrow::Cow;

use ruff_python_ast::Mod;
use ruff_python_parser::parse_unchecked;
use ruff_text_size::Ranged;

use crate::facts::{CellAnalysis, ParseError, ANALYSIS_VERSION};
use guards::{parse_options, prescan, Nesting, ANALYSIS_STACK};
use ipython::{split_magic, CellMagic};
use lines::LineIndex;
use walker::Walker;

/// Analyses one cell's code: each top-level statement's defines, uses,
/// mutations, deletions, imports, functions and classes.
///
/// Never panics and never fails: a cell that does not parse (or is too
/// deeply nested for CPython to compile) comes back with `parse_error` set
/// and no statements. IPython syntax is understood, not fatal.
///
/// The nesting is bounded first (on any stack: the lexer does not recurse),
/// shallow cells — nearly all — are then parsed here, deeper ones on a
/// thread with a large stack, and a panic becomes a "could not analyse"
/// record.
pub fn analyze_cell(code: &str) -> CellAnalysis {
    let prepared = match prepare(code) {
        Ok(p) => p,
        Err(done) => return *done,
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

/// A cell ready to parse: IPython cell magic handled, nesting bounded.
struct Prepared<'c> {
    source: Cow<'c, str>,
    lines: LineIndex,
    masked_lines: Vec<usize>,
    cell_magic: Option<String>,
    magic_mode: Option<CellMagic>,
    nesting: Nesting,
}

/// Everything before parsing; `Err` is already the answer (an opaque cell
/// magic, or a cell CPython would refuse to compile).
fn prepare(code: &str) -> Result<Prepared<'_>, Box<CellAnalysis>> {
    let lines = LineIndex::new(code);
    let mut masked_lines = Vec::new();
    let mut source = Cow::Borrowed(code);
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
            let mode = CellMagic::of(name);
            cell_magic = Some(name.to_string());
            if let CellMagic::Opaque = mode {
                return Err(Box::new(opaque_cell(code, &lines, name, args)));
            }
            masked_lines.push(line_no);
            let mut blanked = String::with_capacity(code.len());
            blanked.push_str(&code[..offset]);
            blanked.extend(
                line.chars()
                    .map(|c| if c == '\n' || c == '\r' { c } else { ' ' }),
            );
            blanked.push_str(&code[offset + line.len()..]);
            source = Cow::Owned(blanked);
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
        Err(message) => Err(Box::new(CellAnalysis {
            masked_lines,
            cell_magic,
            ..unanalysed(&message, 1, 1)
        })),
    }
}

/// Parses and walks a prepared cell. Recurses as deep as the cell nests.
fn analyze_prepared(code: &str, prepared: &Prepared<'_>) -> CellAnalysis {
    let lines = &prepared.lines;
    let mut masked_lines = prepared.masked_lines.clone();
    let cell_magic = prepared.cell_magic.clone();
    let parsed = parse_unchecked(&prepared.source, parse_options());
    if let Some(error) = parsed.errors().first() {
        let start = error.location.start().to_usize();
        let mut analysis = unanalysed(
            &error.error.to_string(),
            lines.line_of(start),
            lines.column_of(code, start),
        );
        analysis.masked_lines = masked_lines;
        analysis.cell_magic = cell_magic;
        // Nothing of the cell ran, but its asserts (as far as the parser
        // recovered) are expectations that were not reached.
        if let Mod::Module(module) = parsed.syntax() {
            analysis.asserts =
                asserts::find_asserts(&module.body, &prepared.source, parsed.tokens(), lines);
        }
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
        // `%%timeit` runs its body in a throwaway scope: `%%timeit\nx = f()`
        // reads `f` but leaves the global `x` alone.
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
        asserts: asserts::find_asserts(&module.body, &prepared.source, parsed.tokens(), lines),
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
        asserts: Vec::new(),
    }
}
