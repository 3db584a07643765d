//! The proxy's life: bind the frontend sockets Jupyter asked for, start the child kernel,
//! connect to it, wait until it answers, run one task per channel direction, and watch the child
//! and our signals until it is time to exit.

use crate::channels::iopub::{self, IopubInbox, IopubSide};
use crate::channels::requests::{self, ShellState};
use crate::channels::{heartbeat, stdin};
use crate::child::{self, ChildCommand};
use crate::connection::{Channel, ConnectionInfo, RuntimeDir};
use crate::flag::Flag;
use crate::guard;
use crate::link::ChildLink;
use crate::magics::cell::CellMagics;
use crate::magics::MagicContext;
use crate::messages::Author;
use crate::pending::PendingBook;
use crate::push::schedule::Timing;
use crate::push::team::TeamStore;
use crate::push::{self, Pusher};
use crate::recorder::{self, Tap, TapSender};
use crate::upstream::{connect_upstream, STARTUP_TIMEOUT};
use crate::wire::{RawMessage, Signer};
use crate::{debug, info, warn};
use anyhow::{anyhow, bail, Context, Result};
use provstore::{NewTrial, TrialStatus, Writer, WriterConfig, WriterHandle};
use provzmtp::{Rep, Router, RouterSender, XPub};
use std::path::Path;
use std::process::ExitStatus;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// How long replies already in flight get to reach frontends once the child has exited.
const DRAIN_TIME: Duration = Duration::from_millis(300);

/// Why the proxy ends.
enum Ending {
    /// A frontend asked for shutdown, and the child exited.
    Requested(ExitStatus),
    /// We were told to stop (SIGTERM, SIGHUP), passed it on, and the child exited.
    Signal(&'static str, ExitStatus),
    /// The child exited on its own.
    ChildDied(ExitStatus),
}

impl Ending {
    /// The process's exit code: 1 after an unexpected death, so Jupyter's restarter starts a
    /// new kernel.
    fn exit_code(&self) -> i32 {
        match self {
            Ending::Requested(_) | Ending::Signal(..) => 0,
            Ending::ChildDied(_) => 1,
        }
    }

    fn trial_status(&self) -> TrialStatus {
        match self {
            Ending::Requested(_) | Ending::Signal(..) => TrialStatus::Finished,
            Ending::ChildDied(_) => TrialStatus::Crashed,
        }
    }
}

/// Runs the proxy until the child exits; returns the process exit code.
pub async fn run(connection_file: &Path, command: ChildCommand) -> Result<i32> {
    // Jupyter may signal our whole process group; install handlers before anything can die.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    // A closed terminal ends the kernel like SIGTERM, cleanly (the runtime directory goes too).
    let mut sighup = signal(SignalKind::hangup())?;

    let info = ConnectionInfo::read(connection_file)?;
    let (tap, tap_rx) = recorder::tap();
    let writer = Arc::new(start_writer(tap.clone())?);
    name_trial_from_env(&writer);
    mark_replay_from_env(&writer);
    let runtime = RuntimeDir::create()?;
    let child_info = info.for_child(&runtime)?;
    let child_file = runtime.write_connection(&child_info)?;

    // The frontends' sockets, on the TCP ports Jupyter asked for.
    let options = guard::socket_options();
    let at = |channel| (info.ip.as_str(), info.port(channel));
    let bound = |channel| cannot_bind(&info, channel);
    let shell_front = Router::bind(Channel::Shell.name(), at(Channel::Shell), options)
        .await
        .map_err(bound(Channel::Shell))?;
    let control_front = Router::bind(Channel::Control.name(), at(Channel::Control), options)
        .await
        .map_err(bound(Channel::Control))?;
    let stdin_front = Router::bind(Channel::Stdin.name(), at(Channel::Stdin), options)
        .await
        .map_err(bound(Channel::Stdin))?;
    let iopub_front = XPub::bind(Channel::Iopub.name(), at(Channel::Iopub), options)
        .await
        .map_err(bound(Channel::Iopub))?;
    let hb_front = Rep::bind(Channel::Heartbeat.name(), at(Channel::Heartbeat), options)
        .await
        .map_err(bound(Channel::Heartbeat))?;

    let mut child = child::spawn(&command, &child_file)?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow!("the child kernel exited at once"))?;
    info!("started child kernel (pid {pid}) with {command:?}");

