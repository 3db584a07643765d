//! The proxy's life: bind the frontend sockets Jupyter asked for, start the child kernel,
//! connect to it, wait until it answers, run one task per channel direction, and watch the child
//! and our signals until it is time to exit.

use crate::channels::{heartbeat, iopub, requests, stdin};
use crate::child::{self, ChildCommand};
use crate::connection::{Channel, ConnectionInfo, RuntimeDir};
use crate::magics::jobs::MagicJobs;
use crate::magics::MagicContext;
use crate::messages::Author;
use crate::pending::PendingBook;
use crate::recorder::{self, Tap, TapSender};
use crate::upstream::connect_upstream;
use crate::wire::{RawMessage, Signer};
use crate::{debug, info, warn};
use crate::{frontdoor, guard};
use anyhow::{anyhow, bail, Context, Result};
use provstore::{NewTrial, TrialStatus, Writer, WriterConfig, WriterHandle};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot, Notify};
use zeromq::{DealerSendHalf, RepSocket, RouterSocket, Socket, SocketSend, XPubSocket, ZmqMessage};

/// How long the child may take to start answering before we give up.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long replies already in flight get to reach frontends once the child has exited.
const DRAIN_TIME: Duration = Duration::from_millis(300);

/// State every channel task shares.
pub struct Shared {
    pub signer: Signer,
    pub author: Author,
    pub pending: PendingBook,
    /// Waiters for replies to the proxy's own requests, by msg_id.
    internal_waiters: Mutex<HashMap<String, oneshot::Sender<RawMessage>>>,
    /// Ids of the proxy's own requests, whose iopub traffic frontends must not see.
    internal_ids: Mutex<HashSet<String>>,
    internal_count: AtomicUsize,
    /// Messages the proxy itself publishes on iopub.
    iopub_created: mpsc::UnboundedSender<RawMessage>,
    to_child_shell: tokio::sync::Mutex<DealerSendHalf>,
    to_child_control: tokio::sync::Mutex<DealerSendHalf>,
    to_child_stdin: tokio::sync::Mutex<DealerSendHalf>,
    shutdown_requested: AtomicBool,
    iopub_seen: AtomicBool,
    iopub_seen_notify: Notify,
    /// Copies of execute traffic for the recorder.
    pub tap: TapSender,
    /// Cells whose prov magics are waiting for the cell's reply and idle.
    pub magic_jobs: MagicJobs,
    pub magic_context: Arc<MagicContext>,
}

impl Shared {
    /// Parses a message from a frontend and checks its signature; logs and drops it otherwise.
    pub fn check_frontend_message(&self, channel: Channel, msg: ZmqMessage) -> Option<RawMessage> {
        let raw = match RawMessage::parse(msg) {
            Ok(raw) => raw,
            Err(e) => {
                warn!(
                    "dropping a malformed {} message from a frontend: {e}",
                    channel.name()
                );
                return None;
            }
        };
        if let Err(e) = self.signer.verify(&raw) {
            warn!(
                "dropping a {} message from a frontend: {e} (is the client using this kernel's key?)",
                channel.name()
            );
            return None;
        }
        Some(raw)
    }

    /// Sends frames to the child on one of the request channels.
    pub async fn send_to_child(&self, channel: Channel, msg: ZmqMessage) -> Result<()> {
        let socket = match channel {
            Channel::Shell => &self.to_child_shell,
            Channel::Control => &self.to_child_control,
            Channel::Stdin => &self.to_child_stdin,
            other => bail!("{} is not a request channel", other.name()),
        };
        socket.lock().await.send(msg).await?;
        Ok(())
    }

    /// Sends one of the proxy's own requests to the child; the reply comes on the receiver and
    /// neither the reply nor its iopub traffic reaches any frontend.
    pub async fn request_internal(
        &self,
        channel: Channel,
        msg_type: &str,
        content: &serde_json::Value,
    ) -> Result<oneshot::Receiver<RawMessage>> {
        let msg = self.author.message(msg_type, None, content, vec![]);
        let id = msg.header().msg_id;
        let (tx, rx) = oneshot::channel();
        self.internal_waiters.lock().unwrap().insert(id.clone(), tx);
        if self.internal_ids.lock().unwrap().insert(id) {
            self.internal_count.fetch_add(1, Ordering::Release);
        }
        self.send_to_child(channel, msg.into_zmq()).await?;
        Ok(rx)
    }

