//! `numeric-trouble`: a tagged array, series or frame that gains NaN or infinite values, or a
//! frame with a constant numeric column.
//!
//! Triggered by: `%tag_var z` then `z = np.log(x)` with some `x <= 0`
//!
//! Reads the summaries the probe takes of tagged values (`captured_values.summary_json`; see
//! the `captured` module): `nan_count`, and `min`/`max`/`mean` written as `"inf"`, `"-inf"` or
//! `"nan"`. A finding is a version of a tagged value that has NaN/inf where its previous
//! version in the trial had none (or the first version of it that has some), and a frame
//! column of at least two rows whose `min` equals its `max`, the first time it is seen
//! constant. Values that were not tagged have no summary and are not seen; a summary from a
//! sample (`sampled`) may miss them.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::rule::{cell, Finding, Rule, Severity};
use crate::{Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "numeric-trouble",
    severity: Severity::Warning,
    help: "a tagged array or frame gains NaN/inf values, or a frame has a constant column",
    example: "%tag_var z then z = np.log(np.array([1.0, 0.0]))",
    find,
    live: None,
};

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    let rows = store.rows(
        &format!(
            "SELECT e.execution_count, v.name, v.summary_json FROM ({}) v
               JOIN executions e ON e.id = v.execution_id
              WHERE v.summary_json IS NOT NULL
              ORDER BY e.seq, v.name",
            crate::shared_lists::values_of("(SELECT id FROM executions WHERE trial_id = ?1) e")
        ),
        [trial.id],
        |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    let mut troubled: HashMap<String, bool> = HashMap::new();
    let mut constant: HashSet<(String, String)> = HashSet::new();
    let mut findings = Vec::new();
    for (count, name, summary) in rows {
        let Ok(summary) = serde_json::from_str::<Value>(&summary) else {
            continue;
        };
        let bad = non_finite(&summary);
        let before = troubled
            .insert(name.clone(), !bad.is_empty())
            .unwrap_or(false);
        if !bad.is_empty() && !before {
            let message = format!(
                "{}: `{name}` now holds {}; find where they come from (a division by zero, a \
                 log of a non-positive number, a missing value, a join that did not match) and \
                 fix or drop them before they spread into later results",
                cell(count),
                bad.join(", ")
            );
            findings.push(RULE.finding(message, count.into_iter().collect()));
        }
        for column in constant_columns(&summary) {
            if constant.insert((name.clone(), column.clone())) {
                let message = format!(
                    "{}: column `{column}` of `{name}` holds one value in every row; a constant \
                     column carries no information for a model (and breaks scaling by its \
                     standard deviation): check how it was made, or drop it",
                    cell(count),
                );
                findings.push(RULE.finding(message, count.into_iter().collect()));
            }
        }
    }
    Ok(findings)
}

/// What is not finite in a summary, in words (`3 NaN`, `inf in column "b"`).
fn non_finite(summary: &Value) -> Vec<String> {
    match summary.get("kind").and_then(Value::as_str) {
        Some("ndarray" | "series" | "tensor") => stats(summary, None),
        Some("dataframe") => summary
            .get("columns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| stats(c, Some(column_name(c))))
            .collect(),
        _ => Vec::new(),
    }
}

fn stats(stats: &Value, column: Option<String>) -> Vec<String> {
    let mut bad = Vec::new();
    if let Some(n) = stats
        .get("nan_count")
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
    {
        bad.push(format!("{n} NaN"));
    }
    let infinite = ["min", "max"]
        .iter()
        .filter_map(|k| stats.get(*k).and_then(Value::as_str))
        .find(|v| *v == "inf" || *v == "-inf");
    if let Some(v) = infinite {
        bad.push(format!("{v} values"));
    }
    match column {
        Some(c) => bad
            .into_iter()
            .map(|b| format!("{b} in column `{c}`"))
            .collect(),
        None => bad,
    }
}

fn column_name(column: &Value) -> String {
    match column.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".into(),
    }
}

/// The numeric columns of a frame summary of two rows or more whose min equals their max.
fn constant_columns(summary: &Value) -> Vec<String> {
    if summary.get("kind").and_then(Value::as_str) != Some("dataframe") {
        return Vec::new();
    }
    let rows = summary
        .get("shape")
        .and_then(|s| s.get(0))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if rows < 2 {
        return Vec::new();
    }
    summary
        .get("columns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            let (min, max) = (c.get("min"), c.get("max"));
            min.is_some_and(Value::is_number) && min == max
        })
        .map(column_name)
        .collect()
}
