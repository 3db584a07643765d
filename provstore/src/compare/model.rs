//! The plain data a comparison of two trials answers with (the `provctl diff --json`
//! contract): what `algorithm.rs` computes and `compare.rs` returns. Its own file so the
//! algorithm depends on these types and not on the module that loads from SQLite.

use serde::Serialize;

use crate::Outcome;
use serde_json::Value;

use crate::{CapturedValue, TrialSummary};

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
    /// What decided the status: `value` (scalars), `summary` (summaries' hashes), `content`
    /// (the probe's content fingerprints of an untagged array, frame, tensor or estimator),
    /// `type` (different types), `dependencies` (only the types are known: the dataflow
    /// decided) or `presence` (only one trial has it).
    pub compared_by: &'static str,
    /// Equal by hashes of which one covers a sample of the value only (a large array): very
    /// likely, not surely, the same. Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    /// The left capture, for one-line display.
    #[serde(skip)]
    pub left_value: Option<CapturedValue>,
    /// The right capture.
    #[serde(skip)]
    pub right_value: Option<CapturedValue>,
}

/// A file as one trial saw it as an input: the first content it read from outside (see
/// [`InputDiff`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSide {
    /// The path as that trial's code gave it.
    pub path: String,
    /// Absolute, links resolved.
    pub resolved: String,
    /// The content's sha256 (None: the probe could not hash it).
    pub sha256: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    /// The file was over `PROV_FILE_HASH_LIMIT`: its hash covers evenly spaced chunks and the
    /// size only.
    pub sampled: bool,
    /// Modification time, seconds since the epoch.
    pub mtime: Option<f64>,
    /// `In[n]` of the executions that read it as an input, in order (null: no count).
    pub read_by: Vec<Option<i64>>,
    /// How many different contents the trial read (written only when more than one: the file
    /// changed between two of its reads).
    #[serde(skip_serializing_if = "is_one")]
    pub contents: usize,
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// One input file of the two trials: a file the code read that the trial had not written
/// itself. Paired across trials by the path as the code gave it (so `data.csv` pairs across
/// trials run in different folders), else by resolved path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputDiff {
    /// The path as the code gave it (the left trial's, when the two differ).
    pub path: String,
    /// `changed` (the content differs, or cannot be proved the same), `added` (only the right
    /// trial read it), `removed` (only the left), `equal`.
    pub status: DiffStatus,
    /// The file as the left trial saw it, null when it did not read it.
    pub left: Option<InputSide>,
    /// The file as the right trial saw it.
    pub right: Option<InputSide>,
    /// Equal by hashes of which one covers samples of the file only: very likely, not surely,
    /// the same. Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    /// Why a file whose hashes do not differ is still `changed` (sampled hashes equal while the
    /// modification time differs; a content without a hash). Written only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
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
    /// What volatile parts (`memory address`, `ipykernel temporary path`, `timing`, `widget
    /// model id`) differed and were ignored to find them equal. Written only when some were.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<&'static str>,
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
    /// The files the trials read from outside: changed, added, removed, then equal; by path
    /// within.
    pub inputs: Vec<InputDiff>,
    /// Final values by name: changed, added, removed, then equal; by name within.
    pub values: Vec<ValueDiff>,
    /// The asserts either trial ran, with each trial's last outcome: the right trial's in its
    /// order, then those only the left ran.
    pub expectations: Vec<ExpectationDiff>,
    /// Python, ipykernel, platform, then packages by name.
    pub environment: Vec<EnvDiff>,
    /// Outputs of paired executions, in the right trial's order.
    pub outputs: Vec<OutputDiff>,
    /// The kinds of volatile output text the comparison ignored (outputs that differed only
    /// there are `equal`), by name. Written only when there were some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volatile_ignored: Vec<&'static str>,
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
            inputs: keep_differences(&self.inputs, |i| i.status),
            values: keep_differences(&self.values, |v| v.status),
            expectations: self
                .expectations
                .iter()
                .filter(|e| e.differs())
                .cloned()
                .collect(),
            environment: keep_differences(&self.environment, |e| e.status),
            outputs: keep_differences(&self.outputs, |o| o.status),
            volatile_ignored: self.volatile_ignored.clone(),
        }
    }

    /// Whether nothing differs: same code in the same order, same input files, values,
    /// environment and outputs.
    pub fn is_same(&self) -> bool {
        self.code.iter().all(|c| c.op == CodeOpKind::Equal)
            && self.inputs.iter().all(|i| i.status == DiffStatus::Equal)
            && self.values.iter().all(|v| v.status == DiffStatus::Equal)
            && !self.expectations.iter().any(ExpectationDiff::differs)
            && self
                .environment
                .iter()
                .all(|e| e.status == DiffStatus::Equal)
            && self.outputs.iter().all(|o| o.status == DiffStatus::Equal)
    }
}

/// An expectation (an `assert`) with its last outcome in each trial: an entry of the diff's
/// `expectations` (`{"source", "left", "right", "explained_by"}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationDiff {
    /// The assert's normalised source.
    pub source: String,
    /// Its cell.
    #[serde(skip)]
    pub cell_id: Option<String>,
    /// Its last outcome in the left trial; None when the left trial did not run it.
    pub left: Option<Outcome>,
    /// The same in the right trial.
    pub right: Option<Outcome>,
    /// The changed values and input files upstream of it (what it reads, and what that was
    /// computed from, in the right trial, else the left): values first, as the diff orders them,
    /// then files. Empty when the outcomes are the same.
    pub explained_by: Vec<String>,
}

impl ExpectationDiff {
    /// Whether the two trials' outcomes differ.
    pub fn differs(&self) -> bool {
        self.left != self.right
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
    /// The input files both read: changed first, then equal.
    pub inputs: Vec<InputDiff>,
}