    /// Hands a reply to the proxy's own request to its waiter (`None`), or gives it back.
    ///
    /// Frontends' replies always carry a routing identity and ours never do, so the common
    /// path costs no lock. A late reply whose waiter gave up is dropped.
    pub fn take_internal_reply(&self, parent_id: &str, raw: RawMessage) -> Option<RawMessage> {
        if !raw.identities.is_empty() {
            return Some(raw);
        }
        match self.internal_waiters.lock().unwrap().remove(parent_id) {
            Some(waiter) => {
                let _ = waiter.send(raw);
            }
            None => debug!("dropping a late reply to one of our own requests"),
        }
        None
    }

    /// Decides whether a message the child published goes on to the frontends.
    pub fn filter_child_iopub(&self, msg: ZmqMessage) -> Option<RawMessage> {
        if !self.iopub_seen.swap(true, Ordering::AcqRel) {
            self.iopub_seen_notify.notify_waiters();
        }
        let raw = match RawMessage::parse(msg) {
            Ok(raw) => raw,
            Err(e) => {
                warn!("dropping a malformed iopub message from the child: {e}");
                return None;
            }
        };
        if contains(&raw.header, b"\"iopub_welcome\"") {
            return None; // addressed to our SUB, not to frontends
        }
        if self.internal_count.load(Ordering::Acquire) > 0 {
            let parent = raw.parent();
            let mut ids = self.internal_ids.lock().unwrap();
            if ids.contains(&parent.msg_id) {
                if contains(&raw.content, b"\"idle\"") && raw.header().msg_type == "status" {
                    ids.remove(&parent.msg_id);
                    self.internal_count.fetch_sub(1, Ordering::Release);
                }
                return None;
            }
        }
        Some(raw)
    }

    /// Publishes a message the proxy made on iopub.
    pub fn publish(&self, msg: RawMessage) {
        let _ = self.iopub_created.send(msg);
    }

    /// Remembers that a frontend asked for shutdown, so the child's exit is expected.
    pub fn note_shutdown_requested(&self) {
        self.shutdown_requested.store(true, Ordering::Release);
    }

