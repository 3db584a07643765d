//! DEALER (towards the child's shell, control and stdin ROUTERs): messages out as given, messages
//! in as the ROUTER sent them. An identity given at connect is what the ROUTER knows us by (our
//! shell and stdin share one: ipykernel sends input requests to the identity of the shell
//! request being run).

use crate::client::{self, Incoming};
use crate::socket::Kind;
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use tokio::net::UnixStream;

/// A DEALER connected to one peer.
pub struct Dealer {
    incoming: Incoming,
}

/// The sending half of a [`Dealer`].
pub struct DealerSender {
    stream: Arc<UnixStream>,
}

/// The receiving half of a [`Dealer`].
pub struct DealerReceiver {
    incoming: Incoming,
}

impl Dealer {
    /// Connects to the socket listening at `path`, known by `identity` if given; what the peer
    /// sends is held to `limit` bytes per frame and per message.
    pub async fn connect(
        path: &Path,
        identity: Option<&[u8]>,
        limit: u64,
    ) -> std::io::Result<Dealer> {
        let incoming = client::connect(Kind::Dealer, path, identity, limit).await?;
        Ok(Dealer { incoming })
    }

    pub fn split(self) -> (DealerSender, DealerReceiver) {
        let stream = self.incoming.stream.clone();
        (
            DealerSender { stream },
            DealerReceiver {
                incoming: self.incoming,
            },
        )
    }
}

impl DealerSender {
    /// Sends a message (at least one frame), waiting while the peer is not reading.
    pub async fn send(&mut self, message: &[Bytes]) -> std::io::Result<()> {
        client::send(&self.stream, message).await
    }
}

impl DealerReceiver {
    /// The next message. Cancel-safe. An error means the connection is over.
    pub async fn recv(&mut self) -> std::io::Result<Vec<Bytes>> {
        self.incoming.next().await
    }
}
