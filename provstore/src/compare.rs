//! Comparing two trials (`%trial_diff`, `%trial_intersection_diff`, `provctl diff`): what code
//! ran in what order, which values, environment and outputs differ. Everything comes back as
//! plain data with a status per entry (`equal` included), so the renderer and `--all` decide
//! what to show; [`TrialDiff::only_differences`] is the default view.
//!
//! # Code
//!
//! The two trials' execution sequences are diffed as sequences of code hashes (Myers), so a
//! re-run cell, a skipped cell or a cell run in another order shows as such. Each op lists the
//! `In[n]` (and `seq`) of the executions on both sides, and non-equal ops carry a unified diff
//! of their code.
//!
//! # Values
//!
//! Each name's final captured value in each trial is compared (the last `captured_values` row
//! by execution order; a name deleted after it counts as absent; a non-scalar defined or
//! mutated after its capture counts as known by type only). Scalars and summaries are judged
//! by [`CapturedValue::same_as`]. When that cannot judge (only the type is known: an untagged
//! model or frame), the dataflow decides: walking each trial's executions in order with a set
//! of changed names (those whose values differ, and those only one trial has), an execution is
//! different if its code is not matched by the code diff or it used a changed name, and what it
//! defines or mutates becomes changed; an unchanged execution that redefines a name makes it
//! unchanged again. A type-only name is `changed` when either walk ends with it changed.
//!
//! # Outputs
//!
//! Executions are paired along the code diff (equal and replace ops by position; the rest are
//! added or removed) and their outputs compared by type and payload hashes (and the error, for
//! a failed execution). prov's own magic answers (marked by the recorder with
//! [`MAGIC_ANSWER_MIME`]) are left out unless asked for: they are prov's, not the user's.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp, TextDiff};

use crate::{CapturedValue, Result, Store, StoreError, TrialSummary};

/// How an entry of a diff compares: the strings are the `provctl diff --json` contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffStatus {
    /// Present on both sides and different.
    Changed,
    /// Only on the right.
    Added,
    /// Only on the left.
    Removed,
    /// The same on both sides.
    Equal,
}

impl DiffStatus {
    /// The status as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffStatus::Changed => "changed",
            DiffStatus::Added => "added",
            DiffStatus::Removed => "removed",
            DiffStatus::Equal => "equal",
        }
    }
}

/// What a code op does to the left trial's executions to get the right's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeOpKind {
    /// The same code, run in the same order.
    Equal,
    /// Executions only the left trial ran.
    Delete,
    /// Executions only the right trial ran.
    Insert,
    /// Left executions replaced by different right ones.
    Replace,
}

impl CodeOpKind {
    /// The op as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeOpKind::Equal => "equal",
            CodeOpKind::Delete => "delete",
            CodeOpKind::Insert => "insert",
            CodeOpKind::Replace => "replace",
        }
    }
}

/// One op of the order-aware code diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeOp {
    /// What happened.
    pub op: CodeOpKind,
    /// `In[n]` of the left executions it covers (null for silent executions).
    pub left: Vec<Option<i64>>,
    /// `In[n]` of the right executions it covers.
    pub right: Vec<Option<i64>>,
    /// The `seq` (order in the trial) of the left executions: unique even when `In[n]` is not.
    pub left_seq: Vec<i64>,
    /// The `seq` of the right executions.
    pub right_seq: Vec<i64>,
    /// For ops that are not `equal`: a unified diff of the joined code, left to right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unified: Option<String>,
}

/// One name's final value in both trials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueDiff {
    /// The variable.
    pub name: String,
    /// How the two values compare.
    pub status: DiffStatus,
    /// The left value: the scalar, the summary object, or null (absent or only its type known).
    pub left: Value,
    /// The right value, the same way.
    pub right: Value,
    /// The left value's Python type, null when absent.
    pub left_type: Option<String>,
    /// The right value's Python type.
    pub right_type: Option<String>,
    /// What decided the status: `value` (scalars), `summary` (summaries' hashes), `type`
    /// (different types), `dependencies` (only the types are known: the dataflow decided) or
    /// `presence` (only one trial has it).
    pub compared_by: &'static str,
    /// The left capture, for one-line display.
    #[serde(skip)]
    pub left_value: Option<CapturedValue>,
    /// The right capture.
    #[serde(skip)]
    pub right_value: Option<CapturedValue>,
}

