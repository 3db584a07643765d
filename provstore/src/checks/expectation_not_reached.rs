//! `expectation-not-reached`: an `assert` that did not run in the trial's last run of its cell,
//! because the cell stopped before it (an error above it) or did not parse.
//!
//! Triggered by: `df = load()` raising, with `assert len(df) > 0` below it in the same cell
//!
//! Reads the expectations (`crate::Store::expectations`). A nested assert (in a branch, loop or
//! function) that did not fail counts as passed there, so it is never reported here.

use super::rule::{cell, per_latest_outcome, Finding, Rule, Severity};
use crate::{Outcome, Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "expectation-not-reached",
    severity: Severity::Warning,
    help: "an assert did not run: its cell stopped before it",
    example: "df = load()  # raised, with assert len(df) > 0 below it in the cell",
    find,
    live: None,
};

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    per_latest_outcome(store, trial, Outcome::NotReached, |e, run| {
        RULE.finding(
            format!(
                "`{}` (line {}) was not checked in {}: the cell stopped before it. Fix what \
                     raised above it and run the cell again.",
                e.source,
                e.line,
                cell(run.execution_count)
            ),
            run.execution_count.into_iter().collect(),
        )
    })
}
