//! IOPub: the child publishes, we re-publish to every frontend subscriber.
//!
//! Our frontend socket is an XPUB so we see subscriptions and can greet each new subscriber with
//! `iopub_welcome` (protocol 5.5), as ipykernel 7 does. The child's own welcome was meant for our
//! SUB and is dropped, as is everything the child publishes about the proxy's own requests
//! ([`from_child`]).
//!
//! Every message is shown to the recorder as it arrives, in the child's order. An execution's
//! `idle` waits until the recorder has committed it (durable before done), and a cell with
//! magics' idle also waits for their outputs, published just before it; `outbox.rs` decides
//! what waits where, so a slow magic holds back only its own cell.

use super::outbox::{lane_of, Outbox, Step};
use crate::flag::Flag;
use crate::link::{ChildLink, OwnRequests};
use crate::magics::cell::CellMagics;
use crate::messages::Author;
use crate::recorder::{Tap, TapSender};
use crate::wire::{contains, RawMessage};
use crate::{debug, warn};
use bytes::Bytes;
use provzmtp::XPub;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// The longest an idle waits for its execution to be committed.
const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// How long a cell's idle waits for its magics' outputs.
const MAGIC_TIME_LIMIT: Duration = Duration::from_secs(60);

/// What the iopub relay uses.
pub(crate) struct IopubSide {
    pub(crate) link: Arc<ChildLink>,
    /// Raised at the child's first iopub message (the handshake waits for it).
    pub(crate) first_traffic: Arc<Flag>,
    pub(crate) author: Author,
    pub(crate) tap: TapSender,
    pub(crate) magics: Arc<CellMagics>,
}

/// Where the proxy's own iopub messages and requests to flush come in.
pub(crate) struct IopubInbox {
    /// Messages the proxy itself publishes.
    pub(crate) created: mpsc::UnboundedReceiver<RawMessage>,
    /// Answered once everything published before the request, and every idle set aside, went
    /// out.
    pub(crate) flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
}

/// What a held idle waits for.
pub(crate) struct IdleWait {
    /// Its cell's magics' outputs, published just before it.
    outputs: Option<oneshot::Receiver<Vec<RawMessage>>>,
    /// Its execution's commit, with what to publish just before the idle (live warnings).
    committed: oneshot::Receiver<Vec<RawMessage>>,
    /// Its commit comes after a slow cell's: it may wait for that cell's magics too.
    behind_magic: bool,
}

/// Decides whether a message the child published goes on to the frontends: `None` for a
/// malformed one, the child's `iopub_welcome` (addressed to our SUB), and traffic about the
/// proxy's own requests. What passes is the frames as received.
pub(crate) fn from_child(own: &OwnRequests, msg: Vec<Bytes>) -> Option<RawMessage> {
    let raw = match RawMessage::parse_frames(msg) {
        Ok(raw) => raw,
        Err(e) => {
            warn!("dropping a malformed iopub message from the child: {e}");
            return None;
        }
    };
    if contains(&raw.header, b"\"iopub_welcome\"") {
        return None;
    }
    if own.claims_iopub(|| raw.parent().msg_id, || is_idle(&raw)) {
        return None;
    }
    Some(raw)
}

/// An iopub `status` message saying `idle`: read from the content first, where `"idle"` is
/// rare, before parsing the header.
pub(crate) fn is_idle(msg: &RawMessage) -> bool {
    contains(&msg.content, b"\"idle\"") && msg.header().msg_type == "status"
}

