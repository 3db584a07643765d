//! One connected peer, as the sending side sees it: its TCP stream, what waits to be written to
//! it, and (on XPUB) its subscriptions.
//!
//! Sending never waits. A reply (`When::Now`) for a peer with nothing queued is written at once
//! from the sender's task (`try_write_vectored`), so it costs no other task's wake-up. What
//! the socket does not take, and what is published (`When::Soon`), is queued and the peer's
//! own task (`connection.rs`) writes it as soon as the sender yields: messages published
//! together (a cell's `busy` and `execute_input`) leave in one system call. The queue is bounded in bytes: a
//! message that would take it past the bound is dropped for that peer (as ZeroMQ's PUB and
//! ROUTER drop at their high-water mark), counted, and said once per slow spell; a message is
//! never cut, and a peer with an empty queue always takes the next message whatever its size.

use bytes::Bytes;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::{Mutex, MutexGuard};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Pieces handed to one vectored write.
const SLICES: usize = 64;

/// When a message is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// From the sender's task, if nothing waits before it.
    Now,
    /// By the peer's task, with whatever else is handed over before it runs.
    Soon,
}

/// What became of a message handed to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Written to the socket, or queued behind what is.
    Taken,
    /// Over the peer's queue bound: dropped for this peer. The number is the count of this slow
    /// spell (1 for its first).
    Dropped(u64),
    /// The connection is closed.
    Closed,
}

#[derive(Default)]
struct Outgoing {
    pieces: VecDeque<Bytes>,
    queued: usize,
    closed: bool,
    /// Messages dropped since the queue last ran empty.
    dropped: u64,
}

impl Outgoing {
    /// Queues `pieces` after skipping their first `skip` bytes (already written).
    fn push(&mut self, pieces: &[Bytes], mut skip: usize) {
        for piece in pieces {
            if skip >= piece.len() {
                skip -= piece.len();
                continue;
            }
            let rest = piece.slice(skip..);
            skip = 0;
            self.queued += rest.len();
            self.pieces.push_back(rest);
        }
    }

    /// Drops the first `n` bytes of the queue (written).
    fn advance(&mut self, mut n: usize) {
        self.queued -= n;
        while n > 0 {
            let front = self.pieces.front_mut().expect("written bytes were queued");
            if n >= front.len() {
                n -= front.len();
                self.pieces.pop_front();
            } else {
                *front = front.slice(n..);
                n = 0;
            }
        }
        if self.queued == 0 {
            self.dropped = 0;
        }
    }
}

/// A peer of one of our sockets.
pub(crate) struct Peer {
    pub(crate) stream: TcpStream,
    out: Mutex<Outgoing>,
    /// Raised when bytes were queued or the peer closed: its task looks again.
    pub(crate) wake: Notify,
    /// XPUB: the topics it subscribed to, each with how many times.
    subscriptions: Mutex<Vec<(Bytes, u32)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Held only for queue operations and non-blocking writes: a panic cannot leave it half-done.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Peer {
    pub(crate) fn new(stream: TcpStream) -> Peer {
        Peer {
            stream,
            out: Mutex::default(),
            wake: Notify::new(),
            subscriptions: Mutex::default(),
        }
    }

    /// Hands an encoded message (`codec::encode_message`) to this peer; `bound` is the queue's
    /// bound in bytes.
    pub(crate) fn send(&self, pieces: &[Bytes], total: usize, bound: usize, when: When) -> Sent {
        let mut out = lock(&self.out);
        if out.closed {
            return Sent::Closed;
        }
        if when == When::Soon && out.queued == 0 {
            out.push(pieces, 0);
            drop(out);
            self.wake.notify_one();
            return Sent::Taken;
        }
        if out.queued > 0 {
            if out.queued + total > bound {
                out.dropped += 1;
                return Sent::Dropped(out.dropped);
            }
            out.push(pieces, 0);
            return Sent::Taken;
        }
        let written = match self.write(pieces.iter()) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(_) => {
                out.closed = true;
                drop(out);
                self.wake.notify_one();
                return Sent::Closed;
            }
        };
        if written < total {
            out.push(pieces, written);
            drop(out);
            self.wake.notify_one();
        }
        Sent::Taken
    }

    fn write<'a>(&self, pieces: impl Iterator<Item = &'a Bytes>) -> std::io::Result<usize> {
        let slices: Vec<IoSlice<'_>> = pieces.take(SLICES).map(|p| IoSlice::new(p)).collect();
        match self.stream.try_write_vectored(&slices) {
            Ok(0) if !slices.is_empty() => Err(std::io::ErrorKind::WriteZero.into()),
            other => other,
        }
    }

    /// Whether bytes wait to be written.
    pub(crate) fn has_queued(&self) -> bool {
        lock(&self.out).queued > 0
    }

    /// Writes what is queued until the socket takes no more (`Ok`, even if some is left); an
    /// error means the connection is gone.
    pub(crate) fn flush(&self) -> std::io::Result<()> {
        let mut out = lock(&self.out);
        while out.queued > 0 {
            match self.write(out.pieces.iter()) {
                Ok(n) => out.advance(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    out.closed = true;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Marks the connection closed: later sends are refused at once.
    pub(crate) fn close(&self) {
        let mut out = lock(&self.out);
        out.closed = true;
        out.pieces.clear();
        out.queued = 0;
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.out).closed
    }

    /// XPUB: adds a subscription; `false` when the peer already holds `max` distinct topics.
    pub(crate) fn subscribe(&self, topic: Bytes, max: usize) -> bool {
        let mut subs = lock(&self.subscriptions);
        if let Some((_, n)) = subs.iter_mut().find(|(t, _)| *t == topic) {
            *n = n.saturating_add(1);
            return true;
        }
        if subs.len() >= max {
            return false;
        }
        subs.push((topic, 1));
        true
    }

    /// XPUB: cancels one subscription to `topic` (nothing if there is none).
    pub(crate) fn cancel(&self, topic: &[u8]) {
        let mut subs = lock(&self.subscriptions);
        if let Some(at) = subs.iter().position(|(t, _)| t.as_ref() == topic) {
            subs[at].1 -= 1;
            if subs[at].1 == 0 {
                subs.swap_remove(at);
            }
        }
    }

    /// XPUB: whether a message whose first frame is `first` is for this peer.
    pub(crate) fn wants(&self, first: &[u8]) -> bool {
        lock(&self.subscriptions)
            .iter()
            .any(|(topic, _)| first.starts_with(topic))
    }
}
