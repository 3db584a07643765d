//! IOPub: the child publishes, we re-publish to every frontend subscriber.
//!
//! Our frontend socket is an XPUB so we see subscriptions and can greet each new subscriber with
//! `iopub_welcome` (protocol 5.5), as ipykernel 7 does. The child's own welcome was meant for our
//! SUB and is dropped, as is everything the child publishes about the proxy's own requests.

use crate::magics;
use crate::proxy::Shared;
use crate::recorder::Tap;
use crate::wire::RawMessage;
use crate::{debug, warn};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use zeromq::{SocketRecv, SocketSend, SubSocket, XPubSocket, ZmqMessage};

/// The longest an idle waits for its execution to be committed.
const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// Runs the iopub relay until the child's socket closes.
pub async fn relay(
    mut child: SubSocket,
    mut frontend: XPubSocket,
    mut created: mpsc::UnboundedReceiver<RawMessage>,
    shared: Arc<Shared>,
) {
    loop {
        let outgoing: RawMessage = tokio::select! {
            msg = child.recv() => match msg {
                Ok(msg) => match shared.filter_child_iopub(msg) {
                    Some(raw) => raw,
                    None => continue,
                },
                Err(e) => {
                    debug!("child iopub closed: {e}");
                    return;
                }
            },
            event = frontend.recv() => {
                if let Ok(event) = event {
                    if let Some(topic) = subscription(&event) {
                        debug!("iopub: new subscriber to {:?}", String::from_utf8_lossy(topic));
                        // A greeting is for subscribers, not part of any execution: not tapped.
                        send(&mut frontend, shared.author.welcome(topic)).await;
                    }
                }
                continue;
            },
            Some(msg) = created.recv() => msg,
        };
        if shared.magic_jobs.is_empty() {
            publish(&mut frontend, &shared, outgoing).await;
        } else {
            for msg in magics::cell::on_iopub(&shared, outgoing).await {
                publish(&mut frontend, &shared, msg).await;
            }
        }
    }
}

/// Publishes one message to the frontends, and shows it to the recorder. An idle waits until
/// the recorder has committed the execution it ends (durable before done): a client that saw
/// a cell finish finds it in the store, whatever happens to this process afterwards.
async fn publish(frontend: &mut XPubSocket, shared: &Shared, msg: RawMessage) {
    if is_idle(&msg) {
        let (hold, committed) = oneshot::channel();
        shared
            .tap
            .send(Tap::Iopub(msg.clone(), chrono::Utc::now(), Some(hold)));
        // Released at once for an idle that ends no execution, or when the store cannot be
        // written; the limit covers a store locked by another process for long.
        if tokio::time::timeout(HOLD_LIMIT, committed).await.is_err() {
            warn!(
                "the store took longer than {} s to record an execution; its idle goes out first",
                HOLD_LIMIT.as_secs()
            );
        }
    } else {
        shared
            .tap
            .send(Tap::Iopub(msg.clone(), chrono::Utc::now(), None));
    }
    send(frontend, msg).await;
}

/// An iopub `status` message saying `idle`: read from the content first, where `"idle"` is
/// rare, before parsing the header.
fn is_idle(msg: &RawMessage) -> bool {
    msg.content.windows(6).any(|w| w == b"\"idle\"") && msg.header().msg_type == "status"
}

async fn send(frontend: &mut XPubSocket, msg: RawMessage) {
    if let Err(e) = frontend.send(msg.into_zmq()).await {
        warn!("iopub: cannot publish: {e}");
    }
}

/// The topic of a subscribe event (`\x01` + topic); `None` for unsubscribes and anything else.
fn subscription(event: &ZmqMessage) -> Option<&[u8]> {
    let frame = event.get(0)?;
    (event.len() == 1 && frame.first() == Some(&1)).then(|| &frame[1..])
}
