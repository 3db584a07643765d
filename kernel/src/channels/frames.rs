//! What every relay task does with what it receives: read the next message off a socket
//! towards the child (a closed socket ends the task, said once), and check a frontend's message
//! before it goes on.

use crate::connection::Channel;
use crate::wire::{RawMessage, Signer};
use crate::{debug, warn};
use bytes::Bytes;
use std::future::Future;

/// The message `recv` gives; `None` once its socket closed, logged as `what`: as a warning when
/// the child broke the protocol (the channel is over), quietly when it exited. (The child is
/// not held to `$PROV_MAX_MESSAGE`: `upstream.rs`.)
pub(crate) async fn next(
    recv: impl Future<Output = std::io::Result<Vec<Bytes>>>,
    what: &str,
) -> Option<Vec<Bytes>> {
    match recv.await {
        Ok(msg) => Some(msg),
        Err(e) => {
            ended(what, &e);
            None
        }
    }
}

/// Says why a socket towards the child closed.
pub(crate) fn ended(what: &str, e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::InvalidData {
        warn!("{what} socket closed: {e}");
    } else {
        debug!("{what} socket closed: {e}");
    }
}

/// Parses a message from a frontend and checks its signature; logs and drops it otherwise.
pub(crate) fn from_frontend(
    signer: &Signer,
    channel: Channel,
    msg: Vec<Bytes>,
) -> Option<RawMessage> {
    let raw = match RawMessage::parse_frames(msg) {
        Ok(raw) => raw,
        Err(e) => {
            warn!(
                "dropping a malformed {} message from a frontend: {e}",
                channel.name()
            );
            return None;
        }
    };
    if let Err(e) = signer.verify(&raw) {
        warn!(
            "dropping a {} message from a frontend: {e} (is the client using this kernel's key?)",
            channel.name()
        );
        return None;
    }
    Some(raw)
}
