//! One connection we open, to a socket that listens on a Unix path (the child kernel's `ipc://`
//! endpoints): the handshake, then whole messages read straight in the caller's task and
//! written straight from it. No task of its own and no channel between: a message costs the
//! reading task's wake-up and its system calls, nothing more.
//!
//! What the peer sends passes the same guard as a frontend's bytes (`reader.rs`), under the
//! limit the caller gives. No reconnection: the child kernel lives as long as the proxy, so a
//! connection that ends means the child is gone (its exit is what the proxy watches).

use crate::codec::{self, Command, ProtocolError};
use crate::reader::{write_all, End, Reader, Stream};
use crate::socket::Kind;
use bytes::Bytes;
use std::io::{self, ErrorKind, IoSlice};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::Interest;
use tokio::net::UnixStream;

/// How long the peer has to complete the handshake.
const HANDSHAKE_TIME: Duration = Duration::from_secs(30);
/// Pieces handed to one vectored write.
const SLICES: usize = 64;

/// The reading side of a connection: the bytes read and the message being received.
pub(crate) struct Incoming {
    pub(crate) stream: Arc<UnixStream>,
    reader: Reader,
    parts: Vec<Bytes>,
}

/// Connects a socket of `kind` to `path` and completes the handshake, asking to be known as
/// `identity` (if given); the peer's bytes are held to `limit`.
pub(crate) async fn connect(
    kind: Kind,
    path: &Path,
    identity: Option<&[u8]>,
    limit: u64,
) -> io::Result<Incoming> {
    let stream = Arc::new(UnixStream::connect(path).await?);
    let mut incoming = Incoming {
        stream,
        reader: Reader::new(limit),
        parts: Vec::new(),
    };
    match tokio::time::timeout(HANDSHAKE_TIME, incoming.handshake(kind, identity)).await {
        Ok(Ok(())) => Ok(incoming),
        Ok(Err(end)) => Err(error(end)),
        Err(_) => Err(io::Error::new(
            ErrorKind::TimedOut,
            "the peer did not complete the ZMTP handshake in time",
        )),
    }
}

/// What ended a connection, as an I/O error for the faces' callers.
pub(crate) fn error(end: End) -> io::Error {
    match end {
        End::Io(e) => e,
        End::Closed => io::Error::new(ErrorKind::UnexpectedEof, "the peer closed the connection"),
        other => io::Error::new(ErrorKind::InvalidData, other.to_string()),
    }
}

impl Incoming {
    /// Greetings and READY both ways.
    async fn handshake(&mut self, kind: Kind, identity: Option<&[u8]>) -> Result<(), End> {
        let stream = &*self.stream;
        write_all(stream, &codec::greeting()).await?;
        while self.reader.buf.len() < codec::GREETING_LEN {
            self.reader.fill(stream).await?;
        }
        codec::check_greeting(&self.reader.buf)?;
        let _ = self.reader.buf.split_to(codec::GREETING_LEN);
        self.reader.framed = true;
        write_all(stream, &codec::ready_as(kind.name(), identity)).await?;
        loop {
            if let Some(frame) = codec::next_frame(&mut self.reader.buf) {
                if !frame.is_command() {
                    return Err(ProtocolError::OutOfOrder.into());
                }
                return match codec::parse_command(&frame.body)? {
                    Command::Ready { socket_type, .. } if kind.accepts(&socket_type) => Ok(()),
                    Command::Ready { socket_type, .. } => {
                        let name = String::from_utf8_lossy(&socket_type).into_owned();
                        Err(ProtocolError::SocketType(name).into())
                    }
                    Command::Error(_) => Err(End::Closed),
                    _ => Err(ProtocolError::OutOfOrder.into()),
                };
            }
            self.reader.fill(stream).await?;
        }
    }

    /// The next whole message. Cancel-safe: what was read stays for the next call. An error
    /// means the connection is over.
    pub(crate) async fn next(&mut self) -> io::Result<Vec<Bytes>> {
        loop {
            // Every message already read goes out before the socket is read again: what the
            // peer wrote together (a cell's `busy` and `execute_input`) costs one read.
            while let Some(frame) = codec::next_frame(&mut self.reader.buf) {
                if frame.is_command() {
                    match codec::parse_command(&frame.body).map_err(|e| error(e.into()))? {
                        Command::Error(_) => return Err(error(End::Closed)),
                        Command::Ready { .. } => {
                            return Err(error(ProtocolError::OutOfOrder.into()))
                        }
                        // PING comes only from a peer with ZMQ_HEARTBEAT_IVL set (ipykernel
                        // sets none); a PONG written here could land inside a message being
                        // sent from another task, so none is.
                        _ => continue,
                    }
                }
                let more = frame.more();
                self.parts.push(frame.body);
                if !more {
                    return Ok(std::mem::take(&mut self.parts));
                }
            }
            self.reader.fill(&*self.stream).await.map_err(error)?;
        }
    }
}

/// Writes one message whole, waiting while the socket takes no more (a peer that does not read
/// holds up its sender, as ZeroMQ's DEALER and REQ block at their high-water mark: a request
/// for the child is never dropped). Writing starts at once, without a readiness check.
pub(crate) async fn send(stream: &UnixStream, frames: &[Bytes]) -> io::Result<()> {
    let (pieces, total) = codec::encode_message(frames);
    let mut written = 0;
    while written < total {
        let mut skip = written;
        let slices: Vec<IoSlice<'_>> = pieces
            .iter()
            .filter_map(|piece| {
                if skip >= piece.len() {
                    skip -= piece.len();
                    return None;
                }
                let slice = IoSlice::new(&piece[skip..]);
                skip = 0;
                Some(slice)
            })
            .take(SLICES)
            .collect();
        match Stream::try_write_vectored(stream, &slices) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                Stream::ready(stream, Interest::WRITABLE).await?
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
