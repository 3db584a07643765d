//! `unseeded-randomness`: two trials that ran the same code on the same input files in the same
//! environment end with different tagged values or print different outputs.
//!
//! Triggered by: `%tag_var acc` then `acc = np.random.rand()`, the notebook run twice
//!
//! The trial is compared with the latest earlier trials (at most [`LOOK_BACK`]) through the
//! trial diff ([`Store::trial_diff`]); the first one whose code, inputs and environment
//! sections are all `equal` (the code run in the same order, at least one execution) is its
//! twin. Findings name the tagged variables (of the checked trial) whose final values differ
//! from the twin's and the executions whose outputs differ (the diff already ignores timing,
//! memory addresses and the like; a cell printing the clock still counts). Randomness that is
//! seeded but from the clock, or a value that depends on something outside the recorded
//! inputs (the network, a database), looks the same: the message says what to look for.

use super::rule::{cell, Finding, Rule, Severity};
use crate::{CodeOpKind, DiffStatus, Result, Store, TrialDiff, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "unseeded-randomness",
    severity: Severity::Warning,
    help: "the same code, inputs and environment as an earlier trial, yet tagged values or outputs differ",
    example: "%tag_var acc then acc = np.random.rand() (the notebook run twice)",
    find,
    live: None,
};

/// How many earlier trials are compared, newest first.
const LOOK_BACK: i64 = 5;

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    let earlier: Vec<i64> = store.rows(
        "SELECT id FROM trials WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        [trial.id, LOOK_BACK],
        |r| r.get(0),
    )?;
    for other in earlier {
        let diff = store.trial_diff(other, trial.id)?;
        if !same_setup(&diff) {
            continue;
        }
        let tagged: Vec<String> = store
            .tags(trial.id)?
            .variables
            .into_iter()
            .map(|v| v.name)
            .collect();
        let changed: Vec<&crate::ValueDiff> = diff
            .values
            .iter()
            .filter(|v| v.status == DiffStatus::Changed && tagged.contains(&v.name))
            .collect();
        let mut involved = Vec::new();
        for v in &changed {
            involved.extend(last_capture(store, trial.id, &v.name)?);
        }
        let values: Vec<String> = changed
            .iter()
            .map(|v| {
                let shown = |c: &Option<crate::CapturedValue>| {
                    c.as_ref().map_or("?".to_string(), |c| c.one_line(30))
                };
                format!(
                    "`{}` ({} → {})",
                    v.name,
                    shown(&v.left_value),
                    shown(&v.right_value)
                )
            })
            .collect();
        let outputs: Vec<Option<i64>> = diff
            .outputs
            .iter()
            .filter(|o| o.status == DiffStatus::Changed)
            .filter_map(|o| o.right.as_ref())
            .filter(|side| side.error.is_none())
            .map(|side| side.execution_count)
            .collect();
        if values.is_empty() && outputs.is_empty() {
            return Ok(Vec::new());
        }
        let mut what = Vec::new();
        if !values.is_empty() {
            what.push(values.join(", "));
        }
        if !outputs.is_empty() {
            let cells: Vec<String> = outputs.iter().map(|n| cell(*n)).collect();
            what.push(format!("the output of {}", cells.join(", ")));
        }
        let message = format!(
            "trial {} ran the same code on the same input files in the same environment as \
             trial {other}, yet {} differ: something random is not seeded; seed it \
             (`np.random.default_rng(seed)`, `random_state=seed`, `random.seed(seed)`, \
             `torch.manual_seed(seed)`) so that a re-run reproduces the results",
            trial.id,
            what.join(" and "),
        );
        involved.extend(outputs.into_iter().flatten());
        return Ok(vec![RULE.finding(message, involved)]);
    }
    Ok(Vec::new())
}

/// `In[n]` of the last execution of `trial` that captured `name`.
fn last_capture(store: &Store, trial: i64, name: &str) -> Result<Option<i64>> {
    let counts: Vec<Option<i64>> = store.rows(
        "SELECT e.execution_count FROM captured_values v JOIN executions e ON e.id = v.execution_id
          WHERE e.trial_id = ?1 AND v.name = ?2 ORDER BY e.seq DESC LIMIT 1",
        rusqlite::params![trial, name],
        |r| r.get(0),
    )?;
    Ok(counts.into_iter().flatten().next())
}

/// Whether the two trials ran the same code in the same order on the same inputs in the same
/// environment.
fn same_setup(diff: &TrialDiff) -> bool {
    !diff.code.is_empty()
        && diff.code.iter().all(|c| c.op == CodeOpKind::Equal)
        && diff.inputs.iter().all(|i| i.status == DiffStatus::Equal)
        && diff
            .environment
            .iter()
            .all(|e| e.status == DiffStatus::Equal)
}