    async fn wait_iopub_seen(&self, limit: Duration) -> bool {
        let notified = self.iopub_seen_notify.notified();
        if self.iopub_seen.load(Ordering::Acquire) {
            return true;
        }
        let _ = tokio::time::timeout(limit, notified).await;
        self.iopub_seen.load(Ordering::Acquire)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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
    let runtime = RuntimeDir::create()?;
    let child_info = info.for_child(&runtime)?;
    let child_file = runtime.write_connection(&child_info)?;

    let limit = guard::max_message_from_env();
    let front = |channel| Front {
        info: &info,
        runtime: &runtime,
        channel,
        limit,
    };
    let shell_front = bind::<RouterSocket>(front(Channel::Shell)).await?;
    let control_front = bind::<RouterSocket>(front(Channel::Control)).await?;
    let stdin_front = bind::<RouterSocket>(front(Channel::Stdin)).await?;
    let iopub_front = bind::<XPubSocket>(front(Channel::Iopub)).await?;
    let hb_front = bind::<RepSocket>(front(Channel::Heartbeat)).await?;

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

    let signer = Signer::new(info.key.as_bytes());
    let (iopub_tx, iopub_rx) = mpsc::unbounded_channel();
    let (shell_up_tx, shell_up_rx) = upstream.shell.split();
    let (control_up_tx, control_up_rx) = upstream.control.split();
    let (stdin_up_tx, stdin_up_rx) = upstream.stdin.split();
    let shared = Arc::new(Shared {
        author: Author::new(signer.clone()),
        signer,
        pending: PendingBook::default(),
        internal_waiters: Mutex::default(),
        internal_ids: Mutex::default(),
        internal_count: AtomicUsize::new(0),
        iopub_created: iopub_tx,
        to_child_shell: tokio::sync::Mutex::new(shell_up_tx),
        to_child_control: tokio::sync::Mutex::new(control_up_tx),
        to_child_stdin: tokio::sync::Mutex::new(stdin_up_tx),
        shutdown_requested: AtomicBool::new(false),
        iopub_seen: AtomicBool::new(false),
        iopub_seen_notify: Notify::new(),
        tap,
        magic_jobs: MagicJobs::default(),
        magic_context: Arc::new(MagicContext::new(writer.clone())),
    });
    recorder::spawn(
        tap_rx,
        writer.clone(),
        shared.author.clone(),
        shared.iopub_created.clone(),
    );

    let (shell_out, shell_in) = shell_front.split();
    let (control_out, control_in) = control_front.split();
    let (stdin_out, stdin_in) = stdin_front.split();

    // Child → frontend first, so the handshake's replies and iopub traffic are consumed.
    tokio::spawn(iopub::relay(
        upstream.iopub,
        iopub_front,
        iopub_rx,
        shared.clone(),
    ));
    tokio::spawn(requests::forward_replies(
        Channel::Shell,
        shell_up_rx,
        shell_out.clone(),
        shared.clone(),
    ));
    tokio::spawn(requests::forward_replies(
        Channel::Control,
        control_up_rx,
        control_out.clone(),
        shared.clone(),
    ));
    tokio::spawn(stdin::forward_input_requests(stdin_up_rx, stdin_out));
    tokio::spawn(heartbeat::relay(hb_front, upstream.heartbeat));

    let kernel_info = tokio::select! {
        ready = handshake(&shared) => ready?,
        status = child.wait() => bail!("the child kernel exited while starting: {}", status?),
    };
    info!("child kernel is ready; relaying");
    // Queued on shell before any frontend request, so the probe sees every cell.
    let probe = install_probe(&shared).await;
    tokio::spawn(async move {
        if let Err(e) = probe.await {
            warn!(
                "the runtime probe is not installed ({e}); dataflow falls back to static analysis"
            );
        }
    });
    tokio::spawn(record_environment(shared.clone(), kernel_info));

    // Frontend → child only now, so nothing a frontend sends can outrun the child's iopub.
    tokio::spawn(requests::forward_requests(
        Channel::Shell,
        shell_in,
        shared.clone(),
    ));
    tokio::spawn(requests::forward_requests(
        Channel::Control,
        control_in,
        shared.clone(),
    ));
    tokio::spawn(stdin::forward_input_replies(stdin_in, shared.clone()));

    let mut terminating = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = sigint.recv() => {
                debug!("SIGINT: passing it to the child");
                child::forward_signal(pid, libc::SIGINT);
            }
            _ = sigterm.recv() => {
                info!("SIGTERM: stopping the child kernel");
                terminating = true;
                child::forward_signal(pid, libc::SIGTERM);
            }
            _ = sighup.recv() => {
                info!("SIGHUP: stopping the child kernel");
                terminating = true;
                child::forward_signal(pid, libc::SIGTERM);
            }
        }
    };

    let expected = terminating || shared.shutdown_requested.load(Ordering::Acquire);
    let code = if expected {
        info!("child kernel exited ({status}); shutting down");
        drain(&shared).await;
        0
    } else {
        let why = format!("the kernel process (pid {pid}) died unexpectedly: {status}");
        warn!(
            "{why}; answering {} waiting request(s)",
            shared.pending.len()
        );
        answer_orphans(&shared, &shell_out, &control_out, &why).await;
        tokio::time::sleep(DRAIN_TIME).await;
        1
    };
    runtime.remove();
    let (done, flushed) = oneshot::channel();
    shared.tap.send(Tap::Flush(done));
    let _ = tokio::time::timeout(DRAIN_TIME, flushed).await;
    let status = if code == 0 {
        TrialStatus::Finished
    } else {
        TrialStatus::Crashed
    };
    tokio::task::spawn_blocking(move || writer.finish(status)).await?;
    Ok(code)
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

