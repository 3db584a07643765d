//! What the three kinds of socket share: the peers by key, where received messages go, and
//! the options. `router.rs`, `xpub.rs` and `rep.rs` are thin faces over it; `connection.rs`
//! listens and serves the connections.

use crate::peer::{Peer, Sent, When};
use crate::{Level, Options};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// The kinds of socket a Jupyter kernel's frontends talk to, and the ones we talk to the child
/// kernel with (`client.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Router,
    XPub,
    Rep,
    Dealer,
    Sub,
    Req,
}

impl Kind {
    /// The name our READY gives.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Router => "ROUTER",
            Kind::XPub => "XPUB",
            Kind::Rep => "REP",
            Kind::Dealer => "DEALER",
            Kind::Sub => "SUB",
            Kind::Req => "REQ",
        }
    }

    /// Whether a peer of socket type `peer` may connect (RFC 28/29/30's valid pairs).
    pub(crate) fn accepts(self, peer: &[u8]) -> bool {
        let allowed: &[&[u8]] = match self {
            Kind::Router => &[b"DEALER", b"REQ", b"ROUTER"],
            Kind::XPub => &[b"SUB", b"XSUB"],
            Kind::Rep => &[b"REQ", b"DEALER"],
            Kind::Dealer => &[b"ROUTER", b"DEALER", b"REP"],
            Kind::Sub => &[b"PUB", b"XPUB"],
            Kind::Req => &[b"REP", b"ROUTER"],
        };
        allowed.contains(&peer)
    }
}

#[derive(Default)]
pub(crate) struct Peers {
    pub(crate) by_key: HashMap<Bytes, Arc<Peer>>,
    /// For keys we make: ROUTER peers that gave no identity, and every REP peer.
    generated: u32,
}

/// One socket's state, shared by its face and its connections' tasks.
pub(crate) struct Shared {
    pub(crate) kind: Kind,
    /// The channel's name, for log lines (`shell`, `iopub`…).
    pub(crate) channel: &'static str,
    pub(crate) options: Options,
    pub(crate) peers: Mutex<Peers>,
    pub(crate) inbound: mpsc::Sender<Vec<Bytes>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Held for one map operation at a time.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn say(&self, level: Level, message: std::fmt::Arguments<'_>) {
        (self.options.say)(level, message);
    }

    pub(crate) fn peers(&self) -> MutexGuard<'_, Peers> {
        lock(&self.peers)
    }

    /// Registers a peer under the identity it asked for (ROUTER: a non-empty one not starting
    /// with a zero byte, which ZeroMQ keeps for the ids it makes) or one we make. `None` when
    /// the identity it asked for is in use: as libzmq's ROUTER (without handover) ignores such a
    /// peer, it is refused, so no other local process can take a frontend's replies by naming
    /// its session (which iopub shows to anyone). A frontend reconnecting before its old
    /// connection is seen closed is refused once and gets in on its next try.
    pub(crate) fn register(&self, peer: Arc<Peer>, asked: Option<Bytes>) -> Option<Bytes> {
        let mut peers = self.peers();
        let asked =
            asked.filter(|id| self.kind == Kind::Router && id.first().is_some_and(|&b| b != 0));
        let key = match asked {
            Some(id) if peers.by_key.contains_key(&id) => return None,
            Some(id) => id,
            None => loop {
                peers.generated = peers.generated.wrapping_add(1);
                let mut id = vec![0u8];
                id.extend_from_slice(&peers.generated.to_be_bytes());
                let id = Bytes::from(id);
                if !peers.by_key.contains_key(&id) {
                    break id;
                }
            },
        };
        peers.by_key.insert(key.clone(), peer);
        Some(key)
    }

    /// Forgets a peer whose connection ended.
    pub(crate) fn unregister(&self, key: &Bytes, peer: &Arc<Peer>) {
        let mut peers = self.peers();
        if peers.by_key.get(key).is_some_and(|p| Arc::ptr_eq(p, peer)) {
            peers.by_key.remove(key);
        }
    }

    /// Sends frames to the peer `key`; `false` when there is no such peer (dropped, as ZeroMQ's
    /// ROUTER drops what it cannot route).
    pub(crate) fn send_to(&self, key: &[u8], frames: &[Bytes]) -> bool {
        let Some(peer) = self.peers().by_key.get(key).cloned() else {
            return false;
        };
        let (pieces, total) = crate::codec::encode_message(frames);
        let sent = peer.send(&pieces, total, self.options.queue_bound, When::Now);
        self.said(&sent);
        sent != Sent::Closed
    }

    /// Says the first drop of a slow spell.
    pub(crate) fn said(&self, sent: &Sent) {
        if *sent == Sent::Dropped(1) {
            self.say(
                Level::Warn,
                format_args!(
                    "{}: a frontend is not reading; messages for it are dropped until it catches up",
                    self.channel
                ),
            );
        }
    }
}
