//! Expectations: every `assert` of the code a trial ran, with its outcome in each execution of
//! its cell across all trials (`provctl expectations`, `%expectations`).
//!
//! Computed at query time from what the store keeps anyway, so the kernel injects nothing and a
//! failing assert shows exactly the traceback plain ipykernel shows: the cell's analysis (its
//! asserts, [`pyflow::AssertFact`]), the execution's status and error, and the lines of the
//! cell's own frames in its traceback (`execution_dataflow.failed_line` is the outermost).
//!
//! An expectation is identified across trials by its cell id and its normalised source (comments,
//! line breaks and extra spaces dropped; see [`pyflow::AssertFact::source`]), and, when a cell
//! holds the same assert twice, its rank among those. Editing the assert makes a new one.
//!
//! Outcomes, per execution of the cell:
//! - the execution succeeded: every assert `passed`;
//! - it was aborted or its cell does not parse: `not reached`;
//! - it failed: the assert holding the innermost line of the cell's own frames (the raising
//!   one, or a top-level assert whose test raised) `failed`, with the error's message
//!   (`AssertionError`'s value, else `Name: value`); asserts in top-level statements before the
//!   failing one `passed`, after it `not reached`; in the failing statement itself, those
//!   ending before the failing line `passed`, the others `not reached`; an error with no
//!   line of the cell (nothing of it ran, or a `%%time` cell) leaves all `not reached`.
//!
//! What cannot be known: an assert nested in a branch, loop, `with`, `try` or a function's body
//! may not have run at all; `passed` then means "did not fail" (it held whenever it ran, maybe
//! never). An assert in a function's body that fails when the function is called from another
//! cell fails in that cell's execution, which lists no expectation for it.

use std::collections::HashMap;
use std::sync::LazyLock;

use pyflow::{AssertFact, CellAnalysis};
use regex::Regex;
use serde::Serialize;

use crate::dataflow_index::parse_analysis;
use crate::store::ANALYSIS_SQL;
use crate::{Result, Store};

/// What happened to an expectation in one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// It held (or, nested, did not fail: see the module docs).
    #[serde(rename = "passed")]
    Passed,
    /// It raised: `AssertionError`, or an error while evaluating it.
    #[serde(rename = "failed")]
    Failed,
    /// The execution stopped before it, or nothing of the cell ran.
    #[serde(rename = "not reached")]
    NotReached,
}

impl Outcome {
    /// The outcome as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::NotReached => "not reached",
        }
    }
}

/// One execution of an expectation's cell: an entry of its history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExpectationRun {
    /// The trial's id.
    pub trial: i64,
    /// `In[n]` of the execution.
    pub execution_count: Option<i64>,
    /// Its outcome there.
    pub outcome: Outcome,
    /// The error's message, for `failed` (empty for a bare `assert x`).
    pub message: Option<String>,
    /// The execution's store id.
    #[serde(skip)]
    pub execution_id: i64,
}

/// One `assert` of a trial's code, with its history across all trials. The serialised fields
/// are the JSON contract of `provctl expectations --json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expectation {
    /// The assert's normalised source.
    pub source: String,
    /// The cell it is in (None for a client that sends no cell id: matched by source).
    pub cell_id: Option<String>,
    /// Every execution of its cell that held it, oldest first (trial, then execution order).
    pub history: Vec<ExpectationRun>,
    /// Inside a compound statement or a function: it may not have run (see the module docs).
    #[serde(skip)]
    pub nested: bool,
    /// 1-based first line in its cell, as in the trial's last execution of it.
    #[serde(skip)]
    pub line: usize,
    /// The names its test and message read.
    #[serde(skip)]
    pub reads: Vec<String>,
}

impl Expectation {
    /// Its last run in trial `trial`, if it ran there.
    pub fn latest_in(&self, trial: i64) -> Option<&ExpectationRun> {
        self.history.iter().rev().find(|r| r.trial == trial)
    }
}

/// What a stored execution says about how far its code ran.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunFacts {
    /// `ok`, `error`, `aborted`.
    pub(crate) status: String,
    pub(crate) error_name: Option<String>,
    pub(crate) error_value: Option<String>,
    /// The outermost line of the cell's own frames (`execution_dataflow.failed_line`).
    pub(crate) failed_line: Option<i64>,
    /// The innermost line of the cell's own frames (a function defined in the cell and
    /// called there), when the traceback shows one.
    pub(crate) inner_line: Option<i64>,
}