/// One fact of the environment (`python`, `ipykernel`, `platform`, then packages by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvDiff {
    /// What it is: `python`, `ipykernel`, `platform` or a package name.
    pub name: String,
    /// How the two compare.
    pub status: DiffStatus,
    /// The left version (or platform), null when unknown or not installed.
    pub left: Option<String>,
    /// The right one.
    pub right: Option<String>,
}

/// One output of an execution, as compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputEntry {
    /// `stream`, `execute_result`, `display_data`, `error`, …
    pub output_type: String,
    /// `stdout`/`stderr` for streams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The MIME types of the bundle, in order.
    pub mime_types: Vec<String>,
    /// The `text/plain` payload, when stored.
    pub text: Option<String>,
    /// The payloads' SHA-256, in the order of `mime_types`.
    pub sha256: Vec<String>,
    /// The magic line, when this is one of prov's own answers (only in a diff with them,
    /// `--all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
}

/// The MIME type of the marker the recorder adds, last, to the bundle of a prov magic's
/// answer (its payload is the magic line): a trial diff leaves such outputs out by default.
pub const MAGIC_ANSWER_MIME: &str = "application/vnd.prov.magic-answer";

/// A picture among an execution's outputs, for showing changed figures side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/svg+xml`.
    pub mime_type: String,
    /// The payload's hash.
    pub sha256: String,
    /// The bytes, None when the store kept only the hash (over the payload cap).
    pub bytes: Option<Vec<u8>>,
}

/// One side of an output comparison: an execution and what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputSide {
    /// Its `seq` in its trial.
    pub seq: i64,
    /// `In[n]`.
    pub execution_count: Option<i64>,
    /// `ename: evalue` when the execution failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its outputs, in order.
    pub outputs: Vec<OutputEntry>,
    /// Its pictures, filled by [`Store::load_diff_figures`] for changed entries only.
    #[serde(skip)]
    pub figures: Vec<Figure>,
}

/// The outputs of a pair of executions matched by the code diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputDiff {
    /// How they compare (`added`/`removed`: the execution is on one side only).
    pub status: DiffStatus,
    /// The left execution, null when the right one has no counterpart.
    pub left: Option<OutputSide>,
    /// The right execution, null when the left one has no counterpart.
    pub right: Option<OutputSide>,
}

/// Everything that differs between two trials, entries with their status (`equal` included:
/// see [`TrialDiff::only_differences`]). The field names are the `provctl diff --json`
/// contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialDiff {
    /// The left trial (the reference).
    pub left: TrialSummary,
    /// The right trial.
    pub right: TrialSummary,
    /// The order-aware code diff.
    pub code: Vec<CodeOp>,
    /// Final values by name: changed, added, removed, then equal; by name within.
    pub values: Vec<ValueDiff>,
    /// Python, ipykernel, platform, then packages by name.
    pub environment: Vec<EnvDiff>,
    /// Outputs of paired executions, in the right trial's order.
    pub outputs: Vec<OutputDiff>,
}

impl TrialDiff {
    /// The default view: the same diff without its `equal` entries.
    pub fn only_differences(&self) -> TrialDiff {
        TrialDiff {
            left: self.left.clone(),
            right: self.right.clone(),
            code: self
                .code
                .iter()
                .filter(|c| c.op != CodeOpKind::Equal)
                .cloned()
                .collect(),
            values: keep_differences(&self.values, |v| v.status),
            environment: keep_differences(&self.environment, |e| e.status),
            outputs: keep_differences(&self.outputs, |o| o.status),
        }
    }

