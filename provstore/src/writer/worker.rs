//! The writer thread's side: receiving commands, batching executions into transactions,
//! and living through a store that cannot be written (retried later, reported once).

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::WriterConfig;
use super::protocol::{Command, OnProblem, Shared, TrialSlot, Written};
use crate::{
    ExecutionRecord, NewTrial, Result, StagedExecutions, Store, StoreError, TrialHandle,
    TrialStatus,
};

/// At most this many executions go into one transaction.
const MAX_BATCH: usize = 256;

/// How long committed executions may wait for their dataflow index once the queue is empty.
/// Zero: `provctl values` in another process reads the values of a cell the moment its idle
/// went out (the index writes them), without waiting for the writer as a dependency query does;
/// executions that arrive together are still indexed together, in one transaction, after their
/// idles. Anything that reads through this thread (the magics, a flush) indexes first.
const INDEX_AFTER: Duration = Duration::ZERO;

/// At most this many executions wait for their index.
const INDEX_BATCH: usize = 64;

/// Executions committed, waiting for their dataflow index, and since when.
pub(super) struct Unindexed {
    staged: StagedExecutions,
    since: Instant,
}

/// Executions received but not yet committed, and who waits for them.
#[derive(Default)]
struct Batch {
    records: Vec<ExecutionRecord>,
    written: Vec<Written>,
}

/// The state of the writer thread.
pub(super) struct Worker {
    pub(super) path: PathBuf,
    pub(super) new_trial: NewTrial,
    pub(super) config: WriterConfig,
    pub(super) on_problem: OnProblem,
    /// The open store; None before opening and after a failure (reopened on
    /// the next attempt).
    pub(super) store: Option<Store>,
    /// The trial, once begun (it survives reopening the store).
    pub(super) trial: Option<TrialHandle>,
    pub(super) environment: (Option<String>, Option<String>),
    pub(super) environment_pending: bool,
    pub(super) shared: Arc<Shared>,
    /// When the last failure happened; None while healthy.
    pub(super) failed_at: Option<Instant>,
    /// What is wrong, for answers while the store is unavailable.
    pub(super) problem: Option<String>,
    /// Whether the user was told (once, ever).
    pub(super) warned: bool,
    /// Executions dropped since the last failure began.
    pub(super) dropped: u64,
    /// Committed executions whose dataflow index is not written yet.
    pub(super) unindexed: Option<Unindexed>,
}

