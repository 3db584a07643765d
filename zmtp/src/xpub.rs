//! XPUB (iopub): every subscriber gets each published message whose first frame starts with
//! one of its topics, and the socket tells of each subscription (`1` + topic) and
//! cancellation (`0` + topic), every one, so each new frontend can be greeted with
//! `iopub_welcome`. A subscriber that does not read has its messages dropped once its queue
//! holds `Options::queue_bound` bytes, as ZeroMQ's PUB drops at its high-water mark: the
//! others, and the relay, never wait for it.

use crate::codec;
use crate::connection;
use crate::peer::When;
use crate::socket::{Kind, Shared};
use crate::Options;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// An XPUB socket listening on TCP.
pub struct XPub {
    shared: Arc<Shared>,
    events: mpsc::Receiver<Vec<Bytes>>,
    local: SocketAddr,
}

impl XPub {
    /// Listens on `address`; `channel` names it in log lines.
    pub async fn bind(
        channel: &'static str,
        address: (&str, u16),
        options: Options,
    ) -> std::io::Result<XPub> {
        let (shared, events, local) =
            connection::bind(Kind::XPub, channel, address, options).await?;
        Ok(XPub {
            shared,
            events,
            local,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Publishes a message to every subscriber whose topic it matches; never waits. Encoded
    /// once, whatever the number of subscribers.
    pub fn publish(&self, message: &[Bytes]) {
        let Some(first) = message.first() else {
            return;
        };
        let peers: Vec<_> = self.shared.peers().by_key.values().cloned().collect();
        let mut encoded = None;
        for peer in peers.iter().filter(|p| p.wants(first)) {
            let (pieces, total) = encoded.get_or_insert_with(|| codec::encode_message(message));
            let sent = peer.send(pieces, *total, self.shared.options.queue_bound, When::Soon);
            self.shared.said(&sent);
        }
    }

    /// The next subscription event: one frame, `1` + topic or `0` + topic; `None` once the
    /// socket is gone.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.events.recv().await?.pop()
    }
}