    /// Whether nothing differs: same code in the same order, same values, environment and
    /// outputs.
    pub fn is_same(&self) -> bool {
        self.code.iter().all(|c| c.op == CodeOpKind::Equal)
            && self.values.iter().all(|v| v.status == DiffStatus::Equal)
            && self
                .environment
                .iter()
                .all(|e| e.status == DiffStatus::Equal)
            && self.outputs.iter().all(|o| o.status == DiffStatus::Equal)
    }
}

/// The entries of `items` whose status is not `equal`.
fn keep_differences<T: Clone>(items: &[T], status: impl Fn(&T) -> DiffStatus) -> Vec<T> {
    items
        .iter()
        .filter(|i| status(i) != DiffStatus::Equal)
        .cloned()
        .collect()
}

/// The names both trials end with (`%trial_intersection_diff`): changed first, then equal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntersectionDiff {
    /// The left trial.
    pub left: TrialSummary,
    /// The right trial.
    pub right: TrialSummary,
    /// The names present in both, with both values.
    pub values: Vec<ValueDiff>,
}

/// One execution of a trial, as the diff needs it.
struct Exec {
    seq: i64,
    execution_count: Option<i64>,
    code: String,
    sha256: String,
    error: Option<String>,
    outputs: Vec<OutputEntry>,
    /// Base names it defined (`true`: by assignment) or mutated (`false`).
    defines: Vec<(String, bool)>,
    /// Base names it used from earlier executions.
    uses: Vec<String>,
}

/// A name's final capture in a trial, before judging.
struct Final {
    type_name: String,
    value_json: Option<String>,
    summary_json: Option<String>,
    /// Defined or mutated after the capture: only the type is still known.
    stale: bool,
}

/// One trial loaded for comparing.
struct Side {
    trial: TrialSummary,
    execs: Vec<Exec>,
    finals: HashMap<String, Final>,
}

/// `d['a']` and `o.x` belong to `d` and `o`.
fn base_name(symbol: &str) -> &str {
    let end = symbol.find(['[', '.']).unwrap_or(symbol.len());
    &symbol[..end]
}

impl Store {
    /// Compares trial `left` with trial `right` (ids): code, values, environment, outputs,
    /// every entry with its status. The outputs are what the code showed: prov's own magic
    /// answers are left out (see [`Store::trial_diff_with`]).
    pub fn trial_diff(&self, left: i64, right: i64) -> Result<TrialDiff> {
        self.trial_diff_with(left, right, false)
    }

    /// [`Store::trial_diff`], with prov's magic answers among the outputs when `magic_answers`
    /// (`--all`). Without them an execution that showed nothing else has no outputs, and one
    /// on a single side with nothing to show is not listed among the outputs (the code diff
    /// has it), so a trial that ran `%trial_diff` does not bring that diff into this one.
    pub fn trial_diff_with(&self, left: i64, right: i64, magic_answers: bool) -> Result<TrialDiff> {
        let (mut l, mut r) = (self.diff_side(left)?, self.diff_side(right)?);
        if !magic_answers {
            for e in l.execs.iter_mut().chain(r.execs.iter_mut()) {
                e.outputs.retain(|o| o.magic.is_none());
            }
        }
        let ops = code_ops(&l.execs, &r.execs);
        let values = compare_values(&l, &r, &ops);
        let environment = self.environment_diff(&l.trial, &r.trial)?;
        let code = ops.iter().map(|op| code_op(op, &l, &r)).collect();
        let outputs = compare_outputs(&mut l.execs, &mut r.execs, &ops);
        Ok(TrialDiff {
            left: l.trial,
            right: r.trial,
            code,
            values,
            environment,
            outputs,
        })
    }

    /// The names both trials end with, changed first, then equal (by name within).
    pub fn intersection_diff(&self, left: i64, right: i64) -> Result<IntersectionDiff> {
        let (l, r) = (self.diff_side(left)?, self.diff_side(right)?);
        let ops = code_ops(&l.execs, &r.execs);
        let values = compare_values(&l, &r, &ops)
            .into_iter()
            .filter(|v| v.left_type.is_some() && v.right_type.is_some())
            .collect();
        Ok(IntersectionDiff {
            left: l.trial,
            right: r.trial,
            values,
        })
    }

