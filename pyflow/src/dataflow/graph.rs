//! The engine's state as data: typed ids, the nodes of its graph (statements
//! and versions), the live versions and history of each global name, and
//! what one execution changed.

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use super::answers::{ExecRef, ExecutionFlow};
use crate::collections::FxHashMap;
use crate::facts::AliasKind;
use crate::symbol::{Key, PathPart};

/// Dense id of an interned global name (indexes `Dataflow::names` and `state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct NameId(pub(super) u32);

/// An execution's position in the trial (indexes `Dataflow::execs`); not the
/// store's execution id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct ExecIdx(pub(super) u32);

/// A version's number (indexes `Dataflow::versions`): dense, in creation
/// order, the same on every replay; what [`super::NewVersion::version`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct VersionId(pub(super) u32);

impl NameId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

impl ExecIdx {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

impl VersionId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Object keys made up statically carry this bit; runtime `id()`s (CPython
/// addresses) never do.
pub(super) const STATIC_OBJECT: u64 = 1 << 63;

/// `held` is inside `holder` at `path` (exactly there, or somewhere at or
/// below it), or, for a copy, `held` holds the same members as `holder`:
/// object keys, so a link follows the objects, not the names (`links.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Link {
    pub(super) holder: u64,
    pub(super) held: u64,
    pub(super) path: Vec<PathPart>,
    pub(super) kind: AliasKind,
}

/// Which statement of which execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct StmtAt {
    pub(super) exec: ExecIdx,
    pub(super) stmt: u32,
}

/// A node of the engine's graph: a statement of an execution, or a version
/// that statement produced. Edges point from what depends to what it depends
/// on: version → the statement that produced it → the versions that
/// statement read.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(super) struct Node {
    /// The statement, or the statement that produced the version.
    pub(super) at: StmtAt,
    pub(super) kind: NodeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum NodeKind {
    Statement,
    Version(VersionId),
}

/// Which symbol a version is a version of.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct VersionOf {
    pub(super) name: NameId,
    pub(super) path: Vec<PathPart>,
    /// A file's content that came from outside the trial (no statement made it): the index,
    /// in its execution's [`super::RuntimeFacts::files`], of the read that saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) external: Option<u32>,
}

/// What the engine knows of a file's current version (`files.rs`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct FileState {
    /// The content's sha256 when the version was made (as written, or as read from outside);
    /// None when unknown, and then a read is taken to be of it whatever its hash.
    pub(super) sha256: Option<String>,
}

/// What a global name is bound to, as far as the engine knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Binding {
    Data,
    Module,
    Callable,
}

/// The versions that make up a name's current value: one rebinding (or
/// whole-object mutation), plus later stores and mutations below it, indexed
/// by the first step of their path so that a frame with thousands of columns
/// (`df['c1']`, `df['c2']`, ...) costs one lookup per access, not a scan.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct LiveSet {
    /// Versions of the whole object (empty path).
    pub(super) root: Vec<NodeIndex>,
    /// Versions below it, by first step (`o.x` and `o['x']` share a key,
    /// as [`PathPart`]s that may be equal must).
    pub(super) below: FxHashMap<String, Vec<NodeIndex>>,
}

/// The index key of a path's first step.
pub(super) fn first_step(part: &PathPart) -> String {
    match part {
        PathPart::Attr(s) | PathPart::Key(Key::Str(s)) => format!("s{s}"),
        PathPart::Key(Key::Int(i)) => format!("i{i}"),
    }
}

impl LiveSet {
    pub(super) fn is_empty(&self) -> bool {
        self.root.is_empty() && self.below.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.root.clear();
        self.below.clear();
    }

    /// The versions that can overlap `path`: all of them for the whole
    /// object, else the root's and those under the same first step.
    pub(super) fn candidates(&self, path: &[PathPart]) -> impl Iterator<Item = NodeIndex> + '_ {
        let below: Box<dyn Iterator<Item = &Vec<NodeIndex>>> = match path.first() {
            None => Box::new(self.below.values()),
            Some(first) => Box::new(self.below.get(&first_step(first)).into_iter()),
        };
        self.root.iter().copied().chain(below.flatten().copied())
    }

    /// Every version in the set.
    pub(super) fn all(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.root
            .iter()
            .copied()
            .chain(self.below.values().flatten().copied())
    }
}

/// The engine's state for one global name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct NameState {
    /// The current value's versions; empty when the name is unbound.
    pub(super) live: LiveSet,
    /// Every version ever made, in order.
    pub(super) history: Vec<NodeIndex>,
    pub(super) binding: Option<Binding>,
    /// Object identity: a runtime `id()`, or a static key (an alias copies
    /// its source's).
    pub(super) object: Option<u64>,
    pub(super) deleted_by: Option<i64>,
    /// The probe saw a value of a type that never changes in place (`int`,
    /// `str`): no alias shares a change with it.
    #[serde(default)]
    pub(super) immutable: bool,
    /// Hidden state (`state.rs`): calling it changes what its next call
    /// returns (a closure over a `nonlocal`).
    #[serde(default)]
    pub(super) stateful: bool,
    /// An instance of the class with this name and object key: reading
    /// `m.rate` reads `Model.rate`.
    #[serde(default)]
    pub(super) instance_of: Option<(NameId, u64)>,
    /// A generator not yet consumed: the body of the function that made it,
    /// run (and read) by whatever consumes it.
    #[serde(default)]
    pub(super) runs: Option<Box<crate::facts::FunctionFact>>,
}

impl NameState {
    /// What was known about the value the name held (immutable, hidden
    /// state, class): gone with a new binding or a deletion.
    pub(super) fn forget_value(&mut self) {
        self.immutable = false;
        self.stateful = false;
        self.instance_of = None;
        self.runs = None;
    }
}

/// Where a statement's code is in its cell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct StmtSpan {
    pub(super) line_start: usize,
    pub(super) line_end: usize,
    pub(super) byte_start: usize,
    pub(super) byte_end: usize,
}

/// An execution as the engine keeps it for answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ExecRecord {
    pub(super) exec: ExecRef,
    pub(super) statements: Vec<StmtSpan>,
    pub(super) flow: ExecutionFlow,
}

/// The versions one execution made (with whether each is a mutation) and
/// the current versions it dropped, in order: what its delta reports.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) made: Vec<(NodeIndex, bool)>,
    pub(super) dropped: Vec<NodeIndex>,
    /// Versions made by an assumed change, with the note that says so.
    pub(super) assumed: Vec<(NodeIndex, String)>,
}

impl Changes {
    /// Notes every version of `live` as no longer current.
    pub(super) fn drop_live(&mut self, live: &LiveSet) {
        self.dropped.extend(live.all());
    }
}