    let upstream = match connect_upstream(&child_info, &mut child).await {
        Ok(sockets) => sockets,
        Err(e) => {
            let _ = child.start_kill();
            return Err(e);
        }
    };

    // The relay's state, by concern; each task gets only what it uses.
    let signer = Signer::new(info.key.as_bytes());
    let author = Author::new(signer.clone());
    let (shell_up_tx, shell_up_rx) = upstream.shell.split();
    let (control_up_tx, control_up_rx) = upstream.control.split();
    let (stdin_up_tx, stdin_up_rx) = upstream.stdin.split();
    let link = Arc::new(ChildLink::new(
        [shell_up_tx, control_up_tx, stdin_up_tx],
        author.clone(),
    ));
    let pending = Arc::new(PendingBook::default());
    let context = MagicContext::new(writer.clone());
    let warn_env = std::env::var(recorder::warnings::ENV_WARN).ok();
    let live_warnings = recorder::warnings::on_from_env(warn_env.as_deref());
    context
        .live_warnings
        .store(live_warnings, Ordering::Relaxed);
    if live_warnings {
        info!("live warnings are on (${})", recorder::warnings::ENV_WARN);
    }
    let warnings = context.live_warnings.clone();
    let magics = Arc::new(CellMagics::new(Arc::new(context), author.clone()));
    let first_iopub = Arc::new(Flag::default());
    let shutdown_requested = Arc::new(Flag::default());
    let (publish, created) = mpsc::unbounded_channel();
    let (flush_iopub, flushes) = mpsc::unbounded_channel();
    let pusher = TeamStore::configured(&writer).and_then(|r| Pusher::start(r, Timing::default()));
    let on_commit = pusher
        .as_ref()
        .map(|p| Arc::new(p.on_commit()) as recorder::OnCommit);
    recorder::spawn(
        tap_rx,
        writer.clone(),
        author.clone(),
        publish.clone(),
        warnings,
        on_commit,
    );

    let (shell_out, shell_in) = shell_front.split();
    let (control_out, control_in) = control_front.split();
    let (stdin_out, stdin_in) = stdin_front.split();

    // Every relay task, joined or ended when the proxy ends.
    let mut relays = JoinSet::new();
    // Child → frontend first, so the handshake's replies and iopub traffic are consumed.
    relays.spawn(iopub::relay(
        upstream.iopub,
        iopub_front,
        IopubInbox { created, flushes },
        IopubSide {
            link: link.clone(),
            first_traffic: first_iopub.clone(),
            author: author.clone(),
            tap: tap.clone(),
            magics: magics.clone(),
        },
    ));
    let shell_state = ShellState {
        signer: signer.clone(),
        link: link.clone(),
        pending: pending.clone(),
        tap: tap.clone(),
        magics: magics.clone(),
    };
    for (channel, child, frontend) in [
        (Channel::Shell, shell_up_rx, shell_out.clone()),
        (Channel::Control, control_up_rx, control_out.clone()),
    ] {
        let state = shell_state.clone();
        relays.spawn(requests::forward_replies(channel, child, frontend, state));
    }
    relays.spawn(stdin::forward_input_requests(stdin_up_rx, stdin_out));
    relays.spawn(heartbeat::relay(hb_front, upstream.heartbeat));

    let kernel_info = tokio::select! {
        ready = handshake(&link, &first_iopub) => ready?,
        status = child.wait() => bail!("the child kernel exited while starting: {}", status?),
    };
    info!("child kernel is ready; relaying");
    // Queued on shell before any frontend request, so the probe sees every cell.
    let probe = install_probe(&link).await;
    relays.spawn(async move {
        if let Err(e) = probe.await {
            warn!(
                "the runtime probe is not installed ({e}); dataflow falls back to static analysis"
            );
        }
    });
    relays.spawn(record_environment(
        link.clone(),
        writer.clone(),
        kernel_info,
    ));

