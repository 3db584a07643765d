//! The replay report (`provctl replay --json`, the contract): per execution of the
//! source trial whether it reproduced and what differed, the counts, and the first divergence
//! with its likely cause.

use serde::Serialize;

/// What `provctl replay` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The replayed trial's id.
    pub source_trial: i64,
    /// The new trial the replay recorded.
    pub replay_trial: i64,
    /// Its name (for `%trial_diff`), if it got one.
    pub replay_name: Option<String>,
    /// How far apart two floats in text may be, relative, and still count as equal.
    pub tolerance: f64,
    /// How many executions of each verdict.
    pub summary: ReplaySummary,
    /// One per replayed execution of the source trial, in its recorded order.
    pub executions: Vec<ReplayExecution>,
    /// The first execution that did not reproduce, with its likely cause.
    pub first_divergence: Option<FirstDivergence>,
    /// `In[n]` of the source's executions not replayed: aborted ones (they never ran).
    pub not_replayed: Vec<Option<i64>>,
}

/// The counts of each verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ReplaySummary {
    /// Executions that reproduced.
    pub reproduced: usize,
    /// Executions that ran but differ.
    pub differs: usize,
    /// Executions that failed anew or could not run.
    pub error: usize,
}

/// One execution's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayStatus {
    /// Same status, outputs and captured values (within the tolerance).
    Reproduced,
    /// It ran, but something differs.
    Differs,
    /// The replay failed where the source did not, or could not run it (the kernel died, a
    /// timeout).
    Error,
}

impl ReplayStatus {
    /// Its name in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayStatus::Reproduced => "reproduced",
            ReplayStatus::Differs => "differs",
            ReplayStatus::Error => "error",
        }
    }
}

/// One execution of the source trial, replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayExecution {
    /// `In[n]` in the source trial.
    pub execution_count: Option<i64>,
    /// `In[n]` of the same code in the replay, when it ran.
    pub replay_execution_count: Option<i64>,
    /// The verdict.
    pub status: ReplayStatus,
    /// What differs (empty when reproduced).
    pub differences: Vec<Difference>,
    /// The code (for the text and HTML; not in the JSON).
    #[serde(skip)]
    pub code: String,
}

/// One thing that differs in an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `status`, `error`, `output`, `value` or `not-run`.
    pub kind: &'static str,
    /// Which: `stdout`, `output 2 (image/png)`, `` `acc` ``…
    pub what: String,
    /// The source's, shortened.
    pub expected: Option<String>,
    /// The replay's, shortened.
    pub got: Option<String>,
}

/// The first execution that did not reproduce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstDivergence {
    /// `In[n]` in the source trial.
    pub execution_count: Option<i64>,
    /// Its verdict.
    pub status: ReplayStatus,
    /// What differs there.
    pub differences: Vec<Difference>,
    /// Its likely cause, from the provenance of both trials.
    pub cause: Cause,
}

/// Why an execution likely did not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// `input-file-changed`, `package-version`, `unrecorded-state`, `unseeded-randomness`,
    /// `replay-failed` or `unknown`.
    pub kind: &'static str,
    /// The explanation, naming the file, package or execution.
    pub message: String,
}
