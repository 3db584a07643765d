//! The engine's answers, as plain data: what an execution did and added to
//! the graph, which executions and statements a value came from, graphs for
//! the renderer, and the error for an unknown variable.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};

use crate::symbol::Symbol;

/// What one execution did, as the engine resolved it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionFlow {
    /// Symbols that got a new version: definitions and mutations, including
    /// those made through aliases, by called notebook functions, or seen only
    /// by the runtime probe.
    pub defines: Vec<Symbol>,
    /// Symbols read whose value came from some execution of this trial (names
    /// never defined in the trial, such as builtins, are left out).
    pub uses: Vec<Symbol>,
    /// Names whose history this execution ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<Symbol>,
    /// For each use, the earlier execution that produced the version read
    /// (uses of values made earlier in the same execution are not listed).
    pub depends_on: Vec<(i64, Symbol)>,
}

/// A version of a symbol made by the execution just added (see
/// [`crate::Dataflow::add_execution_delta`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVersion {
    /// The engine's number of the version: dense, in creation order, the same
    /// on every replay of the trial.
    pub version: u32,
    /// The symbol it is a version of (`x`, `d['a']`, `o.x`).
    pub symbol: Symbol,
    /// The statement of the execution that produced it.
    pub statement: usize,
    /// A mutation (store, in-place call, augmented assignment, or through an
    /// alias) rather than a (re)binding of the name.
    pub mutation: bool,
    /// Still part of its symbol's current value after the execution.
    pub current: bool,
    /// When the change is an assumption rather than known: why
    /// (`clean(df) may change df`: a callee on no list was passed `df`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed: Option<String>,
    /// A file's content that came from outside the trial: no statement made it (`statement`
    /// is the one that read it). The number is the index, in the execution's
    /// [`crate::RuntimeFacts::files`], of the read that saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<usize>,
}

/// A statement of the execution just added read a version made by a statement
/// (of this or an earlier execution).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRead {
    /// The statement that read.
    pub statement: usize,
    /// The execution that produced the version read.
    pub dep_execution_id: i64,
    /// The statement of that execution that produced it.
    pub dep_statement: usize,
    /// The version read.
    pub version: u32,
    /// The symbol the version is of.
    pub symbol: Symbol,
    /// The version read is a file's content from outside the trial
    /// ([`NewVersion::external`]): the index of the read that saw it, in the files of
    /// `dep_execution_id`; `dep_statement` is then that read's statement, which made nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<usize>,
}

/// Everything the engine's graph gained from one execution, for a store that
/// keeps the graph itself (so queries need not replay the trial): the
/// statement-level edges, the new versions and which older versions stopped
/// being current.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionDelta {
    /// What [`crate::Dataflow::add_execution`] returns.
    pub flow: ExecutionFlow,
    /// The statements that produced something (only those have a node in the
    /// graph), ascending. With no analysable statement, statement 0 stands
    /// for the whole cell.
    pub statements: Vec<usize>,
    /// What those statements read, with the producing statement.
    pub reads: Vec<StatementRead>,
    /// Versions made by this execution, in creation order.
    pub versions: Vec<NewVersion>,
    /// Versions of earlier executions that are no longer current (replaced,
    /// covered by a new version, or deleted).
    pub retired: Vec<u32>,
}

/// Which execution an answer is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRef {
    /// The store's id of the execution.
    pub execution_id: i64,
    /// `In[n]`, when the kernel assigned one.
    pub execution_count: Option<i64>,
    /// The notebook cell id, when the frontend sent one (shared, so that
    /// answers of thousands of executions do not copy it thousands of times).
    pub cell_id: Option<Arc<str>>,
}

/// A statement that contributed to a value: what `%backwards_deps
/// --statements` lists and what a slice is assembled from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRef {
    /// The execution (flattened into the JSON object).
    #[serde(flatten)]
    pub exec: ExecRef,
    /// Index into the execution's [`crate::CellAnalysis::statements`].
    pub statement: usize,
    /// First line (1-based) in the cell.
    pub line_start: usize,
    /// Last line (1-based, inclusive).
    pub line_end: usize,
    /// `&code[byte_start..byte_end]` is the statement's text.
    pub byte_start: usize,
    /// See `byte_start`.
    pub byte_end: usize,
    /// The cell could not be analysed (only the runtime probe knew what it
    /// did): the whole cell's code stands for the statement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_cell: bool,
}

