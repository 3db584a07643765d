//! The answers of the dataflow queries (`provctl deps`, `%backwards_deps`, `%slice`, the
//! graph) as plain data: their field names are the JSON contract of `provctl deps --json`.

use serde::Serialize;

use crate::TrialSummary;

/// A statement of an execution that contributed to the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepStatement {
    /// Index into the execution's top-level statements (0-based).
    pub index: usize,
    /// First line (1-based) in the cell.
    pub line_start: usize,
    /// Last line (1-based, inclusive).
    pub line_end: usize,
    /// The statement's exact source text.
    pub text: String,
    /// Changes the statement made that are assumptions, not known
    /// (`clean(df) may change df`: a callee on no list was passed `df`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<String>,
}

/// A value the runtime probe noted after an execution (a variable it bound).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepValue {
    /// The variable.
    pub name: String,
    /// Its Python type name, e.g. `int`, `DataFrame`.
    pub type_name: String,
    /// The value, for scalars the probe recorded.
    pub value: Option<serde_json::Value>,
}

/// One execution of a dependency answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepExecution {
    /// The store's id of the execution.
    pub execution_id: i64,
    /// `In[n]`, if any.
    pub execution_count: Option<i64>,
    /// JupyterLab's cell id, if sent.
    pub cell_id: Option<String>,
    /// The code as submitted.
    pub code: String,
    /// `ok`, `error` or `aborted`.
    pub status: String,
    /// Symbols it defined or mutated (`x`, `d['a']`, `o.x`).
    pub defines: Vec<String>,
    /// Symbols it read whose value came from an earlier execution of the trial.
    pub uses: Vec<String>,
    /// The statements of it that contributed to the answer (empty in a
    /// [`GraphAnswer`]).
    pub statements: Vec<DepStatement>,
    /// The values the runtime probe noted for this execution.
    pub values: Vec<DepValue>,
}

/// `from` read a value that `to` produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepEdge {
    /// The execution that used.
    pub from: i64,
    /// The execution that produced.
    pub to: i64,
    /// The symbols carrying the dependency.
    pub symbols: Vec<String>,
}

/// A version of a file on a dependency path: content an execution of the trial wrote, or
/// content read from outside the trial (no execution made it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileVersion {
    /// The path as the code gave it (the writer's, else the first reader's).
    pub path: String,
    /// Absolute, links resolved: the file's name in the dataflow.
    pub resolved: String,
    /// The content's sha256, when known.
    pub sha256: Option<String>,
    /// The execution that wrote this content; None: it came from outside the trial.
    pub written_by: Option<i64>,
    /// The executions that read this content (other than its writer), in order.
    pub read_by: Vec<i64>,
}

/// A file whose content a value needs from outside the trial (no execution wrote it): what a
/// slice must be given to run in an empty folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInput {
    /// The path as the code gave it (relative paths are relative to the trial's cwd).
    pub path: String,
    /// Absolute, links resolved.
    pub resolved: String,
    /// The content's sha256 as read, when known.
    pub sha256: Option<String>,
}

/// The answer of [`crate::Store::backwards_deps`] and
/// [`crate::Store::global_backwards_deps`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepsAnswer {
    /// What was asked for.
    pub variable: String,
    /// The trial asked about.
    pub trial: TrialSummary,
    /// The executions that produced the value and everything it transitively
    /// depends on, in execution order.
    pub executions: Vec<DepExecution>,
    /// Dependencies among these executions only (a file written by one and read by another
    /// is a symbol too, its resolved path).
    pub edges: Vec<DepEdge>,
    /// The versions of files on the path, in order of their writer (outside content first).
    pub files: Vec<FileVersion>,
    /// The files read from outside the trial that the value needs.
    pub inputs: Vec<FileInput>,
}

/// One statement of a slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SliceStatement {
    /// The store's id of the execution.
    pub execution_id: i64,
    /// `In[n]`, if any.
    pub execution_count: Option<i64>,
    /// Index of the statement in its execution.
    pub statement: usize,
    /// The statement's exact source text.
    pub text: String,
}

/// The answer of [`crate::Store::slice`]: the minimal statements, in
/// execution order, that rebuild the variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SliceAnswer {
    /// What was asked for.
    pub variable: String,
    /// The trial asked about.
    pub trial: TrialSummary,
    /// The statements, in execution order.
    pub statements: Vec<SliceStatement>,
    /// The files the statements read that came from outside the trial: the slice needs them
    /// to run.
    pub inputs: Vec<FileInput>,
}

/// The answer of [`crate::Store::dataflow_graph`]: every execution of the
/// trial and the dependencies between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphAnswer {
    /// The trial.
    pub trial: TrialSummary,
    /// All executions (with empty `statements`), in execution order.
    pub executions: Vec<DepExecution>,
    /// All dependencies.
    pub edges: Vec<DepEdge>,
    /// Every version of every file the trial read or wrote.
    pub files: Vec<FileVersion>,
}