    /// Fills in the pictures (PNG, JPEG, GIF, SVG) of the changed output entries of `diff`,
    /// for showing them side by side. At most `budget` bytes are loaded in all; the rest keep
    /// their hashes only.
    pub fn load_diff_figures(&self, diff: &mut TrialDiff, budget: usize) -> Result<()> {
        let mut left = budget;
        for entry in diff
            .outputs
            .iter_mut()
            .filter(|o| o.status != DiffStatus::Equal)
        {
            for side in [entry.left.as_mut(), entry.right.as_mut()]
                .into_iter()
                .flatten()
            {
                for output in &side.outputs {
                    for (mime, sha) in output.mime_types.iter().zip(&output.sha256) {
                        if !is_picture(mime) {
                            continue;
                        }
                        let bytes = self.payload(sha)?;
                        let bytes = match bytes {
                            Some(b) if b.len() <= left => {
                                left -= b.len();
                                Some(b)
                            }
                            _ => None,
                        };
                        side.figures.push(Figure {
                            mime_type: mime.clone(),
                            sha256: sha.clone(),
                            bytes,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Loads what the diff needs of one trial, in a fixed number of queries.
    fn diff_side(&self, trial: i64) -> Result<Side> {
        let summary = self.trial(trial)?;
        // The names each execution used and defined come from the dependency index; a
        // read-only store that cannot index an old trial still compares code and outputs.
        match self.prepare_dataflow(&summary) {
            Ok(()) | Err(StoreError::Unavailable { .. }) => {}
            Err(e) => return Err(e),
        }
        let result = (|| -> rusqlite::Result<Side> {
            let mut at: HashMap<i64, usize> = HashMap::new();
            let mut execs = load_execs(&self.conn, trial, &mut at)?;
            let mut last_def: HashMap<String, i64> = HashMap::new();
            let mut last_del: HashMap<String, i64> = HashMap::new();
            read_names(&self.conn, trial, |id, name, role| {
                let Some(&i) = at.get(&id) else { return };
                let e = &mut execs[i];
                let base = base_name(name);
                match role {
                    "defined" | "mutated" => {
                        let assigned = role == "defined" && base == name;
                        if !e.defines.iter().any(|(n, _)| n == base) {
                            e.defines.push((base.to_string(), assigned));
                        } else if assigned {
                            for d in e.defines.iter_mut().filter(|(n, _)| n == base) {
                                d.1 = true;
                            }
                        }
                        note_seq(&mut last_def, base, e.seq);
                    }
                    "used" if !e.uses.iter().any(|n| n == base) => {
                        e.uses.push(base.to_string());
                    }
                    // `del d['a']` deletes a key, not `d`.
                    "deleted" if base == name => {
                        note_seq(&mut last_del, name, e.seq);
                    }
                    _ => {}
                }
            })?;
            let mut captured: HashMap<String, (i64, Final)> = HashMap::new();
            {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT e.seq, v.name, v.type_name, v.value_json, v.summary_json
                     FROM executions e JOIN captured_values v ON v.execution_id = e.id
                     WHERE e.trial_id = ?1 ORDER BY e.seq, v.id",
                )?;
                let mut rows = stmt.query([trial])?;
                while let Some(r) = rows.next()? {
                    let seq: i64 = r.get(0)?;
                    let name: String = r.get(1)?;
                    let fin = Final {
                        type_name: r.get(2)?,
                        value_json: r.get(3)?,
                        summary_json: r.get(4)?,
                        stale: false,
                    };
                    captured.insert(name, (seq, fin));
                }
            }
            let finals = captured
                .into_iter()
                .filter_map(|(name, (seq, mut fin))| {
                    let def = last_def.get(&name).copied().unwrap_or(i64::MIN);
                    if last_del.get(&name).is_some_and(|&d| d > seq && d >= def) {
                        return None;
                    }
                    // Scalars are immutable: only a non-scalar can change after its capture.
                    fin.stale = def > seq && fin.value_json.is_none();
                    Some((name, fin))
                })
                .collect();
            Ok(Side {
                trial: summary,
                execs,
                finals,
            })
        })();
        result.map_err(|e| self.err(e))
    }

    /// Python, ipykernel, platform, then the packages of either trial.
    fn environment_diff(&self, left: &TrialSummary, right: &TrialSummary) -> Result<Vec<EnvDiff>> {
        let entry = |name: &str, l: Option<&str>, r: Option<&str>| EnvDiff {
            name: name.to_string(),
            status: presence_status(l, r),
            left: l.map(String::from),
            right: r.map(String::from),
        };
        let mut out = vec![
            entry(
                "python",
                left.python_version.as_deref(),
                right.python_version.as_deref(),
            ),
            entry(
                "ipykernel",
                left.ipykernel_version.as_deref(),
                right.ipykernel_version.as_deref(),
            ),
            entry("platform", Some(&left.platform), Some(&right.platform)),
        ];
        let by_name = |trial: i64| -> Result<BTreeMap<String, String>> {
            Ok(self.trial_packages(trial)?.into_iter().collect())
        };
        let (lp, rp) = (by_name(left.id)?, by_name(right.id)?);
        let names: BTreeSet<&String> = lp.keys().chain(rp.keys()).collect();
        for name in names {
            out.push(entry(
                name,
                lp.get(name).map(String::as_str),
                rp.get(name).map(String::as_str),
            ));
        }
        Ok(out)
    }
}

/// Notes `seq` as the latest for `name`, allocating only for a name not seen before.
fn note_seq(map: &mut HashMap<String, i64>, name: &str, seq: i64) {
    match map.get_mut(name) {
        Some(at) => *at = (*at).max(seq),
        None => {
            map.insert(name.to_string(), seq);
        }
    }
}

/// The executions of `trial` in order, with their code and outputs, and (in `at`) the index
/// of each by its row id. One query, reading only what the diff uses (not the times, ids and
/// tracebacks `Store::executions` reads for `provctl show`).
fn load_execs(
    conn: &Connection,
    trial: i64,
    at: &mut HashMap<i64, usize>,
) -> rusqlite::Result<Vec<Exec>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.seq, e.execution_count, c.sha256, c.text, e.error_name, e.error_value,
                o.id, o.output_type, o.stream_name, d.mime_type, b.sha256,
                CASE WHEN d.mime_type IN ('text/plain', ?2) THEN b.data END
         FROM executions e
         JOIN code c ON c.id = e.code_id
         LEFT JOIN outputs o ON o.execution_id = e.id
         LEFT JOIN output_data d ON d.output_id = o.id
         LEFT JOIN blobs b ON b.id = d.blob_id
         WHERE e.trial_id = ?1
         ORDER BY e.seq, o.seq, d.position",
    )?;
    let mut rows = stmt.query(params![trial, MAGIC_ANSWER_MIME])?;
    let mut execs: Vec<Exec> = Vec::new();
    let (mut last_exec, mut last_output): (Option<i64>, Option<i64>) = (None, None);
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if last_exec != Some(id) {
            last_exec = Some(id);
            let ename: Option<String> = r.get(5)?;
            let evalue: Option<String> = r.get(6)?;
            let error = match (ename, evalue) {
                (None, None) => None,
                (n, v) => Some(format!(
                    "{}: {}",
                    n.unwrap_or_default(),
                    v.unwrap_or_default()
                )),
            };
            at.insert(id, execs.len());
            execs.push(Exec {
                seq: r.get(1)?,
                execution_count: r.get(2)?,
                sha256: r.get(3)?,
                code: r.get(4)?,
                error,
                outputs: Vec::new(),
                defines: Vec::new(),
                uses: Vec::new(),
            });
            last_output = None;
        }
        let Some(output_id) = r.get::<_, Option<i64>>(7)? else {
            continue;
        };
        let outputs = &mut execs.last_mut().expect("pushed above").outputs;
        if last_output != Some(output_id) {
            outputs.push(OutputEntry {
                output_type: r.get(8)?,
                name: r.get(9)?,
                mime_types: Vec::new(),
                text: None,
                sha256: Vec::new(),
                magic: None,
            });
            last_output = Some(output_id);
        }
        let out = outputs.last_mut().expect("pushed above");
        let Some(mime) = r.get::<_, Option<String>>(10)? else {
            continue;
        };
        let stored = match r.get_ref(12)? {
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        };
        if mime == MAGIC_ANSWER_MIME {
            out.magic = Some(stored.unwrap_or_default());
            continue;
        }
        if stored.is_some() {
            out.text = stored;
        }
        // A payload row without its blob would be damage: it compares as an empty hash.
        out.sha256
            .push(r.get::<_, Option<String>>(11)?.unwrap_or_default());
        out.mime_types.push(mime);
    }
    Ok(execs)
}

/// Calls `f(execution_id, name, role)` for every name the executions of `trial` touched.
fn read_names(
    conn: &Connection,
    trial: i64,
    mut f: impl FnMut(i64, &str, &str),
) -> rusqlite::Result<()> {
    // No ORDER BY: the rows are gathered per execution, and sorting costs more than the rest.
    let mut stmt = conn.prepare_cached(
        "SELECT n.execution_id, n.name, n.role FROM executions e
         JOIN execution_names n ON n.execution_id = e.id
         WHERE e.trial_id = ?1",
    )?;
    let mut rows = stmt.query(params![trial])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let name = r.get_ref(1)?.as_str().unwrap_or("");
        let role = r.get_ref(2)?.as_str().unwrap_or("");
        f(id, name, role);
    }
    Ok(())
}

/// Whether a MIME type is a picture the HTML can show.
fn is_picture(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/svg+xml"
    )
}

/// equal / changed / added / removed for two optional facts.
fn presence_status<T: PartialEq>(l: Option<T>, r: Option<T>) -> DiffStatus {
    match (l, r) {
        (Some(a), Some(b)) if a == b => DiffStatus::Equal,
        (Some(_), Some(_)) => DiffStatus::Changed,
        (None, Some(_)) => DiffStatus::Added,
        (Some(_), None) => DiffStatus::Removed,
        (None, None) => DiffStatus::Equal,
    }
}

/// The Myers diff of the two execution sequences by code hash.
fn code_ops(left: &[Exec], right: &[Exec]) -> Vec<DiffOp> {
    let l: Vec<&str> = left.iter().map(|e| e.sha256.as_str()).collect();
    let r: Vec<&str> = right.iter().map(|e| e.sha256.as_str()).collect();
    capture_diff_slices(Algorithm::Myers, &l, &r)
}

/// The kind and the index ranges of an op.
fn op_parts(op: &DiffOp) -> (CodeOpKind, std::ops::Range<usize>, std::ops::Range<usize>) {
    match *op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => (
            CodeOpKind::Equal,
            old_index..old_index + len,
            new_index..new_index + len,
        ),
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => (
            CodeOpKind::Delete,
            old_index..old_index + old_len,
            new_index..new_index,
        ),
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => (
            CodeOpKind::Insert,
            old_index..old_index,
            new_index..new_index + new_len,
        ),
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => (
            CodeOpKind::Replace,
            old_index..old_index + old_len,
            new_index..new_index + new_len,
        ),
    }
}

