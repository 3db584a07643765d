//! REP (heartbeat): requests from many peers, one reply each. A request is the frames after
//! the peer's envelope (what comes up to the first empty frame: REQ sends just that empty
//! frame); the reply goes back under the same envelope to the same peer.

use crate::connection;
use crate::socket::{Kind, Shared};
use crate::Options;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A REP socket listening on TCP.
pub struct Rep {
    shared: Arc<Shared>,
    inbound: mpsc::Receiver<Vec<Bytes>>,
    local: SocketAddr,
}

/// A request: who asked, under which envelope, and its frames.
pub struct Request {
    peer: Bytes,
    envelope: Vec<Bytes>,
    pub body: Vec<Bytes>,
}

impl Rep {
    /// Listens on `address`; `channel` names it in log lines.
    pub async fn bind(
        channel: &'static str,
        address: (&str, u16),
        options: Options,
    ) -> std::io::Result<Rep> {
        let (shared, inbound, local) =
            connection::bind(Kind::Rep, channel, address, options).await?;
        Ok(Rep {
            shared,
            inbound,
            local,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The next request; one without an envelope's empty frame is dropped, as ZeroMQ's REP
    /// does. `None` once the socket is gone.
    pub async fn recv(&mut self) -> Option<Request> {
        loop {
            let mut frames = self.inbound.recv().await?.into_iter();
            let peer = frames.next()?;
            let mut envelope = Vec::new();
            for frame in frames.by_ref() {
                let end = frame.is_empty();
                envelope.push(frame);
                if end {
                    break;
                }
            }
            let body: Vec<Bytes> = frames.collect();
            if envelope.last().is_some_and(|f| f.is_empty()) && !body.is_empty() {
                return Some(Request {
                    peer,
                    envelope,
                    body,
                });
            }
        }
    }

    /// Answers `request` with `reply`; `false` when its peer has gone.
    pub fn reply(&self, request: Request, reply: Vec<Bytes>) -> bool {
        let mut frames = request.envelope;
        frames.extend(reply);
        self.shared.send_to(&request.peer, &frames)
    }
}
