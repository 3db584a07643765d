//! Bounded input: a ZMTP 3 framing reader that watches the bytes a peer sends and says when a
//! frame or a message goes over the limit, before the decoder (`codec.rs`) sees its header.
//!
//! Why: 73 unauthenticated bytes may announce a 2^36-byte frame. `connection.rs` runs every
//! byte a peer sends through a `ZmtpGuard` as it is read, and closes the connection on a
//! violation, so nothing is ever kept or reserved for a frame over the limit; below it, the
//! read buffer grows only with bytes that actually arrived.
//!
//! The reader follows ZMTP 3 exactly as the decoder does: a 64-byte greeting, then frames of a
//! flags byte (bit 0 more, bit 1 long, bit 2 command), a 1- or 8-byte big-endian length and the
//! body. Command frames stand alone; message frames add up until one without `more`. It copies
//! nothing and allocates nothing: it only counts.

/// The environment variable that sets the limit (read by the kernel; named in violations).
pub const ENV_MAX_MESSAGE: &str = "PROV_MAX_MESSAGE";
/// Large enough for real widget and image traffic.
pub const DEFAULT_MAX_MESSAGE: u64 = 256 << 20;
/// The smallest amount a frame counts for in a message's size: keeping a frame costs memory
/// even when it is empty, so a flood of empty frames is bounded too.
pub(crate) const FRAME_COST: u64 = 64;
/// A ZMTP 3 greeting: signature, version, mechanism, as-server, filler.
const GREETING_LEN: u64 = 64;

/// What a peer sent that is over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// One frame announced as longer than the limit.
    Frame { len: u64, limit: u64 },
    /// A multipart message whose frames add up to more than the limit.
    Message { size: u64, limit: u64 },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Frame { len, limit } => write!(
                f,
                "a frame of {len} bytes is over {ENV_MAX_MESSAGE} ({limit} bytes)"
            ),
            Violation::Message { size, limit } => write!(
                f,
                "a message of {size} bytes or more is over {ENV_MAX_MESSAGE} ({limit} bytes)"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Bytes of the greeting or of a frame's body still to pass over.
    Skip(u64),
    /// Waiting for a frame's flags byte.
    Flags,
    /// Reading a length: the frame's flags, bytes still to read, the value so far.
    Length { flags: u8, left: u8, value: u64 },
}

const MORE: u8 = 0b001;
const LONG: u8 = 0b010;
const COMMAND: u8 = 0b100;

/// Follows one direction of a ZMTP connection and enforces the limit.
#[derive(Debug, Clone)]
pub(crate) struct ZmtpGuard {
    limit: u64,
    state: State,
    /// Size so far of the message being received (message frames only).
    message: u64,
}

impl ZmtpGuard {
    pub(crate) fn new(limit: u64) -> ZmtpGuard {
        ZmtpGuard {
            limit,
            state: State::Skip(GREETING_LEN),
            message: 0,
        }
    }

    /// Reads the next bytes of the stream. Once it returned a violation the stream must be
    /// closed; the bytes of this call must not be passed on.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Violation> {
        while !bytes.is_empty() {
            match self.state {
                State::Skip(left) => {
                    let take = left.min(bytes.len() as u64);
                    bytes = &bytes[take as usize..];
                    self.state = if take == left {
                        State::Flags
                    } else {
                        State::Skip(left - take)
                    };
                }
                State::Flags => {
                    let flags = bytes[0];
                    bytes = &bytes[1..];
                    let left = if flags & LONG != 0 { 8 } else { 1 };
                    self.state = State::Length {
                        flags,
                        left,
                        value: 0,
                    };
                }
                State::Length { flags, left, value } => {
                    let value = (value << 8) | u64::from(bytes[0]);
                    bytes = &bytes[1..];
                    self.state = if left > 1 {
                        State::Length {
                            flags,
                            left: left - 1,
                            value,
                        }
                    } else {
                        self.frame(flags, value)?
                    };
                }
            }
        }
        Ok(())
    }

    /// Checks a frame whose length is known, and says what comes next.
    fn frame(&mut self, flags: u8, len: u64) -> Result<State, Violation> {
        let limit = self.limit;
        if len > limit {
            return Err(Violation::Frame { len, limit });
        }
        if flags & COMMAND == 0 {
            let size = self.message.saturating_add(len.max(FRAME_COST));
            if size > limit {
                return Err(Violation::Message { size, limit });
            }
            self.message = if flags & MORE != 0 { size } else { 0 };
        }
        Ok(if len == 0 {
            State::Flags
        } else {
            State::Skip(len)
        })
    }
}

#[cfg(test)]
mod tests;
