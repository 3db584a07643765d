//! What every relay task does with what it receives: read the next message off a socket
//! towards the child (a closed socket ends the task, said once), and check a frontend's message
//! before it goes on.

use crate::connection::Channel;
use crate::wire::{RawMessage, Signer};
use crate::{debug, warn};
use bytes::Bytes;
use zeromq::{SocketRecv, ZmqMessage};

/// The next message on `socket`; `None` once it closed (logged as `what`).
pub(crate) async fn next(socket: &mut impl SocketRecv, what: &str) -> Option<ZmqMessage> {
    match socket.recv().await {
        Ok(msg) => Some(msg),
        Err(e) => {
            debug!("{what} socket closed: {e}");
            None
        }
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
