//! IOPub: the child publishes, we re-publish to every frontend subscriber.
//!
//! Our frontend socket is an XPUB so we see subscriptions and can greet each new subscriber with
//! `iopub_welcome` (protocol 5.5), as ipykernel 7 does. The child's own welcome was meant for our
//! SUB and is dropped, as is everything the child publishes about the proxy's own requests.

use crate::proxy::Shared;
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
        let outgoing: ZmqMessage = tokio::select! {
            msg = child.recv() => match msg {
                Ok(msg) => match shared.filter_child_iopub(msg) {
                    Some(msg) => msg,
                    None => continue,
                },
                Err(e) => {
                    debug!("child iopub closed: {e}");
                    return;
                }
            },
            event = frontend.recv() => match event {
                Ok(event) => match subscription(&event) {
                    Some(topic) => {
                        debug!("iopub: new subscriber to {:?}", String::from_utf8_lossy(topic));
                        shared.author.welcome(topic).into_zmq()
                    }
                    None => continue,
                },
                Err(e) => {
                    debug!("iopub subscriber error: {e}");
                    continue;
                }
            },
            Some(msg) = created.recv() => msg.into_zmq(),
        };
        if let Err(e) = frontend.send(outgoing).await {
            warn!("iopub: cannot publish: {e}");
        }
    }
}

/// The topic of a subscribe event (`\x01` + topic); `None` for unsubscribes and anything else.
fn subscription(event: &ZmqMessage) -> Option<&[u8]> {
    let frame = event.get(0)?;
    (event.len() == 1 && frame.first() == Some(&1)).then(|| &frame[1..])
}
