//! The front door: the proxy accepts the frontends' TCP connections on the ports Jupyter asked
//! for itself, and pumps each one's bytes to and from our ZeroMQ socket, which listens only on a
//! Unix socket in the private runtime directory. Every byte a frontend sends passes a
//! `ZmtpGuard` first, so a frame or message over `PROV_MAX_MESSAGE` closes that connection
//! (and is logged) before the `zeromq` decoder could reserve memory for it.
//!
//! The bytes are passed on unchanged, so the ZMTP session (greeting, ROUTER identities, XPUB
//! subscriptions, heartbeats) is still between the frontend and the `zeromq` socket. Each
//! connection owns two fixed buffers; nothing is allocated per message.

use crate::connection::Channel;
use crate::guard::ZmtpGuard;
use crate::{debug, warn};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};

/// Bytes read at once, each way: large messages pass in few system calls.
const BUFFER: usize = 64 * 1024;

/// Listens on `address` (the port from Jupyter's connection file) for `channel`.
pub(crate) async fn open(
    channel: Channel,
    address: (&str, u16),
    inner: PathBuf,
    limit: u64,
) -> Result<()> {
    // ZeroMQ spells "every interface" `*`.
    let host = if address.0 == "*" {
        "0.0.0.0"
    } else {
        address.0
    };
    let listener = TcpListener::bind((host, address.1))
        .await
        .with_context(|| {
            format!(
                "cannot bind the {} socket on {}:{}",
                channel.name(),
                address.0,
                address.1
            )
        })?;
    tokio::spawn(accept(channel, listener, inner, limit));
    Ok(())
}

async fn accept(channel: Channel, listener: TcpListener, inner: PathBuf, limit: u64) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(pump(channel, stream, peer, inner.clone(), limit));
            }
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                warn!("cannot accept a {} connection: {e}", channel.name());
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Relays one frontend connection until either side closes or the frontend goes over the limit.
async fn pump(channel: Channel, frontend: TcpStream, peer: SocketAddr, inner: PathBuf, limit: u64) {
    let _ = frontend.set_nodelay(true);
    let socket = match UnixStream::connect(&inner).await {
        Ok(socket) => socket,
        Err(e) => {
            warn!(
                "cannot pass a {} connection from {peer} on: {e}",
                channel.name()
            );
            return;
        }
    };
    let (mut from_frontend, mut to_frontend) = frontend.into_split();
    let (mut from_socket, mut to_socket) = socket.into_split();
    let inbound = async {
        let mut guard = ZmtpGuard::new(limit);
        let mut buf = vec![0u8; BUFFER];
        loop {
            let n = from_frontend.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            if let Err(violation) = guard.feed(&buf[..n]) {
                warn!(
                    "closing a {} connection from {peer}: {violation}",
                    channel.name()
                );
                return Ok(());
            }
            to_socket.write_all(&buf[..n]).await?;
        }
    };
    let outbound = async {
        let mut buf = vec![0u8; BUFFER];
        loop {
            let n = from_socket.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            to_frontend.write_all(&buf[..n]).await?;
        }
    };
    // Either side ending ends both: dropping the halves closes both connections.
    let ended: std::io::Result<()> = tokio::select! {
        r = inbound => r,
        r = outbound => r,
    };
    if let Err(e) = ended {
        debug!("{} connection from {peer} ended: {e}", channel.name());
    }
}
