//! One replay session: start the kernel, wait until it answers, run each planned execution
//! in order (stopping at the first that times out or finds the kernel dead), then shut the
//! kernel down, killing it if it stays. Every wait has a deadline.

use std::time::Duration;

use provstore::ReplayedExecution;
use tokio::time::Instant;

use crate::client::{Client, Outcome};
use crate::kernel::{Kernel, Launch};
use crate::options::Options;

/// How long a kernel has to exit after its shutdown reply before it is killed.
const EXIT_WAIT: Duration = Duration::from_secs(10);

/// What the session did: one outcome per execution it tried (in order; the rest never ran),
/// and the kernel's pid (the trial it recorded has it).
pub(crate) struct Ran {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) pid: Option<u32>,
}

/// Runs `run` in a new kernel as `launch` says.
pub(crate) async fn session(
    launch: &Launch<'_>,
    run: &[&ReplayedExecution],
    options: &Options,
) -> Result<Ran, String> {
    let mut kernel = Kernel::start(launch)?;
    let pid = kernel.pid();
    let ready = start(&mut kernel, options.startup_timeout).await;
    let mut client = match ready {
        Ok(client) => client,
        Err(why) => {
            kernel.kill().await;
            return Err(format!("kernel `{}` {why}", launch.kernel));
        }
    };
    let mut outcomes = Vec::new();
    for e in run {
        let deadline = Instant::now() + options.timeout;
        let outcome = client
            .execute(
                &mut kernel,
                &e.code,
                e.cell_id.as_deref(),
                deadline,
                options.timeout,
            )
            .await;
        let go_on = outcome == Outcome::Ran;
        outcomes.push(outcome);
        if !go_on {
            break;
        }
    }
    if outcomes.last() == Some(&Outcome::Ran) {
        client.shutdown(Duration::from_secs(5)).await;
        kernel.stop(EXIT_WAIT).await;
    } else {
        kernel.kill().await;
    }
    Ok(Ran { outcomes, pid })
}

/// Waits until the kernel listens and answers, at most `allowed`.
async fn start(kernel: &mut Kernel, allowed: Duration) -> Result<Client, String> {
    let deadline = Instant::now() + allowed;
    let ports = kernel.ports;
    for port in [ports.shell, ports.control, ports.iopub] {
        loop {
            let connected = tokio::select! {
                c = tokio::net::TcpStream::connect(("127.0.0.1", port)) => c.is_ok(),
                why = kernel.exited() => return Err(format!("died while starting: {why}")),
            };
            if connected {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!("did not listen within {} s", allowed.as_secs()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let key = kernel.key.clone();
    let connected = tokio::select! {
        c = tokio::time::timeout_at(deadline, Client::connect(&ports, &key)) => c,
        why = kernel.exited() => return Err(format!("died while starting: {why}")),
    };
    let mut client = match connected {
        Ok(c) => c?,
        Err(_) => {
            return Err(format!(
                "could not be connected to within {} s",
                allowed.as_secs()
            ))
        }
    };
    match client.wait_ready(kernel, deadline).await {
        Outcome::Ran => Ok(client),
        Outcome::TimedOut(_) => Err(format!("did not answer within {} s", allowed.as_secs())),
        Outcome::Died(why) => Err(format!("died while starting: {why}")),
    }
}
