//! The recorder's own thread: the kernel hands executions over without ever
//! waiting for the disk, and disk trouble becomes one warning instead of a
//! broken kernel.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{ExecutionRecord, NewTrial, Result, Store, StoreError, TrialHandle, TrialStatus};

mod config;
mod protocol;
mod worker;

pub use config::{parse_size, WriterConfig, ENV_MAX_PAYLOAD};
use protocol::{Command, Shared, TrialSlot};
pub use protocol::{OnProblem, Written};
use worker::Worker;

/// How long [`WriterHandle::trial`] waits for the store to be opened.
const TRIAL_WAIT: Duration = Duration::from_secs(2);
/// How long the blocking calls wait for the writer's answer: longer than the
/// store's busy timeout, so a merely slow store still answers.
const ANSWER_WAIT: Duration = Duration::from_secs(15);

/// Starts the recorder thread of a kernel (see [`Writer::start`]).
#[derive(Debug)]
pub struct Writer;

impl Writer {
    /// Starts the recorder of one kernel process with the default
    /// [`WriterConfig`]: see [`Writer::start_with`].
    pub fn start(path: &Path, trial: NewTrial, on_problem: OnProblem) -> Result<WriterHandle> {
        Writer::start_with(path, trial, on_problem, WriterConfig::default())
    }

    /// Starts the recorder thread: it opens (or creates) the store at
    /// `path`, begins the trial, then writes what the handle sends. Returns
    /// at once; the trial is known shortly after ([`WriterHandle::trial`]).
    ///
    /// Nothing the store does can stop the kernel: if the store cannot be
    /// opened or written (read-only folder, full disk, damaged file),
    /// `on_problem` is called once with a message for the user, records are
    /// dropped while the problem lasts, and the store is tried again every
    /// `config.retry_after`. The only error is the OS refusing a thread.
    pub fn start_with(
        path: &Path,
        trial: NewTrial,
        on_problem: OnProblem,
        config: WriterConfig,
    ) -> Result<WriterHandle> {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            slot: Mutex::new(TrialSlot::Pending),
            changed: Condvar::new(),
        });
        let worker = Worker {
            path: path.to_path_buf(),
            new_trial: trial,
            config,
            on_problem,
            store: None,
            trial: None,
            environment: (None, None),
            environment_pending: false,
            shared: Arc::clone(&shared),
            failed_at: None,
            problem: None,
            warned: false,
            dropped: 0,
            unindexed: None,
        };
        let thread = std::thread::Builder::new()
            .name("prov-writer".into())
            .spawn(move || {
                // Normal priority: a cell's idle waits for this thread's commit.
                worker.run(rx)
            })
            .map_err(|source| StoreError::Io {
                path: path.to_path_buf(),
                action: "start the recorder thread for",
                source,
            })?;
        Ok(WriterHandle {
            tx,
            shared,
            thread: Mutex::new(Some(thread)),
            path: path.to_path_buf(),
        })
    }
}

/// The kernel's side of the recorder. Cheap calls ([`record`],
/// [`set_environment`]) never block; the others wait for the thread's
/// answer (at most a few seconds), so call them off the async relay (e.g.
/// `spawn_blocking`). Dropping the handle finishes the trial as `finished`.
///
/// [`record`]: WriterHandle::record
/// [`set_environment`]: WriterHandle::set_environment
pub struct WriterHandle {
    tx: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    /// Taken by the first `finish` (or the drop): shared owners may each try.
    thread: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHandle")
            .field("path", &self.path)
            .finish()
    }
}

impl WriterHandle {
    /// The store this recorder writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The trial being recorded, once the thread has begun it: waits up to
    /// 2 s for that (normally milliseconds). None while the store is
    /// unavailable.
    pub fn trial(&self) -> Option<TrialHandle> {
        let slot = self.shared.slot.lock().unwrap_or_else(|p| p.into_inner());
        let (slot, _) = self
            .shared
            .changed
            .wait_timeout_while(slot, TRIAL_WAIT, |s| matches!(s, TrialSlot::Pending))
            .unwrap_or_else(|p| p.into_inner());
        match &*slot {
            TrialSlot::Ready(handle) => Some(handle.clone()),
            _ => None,
        }
    }

