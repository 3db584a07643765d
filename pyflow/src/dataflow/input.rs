//! What the engine is fed per execution: the analysis, how the execution
//! ended, and what the runtime probe saw. The store keeps these as JSON.

use serde::{Deserialize, Serialize};

use crate::facts::CellAnalysis;

/// What the runtime probe saw after an execution: the global names whose
/// binding changed (newly bound, or bound to an object with a different
/// `id()`), with that `id()`, and the global names that disappeared.
///
/// Exists to correct the static answer (`exec`, `globals()[...]`, star
/// imports, cells stopped by an exception) and to follow aliases: two names
/// with the same id are one object, so mutating one changes the other.
/// IPython's own output-caching names (`_`, `_7`, `_i7`, `Out`, ...) may be
/// included; the engine ignores them unless the code itself bound them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeFacts {
    /// Globals bound or rebound by the execution, with the object's `id()`.
    #[serde(default)]
    pub bound: Vec<(String, u64)>,
    /// Globals that existed before the execution and not after it.
    #[serde(default)]
    pub deleted: Vec<String>,
    /// The type of bound names' values, as the probe spells it (`int`,
    /// `numpy.ndarray`), where known: a value that cannot change in place is
    /// nobody's alias (`first = rows[0]` holding an `int`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<(String, String)>,
    /// The files the execution's code opened, in the order it first opened each: a file is a
    /// value named by its resolved path ([`is_file_name`]), so writing it makes a version and
    /// reading it depends on the version read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileAccess>,
}

/// One file an execution read or wrote, as the probe saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccess {
    /// The file's resolved absolute path: its name in the dataflow.
    pub path: String,
    /// Whether the code wrote it (else read it). A mode that does both gives two accesses.
    pub write: bool,
    /// The 1-based line, within the cell, of the top-level statement that opened it.
    #[serde(default)]
    pub line: Option<u32>,
    /// The content's sha256 (as read, or as left after writing), when the probe took one.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Whether a dataflow name is a file's (its resolved absolute path) rather than a Python
/// name: a path starts with `/`, which no Python name can.
pub fn is_file_name(name: &str) -> bool {
    name.starts_with('/')
}

/// One execution as the engine needs it; what the store keeps per execution
/// (as JSON) so that any trial can be rebuilt with [`crate::Dataflow::replay`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionInput {
    /// The store's id of the execution; every answer refers to executions by it.
    pub execution_id: i64,
    /// `In[n]`, when the kernel assigned one.
    #[serde(default)]
    pub execution_count: Option<i64>,
    /// The notebook cell id, when the frontend sent one. Only reported back:
    /// re-running a cell is a new execution, never a replacement.
    #[serde(default)]
    pub cell_id: Option<String>,
    /// [`crate::analyze_cell`] of the executed code.
    pub analysis: CellAnalysis,
    /// Index of the statement that raised, if the execution failed: it and
    /// the statements after it define nothing (what the failing statement
    /// read still counts as read). Use [`crate::statement_at_line`] on the
    /// line of the cell's frame in the traceback; `Some(0)` for a
    /// `SyntaxError` (nothing ran).
    #[serde(default)]
    pub failed_at_statement: Option<usize>,
    /// The runtime probe's answer, when there is one.
    #[serde(default)]
    pub runtime: Option<RuntimeFacts>,
    /// The execution ended in an error. With no `failed_at_statement`, a static definition the
    /// probe did not see is taken as not reached.
    #[serde(default)]
    pub failed: bool,
}