impl Worker {
    pub(super) fn run(mut self, rx: mpsc::Receiver<Command>) {
        self.ensure_ready(true);
        let mut pending = Batch::default();
        loop {
            let Some(first) = self.next_command(&rx) else {
                self.finish(TrialStatus::Finished);
                return;
            };
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                match cmd {
                    Command::Record(e, written) => {
                        pending.records.push(*e);
                        pending.written.extend(written);
                        if pending.records.len() >= MAX_BATCH {
                            self.write(&mut pending);
                        }
                    }
                    Command::AfterCommit(written) => {
                        self.write(&mut pending);
                        written();
                    }
                    Command::Finish(status) => {
                        self.write(&mut pending);
                        self.finish(status);
                        return;
                    }
                    other => {
                        self.write(&mut pending);
                        // What follows may read the store (or, for late notes, the engine's
                        // held-back execution): everything before it is indexed first.
                        self.index();
                        self.handle(other);
                    }
                }
                match rx.try_recv() {
                    Ok(cmd) => next = Some(cmd),
                    Err(TryRecvError::Empty) => self.write(&mut pending),
                    Err(TryRecvError::Disconnected) => {
                        self.write(&mut pending);
                        self.finish(TrialStatus::Finished);
                        return;
                    }
                }
            }
        }
    }

    /// Handles the commands other than records and finish.
    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::SetName(name, reply) => {
                let _ = reply.send(self.set_name(&name));
            }
            Command::SetEnvironment(python, ipykernel) => {
                self.environment.0 = python.or(self.environment.0.take());
                self.environment.1 = ipykernel.or(self.environment.1.take());
                self.environment_pending = true;
                if self.ensure_ready(false) {
                    self.apply_environment();
                }
            }
            Command::SetRuntimeFacts(msg_id, runtime) => {
                if self.ensure_ready(false) {
                    let (store, trial) = self.ready();
                    // Lost facts only cost precision in later queries: no user-facing error.
                    let _ = store.set_runtime_facts(trial, &msg_id, &runtime);
                }
            }
            Command::Run(f) => {
                self.ensure_ready(false);
                match self.store.as_mut() {
                    Some(store) => f(Ok(store)),
                    None => f(Err(self.unavailable())),
                }
            }
            Command::Record(..) | Command::AfterCommit(_) | Command::Finish(_) => {
                unreachable!("handled by run")
            }
        }
    }

    fn set_name(&mut self, name: &str) -> Result<()> {
        crate::store::validate_name(name)?;
        if !self.ensure_ready(true) {
            return Err(self.unavailable());
        }
        let (store, trial) = self.ready();
        let result = store.set_trial_name(trial, name);
        if let Err(e) = &result {
            if e.is_store_problem() {
                self.fail(e);
            }
        }
        result
    }

    /// Writes the pending records in one transaction, or drops them while
    /// the store is unavailable; then tells whoever waits for them.
    fn write(&mut self, pending: &mut Batch) {
        if pending.records.is_empty() {
            return;
        }
        let records = &pending.records;
        let mut staged = None;
        if self.ensure_ready(false) {
            let (store, trial) = self.ready();
            match store.store_executions(trial, records) {
                Ok(s) => staged = Some(s),
                Err(e) => {
                    self.fail(&e);
                    self.dropped += records.len() as u64;
                }
            }
        } else {
            self.dropped += records.len() as u64;
        }
        pending.records.clear();
        // The rows are committed: the idles waiting for them go out before the index is written.
        for written in pending.written.drain(..) {
            written();
        }
        if let Some(staged) = staged {
            match &mut self.unindexed {
                Some(waiting) => waiting.staged.append(staged),
                None => {
                    self.unindexed = Some(Unindexed {
                        staged,
                        since: Instant::now(),
                    })
                }
            }
        }
        if self
            .unindexed
            .as_ref()
            .is_some_and(|u| u.staged.len() >= INDEX_BATCH)
        {
            self.index();
        }
    }

    /// The next command, once there is one; the executions waiting for their index are indexed
    /// when their time comes first. None once every handle is gone.
    fn next_command(&mut self, rx: &mpsc::Receiver<Command>) -> Option<Command> {
        loop {
            let Some(since) = self.unindexed.as_ref().map(|u| u.since) else {
                return rx.recv().ok();
            };
            let left = INDEX_AFTER.saturating_sub(since.elapsed());
            if left.is_zero() {
                self.index();
                continue;
            }
            match rx.recv_timeout(left) {
                Ok(cmd) => return Some(cmd),
                Err(RecvTimeoutError::Timeout) => self.index(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Writes the dataflow index of the executions committed and not indexed yet, in one
    /// transaction.
    fn index(&mut self) {
        let Some(Unindexed { staged, .. }) = self.unindexed.take() else {
            return;
        };
        if self.store.is_none() || self.trial.is_none() {
            return;
        }
        let (store, _) = self.ready();
        if let Err(e) = store.index_executions(staged) {
            // No fact is lost: the index is caught up from the stored rows later.
            self.fail(&e);
        }
    }

    fn finish(&mut self, status: TrialStatus) {
        self.index();
        if self.ensure_ready(true) {
            let (store, trial) = self.ready();
            if let Err(e) = store.end_trial(trial, status) {
                self.fail(&e);
            }
        }
    }

    /// The open store and the trial id; only after `ensure_ready` said yes.
    fn ready(&mut self) -> (&mut Store, i64) {
        let trial = self.trial.as_ref().expect("ready: trial begun").id;
        (self.store.as_mut().expect("ready: store open"), trial)
    }

    /// Opens the store and begins the trial if not done yet. While failing,
    /// only tries again after `retry_after` (unless `force`: an explicit
    /// request of the user, or the last chance at shutdown).
    fn ensure_ready(&mut self, force: bool) -> bool {
        if self.store.is_some() && self.trial.is_some() {
            return true;
        }
        if let Some(at) = self.failed_at {
            if !force && at.elapsed() < self.config.retry_after {
                return false;
            }
        }
        match self.open() {
            Ok(()) => {
                if self.failed_at.take().is_some() {
                    eprintln!(
                        "prov: recording provenance to {} again ({} executions were not recorded)",
                        self.path.display(),
                        self.dropped
                    );
                    self.problem = None;
                    self.dropped = 0;
                }
                true
            }
            Err(e) => {
                self.fail(&e);
                false
            }
        }
    }

    fn open(&mut self) -> Result<()> {
        if self.store.is_none() {
            let mut store = Store::open(&self.path)?;
            store.set_payload_cap(self.config.payload_cap);
            // The WAL's checkpoint off the commits an idle waits for; without the thread,
            // SQLite's own checkpoint stays on and the kernel records all the same.
            if let Err(e) = store.checkpoint_in_background() {
                eprintln!("prov: checkpointing in the commits: {e}");
            }
            self.store = Some(store);
        }
        let store = self.store.as_mut().expect("opened above");
        if self.trial.is_none() {
            let handle = store.begin_trial(&self.new_trial)?;
            self.shared.set(TrialSlot::Ready(handle.clone()));
            self.trial = Some(handle);
        }
        self.apply_environment_result()
    }

    fn apply_environment(&mut self) {
        if let Err(e) = self.apply_environment_result() {
            self.fail(&e);
        }
    }

    fn apply_environment_result(&mut self) -> Result<()> {
        if !self.environment_pending {
            return Ok(());
        }
        let (Some(store), Some(trial)) = (self.store.as_mut(), self.trial.as_ref()) else {
            return Ok(());
        };
        let (python, ipykernel) = &self.environment;
        store.set_trial_environment(trial.id, python.as_deref(), ipykernel.as_deref())?;
        self.environment_pending = false;
        Ok(())
    }

    /// Notes a failure: drops the connection (reopened on retry), tells the
    /// user the first time ever, and remembers the reason.
    fn fail(&mut self, e: &StoreError) {
        let (reason, fix) = e.reason_and_fix();
        self.store = None;
        // The next store's engine is rebuilt from the stored rows, these included.
        self.unindexed = None;
        if self.failed_at.is_none() {
            self.dropped = 0;
        }
        self.failed_at = Some(Instant::now());
        if self.trial.is_none() {
            self.shared.set(TrialSlot::Unavailable);
        }
        if !self.warned {
            self.warned = true;
            (self.on_problem)(format!(
                "prov: cannot write provenance to {}: {reason}; execution continues but is not \
                 being recorded — {fix}",
                self.path.display()
            ));
        }
        self.problem = Some(reason);
    }

    fn unavailable(&self) -> StoreError {
        StoreError::Unavailable {
            path: self.path.clone(),
            reason: self
                .problem
                .clone()
                .unwrap_or_else(|| "the store is not open".into()),
        }
    }
}
