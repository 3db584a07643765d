//! `data-leakage`: a value derived from the test part of a split flows into a model's fit.
//!
//! Triggered by: `X_train, X_test, y_train, y_test = train_test_split(X, y); model.fit(X_test, y_test)`
//!
//! The test outputs of `train_test_split` are its targets at odd positions (the 2nd and 4th of
//! `X_train, X_test, y_train, y_test`; the 2nd of `train, test`). Anything a statement computes
//! from a tainted name is tainted too (its definitions and in-place stores), and a name rebound
//! from untainted values is clean again: the trial is followed statement by statement in the
//! order the kernel ran it, from each execution's stored analysis (statements after the line
//! an execution failed at did not run and are skipped). A finding is a statement whose
//! `.fit(...)`, `.fit_transform(...)` or `.partial_fit(...)` call names a tainted global among
//! its arguments. What is not seen: a value reaching a fit through a notebook function's body
//! (`def f(): return X_test`), an attribute or container holding a tainted value under
//! another name, and splits made by anything but `train_test_split`.
//!
//! Live (after each execution, when warnings are on): an execution whose code calls a fit is
//! followed the same way over only what it rests on (itself and the executions it read from,
//! transitively), and only its own fits are reported; any other execution causes nothing.

use std::collections::HashMap;

use pyflow::CellAnalysis;

use super::rule::{cell, Executed, Finding, Rule, Severity};
use crate::{DataflowRow, Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "data-leakage",
    severity: Severity::Error,
    help: "a value derived from the test part of train_test_split flows into .fit/.fit_transform",
    example: "X_train, X_test, y_train, y_test = train_test_split(X, y); model.fit(X_test, y_test)",
    find,
    live: Some(live),
};

/// Where a tainted name's test data came from: the split's execution and line.
#[derive(Clone, Copy)]
struct Origin {
    count: Option<i64>,
    line: usize,
}

const FITS: [&str; 3] = [".fit(", ".fit_transform(", ".partial_fit("];

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    Ok(follow(&store.dataflow_rows(trial.id)?, None))
}

fn live(store: &Store, x: &Executed) -> Result<Vec<Finding>> {
    if !FITS.iter().any(|fit| x.code.contains(fit)) {
        return Ok(Vec::new());
    }
    Ok(follow(&store.dataflow_rows_upstream_of(x.id)?, Some(x.id)))
}

/// Follows the taint through `rows` in order; the fits on tainted values (only those of
/// execution `only`, when given).
fn follow(rows: &[DataflowRow], only: Option<i64>) -> Vec<Finding> {
    let mut tainted: HashMap<String, Origin> = HashMap::new();
    let mut findings = Vec::new();
    for row in rows {
        let reporting = only.is_none_or(|id| id == row.execution_id);
        let Ok(analysis) = serde_json::from_str::<CellAnalysis>(&row.analysis) else {
            continue;
        };
        for st in &analysis.statements {
            if row
                .failed_line
                .is_some_and(|failed| st.line_start as i64 > failed)
            {
                break;
            }
            let Some(text) = row.code.get(st.byte_start..st.byte_end) else {
                continue;
            };
            let used: Vec<(&str, Origin)> = st
                .uses
                .iter()
                .filter_map(|s| Some((s.base.as_str(), *tainted.get(&s.base)?)))
                .collect();
            if let Some(targets) = split_targets(text) {
                let origin = Origin {
                    count: row.execution_count,
                    line: st.line_start,
                };
                for (i, target) in targets.into_iter().enumerate() {
                    if i % 2 == 1 {
                        tainted.insert(target.to_string(), origin);
                    } else {
                        tainted.remove(target);
                    }
                }
                continue;
            }
            for (callee, args) in fit_calls(text).into_iter().filter(|_| reporting) {
                let line = st.line_start + text[..args.0].matches('\n').count();
                let arguments = &text[args.0..args.1];
                let leaked: Vec<&(&str, Origin)> = used
                    .iter()
                    .filter(|(name, _)| names_in(arguments).any(|n| n == *name))
                    .collect();
                let Some((_, origin)) = leaked.first() else {
                    continue;
                };
                let mut names: Vec<String> = Vec::new();
                for (n, _) in &leaked {
                    let shown = format!("`{n}`");
                    if !names.contains(&shown) {
                        names.push(shown);
                    }
                }
                let message = format!(
                    "{} line {line}: `{}` fits on {}, which {} from the test part of the \
                     split in {} line {}; fit on the training part only and keep the test part \
                     for the final evaluation, else the score overstates how the model does on \
                     unseen data",
                    cell(row.execution_count),
                    one_line(&format!("{callee}({arguments})")),
                    names.join(", "),
                    if names.len() == 1 { "comes" } else { "come" },
                    cell(origin.count),
                    origin.line,
                );
                let involved = [origin.count, row.execution_count];
                findings.push(RULE.finding(message, involved.into_iter().flatten().collect()));
            }
            let origin = used.first().map(|(_, o)| *o);
            for d in &st.defines {
                match origin {
                    Some(o) => tainted.insert(d.base.clone(), o),
                    None => tainted.remove(&d.base),
                };
            }
            if let Some(o) = origin {
                for m in &st.mutates {
                    tainted.insert(m.base.clone(), o);
                }
            }
        }
    }
    findings
}

