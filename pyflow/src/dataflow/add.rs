//! Adding an execution: [`Dataflow::add_execution_delta`] as named steps over
//! an explicit [`Pass`]. Per statement that ran: what it read (against the
//! state before it), then what it produced (bindings, aliases, mutations,
//! deletions); then what only the probe saw; then the execution's record and
//! the delta for the store.

use std::sync::Arc;

use petgraph::graph::NodeIndex;

use super::answers::{ExecRef, ExecutionDelta, ExecutionFlow, NewVersion, StatementRead};
use super::effects::Effects;
use super::files::FilePlan;
use super::graph::{
    Binding, Changes, ExecIdx, ExecRecord, NodeKind, StmtAt, StmtSpan, STATIC_OBJECT,
};
use super::input::{ExecutionInput, RuntimeFacts};
use super::links::is_immutable_type;
use super::versions::{Output, StmtNodes};
use super::Dataflow;
use crate::collections::{FxHashMap, FxHashSet, OrderedSet};
use crate::facts::{AliasKind, StatementFacts};
use crate::symbol::Symbol;

/// The probe's answer, indexed by name.
struct Probe<'i> {
    facts: &'i RuntimeFacts,
    bound: FxHashMap<&'i str, u64>,
    deleted: FxHashSet<&'i str>,
    /// Names whose final value cannot change in place (`int`, `str`).
    immutable: FxHashSet<&'i str>,
    /// The last statement that statically binds each name: the probe's
    /// type of a name speaks for that binding only.
    last_bound: FxHashMap<&'i str, usize>,
}

impl<'i> Probe<'i> {
    fn new(facts: &'i RuntimeFacts, input: &'i ExecutionInput) -> Probe<'i> {
        let mut last_bound = FxHashMap::default();
        if !facts.types.is_empty() {
            for (si, st) in input.analysis.statements.iter().enumerate() {
                for d in &st.defines {
                    last_bound.insert(d.base.as_str(), si);
                }
            }
        }
        Probe {
            facts,
            bound: facts
                .bound
                .iter()
                .map(|(n, id)| (n.as_str(), *id))
                .collect(),
            deleted: facts.deleted.iter().map(String::as_str).collect(),
            immutable: facts
                .types
                .iter()
                .filter(|(_, t)| is_immutable_type(t))
                .map(|(n, _)| n.as_str())
                .collect(),
            last_bound,
        }
    }

    /// Whether the value `name` holds after statement `si` (which bound or
    /// changed it) is known to be immutable.
    fn immutable_after(&self, name: &str, si: usize) -> bool {
        self.immutable.contains(name) && self.last_bound.get(name).is_none_or(|&l| l <= si)
    }
}

/// The state one execution's pass carries from step to step.
struct Pass<'i> {
    input: &'i ExecutionInput,
    exec: ExecIdx,
    probe: Option<Probe<'i>>,
    stmts: StmtNodes,
    out: Output,
    /// Names the statements bound or changed, so the probe's report of them
    /// is not a second, runtime-only definition.
    defined_statically: OrderedSet<String>,
    /// Names the statements deleted, likewise.
    deleted_statically: OrderedSet<String>,
    /// The last statement that started running.
    last_started: Option<usize>,
    /// The first statement that may bind names out of sight (`exec`, `%run`).
    first_dynamic: Option<usize>,
    /// The files the execution read and wrote, placed in their statements.
    files: FilePlan<'i>,
}

impl<'i> Pass<'i> {
    fn new(input: &'i ExecutionInput, exec: ExecIdx) -> Pass<'i> {
        let started = started(input);
        Pass {
            files: FilePlan::new(input, started),
            input,
            exec,
            probe: input.runtime.as_ref().map(|r| Probe::new(r, input)),
            stmts: StmtNodes::new(input.analysis.statements.len()),
            out: Output::default(),
            defined_statically: OrderedSet::default(),
            deleted_statically: OrderedSet::default(),
            last_started: None,
            first_dynamic: None,
        }
    }

    /// How many statements started: all, or up to the failing one.
    fn started(&self) -> usize {
        started(self.input)
    }

    /// Whether statement `si` finished, so its products count (the failing
    /// statement read, but defined nothing).
    fn produces(&self, si: usize) -> bool {
        self.input.failed_at_statement.is_none_or(|f| si < f)
    }

    fn at(&self, si: usize) -> StmtAt {
        StmtAt {
            exec: self.exec,
            stmt: si as u32,
        }
    }
}

impl Dataflow {
    /// Adds the next execution of the trial and returns what it did.
    pub fn add_execution(&mut self, input: ExecutionInput) -> ExecutionFlow {
        self.add_execution_delta(input).flow
    }