/// A code op as shown: executions on both sides and, unless equal, the unified diff.
fn code_op(op: &DiffOp, l: &Side, r: &Side) -> CodeOp {
    let (kind, lr, rr) = op_parts(op);
    let (le, re) = (&l.execs[lr], &r.execs[rr]);
    let unified = (kind != CodeOpKind::Equal).then(|| {
        let (lt, rt) = (joined_code(le), joined_code(re));
        let header = |trial: &TrialSummary, execs: &[Exec]| {
            format!("trial {} {}", trial.id, in_numbers(execs))
        };
        TextDiff::from_lines(&lt, &rt)
            .unified_diff()
            .context_radius(3)
            .header(&header(&l.trial, le), &header(&r.trial, re))
            .to_string()
    });
    CodeOp {
        op: kind,
        left: le.iter().map(|e| e.execution_count).collect(),
        right: re.iter().map(|e| e.execution_count).collect(),
        left_seq: le.iter().map(|e| e.seq).collect(),
        right_seq: re.iter().map(|e| e.seq).collect(),
        unified,
    }
}

/// `In[3], In[4]` (`#7` for an execution without a count), `(none)` for no executions.
fn in_numbers(execs: &[Exec]) -> String {
    if execs.is_empty() {
        return "(none)".into();
    }
    let parts: Vec<String> = execs
        .iter()
        .map(|e| match e.execution_count {
            Some(n) => format!("In[{n}]"),
            None => format!("#{}", e.seq),
        })
        .collect();
    parts.join(", ")
}

