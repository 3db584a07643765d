//! What a check is made of: a rule, its severity and its findings (plain data), shared by the
//! list of rules in `mod.rs` and the rules' own files, so neither imports the other.

use serde::Serialize;

use crate::{Expectation, ExpectationRun, Outcome, Result, Store, TrialSummary};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The results are very likely wrong.
    Error,
    /// The results may be wrong: look.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// The word shown and written in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One thing a rule found: a row of `provctl check --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id (`data-leakage`, …).
    pub rule: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What happened, where (`In[n]`, line), and what to do.
    pub message: String,
    /// The `In[n]` of the executions involved, in the order the message names them.
    pub executions: Vec<i64>,
}

/// A rule: what it is called, what it finds, and the function that finds it in a trial.
pub struct Rule {
    /// The id findings carry (`data-leakage`).
    pub id: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// One line: what it finds.
    pub help: &'static str,
    /// One line of Python that triggers it.
    pub example: &'static str,
    pub(crate) find: fn(&Store, &TrialSummary) -> Result<Vec<Finding>>,
    /// The findings one execution just recorded causes, read without going over the whole
    /// trial (the live warnings); None for a rule that only judges whole trials.
    pub(crate) live: Option<LiveFind>,
}

/// A rule's findings caused by one execution (see [`Rule`]'s `live`).
pub(crate) type LiveFind = fn(&Store, &Executed) -> Result<Vec<Finding>>;

/// One execution just recorded, as a live rule reads it.
pub(crate) struct Executed {
    pub(crate) id: i64,
    pub(crate) trial: i64,
    pub(crate) seq: i64,
    pub(crate) count: Option<i64>,
    pub(crate) cell: Option<String>,
    pub(crate) code_id: i64,
    pub(crate) code: String,
}

impl Rule {
    pub(crate) fn finding(&self, message: String, executions: Vec<i64>) -> Finding {
        let mut seen = Vec::new();
        for n in executions {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        Finding {
            rule: self.id,
            severity: self.severity,
            message,
            executions: seen,
        }
    }
}

/// `In[3]`, or `In[?]` for an execution without a count.
pub(crate) fn cell(n: Option<i64>) -> String {
    match n {
        Some(n) => format!("In[{n}]"),
        None => "In[?]".into(),
    }
}

/// A finding (`f`) for each expectation of `trial` whose latest run there had `outcome`, with
/// that run: the expectation rules' common loop.
pub(crate) fn per_latest_outcome(
    store: &Store,
    trial: &TrialSummary,
    outcome: Outcome,
    f: impl Fn(&Expectation, &ExpectationRun) -> Finding,
) -> Result<Vec<Finding>> {
    Ok(store
        .expectations(trial.id)?
        .iter()
        .filter_map(|e| {
            let run = e.latest_in(trial.id)?;
            (run.outcome == outcome).then(|| f(e, run))
        })
        .collect())
}
