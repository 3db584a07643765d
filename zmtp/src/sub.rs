//! SUB (towards the child's iopub): subscribed to everything from the start; messages in as the
//! publisher sent them.

use crate::client::{self, Incoming};
use crate::socket::Kind;
use bytes::Bytes;
use std::path::Path;

/// A SUB connected to one publisher, subscribed to every topic.
pub struct Sub {
    incoming: Incoming,
}

impl Sub {
    /// Connects to the publisher listening at `path` and subscribes to everything; what it
    /// sends is held to `limit` bytes per frame and per message.
    pub async fn connect(path: &Path, limit: u64) -> std::io::Result<Sub> {
        let incoming = client::connect(Kind::Sub, path, None, limit).await?;
        // ZMTP 3.0's subscription message (0x01 and the empty topic: everything), which
        // ZeroMQ's PUB and XPUB take from peers of every 3.x version.
        client::send(&incoming.stream, &[Bytes::from_static(&[1])]).await?;
        Ok(Sub { incoming })
    }

    /// The next message published. Cancel-safe. An error means the connection is over.
    pub async fn recv(&mut self) -> std::io::Result<Vec<Bytes>> {
        self.incoming.next().await
    }
}
