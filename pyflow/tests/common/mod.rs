//! Reader for the text tables of cases (`tests/*_table.txt`).
//!
//! ```text
//! # a comment
//! === title of a case
//! >>> first line of a cell
//! ... next line of the same cell
//! #! option=value other=value      (options of the cell above)
//! >>> another cell
//! check line                        (what the runner checks)
//! ```
//!
//! Code is written as it would be typed: no escaping. `>>>` or `...` alone
//! is an empty line of code.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

/// One cell of a case.
pub struct CellSrc {
    pub code: String,
    pub options: Vec<(String, String)>,
}

impl CellSrc {
    /// The value of option `key`, if given.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One `===` case.
pub struct Case {
    pub title: String,
    /// 1-based line of the `===` line, for messages.
    pub line: usize,
    pub cells: Vec<CellSrc>,
    /// Check lines with their 1-based line numbers.
    pub checks: Vec<(usize, String)>,
}

/// Reads a table.
pub fn read(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if let Some(title) = line.strip_prefix("===") {
            cases.push(Case {
                title: title.trim().to_string(),
                line: i + 1,
                cells: Vec::new(),
                checks: Vec::new(),
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            continue;
        };
        if let Some(code) = code_line(line, ">>>") {
            case.cells.push(CellSrc {
                code: code.to_string(),
                options: Vec::new(),
            });
        } else if let Some(code) = code_line(line, "...") {
            let cell = case.cells.last_mut().expect("`...` after a `>>>` cell");
            cell.code.push('\n');
            cell.code.push_str(code);
        } else if let Some(options) = line.strip_prefix("#!") {
            let cell = case.cells.last_mut().expect("`#!` after a `>>>` cell");
            for option in options.split_whitespace() {
                let (k, v) = option.split_once('=').unwrap_or((option, ""));
                cell.options.push((k.to_string(), v.to_string()));
            }
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            case.checks.push((i + 1, line.trim().to_string()));
        }
    }
    cases
}

/// The code after a `>>> ` or `... ` prompt (the space is part of it).
fn code_line<'a>(line: &'a str, prompt: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(prompt)?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix(' ')
}

/// Splits a check line `head: a b c` into (`head`, [`a`, `b`, `c`]); `-`
/// stands for an empty list.
pub fn split_check(line: &str) -> (&str, Vec<&str>) {
    let (head, rest) = line.split_once(':').unwrap_or((line, ""));
    let values: Vec<&str> = rest.split_whitespace().filter(|v| *v != "-").collect();
    (head.trim(), values)
}

/// Reads a table (at least `min_cases` cases), runs `check` on each case —
/// it returns one message per failed check line — and fails with all the
/// messages, each prefixed with `file` and the case title.
pub fn run_table(
    text: &str,
    file: &str,
    min_cases: usize,
    mut check: impl FnMut(&Case) -> Vec<(usize, String)>,
) {
    let cases = read(text);
    assert!(
        cases.len() >= min_cases,
        "{file}: only {} cases read",
        cases.len()
    );
    let report: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            check(case)
                .into_iter()
                .map(move |(line, message)| format!("{file}:{line} [{}] {message}", case.title))
        })
        .collect();
    assert!(report.is_empty(), "\n{}\n", report.join("\n"));
}
