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
    /// Dependencies among these executions only.
    pub edges: Vec<DepEdge>,
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
}
