//! The dataflow engine: executions in the order they really ran, turned into
//! versions of symbols and the statements that produced and used them.
//!
//! Layers, each file using only those above it: `input` and `answers` (the
//! public data in and out), `graph` (typed ids, nodes, per-name state);
//! `links` (objects held in others, copies); `versions` (making versions),
//! `state` (hidden state: closures, caches, generators, class attributes), `effects` (calls expanded),
//! `files` (files read and written, versions by content), `query`
//! (reading the graph), `similar`; `add` (one execution, step by step).
//! This file holds the [`Dataflow`] itself and its name table; the other
//! files add `impl Dataflow` blocks and use its fields.

mod add;
mod answers;
mod effects;
mod files;
mod graph;
mod input;
mod links;
mod query;
mod similar;
mod state;
mod versions;

use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};

pub use answers::{
    DepGraph, ExecDep, ExecRef, ExecutionDelta, ExecutionFlow, GraphEdge, GraphNode, NewVersion,
    StatementRead, StatementRef, UnknownVariable,
};
pub use input::{is_file_name, ExecutionInput, FileAccess, RuntimeFacts};
pub use similar::similar_names;

use crate::collections::FxHashMap;
use crate::facts::FunctionFact;
use graph::{Binding, ExecRecord, FileState, Link, NameId, NameState, Node, VersionOf};

/// The dependency graph of one trial: every execution in the order it ran,
/// the versions of symbols each one produced and the versions each of its
/// statements read.
///
/// Feed it with [`Dataflow::add_execution`] as executions finish. The store
/// should keep each [`ExecutionInput`] (JSON) and rebuild any trial's
/// dataflow with [`Dataflow::replay`] — replay is the source of truth, so
/// queries work on every trial, survive restarts and pick up improved rules
/// (re-run [`crate::analyze_cell`] on the stored code when a stored
/// analysis's `analysis_version` is older than [`crate::ANALYSIS_VERSION`]).
/// The struct is also `Serialize`/`Deserialize`, usable as a cache.
///
/// Semantics: each definition or mutation of a symbol is a new version; a
/// use depends on the current versions of every overlapping symbol
/// (`d` and `d['a']`, not `d['a']` and `d['b']`); a store into `d['a']`
/// depends on the versions of its containers (`d`); a call of a notebook
/// function is expanded, at call time, into what its body reads and writes.
/// Answers are statement-precise: an execution is in an answer when one of
/// its statements contributed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dataflow {
    execs: Vec<ExecRecord>,
    by_id: FxHashMap<i64, usize>,
    graph: DiGraph<Node, ()>,
    versions: Vec<VersionOf>,
    names: Vec<String>,
    name_ids: FxHashMap<String, NameId>,
    state: Vec<NameState>,
    callables: FxHashMap<NameId, FunctionFact>,
    /// Names per object key, for aliases.
    members: FxHashMap<u64, Vec<NameId>>,
    /// The last static object key handed out.
    next_object: u64,
    /// Objects held in others, and shallow copies, by both their ends'
    /// object keys (see `links.rs`).
    #[serde(default)]
    links: FxHashMap<u64, Vec<Link>>,
    /// The files the trial read or wrote, by name (`files.rs`).
    #[serde(default)]
    files: FxHashMap<NameId, FileState>,
}

impl Dataflow {
    /// An empty trial.
    pub fn new() -> Dataflow {
        Dataflow::default()
    }

    /// Rebuilds a trial's dataflow from its stored executions, in the order
    /// they ran.
    pub fn replay<I: IntoIterator<Item = ExecutionInput>>(executions: I) -> Dataflow {
        let mut flow = Dataflow::new();
        for e in executions {
            flow.add_execution(e);
        }
        flow
    }

    /// Number of executions added.
    pub fn len(&self) -> usize {
        self.execs.len()
    }

    /// Whether no execution was added.
    pub fn is_empty(&self) -> bool {
        self.execs.is_empty()
    }

    /// What an execution did, by store id.
    pub fn execution_flow(&self, execution_id: i64) -> Option<&ExecutionFlow> {
        self.by_id.get(&execution_id).map(|&i| &self.execs[i].flow)
    }

    /// The global names that currently have a value, sorted (files, named by their path, are
    /// not variables and are left out).
    pub fn variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .state
            .iter()
            .zip(&self.names)
            .filter(|(st, n)| !st.live.is_empty() && !is_file_name(n))
            .map(|(_, n)| n.clone())
            .collect();
        names.sort();
        names
    }

    // ---- names -----------------------------------------------------------

    fn lookup(&self, name: &str) -> Option<NameId> {
        self.name_ids.get(name).copied()
    }

    fn intern(&mut self, name: &str) -> NameId {
        if let Some(id) = self.lookup(name) {
            return id;
        }
        let id = NameId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        self.state.push(NameState::default());
        id
    }

    fn is_live(&self, name: &str) -> bool {
        self.lookup(name)
            .is_some_and(|id| !self.state[id.index()].live.is_empty())
    }

    fn binding_of(&self, name: &str) -> Option<Binding> {
        self.lookup(name)
            .and_then(|id| self.state[id.index()].binding)
    }

    fn object_of(&self, name: &str) -> Option<u64> {
        self.lookup(name)
            .and_then(|id| self.state[id.index()].object)
    }
}
