//! REQ (towards the child's heartbeat): one request, then its reply, in lockstep. On the wire
//! a request goes under an empty delimiter frame, and a reply is what follows it.

use crate::client::{self, Incoming};
use crate::socket::Kind;
use bytes::Bytes;
use std::path::Path;

/// A REQ connected to one peer.
pub struct Req {
    incoming: Incoming,
}

impl Req {
    /// Connects to the socket listening at `path`; its replies are held to `limit` bytes.
    pub async fn connect(path: &Path, limit: u64) -> std::io::Result<Req> {
        let incoming = client::connect(Kind::Req, path, None, limit).await?;
        Ok(Req { incoming })
    }

    /// Sends `body` (at least one frame) and waits for the reply. Replies without the
    /// delimiter are dropped, as ZeroMQ's REQ drops them. An error means the connection is
    /// over; a call cancelled midway leaves it unusable (lockstep lost).
    pub async fn request(&mut self, body: &[Bytes]) -> std::io::Result<Vec<Bytes>> {
        let mut frames = Vec::with_capacity(1 + body.len());
        frames.push(Bytes::new());
        frames.extend_from_slice(body);
        client::send(&self.incoming.stream, &frames).await?;
        loop {
            let mut reply = self.incoming.next().await?;
            if reply.len() > 1 && reply[0].is_empty() {
                reply.remove(0);
                return Ok(reply);
            }
        }
    }
}