    /// Hands a finished execution to the recorder. Never blocks; written
    /// within milliseconds (one transaction per batch of what has arrived),
    /// or dropped while the store is in trouble.
    pub fn record(&self, e: ExecutionRecord) {
        let _ = self.tx.send(Command::Record(Box::new(e), None));
    }

    /// [`WriterHandle::record`], then `written` is called on the writer thread as soon as the
    /// transaction holding the execution is committed (durable against the process being
    /// killed: WAL, see the crate's Durability section), or the record was dropped because the
    /// store cannot be written. Never blocks; the thread commits at once when nothing else is
    /// queued. If the thread is gone, `written` is dropped uncalled.
    pub fn record_then(&self, e: ExecutionRecord, written: Written) {
        let _ = self.tx.send(Command::Record(Box::new(e), Some(written)));
    }

    /// Records the Python and ipykernel versions of the trial (None keeps
    /// what is known). Never blocks.
    pub fn set_environment(&self, python: Option<String>, ipykernel: Option<String>) {
        let _ = self.tx.send(Command::SetEnvironment(python, ipykernel));
    }

    /// Attaches the runtime probe's late notes (JSON) to the execution of request `msg_id`,
    /// after everything sent before. Never blocks.
    pub fn set_runtime_facts(&self, msg_id: String, runtime: String) {
        let _ = self.tx.send(Command::SetRuntimeFacts(msg_id, runtime));
    }

    /// Names the trial (`%trial_name`), after everything recorded before.
    /// Blocks for the answer: a taken or invalid name, or an unavailable
    /// store, is an error with a message for the user.
    pub fn set_trial_name(&self, name: &str) -> Result<()> {
        let (tx, rx) = mpsc::sync_channel(1);
        if self
            .tx
            .send(Command::SetName(name.to_string(), tx))
            .is_err()
        {
            return Err(self.gone());
        }
        rx.recv_timeout(ANSWER_WAIT)
            .unwrap_or_else(|_| Err(self.no_answer()))
    }

    /// Names the trial `base`, or `base, run 2`, `base, run 3`… when that is taken (see
    /// [`Store::name_trial_uniquely`]); returns the name given. Blocks for the answer.
    pub fn name_trial_uniquely(&self, base: &str) -> Result<String> {
        let base = base.to_string();
        self.modify(move |store, trial| store.name_trial_uniquely(trial, &base))
    }

    /// Records that the trial is a replay of the trial with UUID `source` (`provctl replay`
    /// starts the kernel with `$PROV_REPLAY_OF`). Blocks for the answer.
    pub fn mark_replay_of(&self, source: &str) -> Result<()> {
        let source = source.to_string();
        self.modify(move |store, trial| store.set_replay_of(trial, &source))
    }

    /// Tags variable `name` of the trial (`%tag_var`), with an optional label; a tagged
    /// variable gets the new label. After everything recorded before; blocks for the answer
    /// (whether it was tagged before).
    pub fn tag_variable(&self, name: &str, label: Option<&str>) -> Result<bool> {
        let (name, label) = (name.to_string(), label.map(str::to_string));
        self.modify(move |store, trial| store.tag_variable(trial, &name, label.as_deref()))
    }

    /// Removes the tag of variable `name` of the trial (`%untag_var`); one not tagged is an
    /// error. Blocks for the answer.
    pub fn untag_variable(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        self.modify(move |store, trial| store.untag_variable(trial, &name))
    }

    /// Marks the execution running now (the trial's next one recorded) with stage `label`
    /// (`%tag_cell`). Blocks for the answer.
    pub fn mark_stage(&self, label: &str) -> Result<()> {
        let label = label.to_string();
        self.modify(move |store, trial| store.mark_stage(trial, &label))
    }