    // Frontend → child only now, so nothing a frontend sends can outrun the child's iopub.
    for (channel, frontend) in [(Channel::Shell, shell_in), (Channel::Control, control_in)] {
        let (state, shutdown) = (shell_state.clone(), shutdown_requested.clone());
        relays.spawn(requests::forward_requests(
            channel, frontend, state, shutdown,
        ));
    }
    relays.spawn(stdin::forward_input_replies(
        stdin_in,
        link.clone(),
        signer.clone(),
    ));

    let mut signalled = None;
    let ending = loop {
        tokio::select! {
            status = child.wait() => {
                let status = status?;
                break match signalled {
                    Some(name) => Ending::Signal(name, status),
                    None if shutdown_requested.is_raised() => Ending::Requested(status),
                    None => Ending::ChildDied(status),
                };
            }
            _ = sigint.recv() => {
                debug!("SIGINT: passing it to the child");
                child::forward_signal(pid, libc::SIGINT);
            }
            _ = sigterm.recv() => {
                info!("SIGTERM: stopping the child kernel");
                signalled = Some("SIGTERM");
                child::forward_signal(pid, libc::SIGTERM);
            }
            _ = sighup.recv() => {
                info!("SIGHUP: stopping the child kernel");
                signalled = Some("SIGHUP");
                child::forward_signal(pid, libc::SIGTERM);
            }
        }
    };

    match &ending {
        Ending::Requested(status) | Ending::Signal(_, status) => {
            let why = match &ending {
                Ending::Signal(name, _) => name,
                _ => "shutdown_request",
            };
            info!("child kernel exited ({status}) after {why}; shutting down");
            // Replies still on their way get a moment to reach the frontends.
            pending.wait_empty(DRAIN_TIME).await;
            flush(&flush_iopub).await;
        }
        Ending::ChildDied(status) => {
            let why = format!("the kernel process (pid {pid}) died unexpectedly: {status}");
            warn!("{why}; answering {} waiting request(s)", pending.len());
            let orphans = Orphans {
                pending: &pending,
                magics: &magics,
                author: &author,
                tap: &tap,
                publish: &publish,
            };
            orphans.answer(&shell_out, &control_out, &why).await;
            flush(&flush_iopub).await;
            // A frontend's queue may still hold the death replies (a slow reader): they get a
            // linger to be written before the process exits.
            tokio::time::sleep(DRAIN_TIME).await;
        }
    }
    runtime.remove();
    let (done, flushed) = oneshot::channel();
    tap.send(Tap::Flush(done));
    let _ = tokio::time::timeout(DRAIN_TIME, flushed).await;
    let status = ending.trial_status();
    tokio::task::spawn_blocking(move || writer.finish(status)).await?;
    if let Some(pusher) = pusher {
        // The trial's end goes to the team store too, if it answers quickly.
        tokio::task::spawn_blocking(move || pusher.finish(push::FINAL_DEADLINE)).await?;
    }
    // The relay tasks (and the magics they run) end here, not at some later exit.
    relays.abort_all();
    while relays.join_next().await.is_some() {}
    Ok(ending.exit_code())
}

/// Waits (at most [`DRAIN_TIME`]) until the iopub relay has published everything handed to
/// it, idles set aside included.
async fn flush(iopub: &mpsc::UnboundedSender<oneshot::Sender<()>>) {
    let (done, flushed) = oneshot::channel();
    if iopub.send(done).is_ok() {
        let _ = tokio::time::timeout(DRAIN_TIME, flushed).await;
    }
}

