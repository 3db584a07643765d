//! Reading one connection's bytes, whatever carries them (TCP from frontends, a Unix socket
//! from the child): every byte passes the `ZmtpGuard` before anything looks at it, and the
//! buffer grows only with bytes that arrived (at most `AHEAD` reserved past them, whatever
//! length a header announces).
//!
//! A read that leaves room in the buffer emptied the socket (a stream socket gives what it
//! has, up to the room), so the socket is marked not readable at once: the next read waits for
//! new bytes instead of costing a `recvfrom` that would only say "nothing yet".

use crate::codec;
use crate::guard::{Violation, ZmtpGuard};
use bytes::BytesMut;
use std::io::{self, ErrorKind};
use tokio::io::Interest;
use tokio::net::{TcpStream, UnixStream};

/// Read at once when nothing larger is expected.
const CHUNK: usize = 64 * 1024;
/// The most reserved ahead of the bytes received, for a long frame.
const AHEAD: u64 = 4 << 20;

/// What the reader and writers need of a stream socket (tokio's TCP and Unix streams).
pub(crate) trait Stream {
    async fn ready(&self, interest: Interest) -> io::Result<()>;
    fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R>;
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize>;
    fn try_write(&self, bytes: &[u8]) -> io::Result<usize>;
    fn try_write_vectored(&self, bytes: &[io::IoSlice<'_>]) -> io::Result<usize>;
}

macro_rules! stream {
    ($t:ty) => {
        impl Stream for $t {
            async fn ready(&self, interest: Interest) -> io::Result<()> {
                <$t>::ready(self, interest).await.map(drop)
            }
            fn try_io<R>(
                &self,
                interest: Interest,
                f: impl FnOnce() -> io::Result<R>,
            ) -> io::Result<R> {
                <$t>::try_io(self, interest, f)
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
            fn try_write(&self, bytes: &[u8]) -> io::Result<usize> {
                <$t>::try_write(self, bytes)
            }
            fn try_write_vectored(&self, bytes: &[io::IoSlice<'_>]) -> io::Result<usize> {
                <$t>::try_write_vectored(self, bytes)
            }
        }
    };
}
stream!(TcpStream);
stream!(UnixStream);

/// Why reading (or a connection) ended.
pub(crate) enum End {
    /// The peer closed it, or our side is gone.
    Closed,
    Io(io::Error),
    Violation(Violation),
    Protocol(codec::ProtocolError),
    /// Too many topics, a handshake too slow, an identity in use.
    Refused(&'static str),
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> End {
        End::Io(e)
    }
}

impl From<codec::ProtocolError> for End {
    fn from(e: codec::ProtocolError) -> End {
        End::Protocol(e)
    }
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Closed => write!(f, "closed"),
            End::Io(e) => write!(f, "{e}"),
            End::Violation(v) => write!(f, "{v}"),
            End::Protocol(e) => write!(f, "{e}"),
            End::Refused(why) => write!(f, "{why}"),
        }
    }
}

/// The bytes read from one peer and the guard they passed.
pub(crate) struct Reader {
    guard: ZmtpGuard,
    pub(crate) buf: BytesMut,
    /// Past the greeting: the buffer starts with a frame.
    pub(crate) framed: bool,
}

impl Reader {
    pub(crate) fn new(limit: u64) -> Reader {
        Reader {
            guard: ZmtpGuard::new(limit),
            buf: BytesMut::new(),
            framed: false,
        }
    }

    /// Reads what the socket has (waiting until it has something) into the buffer. Cancel-safe:
    /// what was read is in the buffer.
    pub(crate) async fn fill(&mut self, stream: &impl Stream) -> Result<(), End> {
        // Only a frame's header says how much more is coming; a greeting is read in chunks.
        let missing = if self.framed {
            codec::missing(&self.buf)
        } else {
            0
        };
        let want = missing.clamp(CHUNK as u64, AHEAD) as usize;
        self.buf.reserve(want);
        loop {
            stream.ready(Interest::READABLE).await?;
            let before = self.buf.len();
            let room = self.buf.capacity() - before;
            let mut read = 0;
            // A short read drained the socket: answered "would block" so tokio forgets the
            // readiness (only if no new bytes were signalled meanwhile), the bytes kept.
            let result = stream.try_io(Interest::READABLE, || {
                read = stream.try_read_buf(&mut self.buf)?;
                if read > 0 && read < room {
                    return Err(ErrorKind::WouldBlock.into());
                }
                Ok(read)
            });
            match result {
                _ if read > 0 => {
                    return self.guard.feed(&self.buf[before..]).map_err(End::Violation)
                }
                Ok(_) => return Err(End::Closed),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => return Err(End::Io(e)),
            }
        }
    }
}

/// Writes all of `bytes`, waiting for the socket as needed.
pub(crate) async fn write_all(stream: &impl Stream, mut bytes: &[u8]) -> Result<(), End> {
    while !bytes.is_empty() {
        stream.ready(Interest::WRITABLE).await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(End::Io(e)),
        }
    }
    Ok(())
}
