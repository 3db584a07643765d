//! What the writer's handle and its thread share: the commands the handle sends, in order,
//! and the trial slot the thread fills in. Its own file so `worker.rs` (the thread) and
//! `writer.rs` (the handle) both depend on it and not on each other.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use crate::{ExecutionRecord, Result, Store, TrialHandle, TrialStatus};

/// Where the writer reports a problem the user must hear about (called at
/// most once, from the writer thread): the kernel shows it in the notebook.
pub type OnProblem = Box<dyn Fn(String) + Send>;

/// What the writer thread is asked to do, in order.
pub(super) enum Command {
    /// An execution, and who waits for it to be committed (or given up on).
    Record(Box<ExecutionRecord>, Option<Written>),
    SetName(String, mpsc::SyncSender<Result<()>>),
    SetEnvironment(Option<String>, Option<String>),
    /// Late runtime facts for an execution already sent: (msg_id, JSON).
    SetRuntimeFacts(String, String),
    /// Runs after everything sent before it (flush, queries), once it is indexed too.
    Run(Job),
    /// Called once everything sent before it is committed; needs no index (a late idle).
    AfterCommit(Written),
    Finish(TrialStatus),
}

/// Called once an execution is committed, or dropped because the store cannot be written.
pub type Written = Box<dyn FnOnce() + Send>;

/// Work run on the writer thread with its store (or why there is none).
pub(super) type Job = Box<dyn FnOnce(Result<&mut Store>) + Send>;

/// The trial as the handle sees it while the thread opens the store.
pub(super) enum TrialSlot {
    Pending,
    Ready(TrialHandle),
    Unavailable,
}

pub(super) struct Shared {
    pub(super) slot: Mutex<TrialSlot>,
    pub(super) changed: Condvar,
}

impl Shared {
    pub(super) fn set(&self, slot: TrialSlot) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = slot;
        self.changed.notify_all();
    }
}