/// The code of consecutive executions, each ending with a newline.
fn joined_code(execs: &[Exec]) -> String {
    let mut text = String::new();
    for e in execs {
        text.push_str(&e.code);
        if !e.code.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// Which executions of each side are not matched by the code diff (by index).
fn unmatched(ops: &[DiffOp], left_len: usize, right_len: usize) -> (Vec<bool>, Vec<bool>) {
    let (mut l, mut r) = (vec![false; left_len], vec![false; right_len]);
    for op in ops {
        let (kind, lr, rr) = op_parts(op);
        if kind != CodeOpKind::Equal {
            lr.for_each(|i| l[i] = true);
            rr.for_each(|i| r[i] = true);
        }
    }
    (l, r)
}

/// A final capture as a value, with its content forgotten when stale.
fn captured(fin: &Final) -> CapturedValue {
    if fin.stale {
        return CapturedValue::from_columns(fin.type_name.clone(), None, None);
    }
    CapturedValue::from_columns(
        fin.type_name.clone(),
        fin.value_json.clone(),
        fin.summary_json.clone(),
    )
}

/// Judges every name either trial ends with (see the module docs).
fn compare_values(l: &Side, r: &Side, ops: &[DiffOp]) -> Vec<ValueDiff> {
    let names: BTreeSet<&String> = l.finals.keys().chain(r.finals.keys()).collect();
    let mut entries: Vec<ValueDiff> = Vec::with_capacity(names.len());
    // Names whose status the values (or presence) decide: whether they differ.
    let mut judged: HashMap<&str, bool> = HashMap::new();
    let mut undecided: Vec<usize> = Vec::new();
    for name in names {
        let lv = l.finals.get(name).map(captured);
        let rv = r.finals.get(name).map(captured);
        let (status, compared_by) = match (&lv, &rv) {
            (Some(a), Some(b)) => match a.same_as(b) {
                Some(same) => {
                    let by = if a.type_name != b.type_name {
                        "type"
                    } else if a.value.is_some() || b.value.is_some() {
                        "value"
                    } else {
                        "summary"
                    };
                    judged.insert(name, !same);
                    let status = if same {
                        DiffStatus::Equal
                    } else {
                        DiffStatus::Changed
                    };
                    (status, by)
                }
                None => {
                    undecided.push(entries.len());
                    (DiffStatus::Equal, "dependencies")
                }
            },
            (None, Some(_)) => {
                judged.insert(name, true);
                (DiffStatus::Added, "presence")
            }
            (Some(_), None) => {
                judged.insert(name, true);
                (DiffStatus::Removed, "presence")
            }
            (None, None) => continue,
        };
        entries.push(ValueDiff {
            name: name.clone(),
            status,
            left: lv.as_ref().map(CapturedValue::shown).unwrap_or(Value::Null),
            right: rv.as_ref().map(CapturedValue::shown).unwrap_or(Value::Null),
            left_type: lv.as_ref().map(|v| v.type_name.clone()),
            right_type: rv.as_ref().map(|v| v.type_name.clone()),
            compared_by,
            left_value: lv,
            right_value: rv,
        });
    }
    if !undecided.is_empty() {
        let (lu, ru) = unmatched(ops, l.execs.len(), r.execs.len());
        let mut tainted = taint(&l.execs, &lu, &judged);
        tainted.extend(taint(&r.execs, &ru, &judged));
        for i in undecided {
            if tainted.contains(entries[i].name.as_str()) {
                entries[i].status = DiffStatus::Changed;
            }
        }
    }
    entries.sort_by(|a, b| (a.status, &a.name).cmp(&(b.status, &b.name)));
    entries
}

/// The names a trial's walk ends with as changed: an execution is different when unmatched by
/// the code diff or when it used a changed name; what it defines or mutates becomes changed,
/// and an unchanged execution's assignment makes a name unchanged again. Names `judged` by
/// value keep their verdict throughout.
fn taint<'a>(
    execs: &'a [Exec],
    unmatched: &[bool],
    judged: &HashMap<&str, bool>,
) -> HashSet<&'a str> {
    let mut changed: HashSet<&str> = HashSet::new();
    let is_changed = |changed: &HashSet<&str>, name: &str| match judged.get(name) {
        Some(&differs) => differs,
        None => changed.contains(name),
    };
    for (e, &unmatched) in execs.iter().zip(unmatched) {
        let different = unmatched || e.uses.iter().any(|u| is_changed(&changed, u));
        for (name, assigned) in &e.defines {
            if judged.contains_key(name.as_str()) {
                continue;
            }
            if different {
                changed.insert(name);
            } else if *assigned {
                changed.remove(name.as_str());
            }
        }
    }
    changed
}