    /// [`Self::add_execution`], also returning what the graph gained: the
    /// new statement nodes with the versions they read, the new versions,
    /// and the versions no longer current. A store that writes these down
    /// can answer every query by walking them, without replaying the trial.
    pub fn add_execution_delta(&mut self, input: ExecutionInput) -> ExecutionDelta {
        let mut pass = Pass::new(&input, ExecIdx(self.execs.len() as u32));
        for (si, st) in input
            .analysis
            .statements
            .iter()
            .enumerate()
            .take(pass.started())
        {
            pass.last_started = Some(si);
            if st.dynamic && pass.first_dynamic.is_none() {
                pass.first_dynamic = Some(si);
            }
            let eff = self.effects(st);
            self.read_step(&mut pass, si, &eff);
            if pass.produces(si) {
                self.bind_step(&mut pass, si, st, &eff);
                self.alias_step(st, &eff);
                self.mutation_step(&mut pass, si, &eff);
                self.deletion_step(&mut pass, &eff);
            }
            // A file written is a fact the probe saw, also for the statement that failed.
            self.file_write_step(&mut pass, si);
        }
        if pass.started() == 0 {
            // No statement to place the files in: statement 0 stands for the cell.
            let mut used = Vec::new();
            self.file_read_step(&mut pass, 0, &mut used);
            pass.stmts.used[0] = used;
            self.file_write_step(&mut pass, 0);
        }
        self.probe_only_step(&mut pass);
        let Pass { stmts, out, .. } = pass;
        let flow = ExecutionFlow {
            defines: out.flow.defines.into_iter().collect(),
            uses: out.flow.uses.into_iter().collect(),
            deletes: out.flow.deletes,
            depends_on: out.flow.depends_on.into_iter().collect(),
        };
        self.record_execution(&input, flow.clone());
        self.delta(flow, &stmts.nodes, out.changes)
    }

    /// What statement `si` read, against the state before it: the current
    /// versions of what it uses, and of the containers it stores into (a
    /// store into `d['a']` needs the `d` it stores into).
    fn read_step(&mut self, pass: &mut Pass<'_>, si: usize, eff: &Effects) {
        let mut used = Vec::new();
        for u in &eff.uses {
            let before = used.len();
            self.current_versions_into(u, &mut used);
            if let Some(class) = self.class_symbol(u) {
                self.current_versions_into(&class, &mut used);
            }
            if used.len() == before {
                continue;
            }
            pass.out.flow.uses.insert(u.clone());
            for &v in &used[before..] {
                let exec = self.graph[v].at.exec;
                if exec != pass.exec {
                    let pair = (self.execs[exec.index()].exec.execution_id, u.clone());
                    pass.out.flow.depends_on.insert(pair);
                }
            }
        }
        for m in eff.mutations() {
            if !eff.defines_name(&m.base) {
                self.container_versions_into(m, &mut used);
            }
        }
        // A change through a container or copy changes the value it reaches
        // in place: it reads that value (`d['m'] = model; model.fit(X)` needs
        // the statement that put `model` into `d`).
        for (m, in_place) in mutation_kinds(eff) {
            if self.keeps_object(pass, si, m, in_place) {
                for linked in self.linked_symbols(&m.base, &m.path, in_place || m.path.is_empty()) {
                    self.current_versions_into(&linked, &mut used);
                }
            }
        }
        self.file_read_step(pass, si, &mut used);
        used.sort_unstable();
        used.dedup();
        pass.stmts.used[si] = used;
    }

    /// The files statement `si` read (`files.rs`).
    fn file_read_step(&mut self, pass: &mut Pass<'_>, si: usize, used: &mut Vec<NodeIndex>) {
        let at = pass.at(si);
        self.file_reads_into(&pass.files, at, &mut pass.out, used);
    }

    /// The files statement `si` wrote (`files.rs`).
    fn file_write_step(&mut self, pass: &mut Pass<'_>, si: usize) {
        let at = pass.at(si);
        self.file_writes(&pass.files, at, &mut pass.stmts, &mut pass.out);
    }

    /// The names statement `si` (re)bound.
    fn bind_step(&mut self, pass: &mut Pass<'_>, si: usize, st: &StatementFacts, eff: &Effects) {
        let input = pass.input;
        for (name, binding) in &eff.defines {
            // An id-based probe cannot see `n = 10` run twice (same object), so its silence
            // only overrides the static answer for a failed execution whose failing
            // statement is unknown: there it means "not reached".
            let unseen = pass
                .probe
                .as_ref()
                .is_some_and(|p| !p.bound.contains_key(name.as_str()));
            if input.failed && input.failed_at_statement.is_none() && unseen {
                continue;
            }
            // A binding inside `try` that an exception skipped (`try: x = f()`
            // / `except: pass`): the probe answered and did not see `x` bound.
            // (A same-object rebinding there reads as skipped too; its value
            // is the old object either way.)
            if unseen && st.unsure_defines.contains(name) {
                continue;
            }
            let at = pass.at(si);
            let node = self.stmt_node(at, &mut pass.stmts);
            let fact = st.functions.iter().find(|f| &f.name == name).cloned();
            self.define(name, *binding, fact, at, node, &mut pass.out);
            if pass
                .probe
                .as_ref()
                .is_some_and(|p| p.immutable_after(name, si))
            {
                self.mark_immutable(name, true);
            }
            pass.defined_statically.insert(name.clone());
            // Bound to a literal or a scalar's result (`n = 3`): no call changes it in place.
            if st.immutable.contains(name) {
                self.mark_immutable(name, true);
            }
        }
    }

