//! Shell and control: request/reply channels. Frontends talk to our ROUTER; we talk to the
//! child through a DEALER. Routing identities are stacked, not rewritten: the child sees
//! `[our id, frontend id, <IDS|MSG>, …]` and echoes the identities back, so its replies carry
//! the frontend's id and go straight out of our ROUTER to the right client.

use super::frames;
use crate::connection::Channel;
use crate::execute;
use crate::flag::Flag;
use crate::link::ChildLink;
use crate::magics::cell::CellMagics;
use crate::magics::jobs::ReadyToRun;
use crate::pending::{Pending, PendingBook};
use crate::recorder::{Tap, TapSender};
use crate::wire::{RawMessage, Signer};
use crate::{debug, warn};
use bytes::Bytes;
use provzmtp::{DealerReceiver, RouterReceiver, RouterSender};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// What both directions of shell and control use.
#[derive(Clone)]
pub(crate) struct ShellState {
    pub(crate) signer: Signer,
    pub(crate) link: Arc<ChildLink>,
    pub(crate) pending: Arc<PendingBook>,
    pub(crate) tap: TapSender,
    pub(crate) magics: Arc<CellMagics>,
}

/// Frontend → child. Checks the signature, notes the request as pending, forwards the frames
/// unchanged and at once (ipykernel's own queueing and abort-after-error must stay intact);
/// an `execute_request` on shell is rewritten first ([`execute::rewrite_request`]).
/// A frontend's `shutdown_request` raises `shutdown_requested`: the child's exit is then
/// expected.
pub(crate) async fn forward_requests(
    channel: Channel,
    mut frontend: RouterReceiver,
    side: ShellState,
    shutdown_requested: Arc<Flag>,
) {
    while let Some(msg) = frontend.recv().await {
        let Some(raw) = frames::from_frontend(&side.signer, channel, msg) else {
            continue;
        };
        let header = raw.header();
        debug!("{} <- frontend {}", channel.name(), header.msg_type);
        if header.msg_type == "shutdown_request" {
            shutdown_requested.raise();
        }
        let raw = if channel == Channel::Shell && header.msg_type == "execute_request" {
            let request_header = raw.header.clone();
            let (raw, magic) = execute::rewrite_request(raw, &side.signer, |magic| {
                if let Some(magic) = magic {
                    side.magics
                        .at_request(&header.msg_id, &request_header, magic);
                }
                side.magics.context.collect_expression()
            });
            side.tap.send(Tap::Request {
                raw: raw.clone(),
                at: chrono::Utc::now(),
                typed_code: magic.map(|m| m.typed),
            });
            raw
        } else {
            raw
        };
        side.pending.insert(
            header.msg_id,
            Pending {
                channel,
                identities: raw.identities.clone(),
                header: raw.header.clone(),
                msg_type: header.msg_type,
            },
        );
        if let Err(e) = side.link.send(channel, raw.into_frames()).await {
            warn!(
                "cannot forward a {} request to the child: {e}",
                channel.name()
            );
        }
    }
}

/// Child → frontend. Replies go back unchanged to the identities they carry; replies to the
/// proxy's own requests are handed to whoever is waiting for them. The reply of a cell with
/// magics waits for them in a task of its own, so a slow magic holds back no other reply;
/// those tasks end with this one.
pub(crate) async fn forward_replies(
    channel: Channel,
    mut child: DealerReceiver,
    frontend: RouterSender,
    side: ShellState,
) {
    let mut answering = JoinSet::new();
    loop {
        let msg = tokio::select! {
            msg = frames::next(child.recv(), channel.name()) => match msg {
                Some(msg) => msg,
                None => break,
            },
            Some(_) = answering.join_next() => continue,
        };
        match take_reply(channel, msg, &side) {
            Reply::Ours => {}
            Reply::Plain(raw) => deliver(channel, &frontend, raw),
            Reply::Execute(raw, notes, None) => {
                side.tap.send(Tap::Reply(raw.clone(), notes, Vec::new()));
                deliver(channel, &frontend, raw);
            }
            Reply::Execute(raw, notes, Some(ready)) => {
                let (side, frontend) = (side.clone(), frontend.clone());
                answering.spawn(async move {
                    earlier_cells_recorded(&side, &raw).await;
                    let answered = side.magics.answer(raw, ready).await;
                    let reply = answered.reply;
                    side.tap
                        .send(Tap::Reply(reply.clone(), notes, answered.outputs));
                    deliver(channel, &frontend, reply);
                });
            }
        }
    }
    // The child's socket closed: magics still running finish (their replies may still reach
    // a frontend) unless the proxy ends this task first.
    while answering.join_next().await.is_some() {}
}

