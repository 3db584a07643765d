//! Our side of the child kernel's sockets: wait until the child listens on its Unix sockets,
//! then connect a DEALER, SUB or REQ (`provzmtp`'s client faces) to each. What the child sends
//! has no size limit: the child is our own process on sockets in a private directory, and plain
//! Python 3 lets a cell publish an output of any size, so `$PROV_MAX_MESSAGE` (a bound on what
//! any local process may send to the TCP ports) would end an honest cell's channel. The reader
//! still allocates only bytes that arrived, never a length a frame announces.

use crate::connection::{Channel, ConnectionInfo};
use crate::debug;
use anyhow::{bail, Context, Result};
use provzmtp::{Dealer, Req, Sub};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long the child may take to start answering before we give up.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Our sockets towards the child.
pub(crate) struct Upstream {
    pub(crate) shell: Dealer,
    pub(crate) control: Dealer,
    pub(crate) stdin: Dealer,
    pub(crate) iopub: Sub,
    pub(crate) heartbeat: Req,
}

/// Connects to the child's five sockets once it listens on them.
///
/// Shell and stdin share one identity: ipykernel addresses input requests to the identity of
/// the shell request being run.
pub(crate) async fn connect_upstream(
    info: &ConnectionInfo,
    child: &mut tokio::process::Child,
) -> Result<Upstream> {
    listening_child(info, child).await?;
    let identity = format!("prov-{}", uuid::Uuid::new_v4().simple()).into_bytes();
    let limit = u64::MAX;
    let iopub = connect(info, Channel::Iopub, |path: PathBuf| async move {
        Sub::connect(&path, limit).await
    })
    .await?;
    let identity = identity.as_slice();
    let known = |path: PathBuf| async move { Dealer::connect(&path, Some(identity), limit).await };
    let shell = connect(info, Channel::Shell, known).await?;
    let stdin = connect(info, Channel::Stdin, known).await?;
    let control = connect(info, Channel::Control, |path: PathBuf| async move {
        Dealer::connect(&path, None, limit).await
    })
    .await?;
    let heartbeat = connect(info, Channel::Heartbeat, |path: PathBuf| async move {
        Req::connect(&path, limit).await
    })
    .await?;
    Ok(Upstream {
        shell,
        control,
        stdin,
        iopub,
        heartbeat,
    })
}

/// Waits until the child listens on all its Unix sockets.
///
/// Each one is polled every few milliseconds, quicker than the ZeroMQ client's exponential
/// back-off, which would add up to a second.
async fn listening_child(info: &ConnectionInfo, child: &mut tokio::process::Child) -> Result<()> {
    for channel in [
        Channel::Shell,
        Channel::Control,
        Channel::Stdin,
        Channel::Iopub,
        Channel::Heartbeat,
    ] {
        let path = info.ipc_path(channel);
        let what = format!("open its {} socket", channel.name());
        poll_child(child, &what, || async {
            tokio::net::UnixStream::connect(&path).await.ok().map(drop)
        })
        .await?;
    }
    Ok(())
}

/// Retries `check` every 5 ms until it gives a value, the child exits, or start-up times out.
async fn poll_child<T, F, Fut>(child: &mut tokio::process::Child, what: &str, check: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if let Some(status) = child.try_wait()? {
            bail!("the child kernel exited while starting: {status}");
        }
        if Instant::now() > deadline {
            bail!(
                "the child kernel did not {what} within {}s",
                STARTUP_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Connects one socket, retrying a few times: a connection reset while the child is still
/// setting up its sockets is transient.
async fn connect<S, F, Fut>(info: &ConnectionInfo, channel: Channel, open: F) -> Result<S>
where
    F: Fn(PathBuf) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<S>>,
{
    let path = info.ipc_path(channel);
    let mut attempts = 0;
    loop {
        match open(path.clone()).await {
            Ok(socket) => return Ok(socket),
            Err(e) if attempts < 20 => {
                attempts += 1;
                debug!(
                    "connecting {} to {} failed ({e}); retrying",
                    channel.name(),
                    path.display()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot connect to the child's {} socket", channel.name())
                })
            }
        }
    }
}
