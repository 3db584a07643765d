//! `expectation-failed`: an `assert` that failed in the trial's last run of its cell.
//!
//! Triggered by: `assert acc > 0.9, "accuracy too low"` in a cell that raised AssertionError
//!
//! Reads the expectations (`crate::Store::expectations`): the latest outcome in this trial of
//! each assert. The message names the last earlier trial where the same assert passed, so the
//! user can ask the trial diff what changed upstream of it.

use super::rule::{cell, per_latest_outcome, Finding, Rule, Severity};
use crate::{Outcome, Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "expectation-failed",
    severity: Severity::Error,
    help: "an assert failed in the trial's last run of its cell",
    example: "assert acc > 0.9, 'accuracy too low'  # raised AssertionError",
    find,
    live: None,
};

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    per_latest_outcome(store, trial, Outcome::Failed, |e, run| {
        let why = match run.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!(": {m}"),
            None => String::new(),
        };
        let passed_before = e
            .history
            .iter()
            .rev()
            .find(|r| r.trial < trial.id && r.outcome == Outcome::Passed)
            .map(|r| r.trial);
        let next = match passed_before {
            Some(t) => format!(
                " It passed in trial {t}: `%trial_diff {t} {}` shows what changed upstream \
                     of it.",
                trial.id
            ),
            None => " It has not passed in an earlier trial: check the values it reads \
                          (`%backwards_deps` on them)."
                .to_string(),
        };
        RULE.finding(
            format!(
                "`{}` failed in {} (line {}){why}.{next}",
                e.source,
                cell(run.execution_count),
                e.line
            ),
            run.execution_count.into_iter().collect(),
        )
    })
}
