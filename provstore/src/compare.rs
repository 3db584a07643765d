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

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::{CapturedValue, Result, Store, TrialSummary};

mod algorithm;
mod load;

use algorithm::{code_op, code_ops, compare_outputs, compare_values, is_picture, presence_status};

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
        let ((left, mut l), (right, mut r)) = (self.diff_side(left)?, self.diff_side(right)?);
        if !magic_answers {
            for e in l.execs.iter_mut().chain(r.execs.iter_mut()) {
                e.outputs.retain(|o| o.magic.is_none());
            }
        }
        let ops = code_ops(&l.execs, &r.execs);
        let values = compare_values(&l, &r, &ops);
        let environment = self.environment_diff(&left, &right)?;
        let code = ops.iter().map(|op| code_op(op, &l, &r)).collect();
        let outputs = compare_outputs(&mut l.execs, &mut r.execs, &ops);
        Ok(TrialDiff {
            left,
            right,
            code,
            values,
            environment,
            outputs,
        })
    }

    /// The names both trials end with, changed first, then equal (by name within).
    pub fn intersection_diff(&self, left: i64, right: i64) -> Result<IntersectionDiff> {
        let ((left, l), (right, r)) = (self.diff_side(left)?, self.diff_side(right)?);
        let ops = code_ops(&l.execs, &r.execs);
        let values = compare_values(&l, &r, &ops)
            .into_iter()
            .filter(|v| v.left_type.is_some() && v.right_type.is_some())
            .collect();
        Ok(IntersectionDiff {
            left,
            right,
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