/// The targets of `a, b, c, d = train_test_split(...)` in order (`_` included, so positions
/// hold), when the statement is such an assignment with at least two plain-name targets.
fn split_targets(text: &str) -> Option<Vec<&str>> {
    let call = text.find("train_test_split(")?;
    let before = &text[..call];
    let eq = before.rfind('=')?;
    // Only `targets = [module.]train_test_split(`: nothing but a dotted name between.
    let callee = before[eq + 1..].trim();
    if !callee.is_empty() && !callee.trim_end_matches('.').split('.').all(is_name) {
        return None;
    }
    let lhs = before[..eq].trim();
    if lhs.ends_with(['=', '!', '<', '>']) {
        return None;
    }
    let lhs = lhs
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    let targets: Vec<&str> = lhs
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    (targets.len() >= 2 && targets.iter().all(|t| is_name(t))).then_some(targets)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Each fit call in a statement's text: the callee as written (`model.fit`) and the byte range
/// of its arguments (between its parentheses). Text inside strings is not told apart; a call
/// whose parentheses do not close in the statement is skipped.
fn fit_calls(text: &str) -> Vec<(String, (usize, usize))> {
    let mut calls = Vec::new();
    for fit in FITS {
        for (at, _) in text.match_indices(fit) {
            let open = at + fit.len();
            let Some(close) = closing(&text[open..]) else {
                continue;
            };
            let receiver_start = text[..at]
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let callee = format!("{}{}", &text[receiver_start..at], &fit[..fit.len() - 1]);
            calls.push((callee, (open, open + close)));
        }
    }
    calls.sort_by_key(|(_, range)| range.0);
    calls
}

/// The offset of the parenthesis closing the one just before `rest`.
fn closing(rest: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => return (c == ')').then_some(i),
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The identifiers in a piece of code that are not attributes (`a.b` gives `a`) nor keyword
/// names (`x=...` gives nothing for `x`).
fn names_in(code: &str) -> impl Iterator<Item = &str> {
    let mut names = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() {
            // A number's digits and suffix (`1e3`, `2j`) are no name.
            while chars.next_if(|(_, c)| c.is_alphanumeric()).is_some() {}
            continue;
        }
        if !(c.is_alphabetic() || c == '_') {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some((i, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_') {
            end = i + c.len_utf8();
        }
        let attribute = code[..start].trim_end().ends_with('.');
        let rest = code[end..].trim_start();
        let keyword = rest.starts_with('=') && !rest.starts_with("==");
        if !attribute && !keyword {
            names.push(&code[start..end]);
        }
    }
    names.into_iter()
}

/// A call's text on one line, at most 80 characters.
fn one_line(code: &str) -> String {
    let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(79).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_calls_find_the_callee_and_its_arguments() {
        let text = "model.fit(scaler.transform(X_test), y)\nStandardScaler().fit_transform(a)";
        let calls = fit_calls(text);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].0, "model.fit");
        assert_eq!(
            &text[calls[0].1 .0..calls[0].1 .1],
            "scaler.transform(X_test), y"
        );
        assert_eq!(calls[1].0, ".fit_transform");
        let names: Vec<&str> =
            names_in("scaler.transform(X_test), y, eval_set=[(Xv, 2)]").collect();
        assert_eq!(names, ["scaler", "X_test", "y", "Xv"]);
        let names: Vec<&str> = names_in("données, é=1, x_ü2 == 3e5").collect();
        assert_eq!(names, ["données", "x_ü2"]);
        assert_eq!(fit_calls("é.fit(a)")[0].0, "é.fit");
    }

    #[test]
    fn split_targets_keep_their_positions() {
        let text = "X_tr, X_te, y_tr, y_te = train_test_split(\n    X, y)";
        assert_eq!(
            split_targets(text).unwrap(),
            ["X_tr", "X_te", "y_tr", "y_te"]
        );
        let text = "(_, test) = sklearn.model_selection.train_test_split(df)";
        assert_eq!(split_targets(text).unwrap(), ["_", "test"]);
        assert_eq!(split_targets("parts = train_test_split(df)"), None);
        assert_eq!(split_targets("a, b = f(train_test_split(df))"), None);
        assert_eq!(split_targets("ok = x == train_test_split(df)"), None);
    }
}
