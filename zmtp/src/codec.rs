//! ZMTP 3.x on the wire, as pure functions over bytes (RFC 23 and 37): the greeting, frames
//! (flags, 1- or 8-byte lengths, `more`), commands (READY with its properties, ERROR, PING and
//! PONG, SUBSCRIBE and CANCEL) and the 0x01/0x00 subscription messages of ZMTP 3.0. No I/O, so
//! every rule is tested in-process (`codec/tests.rs`, `codec/fuzz.rs`).
//!
//! Only the NULL mechanism is spoken: the frontends of a Jupyter kernel use no other.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// A greeting's length: signature (10), version (2), mechanism (20), as-server (1), filler (31).
pub(crate) const GREETING_LEN: usize = 64;

const MORE: u8 = 0b001;
const LONG: u8 = 0b010;
const COMMAND: u8 = 0b100;

/// Frame bodies shorter than this are copied next to their header when sent, so a message of
/// small frames is one buffer; longer ones are sent from the frame itself, never copied.
const COPY_BELOW: usize = 2048;

/// What a peer did against the protocol (the connection is closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProtocolError {
    /// Not a ZMTP greeting (signature bytes wrong).
    NotZmtp,
    /// A major version before 3 (ZMTP 1.0 and 2.0 are not spoken).
    OldVersion(u8),
    /// A mechanism other than NULL.
    Mechanism(String),
    /// A command frame whose body does not hold what its name promises.
    BadCommand(&'static str),
    /// The peer's socket type cannot talk to ours.
    SocketType(String),
    /// A message before the handshake ended, or a second READY.
    OutOfOrder,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolError::NotZmtp => write!(f, "not a ZMTP greeting"),
            ProtocolError::OldVersion(v) => write!(f, "ZMTP version {v} (3 or later needed)"),
            ProtocolError::Mechanism(m) => write!(f, "security mechanism {m:?} (only NULL)"),
            ProtocolError::BadCommand(what) => write!(f, "malformed {what} command"),
            ProtocolError::SocketType(t) => write!(f, "a {t:?} socket cannot connect here"),
            ProtocolError::OutOfOrder => write!(f, "a frame out of the handshake's order"),
        }
    }
}

/// Our greeting: ZMTP 3.1, NULL mechanism, as-server 0 (NULL has no roles).
pub(crate) fn greeting() -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// The peer's minor version, once its greeting is checked (major 3 or later, NULL mechanism).
pub(crate) fn check_greeting(g: &[u8]) -> Result<u8, ProtocolError> {
    if g.len() < GREETING_LEN || g[0] != 0xff || g[9] & 1 != 1 {
        return Err(ProtocolError::NotZmtp);
    }
    if g[10] < 3 {
        return Err(ProtocolError::OldVersion(g[10]));
    }
    let mechanism = &g[12..32];
    let name_len = mechanism.iter().position(|&b| b == 0).unwrap_or(20);
    if &mechanism[..name_len] != b"NULL" {
        let name = String::from_utf8_lossy(&mechanism[..name_len]).into_owned();
        return Err(ProtocolError::Mechanism(name));
    }
    Ok(g[11])
}

/// One frame as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) flags: u8,
    pub(crate) body: Bytes,
}

impl Frame {
    pub(crate) fn more(&self) -> bool {
        self.flags & MORE != 0
    }

    pub(crate) fn is_command(&self) -> bool {
        self.flags & COMMAND != 0
    }
}

/// The header's length and the body's, once the header is complete in `buf`.
fn header(buf: &[u8]) -> Option<(usize, u64)> {
    let flags = *buf.first()?;
    if flags & LONG != 0 {
        let len: [u8; 8] = buf.get(1..9)?.try_into().ok()?;
        Some((9, u64::from_be_bytes(len)))
    } else {
        Some((2, u64::from(*buf.get(1)?)))
    }
}

/// Takes the next whole frame off the front of `buf` (without copying its body), or `None`
/// while it is incomplete. Lengths are trusted: the guard has already checked them against the
/// limit, which is below `usize::MAX`.
pub(crate) fn next_frame(buf: &mut BytesMut) -> Option<Frame> {
    let (head, len) = header(buf)?;
    let len = usize::try_from(len).ok()?;
    if buf.len() - head < len {
        return None;
    }
    let flags = buf[0];
    buf.advance(head);
    let body = buf.split_to(len).freeze();
    Some(Frame { flags, body })
}

/// How many more bytes the frame at the front of `buf` needs (0 when its header is not yet
/// complete): how much the reader may reserve ahead.
pub(crate) fn missing(buf: &[u8]) -> u64 {
    match header(buf) {
        Some((head, len)) => (head as u64 + len).saturating_sub(buf.len() as u64),
        None => 0,
    }
}

fn put_header(out: &mut BytesMut, flags: u8, len: usize) {
    if len > 255 {
        out.put_u8(flags | LONG);
        out.put_u64(len as u64);
    } else {
        out.put_u8(flags);
        out.put_u8(len as u8);
    }
}

