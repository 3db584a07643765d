//! The data that goes into the store (written by the kernel) and comes out of
//! it (read by provctl and the magics).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Formats a time the way the store keeps it: RFC 3339, UTC, milliseconds
/// (`2026-11-21T16:30:02.630Z`), so stored times sort as text and every
/// reader shows the same string.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What the kernel knows about itself when it starts: one kernel process is
/// one trial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrial {
    /// The notebook path Jupyter gave the kernel (`JPY_SESSION_NAME`), if any.
    pub notebook: Option<String>,
    /// The kernel's working directory.
    pub cwd: String,
    /// Operating system and machine, e.g. `linux-x86_64 6.8.0`.
    pub platform: String,
    /// The kernel's process id, used to tell a crashed trial from a live one.
    pub pid: u32,
    /// The host the kernel runs on: crash detection only judges trials of
    /// its own host.
    pub hostname: String,
    /// When the kernel started.
    pub started_at: DateTime<Utc>,
    /// Who runs the kernel ([`crate::user_name`]): a team store tells everyone's trials apart.
    pub user: Option<String>,
}

impl NewTrial {
    /// The trial of the calling process: notebook from `JPY_SESSION_NAME`,
    /// this process's pid, this host and user, now. Saves the kernel from gathering
    /// the fields one by one.
    pub fn for_this_process(cwd: &Path) -> NewTrial {
        NewTrial {
            notebook: std::env::var("JPY_SESSION_NAME")
                .ok()
                .filter(|s| !s.is_empty()),
            cwd: cwd.to_string_lossy().into_owned(),
            platform: crate::platform(),
            pid: std::process::id(),
            hostname: crate::hostname(),
            started_at: Utc::now(),
            user: crate::user_name(),
        }
    }
}

/// The identity of a trial once it is in the store: `id` for people (1, 2,
/// 3… within this store), `uuid` for merging stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrialHandle {
    /// Per-store number of the trial.
    pub id: i64,
    /// Globally unique id of the trial.
    pub uuid: String,
}

/// How a trial ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialStatus {
    /// The kernel is (believed to be) alive.
    Running,
    /// The kernel shut down cleanly.
    Finished,
    /// The kernel died without saying goodbye (killed, crashed, power loss).
    Crashed,
}

/// How an execution ended, from its `execute_reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecStatus {
    /// The code ran to the end.
    Ok,
    /// The code raised an exception.
    Error,
    /// The execution was skipped or interrupted before it ran (e.g. after an
    /// earlier error in a "run all").
    Aborted,
}

/// Generates `as_str`, `Display`, `FromStr` and SQLite reading for the
/// status enums, whose text form is what the store and the JSON use.
macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The form stored in the database and printed in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl rusqlite::types::FromSql for $ty {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($ty::$variant),)*
                    other => Err(format!(
                        "unknown {} {other:?} (expected one of: {})",
                        stringify!($ty),
                        [$($text),*].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum!(TrialStatus { Running => "running", Finished => "finished", Crashed => "crashed" });
text_enum!(ExecStatus { Ok => "ok", Error => "error", Aborted => "aborted" });

/// The exception of a failed execution, as the `execute_reply` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Exception class name, e.g. `ZeroDivisionError`.
    pub ename: String,
    /// Exception message, e.g. `division by zero`.
    pub evalue: String,
    /// Traceback lines (may contain ANSI colour codes, as Jupyter sends them).
    pub traceback: Vec<String>,
}

/// One iopub output of an execution, as the kernel saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    /// The iopub message type: `stream`, `display_data`,
    /// `update_display_data`, `execute_result`, `error` or `clear_output`.
    pub output_type: String,
    /// For streams, `stdout` or `stderr`.
    pub name: Option<String>,
    /// The MIME bundle, in order: `(mime type, bytes)`. A stream's text goes
    /// under `text/plain`; JSON MIME types hold the serialized JSON.
    pub payloads: Vec<(String, Vec<u8>)>,
}

/// The dataflow facts of one execution, as JSON made by the kernel (the `pyflow` crate's
/// analysis and runtime facts): the store keeps them so a trial's dependency graph can be
/// rebuilt later without re-running anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataflowRecord {
    /// The static analysis of the code (JSON), or empty to have the store analyse the code
    /// itself (on the writer's thread, off the kernel's relay).
    pub analysis: String,
    /// What the runtime probe saw (JSON), when it answered in time.
    pub runtime: Option<String>,
    /// The line of the cell the execution failed at, from its traceback.
    pub failed_line: Option<i64>,
}

/// One execution's dataflow facts as stored, with what identifies the execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataflowRow {
    /// The store's id of the execution.
    pub execution_id: i64,
    /// `In[n]`.
    pub execution_count: Option<i64>,
    /// JupyterLab's cell id, if sent.
    pub cell_id: Option<String>,
    /// The code as typed.
    pub code: String,
    /// The static analysis (JSON).
    pub analysis: String,
    /// The runtime probe's notes (JSON).
    pub runtime: Option<String>,
    /// The line the execution failed at.
    pub failed_line: Option<i64>,
}

