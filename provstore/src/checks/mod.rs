//! Checks: rules over a trial's recorded provenance that find likely mistakes (data leakage,
//! stale results, numeric trouble) and say what to do about each (`provctl check`,
//! `%prov_check`). A finding is plain data; the renderer shows it.
//!
//! A rule is one file here: its [`Rule`] (id, severity, one-line help, a one-line Python
//! example of what triggers it) and the function that finds it. Adding a rule is that file
//! plus one line in [`RULES`].

use serde::Serialize;

use crate::{Result, Store, TrialSummary};

mod data_leakage;
mod numeric_trouble;
mod stale_result;
mod unseeded_randomness;

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
    find: fn(&Store, &TrialSummary) -> Result<Vec<Finding>>,
}

impl Rule {
    fn finding(&self, message: String, executions: Vec<i64>) -> Finding {
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

/// Every rule, in the order they run and are listed.
pub static RULES: &[&Rule] = &[
    &data_leakage::RULE,
    &stale_result::RULE,
    &numeric_trouble::RULE,
    &unseeded_randomness::RULE,
];

/// What the checks found in one trial.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// The trial checked.
    pub trial: TrialSummary,
    /// The ids of the rules that ran, in order.
    pub rules: Vec<&'static str>,
    /// The findings, rule by rule, each rule's in execution order.
    pub findings: Vec<Finding>,
}

impl Store {
    /// Runs every rule over trial `trial`. Unknown trial: [`crate::StoreError::TrialNotFound`];
    /// a read-only store whose trial has an unindexed tail: [`crate::StoreError::Unavailable`].
    pub fn check(&self, trial: i64) -> Result<CheckReport> {
        let summary = self.trial(trial)?;
        // The rules read the dependency index: bring it up to date first, as the deps
        // queries do.
        self.prepare_dataflow(&summary)?;
        let mut findings = Vec::new();
        for rule in RULES {
            findings.extend((rule.find)(self, &summary)?);
        }
        Ok(CheckReport {
            rules: RULES.iter().map(|r| r.id).collect(),
            trial: summary,
            findings,
        })
    }
}

/// `In[3]`, or `In[?]` for an execution without a count.
pub(crate) fn cell(n: Option<i64>) -> String {
    match n {
        Some(n) => format!("In[{n}]"),
        None => "In[?]".into(),
    }
}
