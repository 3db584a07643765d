//! Checks: rules over a trial's recorded provenance that find likely mistakes (data leakage,
//! stale results, numeric trouble, unseeded randomness, failed or unreached asserts) and say
//! what to do about each (`provctl check`, `%prov_check`). A finding is plain data; the
//! renderer shows it.
//!
//! A rule is one file here: its [`Rule`] (id, severity, one-line help, a one-line Python
//! example of what triggers it) and the function that finds it. Adding a rule is that file
//! plus one line in [`RULES`].
//!
//! Live: a rule that can say which findings one execution causes, without reading the whole
//! trial, has a `live` function; [`Store::live_findings`] runs those after each execution
//! when the kernel's warnings are on (`%prov_warn`, `PROV_WARN=1`).

use serde::Serialize;

use crate::{Result, Store, TrialSummary};

mod data_leakage;
mod expectation_failed;
mod expectation_not_reached;
mod numeric_trouble;
mod rule;
mod stale_result;
mod unseeded_randomness;

use rule::Executed;
pub use rule::{Finding, Rule, Severity};

/// Every rule, in the order they run and are listed.
pub static RULES: &[&Rule] = &[
    &data_leakage::RULE,
    &stale_result::RULE,
    &numeric_trouble::RULE,
    &unseeded_randomness::RULE,
    &expectation_failed::RULE,
    &expectation_not_reached::RULE,
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
    /// The findings the latest execution of request `msg_id` in trial `trial` causes, by the
    /// rules that can tell them for one execution (`data-leakage`, `stale-result`), reading
    /// only what that execution rests on. None when no such execution was recorded.
    pub fn live_findings(&self, trial: i64, msg_id: &str) -> Result<Vec<Finding>> {
        let executed = self.row_opt(
            "SELECT e.id, e.seq, e.execution_count, e.cell_id, e.code_id, c.text
               FROM executions e JOIN code c ON c.id = e.code_id
              WHERE e.msg_id = ?1 AND e.trial_id = ?2 ORDER BY e.seq DESC LIMIT 1",
            (msg_id, trial),
            |r| {
                Ok(Executed {
                    id: r.get(0)?,
                    trial,
                    seq: r.get(1)?,
                    count: r.get(2)?,
                    cell: r.get(3)?,
                    code_id: r.get(4)?,
                    code: r.get(5)?,
                })
            },
        )?;
        let Some(executed) = executed else {
            return Ok(Vec::new());
        };
        let mut findings = Vec::new();
        for live in RULES.iter().filter_map(|rule| rule.live) {
            findings.extend(live(self, &executed)?);
        }
        Ok(findings)
    }
}