/// Starts the store's writer thread for this kernel's trial. The store is `$PROV_DB`, else
/// `.prov/prov.db` in the kernel's working directory (the notebook's folder). Problems with the
/// store are reported through the recorder, in the notebook, and never stop the kernel.
fn start_writer(tap: TapSender) -> Result<WriterHandle> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let path = provstore::default_db_path(&cwd);
    let config = WriterConfig::from_env().unwrap_or_else(|e| {
        warn!("{e}");
        WriterConfig::default()
    });
    let on_problem = Box::new(move |message: String| tap.send(Tap::Problem(message)));
    let writer = Writer::start_with(&path, NewTrial::for_this_process(&cwd), on_problem, config)
        .with_context(|| format!("cannot start recording to {}", path.display()))?;
    info!("recording provenance to {}", path.display());
    Ok(writer)
}

/// The environment variable that names the trial when the kernel starts, for scripts that run a
/// notebook again with other parameters (`scripts/run_notebooks.py --name-trials`).
pub const ENV_TRIAL_NAME: &str = "PROV_TRIAL_NAME";

/// Names the trial from `$PROV_TRIAL_NAME`, on a thread of its own (naming waits for the store):
/// a name already taken becomes `NAME, run 2`, `NAME, run 3`…, so a script may run the same notebook
/// with the same parameters again. A name the store refuses is logged, never fatal.
fn name_trial_from_env(writer: &Arc<WriterHandle>) {
    let Some(name) = std::env::var(ENV_TRIAL_NAME).ok().filter(|n| !n.is_empty()) else {
        return;
    };
    let writer = Arc::clone(writer);
    let spawned = std::thread::Builder::new()
        .name("prov-trial-name".into())
        .spawn(move || match writer.name_trial_uniquely(&name) {
            Ok(given) => info!("trial named {given:?} (from {ENV_TRIAL_NAME})"),
            Err(e) => warn!("cannot name the trial from {ENV_TRIAL_NAME}={name:?}: {e}"),
        });
    if let Err(e) = spawned {
        warn!("cannot name the trial from {ENV_TRIAL_NAME}: {e}");
    }
}

/// The environment variable `provctl replay` starts the kernel with: the UUID of the trial
/// this one re-executes, recorded as the trial's `replay_of`.
pub const ENV_REPLAY_OF: &str = "PROV_REPLAY_OF";

/// Records `$PROV_REPLAY_OF` as the trial's `replay_of`, on a thread of its own (it waits for
/// the store). A value that is not a UUID is logged and ignored, never fatal.
fn mark_replay_from_env(writer: &Arc<WriterHandle>) {
    let Some(source) = std::env::var(ENV_REPLAY_OF).ok().filter(|n| !n.is_empty()) else {
        return;
    };
    if uuid::Uuid::parse_str(&source).is_err() {
        warn!("ignoring {ENV_REPLAY_OF}={source:?}: not a trial's UUID");
        return;
    }
    let writer = Arc::clone(writer);
    let spawned = std::thread::Builder::new()
        .name("prov-replay-of".into())
        .spawn(move || {
            if let Err(e) = writer.mark_replay_of(&source.to_ascii_lowercase()) {
                warn!("cannot record {ENV_REPLAY_OF}={source:?}: {e}");
            }
        });
    if let Err(e) = spawned {
        warn!("cannot record {ENV_REPLAY_OF}: {e}");
    }
}

/// Sends the code that installs the runtime probe in the child, silently (no history, no
/// output, no effect on `_` or `Out`); the returned future says whether it worked.
async fn install_probe(link: &ChildLink) -> impl std::future::Future<Output = Result<()>> {
    let request = serde_json::json!({
        "code": crate::probe::install_code(), "silent": true, "store_history": false,
        "allow_stdin": false, "user_expressions": {},
    });
    let reply = link
        .request(Channel::Shell, "execute_request", &request)
        .await;
    async move {
        let reply = tokio::time::timeout(Duration::from_secs(30), reply?)
            .await
            .map_err(|_| anyhow!("no answer within 30s"))??;
        let content: serde_json::Value = serde_json::from_slice(&reply.content)?;
        match content["status"].as_str() {
            Some("ok") => Ok(()),
            _ => bail!("{}: {}", content["ename"], content["evalue"]),
        }
    }
}