/// The outcome of `assert` in an execution with `facts` whose code has `analysis`.
pub(crate) fn outcome(
    analysis: &CellAnalysis,
    assert: &AssertFact,
    facts: &RunFacts,
) -> (Outcome, Option<String>) {
    let none = |o| (o, None);
    if !analysis.is_analysed() {
        return none(Outcome::NotReached);
    }
    match facts.status.as_str() {
        "ok" => return none(Outcome::Passed),
        "error" => {}
        _ => return none(Outcome::NotReached),
    }
    let Some(line) = facts.failed_line.and_then(|l| usize::try_from(l).ok()) else {
        return none(Outcome::NotReached);
    };
    let inner = facts
        .inner_line
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(line);
    let holds = |l: usize| assert.line_start <= l && l <= assert.line_end;
    let Some(failing) = pyflow::statement_at_line(analysis, line) else {
        return none(Outcome::NotReached);
    };
    let failed = holds(inner) || (assert.statement == failing && !assert.nested);
    if failed {
        let message = match facts.error_name.as_deref() {
            Some("AssertionError") => facts.error_value.clone().unwrap_or_default(),
            name => format!(
                "{}: {}",
                name.unwrap_or("error"),
                facts.error_value.as_deref().unwrap_or("")
            ),
        };
        return (Outcome::Failed, Some(message));
    }
    let before = match assert.statement.cmp(&failing) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => assert.line_end < line,
    };
    none(if before {
        Outcome::Passed
    } else {
        Outcome::NotReached
    })
}

/// The lines of the cell's own frames in an IPython traceback (`Cell In[7], line 3`, ANSI
/// colours stripped), outermost first: only frames of the first frame's cell, not of a
/// function another cell defined.
pub(crate) fn cell_frame_lines(traceback: &[String]) -> Vec<i64> {
    static ANSI: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("\x1b\\[[0-9;]*[A-Za-z]").expect("a valid pattern"));
    static FRAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Cell In\[([^\]]*)\], line (\d+)").expect("a valid pattern"));
    let mut cell = None;
    let mut lines = Vec::new();
    for entry in traceback {
        let plain = ANSI.replace_all(entry, "");
        let Some(found) = FRAME.captures(&plain) else {
            continue;
        };
        if *cell.get_or_insert_with(|| found[1].to_string()) != found[1] {
            continue;
        }
        lines.extend(found[2].parse::<i64>().ok());
    }
    lines
}

/// A stored execution with what [`outcome`] needs.
struct Row {
    execution_id: i64,
    trial: i64,
    execution_count: Option<i64>,
    cell_id: Option<String>,
    code_id: i64,
    /// Its own analysis (an execution recorded before analyses were kept per code).
    own: Option<String>,
    facts: RunFacts,
}

/// An expectation's identity: cell, normalised source, rank among equal asserts of the cell.
pub(crate) type Key = (Option<String>, String, usize);

/// The asserts of an analysis with their keys.
pub(crate) fn keyed<'a>(
    cell_id: &Option<String>,
    analysis: &'a CellAnalysis,
) -> impl Iterator<Item = (Key, &'a AssertFact)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let cell_id = cell_id.clone();
    analysis.asserts.iter().map(move |a| {
        let rank = seen.entry(a.source.as_str()).or_default();
        let key = (cell_id.clone(), a.source.clone(), *rank);
        *rank += 1;
        (key, a)
    })
}

