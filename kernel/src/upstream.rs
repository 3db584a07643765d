//! Our side of the child kernel's sockets: wait until the child listens on its Unix sockets,
//! then connect a DEALER, SUB or REQ to each.

use crate::connection::{Channel, ConnectionInfo};
use crate::debug;
use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};
use zeromq::{DealerSocket, ReqSocket, Socket, SocketOptions, SubSocket};

/// How long the child may take to start answering before we give up.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Our sockets towards the child.
pub(crate) struct Upstream {
    pub(crate) shell: DealerSocket,
    pub(crate) control: DealerSocket,
    pub(crate) stdin: DealerSocket,
    pub(crate) iopub: SubSocket,
    pub(crate) heartbeat: ReqSocket,
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
    let with_identity = || {
        let mut options = SocketOptions::default();
        options.peer_identity(identity.clone().try_into().expect("a short identity"));
        options
    };
    let mut iopub = SubSocket::new();
    connect(&mut iopub, info, Channel::Iopub).await?;
    iopub.subscribe("").await?;
    let mut shell = DealerSocket::with_options(with_identity());
    connect(&mut shell, info, Channel::Shell).await?;
    let mut stdin = DealerSocket::with_options(with_identity());
    connect(&mut stdin, info, Channel::Stdin).await?;
    let mut control = DealerSocket::new();
    connect(&mut control, info, Channel::Control).await?;
    let mut heartbeat = ReqSocket::new();
    connect(&mut heartbeat, info, Channel::Heartbeat).await?;
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
async fn connect<S: Socket>(socket: &mut S, info: &ConnectionInfo, channel: Channel) -> Result<()> {
    let endpoint = info.endpoint(channel);
    let mut attempts = 0;
    loop {
        match socket.connect(&endpoint).await {
            Ok(()) => return Ok(()),
            Err(e) if attempts < 20 => {
                attempts += 1;
                debug!(
                    "connecting {} to {endpoint} failed ({e}); retrying",
                    channel.name()
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