/// Records the trial's Python and ipykernel versions: Python's from the handshake's
/// kernel_info, ipykernel's by asking the child silently (no history, no output).
async fn record_environment(
    link: Arc<ChildLink>,
    writer: Arc<WriterHandle>,
    kernel_info: RawMessage,
) {
    let info: serde_json::Value = serde_json::from_slice(&kernel_info.content).unwrap_or_default();
    let python = info["language_info"]["version"].as_str().map(str::to_owned);
    let request = serde_json::json!({
        "code": "", "silent": true, "store_history": false, "allow_stdin": false,
        "user_expressions": {"ipykernel": "__import__('ipykernel').__version__"},
    });
    let mut ipykernel = None;
    if let Ok(reply) = link
        .request(Channel::Shell, "execute_request", &request)
        .await
    {
        if let Ok(Ok(reply)) = tokio::time::timeout(Duration::from_secs(10), reply).await {
            let content: serde_json::Value =
                serde_json::from_slice(&reply.content).unwrap_or_default();
            ipykernel = content["user_expressions"]["ipykernel"]["data"]["text/plain"]
                .as_str()
                .map(|repr| repr.trim_matches(['\'', '"']).to_owned());
        }
    }
    writer.set_environment(python, ipykernel);
}

/// Waits until the child answers a kernel_info request and its iopub reaches us.
///
/// Until our SUB's subscription has reached the child, anything it publishes is lost, so
/// frontends are not let through before we have seen iopub traffic.
async fn handshake(link: &ChildLink, first_iopub: &Flag) -> Result<RawMessage> {
    let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
    let too_slow = || {
        anyhow!(
            "the child kernel did not answer within {}s",
            STARTUP_TIMEOUT.as_secs()
        )
    };
    loop {
        // A request on shell is queued until the child reads it: one is enough for the reply.
        // Resending only nudges iopub, whose first messages may have beaten our subscription.
        let request = link
            .request(
                Channel::Shell,
                "kernel_info_request",
                &serde_json::json!({}),
            )
            .await?;
        let reply = tokio::time::timeout_at(deadline, request)
            .await
            .map_err(|_| too_slow())?
            .map_err(|_| anyhow!("the child kernel's shell closed while starting"))?;
        if first_iopub.wait(Duration::from_millis(500)).await {
            return Ok(reply);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(too_slow());
        }
    }
}

/// What answering a dead child's waiting requests uses.
struct Orphans<'a> {
    pending: &'a PendingBook,
    magics: &'a CellMagics,
    author: &'a Author,
    tap: &'a TapSender,
    publish: &'a mpsc::UnboundedSender<RawMessage>,
}

impl Orphans<'_> {
    /// Answers every request the dead child left waiting, so no frontend hangs.
    async fn answer(&self, shell: &RouterSender, control: &RouterSender, why: &str) {
        self.magics.jobs.clear();
        for request in self.pending.drain() {
            if request.identities.is_empty() {
                continue;
            }
            if request.channel == Channel::Shell && request.msg_type == "execute_request" {
                let error = self.author.error_output(&request.header, "KernelDied", why);
                let _ = self.publish.send(error);
            }
            let reply = self.author.death_reply(&request, why);
            self.tap.send(Tap::Reply(reply.clone(), None, Vec::new()));
            let socket = match request.channel {
                Channel::Control => control,
                _ => shell,
            };
            if !socket.send(&reply.into_frames()) {
                warn!("cannot tell a frontend that the kernel died: it is gone");
            }
            let idle = self
                .author
                .status(&request.header, jupyter_protocol::Status::idle());
            let _ = self.publish.send(idle);
        }
    }
}

/// The error of a frontend socket that cannot listen on its port.
fn cannot_bind(
    info: &ConnectionInfo,
    channel: Channel,
) -> impl FnOnce(std::io::Error) -> anyhow::Error + '_ {
    move |e| {
        anyhow::Error::new(e).context(format!(
            "cannot bind the {} socket on {}:{}",
            channel.name(),
            info.ip,
            info.port(channel)
        ))
    }
}