/// What [`outcome`] needs of a stored execution, from the columns `status, error_name,
/// error_value, error_traceback, failed_line`, the first at `first` (the traceback is read only
/// for its cell's innermost line).
pub(crate) fn run_facts(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RunFacts> {
    let traceback: Option<String> = r.get(first + 3)?;
    let inner_line = traceback
        .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .and_then(|t| cell_frame_lines(&t).last().copied());
    Ok(RunFacts {
        status: r.get(first)?,
        error_name: r.get(first + 1)?,
        error_value: r.get(first + 2)?,
        failed_line: r.get(first + 4)?,
        inner_line,
    })
}

impl Store {
    /// The analysis of execution `id`'s code: `own` (the execution's), else the one stored
    /// for it, else its code analysed afresh.
    pub(crate) fn analysis_with(&self, id: i64, own: Option<&str>) -> Result<CellAnalysis> {
        let (code, shared) = self
            .row_opt(
                &format!(
                    "SELECT c.text, {ANALYSIS_SQL} FROM code c
                     JOIN executions e ON e.code_id = c.id
                     LEFT JOIN execution_dataflow d ON d.execution_id = e.id
                     WHERE e.id = ?1"
                ),
                [id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
            )?
            .unwrap_or_default();
        let analysis = own.or(shared.as_deref()).filter(|a| !a.is_empty());
        Ok(parse_analysis(analysis, &code))
    }

    /// Every assert of the code trial `trial` ran, in the order the trial first ran each, with
    /// its outcome in every execution of its cell across all trials, oldest first. Unknown
    /// trial: [`crate::StoreError::TrialNotFound`].
    pub fn expectations(&self, trial: i64) -> Result<Vec<Expectation>> {
        self.expectations_among(trial, None)
    }

    /// [`Store::expectations`] with the history from trials `among` only (the trial diff's
    /// two): their executions are found by trial, not by a scan of every trial's.
    pub(crate) fn expectations_among(
        &self,
        trial: i64,
        among: Option<[i64; 2]>,
    ) -> Result<Vec<Expectation>> {
        self.trial(trial)?;
        let scope = if among.is_some() {
            "e.trial_id IN (?2, ?3) AND"
        } else {
            ""
        };
        let [a, b] = among.unwrap_or_default();
        let params = [trial, a, b];
        let params = if among.is_some() {
            &params[..]
        } else {
            &params[..1]
        };
        let rows = self.rows(
            &format!(
                "SELECT e.id, e.trial_id, e.execution_count, e.cell_id, e.code_id,
                        NULLIF(d.analysis, ''),
                        e.status, e.error_name, e.error_value, e.error_traceback, d.failed_line
                   FROM executions e
                   LEFT JOIN execution_dataflow d ON d.execution_id = e.id
                  WHERE {scope}
                        (e.cell_id IN (SELECT cell_id FROM executions WHERE trial_id = ?1)
                         OR (e.cell_id IS NULL AND EXISTS (SELECT 1 FROM executions
                             WHERE trial_id = ?1 AND cell_id IS NULL)))
                  ORDER BY e.trial_id, e.seq"
            ),
            rusqlite::params_from_iter(params),
            |r| {
                Ok(Row {
                    execution_id: r.get(0)?,
                    trial: r.get(1)?,
                    execution_count: r.get(2)?,
                    cell_id: r.get(3)?,
                    code_id: r.get(4)?,
                    own: r.get(5)?,
                    facts: run_facts(r, 6)?,
                })
            },
        )?;

        let mut order: Vec<Key> = Vec::new();
        let mut found: HashMap<Key, Expectation> = HashMap::new();
        // Each code's analysis, read and parsed once (a trial re-runs its cells).
        let mut analyses: HashMap<i64, CellAnalysis> = HashMap::new();
        for row in &rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = analyses.entry(row.code_id) {
                slot.insert(self.analysis_with(row.execution_id, row.own.as_deref())?);
            }
        }
        // The trial's own executions name the expectations; the others only add history.
        for row in rows.iter().filter(|r| r.trial == trial) {
            let analysis = &analyses[&row.code_id];
            for (key, a) in keyed(&row.cell_id, analysis) {
                let entry = found.entry(key.clone()).or_insert_with(|| {
                    order.push(key);
                    Expectation {
                        source: a.source.clone(),
                        cell_id: row.cell_id.clone(),
                        history: Vec::new(),
                        nested: a.nested,
                        line: a.line_start,
                        reads: a.reads.clone(),
                    }
                });
                entry.nested = a.nested;
                entry.line = a.line_start;
                entry.reads = a.reads.clone();
            }
        }
        for row in &rows {
            let analysis = &analyses[&row.code_id];
            for (key, a) in keyed(&row.cell_id, analysis) {
                let Some(expectation) = found.get_mut(&key) else {
                    continue;
                };
                let (outcome, message) = outcome(analysis, a, &row.facts);
                expectation.history.push(ExpectationRun {
                    trial: row.trial,
                    execution_count: row.execution_count,
                    outcome,
                    message,
                    execution_id: row.execution_id,
                });
            }
        }
        Ok(order.into_iter().filter_map(|k| found.remove(&k)).collect())
    }
}

#[cfg(test)]
mod tests;
