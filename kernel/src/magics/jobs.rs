//! Cells with prov magics in flight. The magic lines were taken out of the forwarded code; the
//! magics run when the child's `execute_reply` for the cell arrives, and their outputs must be
//! published before the cell's iopub idle, which the iopub relay holds back until then.

use super::parse::MagicCall;
use crate::wire::RawMessage;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// One cell's magics, from its request to its idle.
struct Job {
    calls: Vec<MagicCall>,
    typed_code: String,
    /// The request's header frame: the parent of the outputs.
    header: Bytes,
    outputs_tx: Option<oneshot::Sender<Vec<RawMessage>>>,
    outputs_rx: Option<oneshot::Receiver<Vec<RawMessage>>>,
}

/// What the reply side needs to run a cell's magics.
pub struct ReadyToRun {
    pub calls: Vec<MagicCall>,
    pub header: Bytes,
    /// Where the outputs go; the iopub relay publishes them before the idle.
    pub outputs: oneshot::Sender<Vec<RawMessage>>,
}

/// Cells with magics, by request msg_id. Empty almost always: `is_empty` keeps the relay's
/// common path to one atomic load.
#[derive(Default)]
pub struct MagicJobs {
    jobs: Mutex<HashMap<String, Job>>,
    count: AtomicUsize,
}

impl MagicJobs {
    /// No cell with magics is in flight.
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// Notes a cell whose magic lines were taken out.
    pub fn register(
        &self,
        msg_id: String,
        calls: Vec<MagicCall>,
        typed_code: String,
        header: Bytes,
    ) {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            calls,
            typed_code,
            header,
            outputs_tx: Some(tx),
            outputs_rx: Some(rx),
        };
        if self.lock().insert(msg_id, job).is_none() {
            self.count.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The cell as typed, to show in `execute_input` instead of the code with magics commented out.
    pub fn typed_code(&self, msg_id: &str) -> Option<String> {
        self.lock().get(msg_id).map(|job| job.typed_code.clone())
    }

    /// Takes what is needed to run the cell's magics, once its reply arrived.
    pub fn ready_to_run(&self, msg_id: &str) -> Option<ReadyToRun> {
        if self.is_empty() {
            return None;
        }
        let mut jobs = self.lock();
        let job = jobs.get_mut(msg_id)?;
        let ready = ReadyToRun {
            calls: std::mem::take(&mut job.calls),
            header: job.header.clone(),
            outputs: job.outputs_tx.take()?,
        };
        if job.outputs_rx.is_none() {
            self.forget(&mut jobs, msg_id);
        }
        Some(ready)
    }

    /// At the cell's idle: the receiver of its magics' outputs. The reply and the idle come on
    /// different sockets, in either order; whichever side comes second forgets the job.
    pub fn finish(&self, msg_id: &str) -> Option<oneshot::Receiver<Vec<RawMessage>>> {
        let mut jobs = self.lock();
        let job = jobs.get_mut(msg_id)?;
        let outputs = job.outputs_rx.take();
        if job.outputs_tx.is_none() {
            self.forget(&mut jobs, msg_id);
        }
        outputs
    }

    /// Drops every job (the child died): their idles will never come.
    pub fn clear(&self) {
        let mut jobs = self.lock();
        self.count.fetch_sub(jobs.len(), Ordering::AcqRel);
        jobs.clear();
    }

    fn forget(&self, jobs: &mut HashMap<String, Job>, msg_id: &str) {
        if jobs.remove(msg_id).is_some() {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}
