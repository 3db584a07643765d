//! The dataflow engine: executions in the order they really ran, turned into
//! versions of symbols and the statements that produced and used them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::collections::{FxHashMap, FxHashSet, OrderedSet};
use crate::facts::{CellAnalysis, FunctionFact, StatementFacts};
use crate::symbol::{is_prefix, is_strict_prefix, paths_overlap, PathPart, Symbol};

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
}

/// One execution as the engine needs it; what the store keeps per execution
/// (as JSON) so that any trial can be rebuilt with [`Dataflow::replay`].
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
/// [`Dataflow::add_execution_delta`]).
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
}

/// Everything the engine's graph gained from one execution, for a store that
/// keeps the graph itself (so queries need not replay the trial): the
/// statement-level edges, the new versions and which older versions stopped
/// being current.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionDelta {
    /// What [`Dataflow::add_execution`] returns.
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
    /// Index into the execution's [`CellAnalysis::statements`].
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

/// One execution in the answer of [`Dataflow::backwards_deps`]: which of its
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
    /// execution defined and used is in [`Dataflow::execution_flow`].
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
    /// What it defined (all of it for [`Dataflow::graph`], the versions on
    /// the path for [`Dataflow::backwards_graph`]).
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

/// Dense id of an interned global name.
type NameId = u32;

/// `Node::version` of a statement node.
const STATEMENT: u32 = u32::MAX;

/// Object keys made up statically carry this bit; runtime `id()`s (CPython
/// addresses) never do.
const STATIC_OBJECT: u64 = 1 << 63;

/// A node of the engine's graph: a statement of an execution, or a version
/// it produced (`version` indexes `Dataflow::versions`). Edges point from
/// what depends to what it depends on: version → the statement that
/// produced it → the versions that statement read.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Node {
    exec: u32,
    stmt: u32,
    version: u32,
}

/// Which symbol a version is a version of.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VersionOf {
    name: NameId,
    path: Vec<PathPart>,
}

/// What a global name is bound to, as far as the engine knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Binding {
    Data,
    Module,
    Callable,
}

/// The versions that make up a name's current value: one rebinding (or
/// whole-object mutation), plus later stores and mutations below it, indexed
/// by the first step of their path so that a frame with thousands of columns
/// (`df['c1']`, `df['c2']`, ...) costs one lookup per access, not a scan.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LiveSet {
    /// Versions of the whole object (empty path).
    root: Vec<NodeIndex>,
    /// Versions below it, by first step (`o.x` and `o['x']` share a key,
    /// as [`PathPart`]s that may be equal must).
    below: FxHashMap<String, Vec<NodeIndex>>,
}

/// The index key of a path's first step.
fn first_step(part: &PathPart) -> String {
    match part {
        PathPart::Attr(s) | PathPart::Key(crate::symbol::Key::Str(s)) => format!("s{s}"),
        PathPart::Key(crate::symbol::Key::Int(i)) => format!("i{i}"),
    }
}

impl LiveSet {
    fn is_empty(&self) -> bool {
        self.root.is_empty() && self.below.is_empty()
    }

    fn clear(&mut self) {
        self.root.clear();
        self.below.clear();
    }

    /// The versions that can overlap `path`: all of them for the whole
    /// object, else the root's and those under the same first step.
    fn candidates(&self, path: &[PathPart]) -> impl Iterator<Item = NodeIndex> + '_ {
        let below: Box<dyn Iterator<Item = &Vec<NodeIndex>>> = match path.first() {
            None => Box::new(self.below.values()),
            Some(first) => Box::new(self.below.get(&first_step(first)).into_iter()),
        };
        self.root.iter().copied().chain(below.flatten().copied())
    }
}

/// The engine's state for one global name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct NameState {
    /// The current value's versions; empty when the name is unbound.
    live: LiveSet,
    /// Every version ever made, in order.
    history: Vec<NodeIndex>,
    binding: Option<Binding>,
    /// Object identity: a runtime `id()`, or a static key (an alias copies
    /// its source's).
    object: Option<u64>,
    deleted_by: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StmtSpan {
    line_start: usize,
    line_end: usize,
    byte_start: usize,
    byte_end: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ExecRecord {
    exec: ExecRef,
    statements: Vec<StmtSpan>,
    flow: ExecutionFlow,
}

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
    next_object: u64,
    /// What the execution being added made and retired.
    #[serde(skip)]
    acc: DeltaAcc,
}