/// Runs the iopub relay until the child's socket closes.
pub(crate) async fn relay(
    mut child: provzmtp::Sub,
    mut frontend: XPub,
    mut inbox: IopubInbox,
    side: IopubSide,
) {
    let mut relay = Relay {
        side,
        outbox: Outbox::default(),
        waits: JoinSet::new(),
        flushes: Vec::new(),
    };
    loop {
        tokio::select! {
            msg = child.recv() => match msg {
                Ok(msg) => {
                    relay.side.first_traffic.raise();
                    if let Some(raw) = from_child(&relay.side.link.own, msg) {
                        relay.arrive(&frontend, raw).await;
                    }
                }
                Err(e) => {
                    super::frames::ended("child iopub", &e);
                    return;
                }
            },
            Some(event) = frontend.recv() => {
                if let Some(topic) = subscription(&event) {
                    debug!("iopub: new subscriber to {:?}", String::from_utf8_lossy(topic));
                    // A greeting is for subscribers, not part of any execution: not tapped.
                    send(&frontend, relay.side.author.welcome(topic));
                }
            },
            Some(msg) = inbox.created.recv() => relay.arrive(&frontend, msg).await,
            Some(done) = inbox.flushes.recv() => {
                while let Ok(msg) = inbox.created.try_recv() {
                    relay.arrive(&frontend, msg).await;
                }
                relay.flushes.push(done);
                relay.answer_flushes();
            },
            Some(waited) = relay.waits.join_next() => {
                if let Ok((lane, outputs)) = waited {
                    relay.release(&frontend, &lane, outputs);
                }
            },
        }
    }
}

