//! Making versions: a statement's node, a (re)binding, a mutation (spread to
//! the aliases of the object), a deletion, and the object identities that
//! decide who is an alias of whom. Everything made or dropped is noted in
//! the pass's [`Output`].

use petgraph::graph::NodeIndex;

use super::graph::{
    first_step, Binding, Changes, NameId, Node, NodeKind, StmtAt, VersionId, VersionOf,
    STATIC_OBJECT,
};
use super::Dataflow;
use crate::collections::OrderedSet;
use crate::facts::FunctionFact;
use crate::symbol::{is_prefix, Symbol};

/// What an execution's flow is, as it accumulates.
#[derive(Default)]
pub(super) struct FlowAcc {
    pub(super) defines: OrderedSet<Symbol>,
    pub(super) uses: OrderedSet<Symbol>,
    pub(super) deletes: Vec<Symbol>,
    pub(super) depends_on: OrderedSet<(i64, Symbol)>,
}

/// What one execution's pass has produced so far.
#[derive(Default)]
pub(super) struct Output {
    pub(super) flow: FlowAcc,
    pub(super) changes: Changes,
}

/// The statements of the execution being added: each one's node, made when
/// it first produces something, and the versions it read.
pub(super) struct StmtNodes {
    pub(super) nodes: Vec<Option<NodeIndex>>,
    pub(super) used: Vec<Vec<NodeIndex>>,
}

impl StmtNodes {
    /// Room for `statements` statements (at least one: a cell with none that
    /// still bound something at run time gets statement 0).
    pub(super) fn new(statements: usize) -> StmtNodes {
        let slots = statements.max(1);
        StmtNodes {
            nodes: vec![None; slots],
            used: vec![Vec::new(); slots],
        }
    }
}

impl Dataflow {
    /// The node of statement `at`, made (with edges to what it read) the
    /// first time it produces something.
    pub(super) fn stmt_node(&mut self, at: StmtAt, stmts: &mut StmtNodes) -> NodeIndex {
        let si = at.stmt as usize;
        if let Some(n) = stmts.nodes.get(si).copied().flatten() {
            return n;
        }
        let n = self.graph.add_node(Node {
            at,
            kind: NodeKind::Statement,
        });
        for &v in stmts.used.get(si).map(Vec::as_slice).unwrap_or_default() {
            self.graph.add_edge(n, v, ());
        }
        if let Some(slot) = stmts.nodes.get_mut(si) {
            *slot = Some(n);
        }
        n
    }

    pub(super) fn new_version(
        &mut self,
        name: NameId,
        path: Vec<crate::symbol::PathPart>,
        at: StmtAt,
        producer: NodeIndex,
    ) -> NodeIndex {
        let version = VersionId(self.versions.len() as u32);
        self.versions.push(VersionOf {
            name,
            path,
            external: None,
        });
        let v = self.graph.add_node(Node {
            at,
            kind: NodeKind::Version(version),
        });
        self.graph.add_edge(v, producer, ());
        self.state[name.index()].history.push(v);
        v
    }

    fn fresh_object(&mut self) -> u64 {
        self.next_object += 1;
        STATIC_OBJECT | self.next_object
    }