/// Waits until the cells requested before this reply's have gone to the store, so its magics
/// answer about them: with Run All, the next cell's reply can arrive while the magics of the
/// cell before (a `%tag_var` whose execution holds the tagged value) are still running. Bounded,
/// in case an earlier execution never completes; then the magics answer with what is recorded.
async fn earlier_cells_recorded(side: &ShellState, reply: &RawMessage) {
    let (done, recorded) = oneshot::channel();
    side.tap.send(Tap::Barrier(reply.parent().msg_id, done));
    if tokio::time::timeout(EARLIER_CELLS_WAIT, recorded)
        .await
        .is_err()
    {
        warn!(
            "the cells before a magic were not recorded within {}s; it answers without them",
            EARLIER_CELLS_WAIT.as_secs()
        );
    }
}

/// How long a cell's magics wait for the cells before it to be recorded.
const EARLIER_CELLS_WAIT: Duration = Duration::from_secs(30);

/// Where a reply from the child goes.
enum Reply {
    /// To the proxy itself (or nowhere): nothing more to do.
    Ours,
    /// Back to its frontend, unchanged.
    Plain(RawMessage),
    /// An `execute_reply`, rewritten, with the probe's notes and, when its cell has magics,
    /// what they need to run before the reply goes.
    Execute(RawMessage, Option<Notes>, Option<ReadyToRun>),
}

type Notes = serde_json::Map<String, serde_json::Value>;

/// Reads a reply from the child, notes it, and decides where it goes.
fn take_reply(channel: Channel, msg: Vec<Bytes>, side: &ShellState) -> Reply {
    let raw = match RawMessage::parse_frames(msg) {
        Ok(raw) => raw,
        Err(e) => {
            warn!(
                "dropping a malformed {} reply from the child: {e}",
                channel.name()
            );
            return Reply::Ours;
        }
    };
    let parent = raw.parent();
    side.pending.remove(&parent.msg_id);
    let execute = channel == Channel::Shell && parent.msg_type == "execute_request";
    if execute {
        // Before the cell's magics run: the recorder knows a reply is coming, so the
        // cell's idle does not count as one without a reply.
        side.tap.send(Tap::ReplySeen(parent.msg_id.clone()));
    }
    let Some(raw) = side.link.own.take_reply(&parent.msg_id, raw) else {
        return Reply::Ours;
    };
    if raw.identities.is_empty() {
        warn!(
            "dropping a {} reply with no route to a frontend",
            channel.name()
        );
        return Reply::Ours;
    }
    debug!(
        "{} -> frontend reply to {}",
        channel.name(),
        parent.msg_type
    );
    if !execute {
        return Reply::Plain(raw);
    }
    let (raw, notes) = execute::rewrite_reply(raw, &side.signer, &parent.msg_id);
    Reply::Execute(raw, notes, side.magics.jobs.ready_to_run(&parent.msg_id))
}

fn deliver(channel: Channel, frontend: &RouterSender, raw: RawMessage) {
    if !frontend.send(&raw.into_frames()) {
        // The frontend went away; its reply has no one to go to.
        debug!(
            "cannot deliver a {} reply (the frontend left)",
            channel.name()
        );
    }
}
