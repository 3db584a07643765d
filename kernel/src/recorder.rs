//! The recorder: assembles each execution from copies of the frames the relay passes (the
//! request, its iopub outputs, its reply) and hands it to the store's writer thread once the
//! execution's iopub idle has arrived. It runs as its own task, so the relay only pays for a
//! channel send; the writer thread owns the disk.
//!
//! Durable before done: the iopub relay holds an execute's idle (the moment a client considers
//! the cell finished) until the writer has committed that execution, or given up on a store
//! that cannot be written ([`Hold`]).
//!
//! This file matches the child's traffic to the requests in flight; what is apart is apart:
//! the hand-over to the writer and the held idles' release (`recorder/handover.rs`), the
//! messages' fields (`recorder/outputs.rs`), the live warnings (`recorder/warnings.rs`), the
//! push's `OnCommit` hook (`push.rs`).
//!
//! Exact records: requests are kept in the order they were forwarded, and the child's traffic
//! is matched to them in that order, because ipykernel runs shell requests one after the other.
//! A request is recorded only if the child ran it (went busy for it, or replied), in the order
//! it ran; one the child never answered (a rejected replay, a request without `msg_id`) is
//! dropped as soon as a later request is heard of, or when too many wait ([`MAX_WAITING`]).
//!
//! Live warnings, when on (`warnings.rs`): a committed execution's stale-result and
//! data-leakage findings go out in its cell just before its idle.

mod handover;
mod outputs;
#[cfg(test)]
mod tests;
pub(crate) mod warnings;

use crate::messages::Author;
use crate::wire::RawMessage;
use crate::{debug, warn};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use outputs::{
    append_stream, lossy_header, no_reply, output_record, ReplyContent, RequestContent,
    RequestMetadata,
};
use provstore::{ErrorInfo, ExecStatus, OutputRecord, WriterHandle};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How long after an execution's idle its reply may still arrive (the reply and the idle come
/// on different sockets); after that the execution went idle without a reply (ipykernel itself
/// failed on it) and is recorded as an error.
const REPLY_GRACE: Duration = Duration::from_millis(500);

/// Requests the child has not been heard of kept at most: past that the oldest is forgotten
/// (never recorded), so requests that are never answered cannot grow the proxy without bound.
const MAX_WAITING: usize = 4096;

/// Failed executions whose late probe notes are still accepted (they come with the next
/// successful cell); notes for any other request are dropped.
const LATE_NOTES: usize = 64;

/// Released once the execution an idle belongs to is committed (or cannot be): the iopub relay
/// waits for it before publishing that idle, and publishes what it carries (the live
/// warnings) just before the idle.
pub type Hold = oneshot::Sender<Vec<RawMessage>>;

/// Called on the writer thread after each execution's commit (or its drop by a store that
/// cannot be written): the background push's wake-up (`push.rs`). Must return at once.
pub type OnCommit = Arc<dyn Fn() + Send + Sync>;

/// What the relay shows the recorder.
pub enum Tap {
    /// An `execute_request` as forwarded; `typed_code` is the cell as the user typed it when
    /// the proxy took magic lines out of the forwarded code.
    Request {
        raw: RawMessage,
        at: DateTime<Utc>,
        typed_code: Option<String>,
    },
    /// A message published on iopub (relayed from the child or made by the proxy), with the
    /// hold of an idle whose publishing waits for the execution's commit.
    Iopub(RawMessage, DateTime<Utc>, Option<Hold>),
    /// The child's `execute_reply` to this request msg_id has just arrived (before the magics
    /// of its cell run): the reply is on its way.
    ReplySeen(String),
    /// An `execute_reply` on its way to the frontend, with the runtime probe's notes taken out
    /// of it (by request msg_id: a failed cell's notes come with the next success), and the
    /// outputs of its cell's magics: the iopub relay publishes them before the cell's idle
    /// without tapping them, and they are the execution's last outputs.
    Reply(RawMessage, Option<Map<String, Value>>, Vec<RawMessage>),
    /// The store reported a problem; the user should see it once, in the running cell.
    Problem(String),
    /// The kernel is ending: record what is in flight as it stands, then answer.
    Flush(oneshot::Sender<()>),
    /// A cell's magics are about to run: answered once every execution requested before this
    /// request msg_id has gone to the writer, so a magic's query (queued behind them on the
    /// writer thread) sees each earlier cell, including a tagging magic cell just before it.
    Barrier(String, oneshot::Sender<()>),
}