/// Everything the kernel records about one execution, handed over when the
/// execution's iopub idle arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// The `msg_id` of the `execute_request`.
    pub msg_id: String,
    /// The `execution_count` of the reply (None when there was no reply,
    /// or for silent executions).
    pub execution_count: Option<i64>,
    /// JupyterLab's cell id (`metadata.cellId` of the request), if sent.
    pub cell_id: Option<String>,
    /// The code as submitted.
    pub code: String,
    /// Whether the request was not valid UTF-8 and its invalid bytes were replaced by U+FFFD
    /// to record it (the child ran it the same way: Jupyter decodes with replacement).
    pub code_replaced: bool,
    /// When the request was relayed to the child.
    pub started_at: DateTime<Utc>,
    /// When the execution went idle.
    pub ended_at: DateTime<Utc>,
    /// How it ended.
    pub status: ExecStatus,
    /// The exception, for `ExecStatus::Error`.
    pub error: Option<ErrorInfo>,
    /// The outputs, in the order they were published.
    pub outputs: Vec<OutputRecord>,
    /// Its dataflow facts, when the kernel analysed it.
    pub dataflow: Option<DataflowRecord>,
}

/// A trial as readers see it (`provctl trials`, `%trials`). The field names
/// are the JSON contract of `provctl trials --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrialSummary {
    /// Per-store number of the trial.
    pub id: i64,
    /// Globally unique id of the trial.
    pub uuid: String,
    /// The name given with `%trial_name`, if any.
    pub name: Option<String>,
    /// When the kernel started (RFC 3339 UTC, milliseconds).
    pub started_at: String,
    /// When the trial ended, None while running.
    pub ended_at: Option<String>,
    /// Running, finished or crashed.
    pub status: TrialStatus,
    /// The notebook path, if Jupyter told the kernel.
    pub notebook: Option<String>,
    /// How many executions were recorded.
    pub executions: i64,
    /// The kernel's working directory.
    pub cwd: String,
    /// Python version of the child kernel, once known.
    pub python_version: Option<String>,
    /// ipykernel version of the child kernel, once known.
    pub ipykernel_version: Option<String>,
    /// Operating system and machine.
    pub platform: String,
    /// The host the kernel ran on.
    pub hostname: String,
    /// The kernel's process id on that host.
    pub pid: i64,
    /// Who ran it (the kernel's user name), None for trials recorded before it was kept.
    pub user: Option<String>,
}

/// Hash, size and presence of one payload of an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadInfo {
    /// The MIME type.
    pub mime_type: String,
    /// SHA-256 of the bytes (lowercase hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Whether the bytes are in the store (false when they exceeded the
    /// payload cap).
    pub stored: bool,
}

/// One output of a recorded execution, without its payload bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputSummary {
    /// The iopub message type (`stream`, `execute_result`, …).
    pub output_type: String,
    /// For streams, `stdout` or `stderr`.
    pub name: Option<String>,
    /// The MIME types of the bundle, in order.
    pub mime_types: Vec<String>,
    /// The `text/plain` payload as text, when stored: what the cell printed.
    pub text: Option<String>,
    /// Hash and size of every payload.
    pub payloads: Vec<PayloadInfo>,
}

/// One recorded execution with its outputs (`provctl show`). The field
/// names are the JSON contract of `provctl show --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionDetail {
    /// Store-wide row id of the execution (what later tables refer to).
    pub id: i64,
    /// Order within the trial: 1, 2, 3…
    pub order: i64,
    /// The `msg_id` of the `execute_request`.
    pub msg_id: String,
    /// The `execution_count` (`In [n]`), if any.
    pub execution_count: Option<i64>,
    /// JupyterLab's cell id, if sent.
    pub cell_id: Option<String>,
    /// The code as submitted.
    pub code: String,
    /// SHA-256 of the code (lowercase hex).
    pub code_sha256: String,
    /// Ok, error or aborted.
    pub status: ExecStatus,
    /// When the request was relayed (RFC 3339 UTC, milliseconds).
    pub started_at: String,
    /// When the execution went idle.
    pub ended_at: String,
    /// `ended_at - started_at` in milliseconds.
    pub duration_ms: i64,
    /// The exception, for failed executions.
    pub error: Option<ErrorInfo>,
    /// The outputs, in order.
    pub outputs: Vec<OutputSummary>,
}

/// An execution in the log across trials (`provctl log`): the execution and
/// the trial it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// The trial's per-store number.
    pub trial_id: i64,
    /// The trial's name, if any.
    pub trial_name: Option<String>,
    /// The execution.
    #[serde(flatten)]
    pub execution: ExecutionDetail,
}
