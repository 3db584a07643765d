//! Listening, and one frontend connection from accept to close in one task: the handshake
//! (greetings, READY both ways), then reading frames into whole messages for the relay and
//! writing what its peer's queue holds when the socket takes it.
//!
//! Every byte read passes the `ZmtpGuard` (`reader.rs`) before anything looks at it, so a frame
//! or message over the limit closes the connection (logged) before its header is decoded.

use crate::codec::{self, Command, Frame, ProtocolError};
use crate::peer::{Peer, Sent, When};
use crate::reader::{write_all, End, Reader};
use crate::socket::{Kind, Shared};
use crate::{Level, Options};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a peer has to complete the handshake.
const HANDSHAKE_TIME: Duration = Duration::from_secs(30);
/// Distinct topics one subscriber may hold (Jupyter's subscribe to one: everything).
const MAX_TOPICS: usize = 1024;
/// Received messages waiting for the relay, per socket: a peer that sends faster than the relay
/// reads waits (its TCP window fills), instead of growing a queue.
const INBOUND: usize = 64;

/// Binds `address` for a socket of `kind` and starts accepting; received messages come on the
/// returned receiver.
pub(crate) async fn bind(
    kind: Kind,
    channel: &'static str,
    address: (&str, u16),
    options: Options,
) -> std::io::Result<(Arc<Shared>, mpsc::Receiver<Vec<Bytes>>, SocketAddr)> {
    // ZeroMQ spells "every interface" `*`.
    let host = if address.0 == "*" {
        "0.0.0.0"
    } else {
        address.0
    };
    let listener = TcpListener::bind((host, address.1)).await?;
    let local = listener.local_addr()?;
    let (inbound, receiver) = mpsc::channel(INBOUND);
    let shared = Arc::new(Shared {
        kind,
        channel,
        options,
        peers: Mutex::default(),
        inbound,
    });
    tokio::spawn(accept(shared.clone(), listener));
    Ok((shared, receiver, local))
}

/// Accepts connections until the socket's face is dropped.
async fn accept(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, from)) => {
                    tokio::spawn(serve(shared.clone(), stream, from));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    shared.say(Level::Warn, format_args!("cannot accept a {} connection: {e}", shared.channel));
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            _ = shared.inbound.closed() => return,
        }
    }
}

/// Serves one accepted connection until it ends.
pub(crate) async fn serve(shared: Arc<Shared>, stream: TcpStream, from: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let peer = Arc::new(Peer::new(stream));
    let mut reader = Reader::new(shared.options.limit);
    let greeted =
        tokio::time::timeout(HANDSHAKE_TIME, handshake(&shared, &peer, &mut reader)).await;
    let end = match greeted {
        Err(_) => End::Refused("no handshake in time"),
        Ok(Err(end)) => end,
        Ok(Ok(identity)) => match shared.register(peer.clone(), identity) {
            Some(key) => {
                let ended = run(&shared, &peer, &key, &mut reader).await;
                shared.unregister(&key, &peer);
                ended.err().unwrap_or(End::Closed)
            }
            None => End::Refused("its identity is in use by another connection"),
        },
    };
    peer.close();
    let channel = shared.channel;
    match end {
        End::Closed => {}
        End::Io(e) => shared.say(
            Level::Debug,
            format_args!("{channel} connection from {from} ended: {e}"),
        ),
        End::Violation(v) => shared.say(
            Level::Warn,
            format_args!("closing a {channel} connection from {from}: {v}"),
        ),
        End::Protocol(e) => {
            // Tell the peer why, if it still listens; never wait for it.
            let error = codec::error(&e.to_string());
            let _ = peer.stream.try_write(&error);
            shared.say(
                Level::Warn,
                format_args!("closing a {channel} connection from {from}: {e}"),
            );
        }
        End::Refused(why) => shared.say(
            Level::Warn,
            format_args!("closing a {channel} connection from {from}: {why}"),
        ),
    }
}

/// Greetings and READY both ways; returns the identity the peer asked for. Message frames a
/// peer sends before its READY are read and dropped (the guard still counts them).
async fn handshake(
    shared: &Shared,
    peer: &Peer,
    reader: &mut Reader,
) -> Result<Option<Bytes>, End> {
    // The whole greeting at once: ZeroMQ peers send theirs in parts and read ours as it comes.
    write_all(&peer.stream, &codec::greeting()).await?;
    while reader.buf.len() < codec::GREETING_LEN {
        reader.fill(&peer.stream).await?;
    }
    codec::check_greeting(&reader.buf)?;
    let _ = reader.buf.split_to(codec::GREETING_LEN);
    reader.framed = true;
    write_all(&peer.stream, &codec::ready(shared.kind.name())).await?;
    loop {
        while let Some(frame) = codec::next_frame(&mut reader.buf) {
            if !frame.is_command() {
                continue;
            }
            match codec::parse_command(&frame.body)? {
                Command::Ready {
                    socket_type,
                    identity,
                } => {
                    if !shared.kind.accepts(&socket_type) {
                        let name = String::from_utf8_lossy(&socket_type).into_owned();
                        return Err(ProtocolError::SocketType(name).into());
                    }
                    return Ok(identity);
                }
                Command::Error(_) => return Err(End::Closed),
                _ => return Err(ProtocolError::OutOfOrder.into()),
            }
        }
        reader.fill(&peer.stream).await?;
    }
}