    /// `b = a` makes `b` a name of `a`'s object from this statement on, in
    /// this cell as across cells (after the cell, the `id()`s the probe
    /// reports take over); `first = rows[0]`, `d['m'] = model` and
    /// `c = copy.copy(x)` link the objects (`links.rs`).
    fn alias_step(&mut self, st: &StatementFacts, eff: &Effects) {
        // `rows[0] = [7]`: what was held there before is no longer in `rows`.
        for m in eff.stores.iter().filter(|m| !m.path.is_empty()) {
            self.unlink_replaced(&m.base, &m.path);
        }
        for alias in &st.aliases {
            match alias.kind {
                AliasKind::Same => {
                    if let Some(key) = self.object_of(&alias.source) {
                        let target = self.intern(&alias.target);
                        self.set_object(target, key);
                    }
                }
                AliasKind::Made => self.made_by_call(&alias.target, &alias.source),
                kind => self.link(&alias.target, &alias.source, kind, &alias.path),
            }
        }
    }

    /// Whether a change of `m` left its name on the same object, so that it
    /// spreads to the object's other names. Only `x += v` on a name can
    /// rebind it (`x += 1` on an int); the probe decides when it reported
    /// `x`: the same `id()` as before, or (for a name first bound in this
    /// cell, whose `id()` before is unknown) a type that changes in place.
    fn keeps_object(&self, pass: &Pass<'_>, si: usize, m: &Symbol, in_place: bool) -> bool {
        if in_place || !m.path.is_empty() {
            return true;
        }
        let Some(probe) = pass.probe.as_ref() else {
            return true;
        };
        let Some(&id) = probe.bound.get(m.base.as_str()) else {
            return true;
        };
        match self.object_of(&m.base) {
            Some(key) if key == id & !STATIC_OBJECT => true,
            Some(key) if key & STATIC_OBJECT != 0 => !probe.immutable_after(&m.base, si),
            _ => false,
        }
    }

    /// What statement `si` changed in place, spread to the aliases of the
    /// object unless the name now holds another object, and through the
    /// containers and copies linked to it.
    fn mutation_step(&mut self, pass: &mut Pass<'_>, si: usize, eff: &Effects) {
        for (m, in_place) in mutation_kinds(eff) {
            let propagate = self.keeps_object(pass, si, m, in_place);
            let linked = if propagate {
                self.linked_symbols(&m.base, &m.path, in_place || m.path.is_empty())
            } else {
                Vec::new()
            };
            let at = pass.at(si);
            let node = self.stmt_node(at, &mut pass.stmts);
            let first_new = pass.out.changes.made.len();
            self.mutate(m, propagate, at, node, &mut pass.out);
            for symbol in &linked {
                self.mutate(symbol, false, at, node, &mut pass.out);
            }
            // An assumed change is one for what shares the object too.
            if let Some((_, callee)) = eff.assumed.iter().find(|(s, _)| s == m) {
                let note = format!("{callee}({m}) may change {m}");
                let changes = &mut pass.out.changes;
                for &(v, _) in &changes.made[first_new..] {
                    changes.assumed.push((v, note.clone()));
                }
            }

            if !propagate
                && pass
                    .probe
                    .as_ref()
                    .is_some_and(|p| p.immutable_after(&m.base, si))
            {
                self.mark_immutable(&m.base, true);
            }
            // `x += 1` on an int rebinds x: the probe reports it, and the
            // mutation's version already stands for it.
            pass.defined_statically.insert(m.base.clone());
        }
    }

    /// What the statement deleted, unless the probe says it still exists.
    fn deletion_step(&mut self, pass: &mut Pass<'_>, eff: &Effects) {
        for name in &eff.deletes {
            let still_there = pass.probe.as_ref().is_some_and(|p| {
                !p.deleted.contains(name.as_str()) && !p.bound.contains_key(name.as_str())
            });
            if still_there {
                continue;
            }
            pass.deleted_statically.insert(name.clone());
            self.delete(name, pass.input.execution_id, &mut pass.out);
        }
    }