/// One side of an output comparison, taking the execution's outputs (each execution is in
/// exactly one op, so nothing is cloned).
fn output_side(e: &mut Exec) -> OutputSide {
    OutputSide {
        seq: e.seq,
        execution_count: e.execution_count,
        error: e.error.take(),
        outputs: std::mem::take(&mut e.outputs),
        figures: Vec::new(),
    }
}

/// Whether two executions showed the same: output types, stream names, payload hashes, error.
fn same_outputs(a: &Exec, b: &Exec) -> bool {
    a.error == b.error
        && a.outputs.len() == b.outputs.len()
        && a.outputs.iter().zip(&b.outputs).all(|(x, y)| {
            x.output_type == y.output_type
                && x.name == y.name
                && x.mime_types == y.mime_types
                && x.sha256 == y.sha256
        })
}

/// Pairs executions along the code diff and compares their outputs (which it takes out of
/// the executions).
fn compare_outputs(left: &mut [Exec], right: &mut [Exec], ops: &[DiffOp]) -> Vec<OutputDiff> {
    let mut out = Vec::with_capacity(right.len().max(left.len()));
    for op in ops {
        let (_, lr, rr) = op_parts(op);
        let (le, re) = (&mut left[lr], &mut right[rr]);
        let paired = le.len().min(re.len());
        for (a, b) in le.iter_mut().zip(re.iter_mut()) {
            let status = if same_outputs(a, b) {
                DiffStatus::Equal
            } else {
                DiffStatus::Changed
            };
            out.push(OutputDiff {
                status,
                left: Some(output_side(a)),
                right: Some(output_side(b)),
            });
        }
        // An execution on one side only that showed nothing is the code diff's business.
        let showed = |e: &Exec| !e.outputs.is_empty() || e.error.is_some();
        for a in le[paired..].iter_mut().filter(|e| showed(e)) {
            out.push(OutputDiff {
                status: DiffStatus::Removed,
                left: Some(output_side(a)),
                right: None,
            });
        }
        for b in re[paired..].iter_mut().filter(|e| showed(e)) {
            out.push(OutputDiff {
                status: DiffStatus::Added,
                left: None,
                right: Some(output_side(b)),
            });
        }
    }
    out
}