/// Versions made (node, mutation) and current versions dropped, during one
/// [`Dataflow::add_execution`].
#[derive(Clone, Debug, Default)]
struct DeltaAcc {
    made: Vec<(NodeIndex, bool)>,
    dropped: Vec<NodeIndex>,
}

/// A statement's effects once calls of notebook functions are expanded.
#[derive(Default)]
struct Effects {
    uses: Vec<Symbol>,
    defines: Vec<(String, Binding)>,
    stores: Vec<Symbol>,
    in_place: Vec<Symbol>,
    deletes: Vec<String>,
}

#[derive(Default)]
struct FlowAcc {
    defines: OrderedSet<Symbol>,
    uses: OrderedSet<Symbol>,
    deletes: Vec<Symbol>,
    depends_on: OrderedSet<(i64, Symbol)>,
}

/// Adds `item` unless present; the lists of one execution are short.
fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// IPython's output caching and built-in names, which the probe may report
/// after every execution.
fn is_ipython_auto_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(
        name,
        "_" | "__"
            | "___"
            | "_i"
            | "_ii"
            | "_iii"
            | "_ih"
            | "_oh"
            | "_dh"
            | "In"
            | "Out"
            | "exit"
            | "quit"
            | "get_ipython"
            | "_exit_code"
    ) || name.strip_prefix("_i").is_some_and(digits)
        || name.strip_prefix('_').is_some_and(digits)
}

/// Statements and versions reached by a query, as (execution index,
/// statement index, node), sorted.
#[derive(Default)]
struct Closure {
    statements: Vec<(u32, u32, NodeIndex)>,
    versions: Vec<(u32, u32, NodeIndex)>,
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

