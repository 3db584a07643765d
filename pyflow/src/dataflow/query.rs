//! Reading the graph: the current versions of a symbol, the statements and
//! versions a value came from (one sweep down the topologically ordered
//! nodes), and the public questions built on them.

use petgraph::graph::NodeIndex;

use super::answers::{DepGraph, ExecDep, GraphEdge, GraphNode, StatementRef, UnknownVariable};
use super::graph::{ExecIdx, NodeKind, StmtAt, VersionId, VersionOf};
use super::Dataflow;
use crate::collections::FxHashSet;
use crate::symbol::{is_strict_prefix, paths_overlap, PathPart, Symbol};

/// Statements and versions reached by a query, as (statement, node) sorted
/// by execution, then statement.
#[derive(Default)]
struct Closure {
    statements: Vec<(StmtAt, NodeIndex)>,
    versions: Vec<(StmtAt, NodeIndex)>,
}

/// Adds `item` unless present; the lists of one execution are short.
fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

impl Dataflow {
    pub(super) fn version_of(&self, v: NodeIndex) -> Option<&VersionOf> {
        match self.graph[v].kind {
            NodeKind::Version(version) => Some(&self.versions[version.index()]),
            NodeKind::Statement => None,
        }
    }

    /// For a file's version that came from outside the trial, the index of the read that saw
    /// it among its execution's files.
    pub(super) fn external_of(&self, v: NodeIndex) -> Option<usize> {
        self.version_of(v)
            .and_then(|of| of.external)
            .map(|k| k as usize)
    }

    pub(super) fn symbol_of(&self, v: NodeIndex) -> Option<Symbol> {
        self.version_of(v).map(|of| Symbol {
            base: self.names[of.name.index()].clone(),
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
    pub(super) fn current_versions_into(&self, symbol: &Symbol, out: &mut Vec<NodeIndex>) {
        if let Some(id) = self.lookup(&symbol.base) {
            let live = &self.state[id.index()].live;
            self.versions_into(live.candidates(&symbol.path), symbol, paths_overlap, out);
        }
    }

    /// Appends the current versions of the containers of `symbol` (`d` for `d['a']`).
    pub(super) fn container_versions_into(&self, symbol: &Symbol, out: &mut Vec<NodeIndex>) {
        if let Some(id) = self.lookup(&symbol.base) {
            let live = &self.state[id.index()].live;
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
                .and_then(|id| self.state[id.index()].deleted_by),
            not_a_symbol,
        }
    }

    fn start_nodes(
        &self,
        var: &str,
        every_version: bool,
    ) -> Result<Vec<NodeIndex>, UnknownVariable> {
        // A file is asked about by its name, its resolved path.
        let symbol = if super::is_file_name(var) {
            Some(Symbol::name(var))
        } else {
            Symbol::parse(var)
        };
        let symbol = symbol.ok_or_else(|| self.unknown(var, true))?;
        let mut starts = Vec::new();
        if every_version {
            if let Some(id) = self.lookup(&symbol.base) {
                starts.extend(self.state[id.index()].history.iter().copied().filter(|&v| {
                    self.version_of(v)
                        .is_some_and(|of| paths_overlap(&of.path, &symbol.path))
                }));
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
            match node.kind {
                NodeKind::Statement => out.statements.push((node.at, n)),
                NodeKind::Version(_) => out.versions.push((node.at, n)),
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
        for &(StmtAt { exec, stmt }, _) in &closure.statements {
            let rec = &self.execs[exec.index()];
            if out
                .last()
                .is_none_or(|d| d.exec.execution_id != rec.exec.execution_id)
            {
                let mut involved: Vec<Symbol> = Vec::new();
                while let Some(&&(StmtAt { exec: e, .. }, v)) = versions.peek() {
                    if e > exec {
                        break;
                    }
                    versions.next();
                    // A file's content from outside is no execution's product.
                    if e == exec && self.external_of(v).is_none() {
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
            .map(|&(StmtAt { exec, stmt }, _)| {
                let rec = &self.execs[exec.index()];
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
        let mut seen: FxHashSet<(ExecIdx, ExecIdx, VersionId)> = FxHashSet::default();
        // Every version a reached statement read was reached too.
        for &(StmtAt { exec, .. }, node) in &closure.statements {
            for v in self.graph.neighbors(node) {
                let from = self.graph[v];
                let NodeKind::Version(version) = from.kind else {
                    continue;
                };
                if from.at.exec != exec && seen.insert((from.at.exec, exec, version)) {
                    if let Some(symbol) = self.symbol_of(v) {
                        edges.push(GraphEdge {
                            from: self.execs[from.at.exec.index()].exec.execution_id,
                            to: self.execs[exec.index()].exec.execution_id,
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
}