/// Sends taps without ever blocking the relay.
#[derive(Clone)]
pub struct TapSender(mpsc::UnboundedSender<Tap>);

impl TapSender {
    /// Hands one tap to the recorder; if the recorder is gone, the relay carries on regardless.
    pub fn send(&self, tap: Tap) {
        let _ = self.0.send(tap);
    }
}

/// An execution request between its forwarding and its recording.
struct InFlight {
    msg_id: String,
    /// The request's header frame: the parent of anything the recorder shows in the cell.
    header: Bytes,
    code: String,
    /// The request was not valid UTF-8: `code` has U+FFFD where its bytes were invalid.
    code_replaced: bool,
    cell_id: Option<String>,
    requested_at: DateTime<Utc>,
    /// The child went busy for it: it runs.
    started_at: Option<DateTime<Utc>>,
    /// When its idle arrived (wall clock for the record, monotonic for the reply's grace).
    idle_at: Option<(DateTime<Utc>, Instant)>,
    /// The child's reply has arrived (its content follows in `reply` after the magics ran).
    reply_seen: bool,
    execution_count: Option<i64>,
    outputs: Vec<OutputRecord>,
    /// The outputs of the cell's magics, after the code's.
    magic_outputs: Vec<OutputRecord>,
    reply: Option<(ExecStatus, Option<ErrorInfo>)>,
    /// What the runtime probe saw this execution bind and delete.
    runtime: Option<Value>,
    /// Idles waiting for this execution's commit.
    holds: Vec<Hold>,
}

impl InFlight {
    /// The child has shown it ran (or answered) this request.
    fn heard(&self) -> bool {
        self.started_at.is_some() || self.reply_seen
    }

    /// Everything needed is here: the reply and the idle (an aborted request may never go
    /// idle: it is done at its reply).
    fn complete(&self) -> bool {
        match &self.reply {
            Some((ExecStatus::Aborted, _)) => true,
            Some(_) => self.idle_at.is_some(),
            None => false,
        }
    }

    /// When an idle with no reply in sight stops waiting for one.
    fn reply_deadline(&self) -> Option<Instant> {
        match (self.idle_at, self.reply_seen) {
            (Some((_, idle)), false) => Some(idle + REPLY_GRACE),
            _ => None,
        }
    }
}

/// The recorder's end of the tap.
pub struct TapReceiver(mpsc::UnboundedReceiver<Tap>);

/// Makes the tap; the sender can be handed out (to the relay, to the writer's problem report)
/// before the recorder starts.
pub fn tap() -> (TapSender, TapReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    (TapSender(tx), TapReceiver(rx))
}