    /// The global names that currently have a value, sorted.
    pub fn variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .state
            .iter()
            .zip(&self.names)
            .filter(|(st, _)| !st.live.is_empty())
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
        let id = self.names.len() as NameId;
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        self.state.push(NameState::default());
        id
    }

    fn is_live(&self, name: &str) -> bool {
        self.lookup(name)
            .is_some_and(|id| !self.state[id as usize].live.is_empty())
    }

    fn binding_of(&self, name: &str) -> Option<Binding> {
        self.lookup(name)
            .and_then(|id| self.state[id as usize].binding)
    }

    fn object_of(&self, name: &str) -> Option<u64> {
        self.lookup(name)
            .and_then(|id| self.state[id as usize].object)
    }

    // ---- executions ------------------------------------------------------

    /// Adds the next execution of the trial and returns what it did.
    pub fn add_execution(&mut self, input: ExecutionInput) -> ExecutionFlow {
        self.add_execution_delta(input).flow
    }

    /// [`Self::add_execution`], also returning what the graph gained: the
    /// new statement nodes with the versions they read, the new versions,
    /// and the versions no longer current. A store that writes these down
    /// can answer every query by walking them, without replaying the trial.
    pub fn add_execution_delta(&mut self, input: ExecutionInput) -> ExecutionDelta {
        self.acc = DeltaAcc::default();
        let e = self.execs.len() as u32;
        let statements = &input.analysis.statements;
        let runtime = input.runtime.as_ref();
        let rt_bound: FxHashMap<&str, u64> = runtime
            .map(|r| r.bound.iter().map(|(n, id)| (n.as_str(), *id)).collect())
            .unwrap_or_default();
        let rt_deleted: FxHashSet<&str> = runtime
            .map(|r| r.deleted.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let started = match input.failed_at_statement {
            Some(f) => statements.len().min(f.saturating_add(1)),
            None => statements.len(),
        };

        let mut flow = FlowAcc::default();
        let slots = statements.len().max(1);
        let mut stmt_nodes: Vec<Option<NodeIndex>> = vec![None; slots];
        let mut stmt_used: Vec<Vec<NodeIndex>> = vec![Vec::new(); slots];
        let mut defined_statically: OrderedSet<String> = OrderedSet::default();
        let mut deleted_statically: OrderedSet<String> = OrderedSet::default();
        let mut last_started = None;
        let mut first_dynamic = None;

        for (si, st) in statements.iter().enumerate().take(started) {
            let produces = input.failed_at_statement.is_none_or(|f| si < f);
            last_started = Some(si);
            if st.dynamic && first_dynamic.is_none() {
                first_dynamic = Some(si);
            }
            let eff = self.effects(st);
            let defined_here = |base: &str| eff.defines.iter().any(|(n, _)| n == base);

            // Reads, against the state before the statement.
            let mut used = Vec::new();
            for u in &eff.uses {
                let before = used.len();
                self.current_versions_into(u, &mut used);
                if used.len() == before {
                    continue;
                }
                flow.uses.insert(u.clone());
                for &v in &used[before..] {
                    let exec = self.graph[v].exec;
                    if exec != e {
                        let pair = (self.execs[exec as usize].exec.execution_id, u.clone());
                        flow.depends_on.insert(pair);
                    }
                }
            }
            // A store into `d['a']` needs the container `d` it stores into.
            for m in eff.stores.iter().chain(eff.in_place.iter()) {
                if !defined_here(&m.base) {
                    self.container_versions_into(m, &mut used);
                }
            }
            used.sort_unstable();
            used.dedup();
            stmt_used[si] = used;
            if !produces {
                continue;
            }

            // Products, in order: bindings, mutations, deletions.
            for (name, binding) in &eff.defines {
                // An id-based probe cannot see `n = 10` run twice (same object), so its silence
                // only overrides the static answer for a failed execution whose failing
                // statement is unknown: there it means "not reached".
                if input.failed
                    && input.failed_at_statement.is_none()
                    && runtime.is_some()
                    && !rt_bound.contains_key(name.as_str())
                {
                    continue;
                }
                let node = self.stmt_node(e, si, &mut stmt_nodes, &stmt_used);
                let fact = st.functions.iter().find(|f| &f.name == name).cloned();
                self.define(name, *binding, fact, e, si, node, &mut flow);
                defined_statically.insert(name.clone());
            }
            if runtime.is_none() {
                for alias in &st.aliases {
                    if let Some(key) = self.object_of(&alias.source) {
                        let target = self.intern(&alias.target);
                        self.set_object(target, key);
                    }
                }
            }
            for m in eff.stores.iter().chain(eff.in_place.iter()) {
                let propagate = match rt_bound.get(m.base.as_str()) {
                    Some(id) => self.object_of(&m.base) == Some(id & !STATIC_OBJECT),
                    None => true,
                };
                let node = self.stmt_node(e, si, &mut stmt_nodes, &stmt_used);
                self.mutate(m, propagate, e, si, node, &mut flow);
                // `x += 1` on an int rebinds x: the probe reports it, and the
                // mutation's version already stands for it.
                defined_statically.insert(m.base.clone());
            }
            for name in &eff.deletes {
                if runtime.is_some()
                    && !rt_deleted.contains(name.as_str())
                    && !rt_bound.contains_key(name.as_str())
                {
                    continue; // the probe says it still exists
                }
                deleted_statically.insert(name.clone());
                self.delete(name, input.execution_id, &mut flow);
            }
        }

        if let Some(rt) = runtime {
            // What only the probe saw: exec, globals()[...], star imports,
            // the part of a failing statement that ran.
            let si = first_dynamic.or(last_started).unwrap_or(0);
            for (name, _) in &rt.bound {
                if defined_statically.contains(name) || is_ipython_auto_name(name) {
                    continue;
                }
                let node = self.stmt_node(e, si, &mut stmt_nodes, &stmt_used);
                self.define(name, Binding::Data, None, e, si, node, &mut flow);
            }
            for name in &rt.deleted {
                if !deleted_statically.contains(name) && !is_ipython_auto_name(name) {
                    self.delete(name, input.execution_id, &mut flow);
                }
            }
            for (name, id) in &rt.bound {
                if let Some(nid) = self.lookup(name) {
                    if !self.state[nid as usize].live.is_empty() {
                        self.set_object(nid, id & !STATIC_OBJECT);
                    }
                }
            }
        }

        let result = ExecutionFlow {
            defines: flow.defines.into_iter().collect(),
            uses: flow.uses.into_iter().collect(),
            deletes: flow.deletes,
            depends_on: flow.depends_on.into_iter().collect(),
        };
        self.by_id.insert(input.execution_id, self.execs.len());
        self.execs.push(ExecRecord {
            exec: ExecRef {
                execution_id: input.execution_id,
                execution_count: input.execution_count,
                cell_id: input.cell_id.map(Arc::from),
            },
            statements: statements
                .iter()
                .map(|s| StmtSpan {
                    line_start: s.line_start,
                    line_end: s.line_end,
                    byte_start: s.byte_start,
                    byte_end: s.byte_end,
                })
                .collect(),
            flow: result.clone(),
        });
        self.delta(result, &stmt_nodes)
    }

    /// The delta of the execution just added, from the accumulator.
    fn delta(&mut self, flow: ExecutionFlow, stmt_nodes: &[Option<NodeIndex>]) -> ExecutionDelta {
        let acc = std::mem::take(&mut self.acc);
        let made: FxHashSet<NodeIndex> = acc.made.iter().map(|&(v, _)| v).collect();
        let dropped: FxHashSet<NodeIndex> = acc.dropped.iter().copied().collect();
        let mut delta = ExecutionDelta {
            flow,
            ..ExecutionDelta::default()
        };
        for (si, node) in stmt_nodes.iter().enumerate() {
            let Some(n) = *node else { continue };
            delta.statements.push(si);
            let mut reads: Vec<StatementRead> = self
                .graph
                .neighbors(n)
                .filter_map(|v| {
                    let at = self.graph[v];
                    Some(StatementRead {
                        statement: si,
                        dep_execution_id: self.execs[at.exec as usize].exec.execution_id,
                        dep_statement: at.stmt as usize,
                        version: at.version,
                        symbol: self.symbol_of(v)?,
                    })
                })
                .collect();
            reads.sort_by_key(|r| r.version);
            delta.reads.extend(reads);
        }
        for &(v, mutation) in &acc.made {
            let node = self.graph[v];
            if let Some(symbol) = self.symbol_of(v) {
                delta.versions.push(NewVersion {
                    version: node.version,
                    symbol,
                    statement: node.stmt as usize,
                    mutation,
                    current: !dropped.contains(&v),
                });
            }
        }
        let mut retired: Vec<u32> = acc
            .dropped
            .iter()
            .filter(|v| !made.contains(v))
            .map(|&v| self.graph[v].version)
            .collect();
        retired.sort_unstable();
        retired.dedup();
        delta.retired = retired;
        delta
    }

    /// A statement's effects with calls of notebook functions expanded (at
    /// call time: the definitions current now), transitively.
    fn effects(&self, st: &StatementFacts) -> Effects {
        let mut eff = Effects {
            uses: st.uses.clone(),
            stores: st.mutates.clone(),
            deletes: st.deletes.iter().map(|s| s.base.clone()).collect(),
            ..Effects::default()
        };
        for d in &st.defines {
            let binding = if st.functions.iter().any(|f| f.name == d.base) {
                Binding::Callable
            } else if st.imports.iter().any(|i| i.bound_as == d.base) {
                Binding::Module
            } else {
                Binding::Data
            };
            eff.defines.push((d.base.clone(), binding));
        }
        let mut call_mutates: Vec<Symbol> = st.call_mutates.clone();

        if !self.callables.is_empty() {
            let mut queue: Vec<&str> = st.calls.iter().map(String::as_str).collect();
            queue.extend(st.uses.iter().map(|u| u.base.as_str()));
            let mut seen: Vec<&str> = Vec::new();
            while let Some(name) = queue.pop() {
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                let Some(fact) = self.lookup(name).and_then(|id| self.callables.get(&id)) else {
                    continue;
                };
                eff.uses.extend(fact.globals_read.iter().cloned());
                eff.defines.extend(
                    fact.globals_written
                        .iter()
                        .map(|n| (n.clone(), Binding::Data)),
                );
                eff.stores.extend(fact.globals_mutated.iter().cloned());
                call_mutates.extend(fact.globals_call_mutated.iter().cloned());
                eff.deletes.extend(fact.globals_deleted.iter().cloned());
                queue.extend(fact.calls.iter().map(String::as_str));
                queue.extend(fact.globals_read.iter().map(|s| s.base.as_str()));
            }
        }
        // A method call on a module, function or class (`np.zeros(3)`,
        // `Model.load()`), or on a name the trial never bound, is not a
        // mutation of anything the notebook tracks.
        for m in call_mutates {
            let data = eff.defines.iter().any(|(n, _)| *n == m.base)
                || (self.is_live(&m.base)
                    && self.binding_of(&m.base).unwrap_or(Binding::Data) == Binding::Data);
            if data {
                eff.in_place.push(m);
            }
        }
        eff
    }

    fn stmt_node(
        &mut self,
        e: u32,
        si: usize,
        nodes: &mut [Option<NodeIndex>],
        used: &[Vec<NodeIndex>],
    ) -> NodeIndex {
        if let Some(n) = nodes.get(si).copied().flatten() {
            return n;
        }
        let n = self.graph.add_node(Node {
            exec: e,
            stmt: si as u32,
            version: STATEMENT,
        });
        for &v in used.get(si).map(Vec::as_slice).unwrap_or_default() {
            self.graph.add_edge(n, v, ());
        }
        if let Some(slot) = nodes.get_mut(si) {
            *slot = Some(n);
        }
        n
    }

    fn new_version(
        &mut self,
        name: NameId,
        path: Vec<PathPart>,
        e: u32,
        si: usize,
        producer: NodeIndex,
    ) -> NodeIndex {
        let version = self.versions.len() as u32;
        self.versions.push(VersionOf { name, path });
        let v = self.graph.add_node(Node {
            exec: e,
            stmt: si as u32,
            version,
        });
        self.graph.add_edge(v, producer, ());
        self.state[name as usize].history.push(v);
        v
    }

    fn fresh_object(&mut self) -> u64 {
        self.next_object += 1;
        STATIC_OBJECT | self.next_object
    }

    #[allow(clippy::too_many_arguments)]
    fn define(
        &mut self,
        name: &str,
        binding: Binding,
        fact: Option<FunctionFact>,
        e: u32,
        si: usize,
        producer: NodeIndex,
        flow: &mut FlowAcc,
    ) {
        flow.defines.insert(Symbol::name(name));
        let id = self.intern(name);
        let v = self.new_version(id, Vec::new(), e, si, producer);
        self.acc.made.push((v, false));
        let st = &mut self.state[id as usize];
        drop_live(&mut self.acc, &st.live);
        st.live.clear();
        st.live.root.push(v);
        st.deleted_by = None;
        st.binding = Some(binding);
        match fact {
            Some(f) if binding == Binding::Callable => {
                self.callables.insert(id, f);
            }
            _ => {
                self.callables.remove(&id);
            }
        }
        let key = self.fresh_object();
        self.set_object(id, key);
    }

    fn mutate(
        &mut self,
        symbol: &Symbol,
        propagate: bool,
        e: u32,
        si: usize,
        producer: NodeIndex,
        flow: &mut FlowAcc,
    ) {
        let id = self.intern(&symbol.base);
        let mut targets = vec![id];
        if propagate {
            if let Some(members) = self.state[id as usize]
                .object
                .and_then(|k| self.members.get(&k))
            {
                targets.extend(members.iter().filter(|&&m| m != id));
            }
        }
        for target in targets {
            flow.defines.insert(Symbol {
                base: self.names[target as usize].clone(),
                path: symbol.path.clone(),
            });
            let v = self.new_version(target, symbol.path.clone(), e, si, producer);
            self.acc.made.push((v, true));
            let versions = &self.versions;
            let graph = &self.graph;
            let acc = &mut self.acc;
            let st = &mut self.state[target as usize];
            // The new version replaces what it covers.
            match symbol.path.first() {
                None => {
                    drop_live(acc, &st.live);
                    st.live.clear();
                    st.live.root.push(v);
                }
                Some(first) => {
                    let key = first_step(first);
                    let under = st.live.below.entry(key).or_default();
                    under.retain(|&w| {
                        let of = &versions[graph[w].version as usize];
                        let covered = is_prefix(&symbol.path, &of.path);
                        if covered {
                            acc.dropped.push(w);
                        }
                        !covered
                    });
                    under.push(v);
                }
            }
            st.binding.get_or_insert(Binding::Data);
            st.deleted_by = None;
            if st.object.is_none() {
                let key = self.fresh_object();
                self.set_object(target, key);
            }
        }
    }

    fn delete(&mut self, name: &str, execution_id: i64, flow: &mut FlowAcc) {
        let Some(id) = self.lookup(name) else { return };
        let st = &mut self.state[id as usize];
        if st.live.is_empty() {
            return;
        }
        drop_live(&mut self.acc, &st.live);
        st.live.clear();
        st.binding = None;
        st.deleted_by = Some(execution_id);
        let object = st.object.take();
        flow.deletes.push(Symbol::name(name));
        self.callables.remove(&id);
        if let Some(key) = object {
            self.leave_object(id, key);
        }
    }

    fn leave_object(&mut self, id: NameId, key: u64) {
        if let Some(m) = self.members.get_mut(&key) {
            m.retain(|&n| n != id);
            if m.is_empty() {
                self.members.remove(&key);
            }
        }
    }

    fn set_object(&mut self, id: NameId, key: u64) {
        let old = self.state[id as usize].object;
        if old == Some(key) {
            return;
        }
        if let Some(old) = old {
            self.leave_object(id, old);
        }
        self.members.entry(key).or_default().push(id);
        self.state[id as usize].object = Some(key);
    }

    // ---- reading the graph -------------------------------------------------

    fn version_of(&self, v: NodeIndex) -> Option<&VersionOf> {
        let version = self.graph[v].version;
        (version != STATEMENT).then(|| &self.versions[version as usize])
    }

    fn symbol_of(&self, v: NodeIndex) -> Option<Symbol> {
        self.version_of(v).map(|of| Symbol {
            base: self.names[of.name as usize].clone(),
            path: of.path.clone(),
        })
    }

    /// Appends the versions among `versions` whose path `relation` relates
    /// to `symbol`'s.
    fn versions_into(
        &self,
        versions: impl Iterator<Item = NodeIndex>,
        symbol: &Symbol,
        relation: fn(&[PathPart], &[PathPart]) -> bool,
        out: &mut Vec<NodeIndex>,
    ) {
        out.extend(versions.filter(|&v| {
            self.version_of(v)
                .is_some_and(|of| relation(&of.path, &symbol.path))
        }));
    }

    /// Appends the versions that make up the current value of `symbol`.
    fn current_versions_into(&self, symbol: &Symbol, out: &mut Vec<NodeIndex>) {
        if let Some(id) = self.lookup(&symbol.base) {
            let live = &self.state[id as usize].live;
            self.versions_into(live.candidates(&symbol.path), symbol, paths_overlap, out);
        }
    }

    /// Appends the current versions of the containers of `symbol` (`d` for `d['a']`).
    fn container_versions_into(&self, symbol: &Symbol, out: &mut Vec<NodeIndex>) {
        if let Some(id) = self.lookup(&symbol.base) {
            let live = &self.state[id as usize].live;
            self.versions_into(live.candidates(&symbol.path), symbol, is_strict_prefix, out);
        }
    }

    fn unknown(&self, var: &str, not_a_symbol: bool) -> UnknownVariable {
        let base = Symbol::parse(var).map(|s| s.base);
        UnknownVariable {
            name: var.to_string(),
            similar: self.similar_names(base.as_deref().unwrap_or(var)),
            deleted_by: base
                .and_then(|b| self.lookup(&b))
                .and_then(|id| self.state[id as usize].deleted_by),
            not_a_symbol,
        }
    }

    fn start_nodes(
        &self,
        var: &str,
        every_version: bool,
    ) -> Result<Vec<NodeIndex>, UnknownVariable> {
        let symbol = Symbol::parse(var).ok_or_else(|| self.unknown(var, true))?;
        let mut starts = Vec::new();
        if every_version {
            if let Some(id) = self.lookup(&symbol.base) {
                starts.extend(
                    self.state[id as usize]
                        .history
                        .iter()
                        .copied()
                        .filter(|&v| {
                            self.version_of(v)
                                .is_some_and(|of| paths_overlap(&of.path, &symbol.path))
                        }),
                );
            }
        } else {
            self.current_versions_into(&symbol, &mut starts);
        }
        if starts.is_empty() {
            return Err(self.unknown(var, false));
        }
        Ok(starts)
    }

    /// Statements and versions reachable from `starts`, each sorted by
    /// (execution index, statement index).
    ///
    /// Every edge points from a newer node to an older one (a statement's
    /// node is made after the versions it read, a version after its
    /// statement's node), so node order is a topological order: one sweep
    /// down from the newest start reaches everything, reading the graph in
    /// memory order, with no search stack.
    fn closure(&self, starts: &[NodeIndex]) -> Closure {
        let mut out = Closure::default();
        let Some(top) = starts.iter().map(|n| n.index()).max() else {
            return out;
        };
        let mut marked = vec![0u64; top / 64 + 1];
        let mut pending = 0usize;
        // Marks node `i`, returning 1 if it was not marked yet.
        let mark = |marked: &mut [u64], i: usize| {
            let fresh = marked[i / 64] & (1 << (i % 64)) == 0;
            marked[i / 64] |= 1 << (i % 64);
            usize::from(fresh)
        };
        for s in starts {
            pending += mark(&mut marked, s.index());
        }
        let mut i = top + 1;
        while pending > 0 && i > 0 {
            i -= 1;
            let word = marked[i / 64];
            let at_or_below = u64::MAX >> (63 - i % 64);
            if word & at_or_below == 0 {
                i -= i % 64; // nothing marked in the rest of this word
                continue;
            }
            if word & (1 << (i % 64)) == 0 {
                continue;
            }
            pending -= 1;
            let n = NodeIndex::new(i);
            let node = self.graph[n];
            if node.version == STATEMENT {
                out.statements.push((node.exec, node.stmt, n));
            } else {
                out.versions.push((node.exec, node.stmt, n));
            }
            for m in self.graph.neighbors(n) {
                debug_assert!(m.index() < i, "edges point to older nodes");
                pending += mark(&mut marked, m.index());
            }
        }
        // Swept newest first; statements of one execution may be out of order.
        out.statements.reverse();
        out.versions.reverse();
        out.statements.sort_unstable();
        out.versions.sort_unstable();
        out
    }

    fn exec_deps(&self, closure: &Closure) -> Vec<ExecDep> {
        let mut out: Vec<ExecDep> = Vec::new();
        let mut versions = closure.versions.iter().peekable();
        for &(exec, stmt, _) in &closure.statements {
            let rec = &self.execs[exec as usize];
            if out
                .last()
                .is_none_or(|d| d.exec.execution_id != rec.exec.execution_id)
            {
                let mut involved: Vec<Symbol> = Vec::new();
                while let Some(&&(e, _, v)) = versions.peek() {
                    if e > exec {
                        break;
                    }
                    versions.next();
                    if e == exec {
                        if let Some(sym) = self.symbol_of(v) {
                            push_unique(&mut involved, sym);
                        }
                    }
                }
                out.push(ExecDep {
                    exec: rec.exec.clone(),
                    statements: Vec::new(),
                    involved,
                });
            }
            if let Some(dep) = out.last_mut() {
                dep.statements.push(stmt as usize);
            }
        }
        out
    }

    fn statement_refs(&self, closure: &Closure) -> Vec<StatementRef> {
        closure
            .statements
            .iter()
            .map(|&(exec, stmt, _)| {
                let rec = &self.execs[exec as usize];
                let span = rec.statements.get(stmt as usize);
                StatementRef {
                    exec: rec.exec.clone(),
                    statement: stmt as usize,
                    line_start: span.map_or(1, |s| s.line_start),
                    line_end: span.map_or(1, |s| s.line_end),
                    byte_start: span.map_or(0, |s| s.byte_start),
                    byte_end: span.map_or(0, |s| s.byte_end),
                    whole_cell: span.is_none(),
                }
            })
            .collect()
    }

    // ---- queries -----------------------------------------------------------

    /// The executions that contributed to the current value of `var`
    /// (`x`, `d['a']`, `o.attr`): the one(s) that produced it and,
    /// transitively, those it depends on, in execution order.
    pub fn backwards_deps(&self, var: &str) -> Result<Vec<ExecDep>, UnknownVariable> {
        let starts = self.start_nodes(var, false)?;
        Ok(self.exec_deps(&self.closure(&starts)))
    }

    /// [`Self::backwards_deps`] at statement granularity.
    pub fn backwards_deps_statements(
        &self,
        var: &str,
    ) -> Result<Vec<StatementRef>, UnknownVariable> {
        let starts = self.start_nodes(var, false)?;
        Ok(self.statement_refs(&self.closure(&starts)))
    }

    /// [`Self::backwards_deps`] over every version `var` ever had in the
    /// trial, including those before a deletion.
    pub fn global_backwards_deps(&self, var: &str) -> Result<Vec<ExecDep>, UnknownVariable> {
        let starts = self.start_nodes(var, true)?;
        Ok(self.exec_deps(&self.closure(&starts)))
    }

    /// The statements, in execution order, whose code rebuilds the current
    /// value of `var`: the contributing statements, which include the
    /// imports and function definitions they need (a call depends on the
    /// function's definition and on what its body reads).
    pub fn slice(&self, var: &str) -> Result<Vec<StatementRef>, UnknownVariable> {
        self.backwards_deps_statements(var)
    }

    /// The whole trial as executions and the symbols flowing between them.
    pub fn graph(&self) -> DepGraph {
        DepGraph {
            nodes: self
                .execs
                .iter()
                .map(|r| GraphNode {
                    exec: r.exec.clone(),
                    defines: r.flow.defines.clone(),
                })
                .collect(),
            edges: self
                .execs
                .iter()
                .flat_map(|r| {
                    r.flow
                        .depends_on
                        .iter()
                        .map(move |(from, symbol)| GraphEdge {
                            from: *from,
                            to: r.exec.execution_id,
                            symbol: symbol.clone(),
                        })
                })
                .collect(),
        }
    }

    /// The subgraph behind [`Self::backwards_deps`]: its executions and the
    /// dependencies between them that lie on the path.
    pub fn backwards_graph(&self, var: &str) -> Result<DepGraph, UnknownVariable> {
        let starts = self.start_nodes(var, false)?;
        let closure = self.closure(&starts);
        let mut edges = Vec::new();
        let mut seen: FxHashSet<(u32, u32, u32)> = FxHashSet::default();
        // Every version a reached statement read was reached too.
        for &(exec, _, node) in &closure.statements {
            for v in self.graph.neighbors(node) {
                let from = self.graph[v];
                if from.exec != exec && seen.insert((from.exec, exec, from.version)) {
                    if let Some(symbol) = self.symbol_of(v) {
                        edges.push(GraphEdge {
                            from: self.execs[from.exec as usize].exec.execution_id,
                            to: self.execs[exec as usize].exec.execution_id,
                            symbol,
                        });
                    }
                }
            }
        }
        Ok(DepGraph {
            nodes: self
                .exec_deps(&closure)
                .into_iter()
                .map(|d| GraphNode {
                    exec: d.exec,
                    defines: d.involved,
                })
                .collect(),
            edges,
        })
    }

    /// Current variables whose name is close to `var` (same name in another
    /// case, prefix either way, or a small edit distance), best first; for
    /// "unknown variable" errors.
    pub fn similar_names(&self, var: &str) -> Vec<String> {
        let live = self
            .names
            .iter()
            .zip(&self.state)
            .filter(|(_, st)| !st.live.is_empty())
            .map(|(name, _)| name.as_str());
        similar_names(var, live)
    }
}

/// Names close to `var` (same name in another case, prefix either way, or a small edit
/// distance), best first, at most 8: the suggestions of an unknown-variable error, shared by
/// the engine and the store.
pub fn similar_names<'a>(var: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = var.to_lowercase();
    let limit = (var.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let nl = name.to_lowercase();
            let distance = edit_distance(&lower, &nl);
            let prefix = !lower.is_empty() && (nl.starts_with(&lower) || lower.starts_with(&nl));
            (distance <= limit || prefix).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(8)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Notes every version of `live` as no longer current.
fn drop_live(acc: &mut DeltaAcc, live: &LiveSet) {
    acc.dropped.extend(live.root.iter().copied());
    acc.dropped.extend(live.below.values().flatten().copied());
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