    /// `name` (re)bound by the statement `producer`: a new version replacing
    /// its whole current value, a new object (no longer an alias of anything).
    pub(super) fn define(
        &mut self,
        name: &str,
        binding: Binding,
        fact: Option<FunctionFact>,
        at: StmtAt,
        producer: NodeIndex,
        out: &mut Output,
    ) {
        out.flow.defines.insert(Symbol::name(name));
        let id = self.intern(name);
        let v = self.new_version(id, Vec::new(), at, producer);
        let st = self.replace_whole(id, v, out);
        st.binding = Some(binding);
        st.forget_value();
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

    /// Makes `v`, a new version of name `id`, its whole current value (nothing it had before
    /// is part of it any more), noting both in `out`; returns the name's state.
    pub(super) fn replace_whole(
        &mut self,
        id: NameId,
        v: NodeIndex,
        out: &mut Output,
    ) -> &mut super::graph::NameState {
        out.changes.made.push((v, false));
        let st = &mut self.state[id.index()];
        out.changes.drop_live(&st.live);
        st.live.clear();
        st.live.root.push(v);
        st.deleted_by = None;
        st
    }

    /// `symbol` changed in place by the statement `producer`; with
    /// `propagate`, also every other name bound to the same object
    /// (`b = a; b.append(1)` changes `a`).
    pub(super) fn mutate(
        &mut self,
        symbol: &Symbol,
        propagate: bool,
        at: StmtAt,
        producer: NodeIndex,
        out: &mut Output,
    ) {
        let id = self.intern(&symbol.base);
        let mut targets = vec![id];
        if propagate {
            if let Some(members) = self.state[id.index()]
                .object
                .and_then(|k| self.members.get(&k))
            {
                let state = &self.state;
                targets.extend(
                    members
                        .iter()
                        .filter(|&&m| m != id && !state[m.index()].immutable),
                );
            }
        }
        for target in targets {
            out.flow.defines.insert(Symbol {
                base: self.names[target.index()].clone(),
                path: symbol.path.clone(),
            });
            let v = self.new_version(target, symbol.path.clone(), at, producer);
            out.changes.made.push((v, true));
            self.replace_covered(target, symbol, v, &mut out.changes);
        }
    }

    /// Makes `v`, a new version of `symbol` on `target`, current, dropping
    /// the current versions it covers (all of them for the whole object,
    /// else those at or below its path: `d['a']` covers `d['a'].x`).
    fn replace_covered(
        &mut self,
        target: NameId,
        symbol: &Symbol,
        v: NodeIndex,
        changes: &mut Changes,
    ) {
        let versions = &self.versions;
        let graph = &self.graph;
        let st = &mut self.state[target.index()];
        match symbol.path.first() {
            None => {
                changes.drop_live(&st.live);
                st.live.clear();
                st.live.root.push(v);
            }
            Some(first) => {
                let under = st.live.below.entry(first_step(first)).or_default();
                under.retain(|&w| {
                    let covered = match graph[w].kind {
                        NodeKind::Version(of) => {
                            is_prefix(&symbol.path, &versions[of.index()].path)
                        }
                        NodeKind::Statement => false,
                    };
                    if covered {
                        changes.dropped.push(w);
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

    /// `del name` (or the probe saw it go) in the execution `execution_id`.
    pub(super) fn delete(&mut self, name: &str, execution_id: i64, out: &mut Output) {
        let Some(id) = self.lookup(name) else { return };
        let st = &mut self.state[id.index()];
        if st.live.is_empty() {
            return;
        }
        out.changes.drop_live(&st.live);
        st.live.clear();
        st.binding = None;
        st.deleted_by = Some(execution_id);
        st.forget_value();
        let object = st.object.take();
        out.flow.deletes.push(Symbol::name(name));
        self.callables.remove(&id);
        if let Some(key) = object {
            self.leave_object(id, key, None);
        }
    }

    /// `id` is no longer a name of the object `key` (it moves to `to`, if
    /// anywhere); an object left without names hands on or drops its links.
    fn leave_object(&mut self, id: NameId, key: u64, to: Option<u64>) {
        if let Some(m) = self.members.get_mut(&key) {
            m.retain(|&n| n != id);
            if m.is_empty() {
                self.members.remove(&key);
                self.object_emptied(key, to);
            }
        }
    }

    /// Makes `id` a name of the object `key` (and no longer of its old one).
    pub(super) fn set_object(&mut self, id: NameId, key: u64) {
        self.join_object(id, key, false);
    }

    /// The probe saw `id` bound to the object with `id()` `key`: the same
    /// object as the static key it had in this execution, if it had one.
    pub(super) fn set_runtime_object(&mut self, id: NameId, key: u64) {
        self.join_object(id, key, true);
    }

    fn join_object(&mut self, id: NameId, key: u64, same_object: bool) {
        let old = self.state[id.index()].object;
        if old == Some(key) {
            return;
        }
        if let Some(old) = old {
            self.leave_object(id, old, same_object.then_some(key));
        }
        self.members.entry(key).or_default().push(id);
        self.state[id.index()].object = Some(key);
    }
}