    /// Runs a write about the trial on the recorder's thread, after everything sent before it,
    /// and waits for the answer.
    fn modify<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, i64) -> Result<T> + Send + 'static,
    {
        let trial = self.trial().ok_or_else(|| StoreError::Unavailable {
            path: self.path.clone(),
            reason: "the trial could not be begun".into(),
        })?;
        let (tx, rx) = mpsc::sync_channel(1);
        let run = move |store: Result<&mut Store>| {
            let _ = tx.send(store.and_then(|s| f(s, trial.id)));
        };
        if self.tx.send(Command::Run(Box::new(run))).is_err() {
            return Err(self.gone());
        }
        rx.recv_timeout(ANSWER_WAIT)
            .unwrap_or_else(|_| Err(self.no_answer()))
    }

    /// Runs a read on the recorder's own connection, after everything sent
    /// before it is written, so a magic sees its own kernel's last
    /// executions. Blocks for the answer.
    pub fn query<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        let run = move |store: Result<&mut Store>| {
            let _ = tx.send(store.and_then(|s| f(s)));
        };
        if self.tx.send(Command::Run(Box::new(run))).is_err() {
            return Err(self.gone());
        }
        rx.recv_timeout(ANSWER_WAIT)
            .unwrap_or_else(|_| Err(self.no_answer()))
    }

    /// Calls `f` on the writer thread with the store and the trial's id once everything sent
    /// before is committed, or with why there is none. Never blocks (for reads whose answer
    /// someone awaits elsewhere: the live warnings); if the thread is gone, `f` is dropped
    /// uncalled.
    pub fn then_read<F>(&self, f: F)
    where
        F: FnOnce(Result<(&Store, i64)>) + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let path = self.path.clone();
        let run = move |store: Result<&mut Store>| {
            let trial = match &*shared.slot.lock().unwrap_or_else(|p| p.into_inner()) {
                TrialSlot::Ready(handle) => Some(handle.id),
                _ => None,
            };
            f(store.and_then(|s| {
                let id = trial.ok_or(StoreError::Unavailable {
                    path,
                    reason: "the trial could not be begun".into(),
                })?;
                Ok((&*s, id))
            }))
        };
        let _ = self.tx.send(Command::Run(Box::new(run)));
    }

    /// Calls `written` on the writer thread once everything sent before is committed (or
    /// dropped). Never blocks; if the thread is gone, `written` is dropped uncalled.
    pub fn after_written(&self, written: Written) {
        let _ = self.tx.send(Command::AfterCommit(written));
    }

    /// Waits until everything sent before is written (or dropped), at most
    /// `timeout`. True when the writer confirmed in time.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        let run = move |_: Result<&mut Store>| {
            let _ = tx.send(());
        };
        self.tx.send(Command::Run(Box::new(run))).is_ok() && rx.recv_timeout(timeout).is_ok()
    }

    /// Writes what is pending, ends the trial with `status` (normally
    /// `Finished`) and stops the thread. Call it when the kernel shuts down.
    /// Takes `&self` so a handle shared by several parts of the kernel can be finished by
    /// whichever ends last; later calls do nothing.
    pub fn finish(&self, status: TrialStatus) {
        self.stop(status);
    }

    fn stop(&self, status: TrialStatus) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.tx.send(Command::Finish(status));
            let _ = thread.join();
        }
    }

    fn gone(&self) -> StoreError {
        StoreError::Unavailable {
            path: self.path.clone(),
            reason: "the recorder thread has stopped".into(),
        }
    }

    fn no_answer(&self) -> StoreError {
        StoreError::Unavailable {
            path: self.path.clone(),
            reason: format!(
                "the recorder did not answer within {} s",
                ANSWER_WAIT.as_secs()
            ),
        }
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        self.stop(TrialStatus::Finished);
    }
}