/// One execution in the answer of [`crate::Dataflow::backwards_deps`]: which of its
/// statements contributed and which of its versions lie on the path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecDep {
    /// The execution (flattened into the JSON object).
    #[serde(flatten)]
    pub exec: ExecRef,
    /// Indexes of the statements of this execution that contributed.
    pub statements: Vec<usize>,
    /// The versions on the dependency path that this execution produced:
    /// the variables whose recorded values the magic shows. Everything the
    /// execution defined and used is in [`crate::Dataflow::execution_flow`].
    pub involved: Vec<Symbol>,
}

/// A variable the question was about does not exist (now) in the trial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownVariable {
    /// What was asked for.
    pub name: String,
    /// Current variables with a similar name, best first.
    pub similar: Vec<String>,
    /// The execution that deleted it, if it existed and was deleted.
    pub deleted_by: Option<i64>,
    /// The text is not a variable (`name`, `name.attr`, `name['key']`, `name[0]`).
    pub not_a_symbol: bool,
}

impl fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_a_symbol {
            write!(
                f,
                "{:?} is not a variable (expected name, name.attr, name['key'] or name[0])",
                self.name
            )?;
        } else if let Some(id) = self.deleted_by {
            write!(f, "{} was deleted by execution {id}", self.name)?;
        } else {
            write!(f, "{} is not defined in this trial", self.name)?;
        }
        if !self.similar.is_empty() {
            write!(f, "; similar names: {}", self.similar.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownVariable {}

/// One execution in a [`DepGraph`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphNode {
    /// The execution (flattened into the JSON object).
    #[serde(flatten)]
    pub exec: ExecRef,
    /// What it defined (all of it for [`crate::Dataflow::graph`], the versions on
    /// the path for [`crate::Dataflow::backwards_graph`]).
    pub defines: Vec<Symbol>,
}

/// `from` produced the version of `symbol` that `to` read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// Producing execution id.
    pub from: i64,
    /// Reading execution id.
    pub to: i64,
    /// The symbol read.
    pub symbol: Symbol,
}

/// Executions and the symbols flowing between them, as plain lists, so the
/// renderer can draw it (SVG for `%backwards_deps`) without knowing petgraph.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepGraph {
    /// Executions, in execution order.
    pub nodes: Vec<GraphNode>,
    /// Dependencies between them.
    pub edges: Vec<GraphEdge>,
}

impl DepGraph {
    /// The same graph as a petgraph graph, for callers that want its
    /// algorithms (layout, toposort, ...).
    pub fn to_petgraph(&self) -> DiGraph<GraphNode, Symbol> {
        let mut g = DiGraph::new();
        let mut index = HashMap::new();
        for node in &self.nodes {
            index.insert(node.exec.execution_id, g.add_node(node.clone()));
        }
        for edge in &self.edges {
            if let (Some(&a), Some(&b)) = (index.get(&edge.from), index.get(&edge.to)) {
                g.add_edge(a, b, edge.symbol.clone());
            }
        }
        g
    }

    /// Graphviz text of the graph, one box per execution labelled `In[n]`.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph deps {\n  rankdir=LR;\n  node [shape=box];\n");
        for n in &self.nodes {
            let label = match n.exec.execution_count {
                Some(c) => format!("In[{c}]"),
                None => format!("#{}", n.exec.execution_id),
            };
            out.push_str(&format!(
                "  e{} [label={:?}];\n",
                n.exec.execution_id, label
            ));
        }
        for e in &self.edges {
            out.push_str(&format!(
                "  e{} -> e{} [label={:?}];\n",
                e.from,
                e.to,
                e.symbol.to_string()
            ));
        }
        out.push_str("}\n");
        out
    }
}
