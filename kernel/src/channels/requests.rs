//! Shell and control: request/reply channels. Frontends talk to our ROUTER; we talk to the
//! child through a DEALER. Routing identities are stacked, not rewritten: the child sees
//! `[our id, frontend id, <IDS|MSG>, …]` and echoes the identities back, so its replies carry
//! the frontend's id and go straight out of our ROUTER to the right client.

use crate::connection::Channel;
use crate::pending::Pending;
use crate::proxy::Shared;
use crate::recorder::Tap;
use crate::wire::RawMessage;
use crate::{debug, warn};
use crate::{execute, magics};
use std::sync::Arc;
use zeromq::{DealerRecvHalf, RouterRecvHalf, RouterSendHalf, SocketRecv, SocketSend};

/// Frontend → child. Checks the signature, notes the request as pending, forwards the frames
/// unchanged and at once (ipykernel's own queueing and abort-after-error must stay intact).
pub async fn forward_requests(channel: Channel, mut frontend: RouterRecvHalf, shared: Arc<Shared>) {
    loop {
        let msg = match frontend.recv().await {
            Ok(msg) => msg,
            Err(e) => {
                warn!("{} socket closed: {e}", channel.name());
                return;
            }
        };
        let Some(raw) = shared.check_frontend_message(channel, msg) else {
            continue;
        };
        let header = raw.header();
        debug!("{} <- frontend {}", channel.name(), header.msg_type);
        if header.msg_type == "shutdown_request" {
            shared.note_shutdown_requested();
        }
        let raw = if channel == Channel::Shell && header.msg_type == "execute_request" {
            let (raw, typed_code) = execute::rewrite_request(&shared, raw, &header.msg_id);
            shared.tap.send(Tap::Request {
                raw: raw.clone(),
                at: chrono::Utc::now(),
                typed_code,
            });
            raw
        } else {
            raw
        };
        shared.pending.insert(
            header.msg_id,
            Pending {
                channel,
                identities: raw.identities.clone(),
                header: raw.header.clone(),
                msg_type: header.msg_type,
            },
        );
        if let Err(e) = shared.send_to_child(channel, raw.into_zmq()).await {
            warn!(
                "cannot forward a {} request to the child: {e}",
                channel.name()
            );
        }
    }
}

/// Child → frontend. Replies go back unchanged to the identities they carry; replies to the
/// proxy's own requests are handed to whoever is waiting for them.
pub async fn forward_replies(
    channel: Channel,
    mut child: DealerRecvHalf,
    mut frontend: RouterSendHalf,
    shared: Arc<Shared>,
) {
    loop {
        let msg = match child.recv().await {
            Ok(msg) => msg,
            Err(e) => {
                debug!("child {} socket closed: {e}", channel.name());
                return;
            }
        };
        let raw = match RawMessage::parse(msg) {
            Ok(raw) => raw,
            Err(e) => {
                warn!(
                    "dropping a malformed {} reply from the child: {e}",
                    channel.name()
                );
                continue;
            }
        };
        let parent = raw.parent();
        shared.pending.remove(&parent.msg_id);
        if channel == Channel::Shell && parent.msg_type == "execute_request" {
            // Before the cell's magics run: the recorder knows a reply is coming, so the
            // cell's idle does not count as one without a reply.
            shared.tap.send(Tap::ReplySeen(parent.msg_id.clone()));
        }
        let Some(raw) = shared.take_internal_reply(&parent.msg_id, raw) else {
            continue;
        };
        if raw.identities.is_empty() {
            warn!(
                "dropping a {} reply with no route to a frontend",
                channel.name()
            );
            continue;
        }
        let raw = if channel == Channel::Shell && parent.msg_type == "execute_request" {
            let (raw, notes) = execute::rewrite_reply(&shared, raw);
            let raw = match shared.magic_jobs.ready_to_run(&parent.msg_id) {
                Some(ready) => magics::cell::answer(&shared, raw, ready).await,
                None => raw,
            };
            shared.tap.send(Tap::Reply(raw.clone(), notes));
            raw
        } else {
            raw
        };
        debug!(
            "{} -> frontend reply to {}",
            channel.name(),
            parent.msg_type
        );
        if let Err(e) = frontend.send(raw.into_zmq()).await {
            // The frontend went away; its reply has no one to go to.
            debug!(
                "cannot deliver a {} reply (the frontend left): {e}",
                channel.name()
            );
        }
    }
}
