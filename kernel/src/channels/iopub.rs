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
use tokio::sync::mpsc;
use zeromq::{SocketRecv, SocketSend, SubSocket, XPubSocket, ZmqMessage};

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

/// Publishes one message to the frontends, and shows it to the recorder.
async fn publish(frontend: &mut XPubSocket, shared: &Shared, msg: RawMessage) {
    shared.tap.send(Tap::Iopub(msg.clone(), chrono::Utc::now()));
    send(frontend, msg).await;
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