/// Sends the code that installs the runtime probe in the child, silently (no history, no
/// output, no effect on `_` or `Out`); the returned future says whether it worked.
async fn install_probe(shared: &Shared) -> impl std::future::Future<Output = Result<()>> {
    let request = serde_json::json!({
        "code": crate::probe::install_code(), "silent": true, "store_history": false,
        "allow_stdin": false, "user_expressions": {},
    });
    let reply = shared
        .request_internal(Channel::Shell, "execute_request", &request)
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
async fn record_environment(shared: Arc<Shared>, kernel_info: RawMessage) {
    let info: serde_json::Value = serde_json::from_slice(&kernel_info.content).unwrap_or_default();
    let python = info["language_info"]["version"].as_str().map(str::to_owned);
    let request = serde_json::json!({
        "code": "", "silent": true, "store_history": false, "allow_stdin": false,
        "user_expressions": {"ipykernel": "__import__('ipykernel').__version__"},
    });
    let mut ipykernel = None;
    if let Ok(reply) = shared
        .request_internal(Channel::Shell, "execute_request", &request)
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
    shared
        .magic_context
        .writer
        .set_environment(python, ipykernel);
}

/// Waits until the child answers a kernel_info request and its iopub reaches us.
///
/// Until our SUB's subscription has reached the child, anything it publishes is lost, so
/// frontends are not let through before we have seen iopub traffic.
async fn handshake(shared: &Shared) -> Result<RawMessage> {
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
        let request = shared
            .request_internal(
                Channel::Shell,
                "kernel_info_request",
                &serde_json::json!({}),
            )
            .await?;
        let reply = tokio::time::timeout_at(deadline, request)
            .await
            .map_err(|_| too_slow())?
            .map_err(|_| anyhow!("the child kernel's shell closed while starting"))?;
        if shared.wait_iopub_seen(Duration::from_millis(500)).await {
            return Ok(reply);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(too_slow());
        }
    }
}

/// Gives replies still on their way a moment to reach the frontends.
async fn drain(shared: &Shared) {
    let until = Instant::now() + DRAIN_TIME;
    while shared.pending.len() > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Answers every request the dead child left waiting, so no frontend hangs.
async fn answer_orphans(
    shared: &Shared,
    shell: &zeromq::RouterSendHalf,
    control: &zeromq::RouterSendHalf,
    why: &str,
) {
    shared.magic_jobs.clear();
    for request in shared.pending.drain() {
        if request.identities.is_empty() {
            continue;
        }
        if request.channel == Channel::Shell && request.msg_type == "execute_request" {
            shared.publish(
                shared
                    .author
                    .error_output(&request.header, "KernelDied", why),
            );
        }
        let reply = shared.author.death_reply(&request, why);
        shared.tap.send(Tap::Reply(reply.clone(), None));
        let mut socket = match request.channel {
            Channel::Control => control.clone(),
            _ => shell.clone(),
        };
        if let Err(e) = socket.send(reply.into_zmq()).await {
            warn!("cannot tell a frontend that the kernel died: {e}");
        }
        shared.publish(
            shared
                .author
                .status(&request.header, jupyter_protocol::Status::idle()),
        );
    }
}

/// Where and how one frontend socket listens.
struct Front<'a> {
    info: &'a ConnectionInfo,
    runtime: &'a RuntimeDir,
    channel: Channel,
    limit: u64,
}

/// Binds one frontend socket: the ZeroMQ socket on a Unix socket in the runtime directory, and
/// the guarded front door on the TCP port Jupyter's connection file names.
async fn bind<S: Socket>(front: Front<'_>) -> Result<S> {
    let Front {
        info,
        runtime,
        channel,
        limit,
    } = front;
    let inner = runtime.inner_socket(channel)?;
    let mut socket = S::new();
    let endpoint = format!("ipc://{}", inner.display());
    socket
        .bind(&endpoint)
        .await
        .with_context(|| format!("cannot bind the {} socket on {endpoint}", channel.name()))?;
    frontdoor::open(channel, (&info.ip, info.port(channel)), inner, limit).await?;
    Ok(socket)
}