/// The iopub relay's state between messages.
struct Relay {
    side: IopubSide,
    outbox: Outbox<IdleWait>,
    /// The waits of the idles set aside: each ends with its lane (`outbox::lane_of`) and the
    /// magics' outputs to publish before the idle.
    waits: JoinSet<(String, Vec<RawMessage>)>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Relay {
    /// One message to publish: shown to the recorder now, published now or once what it
    /// waits for is over.
    async fn arrive(&mut self, frontend: &XPub, raw: RawMessage) {
        let magics = !self.side.magics.jobs.is_empty();
        let idle = is_idle(&raw);
        if !idle && !magics && self.outbox.is_empty() {
            // The common path: no parsing beyond what the recorder does.
            self.side
                .tap
                .send(Tap::Iopub(raw.clone(), chrono::Utc::now(), None));
            send(frontend, raw);
            return;
        }
        let header = raw.parent();
        let parent = &header.msg_id;
        let raw = if magics && raw.header().msg_type == "execute_input" {
            self.side.magics.on_execute_input(raw, parent)
        } else {
            raw
        };
        let (hold, wait) = if idle {
            let (hold, committed) = oneshot::channel();
            let outputs = self.side.magics.outputs_at_idle(parent);
            let wait = IdleWait {
                outputs,
                committed,
                behind_magic: !self.outbox.is_empty(),
            };
            (Some(hold), Some(wait))
        } else {
            (None, None)
        };
        let slow = wait.as_ref().is_some_and(|w| w.outputs.is_some());
        self.side
            .tap
            .send(Tap::Iopub(raw.clone(), chrono::Utc::now(), hold));
        match self.outbox.arrive(lane_of(&header), raw, wait, slow) {
            None => {}
            Some(Step::Publish(raw)) => send(frontend, raw),
            Some(Step::WaitInPlace(raw, wait)) => {
                for output in wait_for(wait).await {
                    send(frontend, output);
                }
                send(frontend, raw);
            }
            Some(Step::OpenLane(lane, wait)) => self.start_wait(lane, wait),
        }
    }

    fn start_wait(&mut self, lane: String, wait: IdleWait) {
        self.waits
            .spawn(async move { (lane, wait_for(wait).await) });
    }

    /// A lane's wait is over: its magics' outputs, then its idle and what followed it.
    fn release(&mut self, frontend: &XPub, lane: &str, outputs: Vec<RawMessage>) {
        for output in outputs {
            send(frontend, output);
        }
        let (out, next) = self.outbox.release(lane);
        for raw in out {
            send(frontend, raw);
        }
        if let Some(wait) = next {
            self.start_wait(lane.to_string(), wait);
        }
        self.answer_flushes();
    }

    fn answer_flushes(&mut self) {
        if self.outbox.is_empty() {
            for done in self.flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// Waits for a held idle's magics' outputs, then for its execution's commit; returns what goes
/// out before the idle: those outputs, then the commit's warnings. Released at once for an
/// idle that ends no execution, or when the store cannot be written; the limits cover a magic
/// that never ends and a store locked by another process for long.
async fn wait_for(wait: IdleWait) -> Vec<RawMessage> {
    let mut outputs = match wait.outputs {
        None => Vec::new(),
        Some(outputs) => match tokio::time::timeout(MAGIC_TIME_LIMIT, outputs).await {
            Ok(Ok(outputs)) => outputs,
            Ok(Err(_)) => Vec::new(), // the cell failed before its magics could run
            Err(_) => {
                warn!(
                    "magics took longer than {}s; their output is lost",
                    MAGIC_TIME_LIMIT.as_secs()
                );
                Vec::new()
            }
        },
    };
    let limit = if wait.behind_magic {
        MAGIC_TIME_LIMIT + HOLD_LIMIT
    } else {
        HOLD_LIMIT
    };
    match tokio::time::timeout(limit, wait.committed).await {
        Ok(Ok(warnings)) => outputs.extend(warnings),
        Ok(Err(_)) => {} // released without a word: no execution to wait for
        Err(_) => warn!(
            "the store took longer than {} s to record an execution; its idle goes out first",
            limit.as_secs()
        ),
    }
    outputs
}

/// Publishes to every subscriber: never waits (a subscriber that does not read loses messages
/// past its queue's bound, as with ZeroMQ's PUB; see `provzmtp`'s `xpub.rs`).
fn send(frontend: &XPub, msg: RawMessage) {
    frontend.publish(&msg.into_frames());
}

/// The topic of a subscribe event (`\x01` + topic); `None` for unsubscribes and anything else.
fn subscription(event: &Bytes) -> Option<&[u8]> {
    (event.first() == Some(&1)).then(|| &event[1..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::tests::signed;
    use crate::wire::Signer;

    fn frames(raw: &RawMessage) -> Vec<Bytes> {
        raw.clone().into_frames()
    }

    #[test]
    fn the_childs_traffic_passes_byte_for_byte_but_for_ours_and_its_welcome() {
        let signer = Signer::new(b"k");
        let own = OwnRequests::default();
        let stream = signed(
            &signer,
            &["kernel.1.stream"],
            [
                r#"{"msg_id":"s1", "msg_type":"stream"}"#,
                r#"{"msg_id":"cell"}"#,
                "{}",
                r#"{"name":"stdout","text":"hi"}"#,
            ],
        );
        let passed = from_child(&own, frames(&stream)).unwrap();
        assert_eq!(passed.into_frames(), frames(&stream));

        let welcome = signed(
            &signer,
            &[],
            [r#"{"msg_type":"iopub_welcome"}"#, "{}", "{}", "{}"],
        );
        assert!(from_child(&own, frames(&welcome)).is_none());

        let _reply = own.note("ours".into());
        let status = |state: &str| {
            signed(
                &signer,
                &[],
                [
                    r#"{"msg_type":"status"}"#,
                    r#"{"msg_id":"ours"}"#,
                    "{}",
                    &format!(r#"{{"execution_state":"{state}"}}"#),
                ],
            )
        };
        assert!(from_child(&own, frames(&status("busy"))).is_none());
        assert!(from_child(&own, frames(&status("idle"))).is_none());
        assert!(
            from_child(&own, frames(&status("idle"))).is_some(),
            "after our request's idle, that id is a frontend's again"
        );
        let malformed = vec![Bytes::from_static(b"x")];
        assert!(from_child(&own, malformed).is_none());
    }

    #[test]
    fn only_a_status_saying_idle_is_an_idle() {
        let signer = Signer::new(b"");
        let msg = |msg_type: &str, content: &str| {
            signed(
                &signer,
                &[],
                [
                    &format!(r#"{{"msg_type":"{msg_type}"}}"#),
                    "{}",
                    "{}",
                    content,
                ],
            )
        };
        assert!(is_idle(&msg("status", r#"{"execution_state":"idle"}"#)));
        assert!(!is_idle(&msg("status", r#"{"execution_state":"busy"}"#)));
        assert!(!is_idle(&msg("stream", r#"{"text":"\"idle\""}"#)));
    }

    #[test]
    fn subscriptions_are_told_from_other_events() {
        let event = |frame: &'static [u8]| Bytes::from_static(frame);
        assert_eq!(subscription(&event(b"\x01")), Some(&b""[..]));
        assert_eq!(subscription(&event(b"\x01kernel")), Some(&b"kernel"[..]));
        assert_eq!(subscription(&event(b"\x00kernel")), None);
        assert_eq!(subscription(&event(b"")), None);
    }
}
