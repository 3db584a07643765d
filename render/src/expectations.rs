//! A trial's expectations (`%expectations`, `provctl expectations`): one row per `assert` the
//! trial ran, with its latest outcome in that trial, the failure's message, and a ✓✗ row of
//! its outcome in every trial that ran its cell (each trial's last run), oldest first.
//! JSON: the array of expectations (the `provctl expectations --json` contract).

use provstore::{Expectation, Outcome, TrialSummary};

use crate::doc::Doc;
use crate::table::{Cell, Table};
use crate::{plural, to_json, trial_named, Rendered};

/// How many characters of an assert's source the text shows (the HTML tooltip has all).
const SOURCE: usize = 60;

/// What the ✓✗ row means, and what cannot be known.
const LEGEND: &str = "✓ passed, ✗ failed, · not reached; history: each trial's last run, \
                      oldest first. * nested in a branch, loop or function: it may not have \
                      run, and ✓ means only that it did not fail.";

/// The expectations of `trial`, each with its history across trials.
pub fn render_expectations(trial: &TrialSummary, expectations: &[Expectation]) -> Rendered {
    expectations_doc(trial, expectations).rendered(to_json(&expectations))
}

fn expectations_doc(trial: &TrialSummary, expectations: &[Expectation]) -> Doc {
    let mut doc = Doc::new();
    let name = trial_named(trial);
    if expectations.is_empty() {
        doc.title(format!("Expectations of trial {name}: none"));
        doc.note(0, "The trial's code has no assert statement.");
        return doc;
    }
    let latest: Vec<_> = expectations.iter().map(|e| e.latest_in(trial.id)).collect();
    let counted = |o: Outcome| latest.iter().flatten().filter(|r| r.outcome == o).count();
    doc.title(format!(
        "Expectations of trial {name}: {}, {} passed, {} failed, {} not reached",
        plural(expectations.len(), "assert"),
        counted(Outcome::Passed),
        counted(Outcome::Failed),
        counted(Outcome::NotReached),
    ));
    let mut table = Table::new(&[
        "cell",
        "line",
        "expectation",
        "latest",
        "history",
        "message",
    ]);
    for (e, last) in expectations.iter().zip(&latest) {
        let shown = if e.nested {
            format!("{} *", e.source)
        } else {
            e.source.clone()
        };
        let preview = if shown.chars().count() > SOURCE {
            let cut: String = shown.chars().take(SOURCE - 1).collect();
            format!("{cut}…")
        } else {
            shown
        };
        table.push(vec![
            Cell::plain(match last.and_then(|r| r.execution_count) {
                Some(n) => format!("In[{n}]"),
                None => "In[?]".into(),
            }),
            Cell::number(e.line as i64),
            Cell::code(preview, &e.source),
            last.map_or(Cell::opt(None), |r| Cell::status(r.outcome.as_str())),
            Cell::plain(history_row(e)),
            Cell::opt(last.and_then(|r| r.message.as_deref())),
        ]);
    }
    doc.table(0, table);
    doc.note(0, LEGEND);
    doc
}

fn mark(outcome: Outcome) -> char {
    match outcome {
        Outcome::Passed => '✓',
        Outcome::Failed => '✗',
        Outcome::NotReached => '·',
    }
}

/// `1✓ 2✓ 3✗`: each trial that ran the cell, with its last run's mark.
fn history_row(e: &Expectation) -> String {
    let mut per_trial: Vec<(i64, Outcome)> = Vec::new();
    for run in &e.history {
        match per_trial.last_mut() {
            Some((t, o)) if *t == run.trial => *o = run.outcome,
            _ => per_trial.push((run.trial, run.outcome)),
        }
    }
    per_trial
        .iter()
        .map(|(t, o)| format!("{t}{}", mark(*o)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
