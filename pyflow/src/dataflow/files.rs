//! Files as values: a file is a name, its resolved absolute path ([`is_file_name`]), whose
//! versions are its contents. A write by a statement makes a new version produced by that
//! statement; a read makes the statement read the file's current version, by content: when
//! the hash read differs from the one of the version the trial last made (or there is none),
//! the content came from outside the trial, a new *external* version that no statement made.
//!
//! Where an access happened: the probe gives the line of the top-level statement that opened
//! the file. An access with no line (or one that names no statement that ran) is placed where
//! the engine places everything else only the probe saw: the first dynamic statement, else the
//! last that started (`add.rs`, `probe_only_step`). Within a statement, reads come before
//! writes (a statement that read a file and wrote it back depends on the version it read).
//!
//! Hashes: a write's hash is the content as the cell left it, so when one execution writes a
//! file from several statements only the last write's hash is known; an unknown hash (that, a
//! file gone, a read the probe could not hash) matches any, and the read is taken to be of the
//! current version. A statement that reads what it wrote itself (the read's hash is its own
//! write's) reads nothing from before.

use petgraph::graph::NodeIndex;

use super::graph::{FileState, NameId, Node, NodeKind, StmtAt, VersionId, VersionOf};
use super::input::{ExecutionInput, FileAccess};
use super::versions::Output;
use super::Dataflow;
use crate::collections::FxHashMap;
use crate::facts::statement_at_line;
use crate::symbol::Symbol;

/// One execution's file accesses, each placed in the statement it belongs to.
pub(super) struct FilePlan<'i> {
    /// Per statement: (index in the execution's files, the access), in the probe's order.
    at: Vec<Vec<(usize, &'i FileAccess)>>,
    /// Per file, the last statement of the execution that wrote it: only its hash is known.
    last_write: FxHashMap<&'i str, usize>,
}

impl<'i> FilePlan<'i> {
    /// Places the accesses of `input` among its `started` statements (see the module's docs).
    pub(super) fn new(input: &'i ExecutionInput, started: usize) -> FilePlan<'i> {
        let files = input
            .runtime
            .as_ref()
            .map(|r| r.files.as_slice())
            .unwrap_or_default();
        let statements = &input.analysis.statements;
        let fallback = statements
            .iter()
            .take(started)
            .position(|s| s.dynamic)
            .unwrap_or(started.saturating_sub(1));
        let mut at = vec![Vec::new(); started.max(1)];
        let mut last_write = FxHashMap::default();
        for (k, access) in files.iter().enumerate() {
            if !super::is_file_name(&access.path) {
                continue;
            }
            let placed = access
                .line
                .and_then(|l| statement_at_line(&input.analysis, l as usize))
                .filter(|&s| s < started)
                .unwrap_or(fallback);
            at[placed].push((k, access));
            if access.write {
                let last = last_write.entry(access.path.as_str()).or_insert(placed);
                *last = (*last).max(placed);
            }
        }
        FilePlan { at, last_write }
    }

    fn accesses(&self, si: usize) -> &[(usize, &'i FileAccess)] {
        self.at.get(si).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether statement `si` wrote `read`'s file with the content `read` saw.
    fn wrote_what_it_read(&self, si: usize, read: &FileAccess) -> bool {
        read.sha256.is_some()
            && self
                .accesses(si)
                .iter()
                .any(|(_, w)| w.write && w.path == read.path && w.sha256 == read.sha256)
    }
}

impl Dataflow {
    /// The file versions statement `si` read, appended to `used`; a read of an earlier
    /// execution's write is a use of it, like a variable's.
    pub(super) fn file_reads_into(
        &mut self,
        plan: &FilePlan<'_>,
        at: StmtAt,
        out: &mut Output,
        used: &mut Vec<NodeIndex>,
    ) {
        let si = at.stmt as usize;
        for &(k, access) in plan.accesses(si).iter().filter(|(_, a)| !a.write) {
            let id = self.intern(&access.path);
            let current = self.state[id.index()].live.root.last().copied();
            let known = self.files.get(&id).and_then(|f| f.sha256.as_deref());
            let same = match (known, access.sha256.as_deref()) {
                (Some(known), Some(read)) => known == read,
                _ => true,
            };
            let v = match current {
                Some(v) if same => v,
                _ if plan.wrote_what_it_read(si, access) => continue,
                _ => self.external_version(id, at, k, access, out),
            };
            used.push(v);
            let node = self.graph[v];
            let external = self.version_of(v).is_some_and(|o| o.external.is_some());
            if external {
                continue;
            }
            let symbol = Symbol::name(access.path.as_str());
            out.flow.uses.insert(symbol.clone());
            if node.at.exec != at.exec {
                let producer = self.execs[node.at.exec.index()].exec.execution_id;
                out.flow.depends_on.insert((producer, symbol));
            }
        }
    }

    /// The files statement `si` wrote: each a new version made by it.
    pub(super) fn file_writes(
        &mut self,
        plan: &FilePlan<'_>,
        at: StmtAt,
        stmts: &mut super::versions::StmtNodes,
        out: &mut Output,
    ) {
        let si = at.stmt as usize;
        for &(_, access) in plan.accesses(si).iter().filter(|(_, a)| a.write) {
            let node = self.stmt_node(at, stmts);
            let id = self.intern(&access.path);
            let v = self.new_version(id, Vec::new(), at, node);
            out.flow.defines.insert(Symbol::name(access.path.as_str()));
            let sha256 = (plan.last_write.get(access.path.as_str()) == Some(&si))
                .then(|| access.sha256.clone())
                .flatten();
            self.make_current(id, v, sha256, out);
        }
    }

    /// A version of file `id` that no statement made: the content read by access `k` of the
    /// execution, at statement `at`, came from outside the trial.
    fn external_version(
        &mut self,
        id: NameId,
        at: StmtAt,
        k: usize,
        access: &FileAccess,
        out: &mut Output,
    ) -> NodeIndex {
        let version = VersionId(self.versions.len() as u32);
        self.versions.push(VersionOf {
            name: id,
            path: Vec::new(),
            external: Some(k as u32),
        });
        let v = self.graph.add_node(Node {
            at,
            kind: NodeKind::Version(version),
        });
        self.state[id.index()].history.push(v);
        self.make_current(id, v, access.sha256.clone(), out);
        v
    }

    /// `v` is file `id`'s whole current content from now on.
    fn make_current(&mut self, id: NameId, v: NodeIndex, sha256: Option<String>, out: &mut Output) {
        let st = self.replace_whole(id, v, out);
        st.binding.get_or_insert(super::graph::Binding::Data);
        self.files.insert(id, FileState { sha256 });
    }
}
