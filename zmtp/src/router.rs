//! ROUTER (shell, control, stdin): many peers, each known by the identity it gave in its READY
//! (jupyter_client gives shell and stdin the session's, and ipykernel addresses
//! `input_request` by it) or one we make. A received message comes with the peer's identity as
//! its first frame; a sent one goes to the peer its first frame names, or nowhere.

use crate::connection;
use crate::socket::{Kind, Shared};
use crate::Options;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A ROUTER socket listening on TCP.
pub struct Router {
    sender: RouterSender,
    receiver: RouterReceiver,
    local: SocketAddr,
}

/// Sends to a ROUTER's peers; cheap to clone, never waits.
#[derive(Clone)]
pub struct RouterSender {
    shared: Arc<Shared>,
}

/// Receives a ROUTER's messages, `[identity, frames…]`.
pub struct RouterReceiver {
    inbound: mpsc::Receiver<Vec<Bytes>>,
}

impl Router {
    /// Listens on `address` (`*` for every interface; port 0 for any); `channel` names it in
    /// log lines.
    pub async fn bind(
        channel: &'static str,
        address: (&str, u16),
        options: Options,
    ) -> std::io::Result<Router> {
        let (shared, inbound, local) =
            connection::bind(Kind::Router, channel, address, options).await?;
        Ok(Router {
            sender: RouterSender { shared },
            receiver: RouterReceiver { inbound },
            local,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn split(self) -> (RouterSender, RouterReceiver) {
        (self.sender, self.receiver)
    }
}

impl RouterSender {
    /// Sends `[identity, frames…]` to the peer of that identity. `false` when there is none
    /// (it left, or never was): the message is dropped, as ZeroMQ's ROUTER does.
    pub fn send(&self, message: &[Bytes]) -> bool {
        match message.split_first() {
            Some((identity, frames)) if !frames.is_empty() => self.shared.send_to(identity, frames),
            _ => false,
        }
    }
}

impl RouterReceiver {
    /// The next message, `[identity, frames…]`; `None` once the socket is gone.
    pub async fn recv(&mut self) -> Option<Vec<Bytes>> {
        self.inbound.recv().await
    }
}