/// A multipart message, encoded: pieces to write in order (headers and short bodies together,
/// long bodies as the frames' own `Bytes`) and their total length.
pub(crate) fn encode_message(frames: &[Bytes]) -> (Vec<Bytes>, usize) {
    let mut pieces = Vec::with_capacity(1);
    let mut total = 0;
    let small: usize = frames
        .iter()
        .map(|f| 9 + if f.len() < COPY_BELOW { f.len() } else { 0 })
        .sum();
    let mut out = BytesMut::with_capacity(small);
    for (i, frame) in frames.iter().enumerate() {
        let flags = if i + 1 < frames.len() { MORE } else { 0 };
        put_header(&mut out, flags, frame.len());
        if frame.len() < COPY_BELOW {
            out.extend_from_slice(frame);
        } else {
            total += out.len() + frame.len();
            pieces.push(out.split().freeze());
            pieces.push(frame.clone());
        }
    }
    if !out.is_empty() {
        total += out.len();
        pieces.push(out.freeze());
    }
    (pieces, total)
}

/// A command frame, whole.
pub(crate) fn command(name: &str, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(10 + name.len() + data.len());
    put_header(&mut out, COMMAND, 1 + name.len() + data.len());
    out.put_u8(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    out.freeze()
}

/// Our READY on the sockets frontends connect to: the socket type, and no identity (frontends
/// never route to us by it).
pub(crate) fn ready(socket_type: &str) -> Bytes {
    ready_as(socket_type, None)
}

/// A READY with the socket type and, if given, the identity we ask a ROUTER to know us by.
pub(crate) fn ready_as(socket_type: &str, identity: Option<&[u8]>) -> Bytes {
    let mut data = Vec::with_capacity(32 + identity.map_or(0, |i| 13 + i.len()));
    let mut property = |name: &str, value: &[u8]| {
        data.push(name.len() as u8);
        data.extend_from_slice(name.as_bytes());
        data.extend_from_slice(&(value.len() as u32).to_be_bytes());
        data.extend_from_slice(value);
    };
    property("Socket-Type", socket_type.as_bytes());
    if let Some(identity) = identity {
        property("Identity", identity);
    }
    command("READY", &data)
}

/// An ERROR command with its reason (at most 255 bytes), sent before closing.
pub(crate) fn error(reason: &str) -> Bytes {
    let reason = &reason.as_bytes()[..reason.len().min(255)];
    let mut data = Vec::with_capacity(1 + reason.len());
    data.push(reason.len() as u8);
    data.extend_from_slice(reason);
    command("ERROR", &data)
}

/// A command as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// READY: the peer's socket type and the identity it asks to be known by (if any).
    Ready {
        socket_type: Bytes,
        identity: Option<Bytes>,
    },
    Error(Bytes),
    /// PING: the context to send back in the PONG.
    Ping(Bytes),
    Pong,
    Subscribe(Bytes),
    Cancel(Bytes),
    /// Any other command, ignored.
    Other,
}

/// Reads a command frame's body.
pub(crate) fn parse_command(body: &Bytes) -> Result<Command, ProtocolError> {
    let name_len = usize::from(*body.first().ok_or(ProtocolError::BadCommand("empty"))?);
    let name = body
        .get(1..1 + name_len)
        .ok_or(ProtocolError::BadCommand("truncated"))?;
    let data = body.slice(1 + name_len..);
    Ok(match name {
        b"READY" => ready_properties(&data)?,
        b"ERROR" => {
            let len = usize::from(*data.first().unwrap_or(&0));
            Command::Error(data.slice(1.min(data.len())..(1 + len).min(data.len())))
        }
        b"PING" => {
            if data.len() < 2 {
                return Err(ProtocolError::BadCommand("PING"));
            }
            // The context is at most 16 bytes; a longer one is cut, never echoed whole.
            Command::Ping(data.slice(2..data.len().min(18)))
        }
        b"PONG" => Command::Pong,
        b"SUBSCRIBE" => Command::Subscribe(data),
        b"CANCEL" => Command::Cancel(data),
        _ => Command::Other,
    })
}

/// READY's metadata: properties of a 1-byte name length, the name, a 4-byte value length and
/// the value. Names are case-insensitive; unknown ones are ignored.
fn ready_properties(data: &Bytes) -> Result<Command, ProtocolError> {
    let bad = ProtocolError::BadCommand("READY");
    let (mut socket_type, mut identity) = (None, None);
    let mut at = 0;
    while at < data.len() {
        let name_len = usize::from(data[at]);
        let name = data.get(at + 1..at + 1 + name_len).ok_or(bad.clone())?;
        at += 1 + name_len;
        let len: [u8; 4] = data
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or(bad.clone())?;
        let len = u32::from_be_bytes(len) as usize;
        at += 4;
        if data.len() - at < len {
            return Err(bad);
        }
        let value = data.slice(at..at + len);
        at += len;
        if name.eq_ignore_ascii_case(b"Socket-Type") {
            socket_type = Some(value);
        } else if name.eq_ignore_ascii_case(b"Identity") {
            identity = Some(value);
        }
    }
    Ok(Command::Ready {
        socket_type: socket_type.ok_or(bad)?,
        identity,
    })
}

/// A PONG answering a PING's context.
pub(crate) fn pong(context: &[u8]) -> Bytes {
    command("PONG", context)
}

/// What a one-frame message from a subscriber means under ZMTP 3.0: `0x01` + topic subscribes,
/// `0x00` + topic cancels; anything else is not a subscription.
pub(crate) fn subscription_message(frame: &Bytes) -> Option<Command> {
    match frame.first() {
        Some(1) => Some(Command::Subscribe(frame.slice(1..))),
        Some(0) => Some(Command::Cancel(frame.slice(1..))),
        _ => None,
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