/// After the handshake: frames in, queued bytes out, until the connection ends.
async fn run(
    shared: &Shared,
    peer: &Arc<Peer>,
    key: &Bytes,
    reader: &mut Reader,
) -> Result<(), End> {
    let mut parts: Vec<Bytes> = Vec::new();
    loop {
        // Frames already buffered (the handshake's read may have brought some) go first.
        while let Some(frame) = codec::next_frame(&mut reader.buf) {
            take(shared, peer, key, &mut parts, frame).await?;
        }
        if peer.is_closed() {
            return Err(End::Closed);
        }
        let queued = peer.has_queued();
        tokio::select! {
            filled = reader.fill(&peer.stream) => filled?,
            ready = peer.stream.writable(), if queued => {
                ready?;
                peer.flush()?;
            }
            // Handed over: written now, all together, as far as the socket takes it.
            _ = peer.wake.notified() => peer.flush()?,
            _ = shared.inbound.closed() => return Err(End::Closed),
        }
    }
}

/// One frame in: a command is answered or applied; a message frame is added to the message
/// being received, which goes to the relay once whole.
async fn take(
    shared: &Shared,
    peer: &Peer,
    key: &Bytes,
    parts: &mut Vec<Bytes>,
    frame: Frame,
) -> Result<(), End> {
    if frame.is_command() {
        return match codec::parse_command(&frame.body)? {
            Command::Ping(context) => {
                let pong = codec::pong(&context);
                let sent = peer.send(
                    std::slice::from_ref(&pong),
                    pong.len(),
                    usize::MAX,
                    When::Now,
                );
                if sent == Sent::Closed {
                    return Err(End::Closed);
                }
                Ok(())
            }
            Command::Subscribe(topic) if shared.kind == Kind::XPub => {
                subscribe(shared, peer, topic).await
            }
            Command::Cancel(topic) if shared.kind == Kind::XPub => {
                cancel(shared, peer, topic).await
            }
            Command::Error(_) => Err(End::Closed),
            Command::Ready { .. } => Err(ProtocolError::OutOfOrder.into()),
            _ => Ok(()),
        };
    }
    let more = frame.more();
    if parts.is_empty() && shared.kind != Kind::XPub {
        parts.push(key.clone());
    }
    parts.push(frame.body);
    if more {
        return Ok(());
    }
    let message = std::mem::take(parts);
    if shared.kind == Kind::XPub {
        // A subscriber's messages are subscriptions (ZMTP 3.0), or nothing we use.
        if let [frame] = message.as_slice() {
            match codec::subscription_message(frame) {
                Some(Command::Subscribe(topic)) => return subscribe(shared, peer, topic).await,
                Some(Command::Cancel(topic)) => return cancel(shared, peer, topic).await,
                _ => {}
            }
        }
        return Ok(());
    }
    deliver(shared, message).await
}

async fn deliver(shared: &Shared, message: Vec<Bytes>) -> Result<(), End> {
    shared.inbound.send(message).await.map_err(|_| End::Closed)
}

/// A subscription: kept for matching, and told to the relay (every one, so each new subscriber
/// is greeted).
async fn subscribe(shared: &Shared, peer: &Peer, topic: Bytes) -> Result<(), End> {
    if !peer.subscribe(topic.clone(), MAX_TOPICS) {
        return Err(End::Refused("too many subscriptions"));
    }
    deliver(shared, vec![event(1, &topic)]).await
}

async fn cancel(shared: &Shared, peer: &Peer, topic: Bytes) -> Result<(), End> {
    peer.cancel(&topic);
    deliver(shared, vec![event(0, &topic)]).await
}

/// A subscription event as ZeroMQ's XPUB gives it: `1` (subscribe) or `0` (cancel), then the
/// topic.
fn event(kind: u8, topic: &[u8]) -> Bytes {
    let mut event = Vec::with_capacity(1 + topic.len());
    event.push(kind);
    event.extend_from_slice(topic);
    Bytes::from(event)
}