    /// What only the probe saw (`exec`, `globals()[...]`, star imports, the
    /// part of a failing statement that ran), attributed to the first
    /// dynamic statement, else the last that started; then the objects it
    /// reported, which decide aliasing from now on.
    fn probe_only_step(&mut self, pass: &mut Pass<'_>) {
        let Some(rt) = pass.probe.as_ref().map(|p| p.facts) else {
            return;
        };
        let si = pass.first_dynamic.or(pass.last_started).unwrap_or(0);
        for (name, _) in &rt.bound {
            if pass.defined_statically.contains(name) || is_ipython_auto_name(name) {
                continue;
            }
            let at = pass.at(si);
            let node = self.stmt_node(at, &mut pass.stmts);
            self.define(name, Binding::Data, None, at, node, &mut pass.out);
        }
        for name in &rt.deleted {
            if !pass.deleted_statically.contains(name) && !is_ipython_auto_name(name) {
                self.delete(name, pass.input.execution_id, &mut pass.out);
            }
        }
        for (name, id) in &rt.bound {
            if let Some(nid) = self.lookup(name) {
                if !self.state[nid.index()].live.is_empty() {
                    self.set_runtime_object(nid, id & !STATIC_OBJECT);
                }
            }
        }
        for (name, type_name) in &rt.types {
            self.mark_immutable(name, is_immutable_type(type_name));
        }
    }

    /// Keeps the execution for answers: who it is, where its statements
    /// are, what it did.
    fn record_execution(&mut self, input: &ExecutionInput, flow: ExecutionFlow) {
        self.by_id.insert(input.execution_id, self.execs.len());
        self.execs.push(ExecRecord {
            exec: ExecRef {
                execution_id: input.execution_id,
                execution_count: input.execution_count,
                cell_id: input.cell_id.as_deref().map(Arc::from),
            },
            statements: input
                .analysis
                .statements
                .iter()
                .map(|s| StmtSpan {
                    line_start: s.line_start,
                    line_end: s.line_end,
                    byte_start: s.byte_start,
                    byte_end: s.byte_end,
                })
                .collect(),
            flow,
        });
    }

    /// The delta of the execution just added: its statement nodes with what
    /// each read, the versions it made, and the older versions it retired.
    fn delta(
        &self,
        flow: ExecutionFlow,
        stmt_nodes: &[Option<NodeIndex>],
        changes: Changes,
    ) -> ExecutionDelta {
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
                    let node = self.graph[v];
                    let NodeKind::Version(version) = node.kind else {
                        return None;
                    };
                    Some(StatementRead {
                        statement: si,
                        dep_execution_id: self.execs[node.at.exec.index()].exec.execution_id,
                        dep_statement: node.at.stmt as usize,
                        version: version.0,
                        symbol: self.symbol_of(v)?,
                        external: self.external_of(v),
                    })
                })
                .collect();
            reads.sort_by_key(|r| r.version);
            delta.reads.extend(reads);
        }
        let made: FxHashSet<NodeIndex> = changes.made.iter().map(|&(v, _)| v).collect();
        let dropped: FxHashSet<NodeIndex> = changes.dropped.iter().copied().collect();
        for &(v, mutation) in &changes.made {
            let node = self.graph[v];
            if let (NodeKind::Version(version), Some(symbol)) = (node.kind, self.symbol_of(v)) {
                delta.versions.push(NewVersion {
                    version: version.0,
                    symbol,
                    statement: node.at.stmt as usize,
                    mutation,
                    current: !dropped.contains(&v),
                    assumed: changes
                        .assumed
                        .iter()
                        .find(|(a, _)| *a == v)
                        .map(|(_, note)| note.clone()),
                    external: self.external_of(v),
                });
            }
        }
        let mut retired: Vec<u32> = changes
            .dropped
            .iter()
            .filter(|v| !made.contains(v))
            .filter_map(|&v| match self.graph[v].kind {
                NodeKind::Version(version) => Some(version.0),
                NodeKind::Statement => None,
            })
            .collect();
        retired.sort_unstable();
        retired.dedup();
        delta.retired = retired;
        delta
    }
}

/// How many statements of `input` started: all, or up to the failing one.
fn started(input: &ExecutionInput) -> usize {
    let statements = input.analysis.statements.len();
    match input.failed_at_statement {
        Some(f) => statements.min(f.saturating_add(1)),
        None => statements,
    }
}

/// A statement's changes, each with whether it is in place (a method call)
/// rather than a store (`d['a'] = v`, `x += v`).
fn mutation_kinds(eff: &Effects) -> impl Iterator<Item = (&Symbol, bool)> {
    let stores = eff.stores.iter().map(|m| (m, false));
    stores.chain(eff.in_place.iter().map(|m| (m, true)))
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
