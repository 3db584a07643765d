//! prov-kernel's sockets. Towards the frontends, spoken directly on the TCP ports of Jupyter's
//! connection file: ZMTP 3.x (RFC 23 and 37, NULL mechanism) with ROUTER (shell, control,
//! stdin), XPUB (iopub) and REP (heartbeat) on top, so a frontend's bytes reach the relay in one
//! hop. Towards the child kernel, on the Unix sockets of its connection file: DEALER, SUB, REQ.
//!
//! Why our own: the relay needs little of ZeroMQ (six socket kinds, two transports, one
//! mechanism), and it must bound what a peer can make it allocate (`guard.rs`: every frame and
//! message against `PROV_MAX_MESSAGE`, before anything is reserved for it), send to a frontend
//! without waiting (a slow frontend never holds up the relay: `peer.rs`), and cost few wake-ups
//! per message (one task per frontend connection, a send writes straight to the socket when
//! nothing waits; the child's connections are read in the receiving relay task itself).
//!
//! Layout: `codec.rs` (the wire format, pure), `guard.rs` (the limit, pure), `reader.rs`
//! (reading a connection through the guard); the frontends' side: `peer.rs` (one peer's sending
//! side), `connection.rs` (one connection's task), `socket.rs` (what the kinds share), then the
//! faces `router.rs`, `xpub.rs`, `rep.rs`; the child's side: `client.rs` (one connection), then
//! the faces `dealer.rs`, `sub.rs`, `req.rs`.

mod client;
mod codec;
mod connection;
mod dealer;
mod guard;
mod peer;
mod reader;
mod rep;
mod req;
mod router;
mod socket;
mod sub;
mod xpub;

pub use dealer::{Dealer, DealerReceiver, DealerSender};
pub use guard::{Violation, DEFAULT_MAX_MESSAGE, ENV_MAX_MESSAGE};
pub use rep::{Rep, Request};
pub use req::Req;
pub use router::{Router, RouterReceiver, RouterSender};
pub use sub::Sub;
pub use xpub::XPub;

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Warn,
    Debug,
}

/// How a socket behaves.
#[derive(Clone, Copy)]
pub struct Options {
    /// The largest frame or message a peer may send (each frame counts at least 64 bytes);
    /// over it, the connection is closed.
    pub limit: u64,
    /// The bytes a peer's send queue may hold before messages for it are dropped.
    pub queue_bound: usize,
    /// Where log lines go (the kernel's log).
    pub say: fn(Level, std::fmt::Arguments<'_>),
}

impl Options {
    /// The limit given, a queue bound of twice that (at least 64 MiB), and `say` for logging.
    pub fn new(limit: u64, say: fn(Level, std::fmt::Arguments<'_>)) -> Options {
        let queue_bound = usize::try_from(limit.saturating_mul(2))
            .unwrap_or(usize::MAX)
            .max(64 << 20);
        Options {
            limit,
            queue_bound,
            say,
        }
    }
}

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod tests;