/// Runs the recorder until every tap sender is gone. A store problem is shown once, as stderr
/// in the running cell (or the next one to start), through `publish`. While `warnings` is on,
/// each execution's live warnings are shown in its cell (`warnings.rs`). `on_commit` hears of
/// every commit.
pub fn spawn(
    TapReceiver(mut rx): TapReceiver,
    writer: Arc<WriterHandle>,
    author: Author,
    publish: mpsc::UnboundedSender<RawMessage>,
    warnings: Arc<AtomicBool>,
    on_commit: Option<OnCommit>,
) {
    tokio::spawn(async move {
        let mut recorder = Recorder {
            writer,
            in_flight: BTreeMap::new(),
            author,
            publish,
            unshown_problem: None,
            next_seq: 0,
            last_heard: 0,
            late_notes: VecDeque::new(),
            recent: VecDeque::new(),
            warned_full: false,
            barriers: Vec::new(),
            warnings,
            on_commit,
        };
        loop {
            let deadline = recorder.next_deadline();
            let tap = tokio::select! {
                tap = rx.recv() => tap,
                () = sleep_until(deadline) => {
                    recorder.release();
                    recorder.open_barriers();
                    continue;
                }
            };
            match tap {
                None => return,
                Some(Tap::Problem(message)) => recorder.problem(message),
                Some(Tap::Flush(done)) => {
                    recorder.finish_all();
                    recorder.open_barriers();
                    let _ = done.send(());
                }
                Some(other) => recorder.take(other),
            }
        }
    });
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

struct Recorder {
    writer: Arc<WriterHandle>,
    /// Requests by the order they were forwarded in.
    in_flight: BTreeMap<u64, InFlight>,
    author: Author,
    publish: mpsc::UnboundedSender<RawMessage>,
    /// A store problem reported while no cell was running: shown in the next cell to start.
    unshown_problem: Option<String>,
    next_seq: u64,
    /// The latest request the child went busy for: every earlier one it has not been heard of
    /// was never run (ipykernel runs them in order).
    last_heard: u64,
    /// msg_ids of recorded failed executions, whose probe notes come later.
    late_notes: VecDeque<String>,
    /// msg_ids of the latest recorded executions: a late idle of one waits for the writer.
    recent: VecDeque<String>,
    warned_full: bool,
    /// Open [`Tap::Barrier`]s: each waits until nothing before its `seq` is in flight.
    barriers: Vec<(u64, oneshot::Sender<()>)>,
    /// Whether live warnings are on (`%prov_warn`, `PROV_WARN`).
    warnings: Arc<AtomicBool>,
    on_commit: Option<OnCommit>,
}

impl Recorder {
    /// Shows a store problem in the running cell, or keeps it for the next one.
    fn problem(&mut self, message: String) {
        warn!("{message}");
        let running = self
            .in_flight
            .values()
            .find(|exec| exec.started_at.is_some())
            .map(|exec| exec.header.clone());
        match running {
            Some(header) => self.show_problem(&header, &message),
            None => self.unshown_problem = Some(message),
        }
    }

    fn show_problem(&self, header: &Bytes, message: &str) {
        let text = format!("{message}\n");
        let _ = self
            .publish
            .send(self.author.stream(header, "stderr", &text));
    }

    fn take(&mut self, tap: Tap) {
        match tap {
            Tap::Request {
                raw,
                at,
                typed_code,
            } => self.request(raw, at, typed_code),
            Tap::Iopub(raw, at, hold) => self.iopub(raw, at, hold),
            Tap::ReplySeen(msg_id) => self.reply_seen(&msg_id),
            Tap::Barrier(msg_id, done) => self.barrier(&msg_id, done),
            Tap::Reply(raw, notes, magic_outputs) => {
                if let Some(notes) = notes {
                    self.runtime_notes(notes);
                }
                self.reply(raw, magic_outputs)
            }
            Tap::Problem(_) | Tap::Flush(_) => {}
        }
        self.release();
        self.open_barriers();
    }

    /// Notes a barrier before the request `msg_id` (before everything in flight, when that
    /// request is not: a silent one is never recorded).
    fn barrier(&mut self, msg_id: &str, done: oneshot::Sender<()>) {
        let seq = self
            .find(msg_id, |_| true)
            .unwrap_or(self.next_seq.saturating_add(1));
        self.barriers.push((seq, done));
    }

    /// Answers the barriers with nothing before them left in flight: every earlier execution
    /// has been handed to the writer, whose queue is first in, first out.
    fn open_barriers(&mut self) {
        if self.barriers.is_empty() {
            return;
        }
        let first = self.in_flight.keys().next().copied().unwrap_or(u64::MAX);
        for (_, done) in self.barriers.extract_if(.., |(seq, _)| *seq <= first) {
            let _ = done.send(());
        }
    }

    fn request(&mut self, raw: RawMessage, at: DateTime<Utc>, typed_code: Option<String>) {
        // Jupyter decodes a request that is not valid UTF-8 with replacement and runs it: so
        // is it recorded, marked as such.
        let (content, code_replaced) = match serde_json::from_slice::<RequestContent>(&raw.content)
        {
            Ok(content) => (content, false),
            Err(_) if std::str::from_utf8(&raw.content).is_err() => {
                match serde_json::from_str(&String::from_utf8_lossy(&raw.content)) {
                    Ok(content) => (content, true),
                    Err(_) => return,
                }
            }
            Err(_) => return,
        };
        if content.silent {
            return; // inspectors and widgets run silent code; it is not the user's work
        }
        let metadata: RequestMetadata = serde_json::from_slice(&raw.metadata)
            .or_else(|_| serde_json::from_str(&String::from_utf8_lossy(&raw.metadata)))
            .unwrap_or_default();
        self.next_seq += 1;
        self.in_flight.insert(
            self.next_seq,
            InFlight {
                msg_id: lossy_header(&raw.header).msg_id,
                header: raw.header.clone(),
                code: typed_code.unwrap_or(content.code),
                code_replaced,
                cell_id: metadata.cell_id,
                requested_at: at,
                started_at: None,
                idle_at: None,
                reply_seen: false,
                execution_count: None,
                outputs: Vec::new(),
                magic_outputs: Vec::new(),
                reply: None,
                runtime: None,
                holds: Vec::new(),
            },
        );
        self.bound_waiting();
    }

    /// Forgets the oldest requests the child was never heard of while too many wait.
    fn bound_waiting(&mut self) {
        while self.in_flight.len() > MAX_WAITING {
            let Some(seq) = self
                .in_flight
                .iter()
                .find(|(_, e)| !e.heard())
                .map(|(seq, _)| *seq)
            else {
                return;
            };
            self.in_flight.remove(&seq);
            if !std::mem::replace(&mut self.warned_full, true) {
                warn!(
                    "more than {MAX_WAITING} execute requests are waiting for the kernel; \
                     the oldest it has not started are no longer tracked for recording"
                );
            }
        }
    }

    /// The first request in flight with this msg_id that `wanted` accepts.
    fn find(&self, msg_id: &str, wanted: impl Fn(&InFlight) -> bool) -> Option<u64> {
        self.in_flight
            .iter()
            .find(|(_, e)| e.msg_id == msg_id && wanted(e))
            .map(|(seq, _)| *seq)
    }

    fn heard_of(&mut self, seq: u64) {
        self.last_heard = self.last_heard.max(seq);
    }

    fn iopub(&mut self, raw: RawMessage, at: DateTime<Utc>, hold: Option<Hold>) {
        if self.in_flight.is_empty() && hold.is_none() {
            return;
        }
        let parent = raw.parent().msg_id;
        let msg_type = raw.header().msg_type;
        let content = serde_json::from_slice::<Value>(&raw.content).ok();
        let state = content
            .as_ref()
            .and_then(|c| c["execution_state"].as_str())
            .filter(|_| msg_type == "status")
            .map(str::to_string);
        let state = state.as_deref();
        // Busy starts the first request with this id not yet started; everything else belongs
        // to the one that is running (started, not idle yet).
        let seq = match state {
            Some("busy") => self.find(&parent, |e| e.started_at.is_none() && e.idle_at.is_none()),
            _ => self.find(&parent, |e| e.started_at.is_some() && e.idle_at.is_none()),
        };
        let Some(seq) = seq else {
            if let Some(hold) = hold {
                self.release_after_writer(&parent, hold);
            }
            return;
        };
        if state == Some("busy") {
            self.heard_of(seq);
            // The child only starts a request once the one before is over: an earlier one
            // still waiting for its idle lost it (a publisher may drop messages) and ends here.
            let now = Instant::now();
            for earlier in self.in_flight.range_mut(..seq).map(|(_, e)| e) {
                if earlier.started_at.is_some() && earlier.idle_at.is_none() {
                    earlier.idle_at = Some((at, now));
                }
            }
            if let Some(message) = self.unshown_problem.take() {
                let header = self.in_flight[&seq].header.clone();
                self.show_problem(&header, &message);
            }
        }
        let exec = self.in_flight.get_mut(&seq).expect("found above");
        exec.holds.extend(hold);
        let Some(content) = &content else {
            return;
        };
        match (msg_type.as_str(), state) {
            ("status", Some("busy")) => exec.started_at = Some(at),
            ("status", Some("idle")) => exec.idle_at = Some((at, Instant::now())),
            ("execute_input", _) => exec.execution_count = content["execution_count"].as_i64(),
            ("stream", _) => {
                let name = content["name"].as_str().unwrap_or("stdout").to_string();
                let text = content["text"].as_str().unwrap_or_default();
                append_stream(&mut exec.outputs, name, text);
            }
            _ => exec
                .outputs
                .extend(output_record(msg_type, content, &raw.content)),
        }
    }

    fn reply_seen(&mut self, msg_id: &str) {
        // Not a sign that earlier requests were passed over: a reply can overtake the iopub
        // traffic of an earlier cell (held while its execution is committed).
        if let Some(seq) = self.find(msg_id, |e| !e.reply_seen) {
            self.in_flight
                .get_mut(&seq)
                .expect("found above")
                .reply_seen = true;
        }
    }

    /// Attaches the probe's notes to their executions of this kernel; notes for any other
    /// request (a cell can plant anything in the probe) are dropped.
    fn runtime_notes(&mut self, notes: Map<String, Value>) {
        for (msg_id, facts) in notes {
            if let Some(seq) = self.find(&msg_id, InFlight::heard) {
                self.in_flight.get_mut(&seq).expect("found above").runtime = Some(facts);
            } else if let Some(at) = self.late_notes.iter().position(|id| *id == msg_id) {
                self.late_notes.remove(at);
                self.writer.set_runtime_facts(msg_id, facts.to_string());
            } else {
                debug!("dropping probe notes for an unknown request");
            }
        }
    }

    fn reply(&mut self, raw: RawMessage, magic_outputs: Vec<RawMessage>) {
        let parent = raw.parent().msg_id;
        let Some(seq) = self.find(&parent, |e| e.reply.is_none()) else {
            return;
        };
        let exec = self.in_flight.get_mut(&seq).expect("found above");
        for output in magic_outputs {
            let content = serde_json::from_slice::<Value>(&output.content).unwrap_or_default();
            let record = output_record(output.header().msg_type, &content, &output.content);
            exec.magic_outputs.extend(record);
        }
        if !exec.heard() {
            // The proxy's own answer to a request the child never started (it died): nothing ran.
            self.in_flight.remove(&seq);
            return;
        }
        let Ok(content) = serde_json::from_slice::<ReplyContent>(&raw.content) else {
            exec.reply = Some((ExecStatus::Error, None));
            return;
        };
        let status = match content.status.as_str() {
            "ok" => ExecStatus::Ok,
            "aborted" => ExecStatus::Aborted,
            _ => ExecStatus::Error,
        };
        exec.execution_count = content.execution_count.or(exec.execution_count);
        exec.reply = Some((status, content.error.map(ErrorInfo::from)));
    }

    /// When the first execution in flight stops waiting for a reply that is not coming.
    fn next_deadline(&self) -> Option<Instant> {
        self.in_flight.values().next()?.reply_deadline()
    }

    /// Records, in order, every execution at the front that is done; forgets requests the
    /// child passed over.
    fn release(&mut self) {
        while let Some(entry) = self.in_flight.first_entry() {
            let seq = *entry.key();
            let exec = entry.get();
            if exec.complete() {
                self.record(seq);
            } else if !exec.heard() && seq < self.last_heard {
                debug!("the child never answered request {:?}", exec.msg_id);
                self.in_flight.remove(&seq);
            } else if exec.reply_deadline().is_some_and(|at| at <= Instant::now()) {
                let exec = self.in_flight.get_mut(&seq).expect("first entry");
                exec.reply = Some((ExecStatus::Error, Some(no_reply())));
                self.record(seq);
            } else {
                return;
            }
        }
    }

    /// Records every execution the child ran that is still in flight, in order; one that never
    /// got its reply counts as aborted. Requests it never ran are dropped.
    fn finish_all(&mut self) {
        self.release();
        let seqs: Vec<u64> = self.in_flight.keys().copied().collect();
        for seq in seqs {
            if self.in_flight[&seq].heard() {
                self.record(seq);
            } else {
                self.in_flight.remove(&seq);
            }
        }
    }
}
