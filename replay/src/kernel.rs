//! The kernel a replay runs in: its kernelspec found by name, a connection file (TCP on free
//! local ports, a fresh key) in a private temporary folder, the process started as Jupyter
//! would (the spec's argv and env) in the source trial's working folder, recording into the
//! same store as a replay of the source; stopped cleanly, else killed with its process group.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The kernel's five TCP ports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ports {
    pub(crate) shell: u16,
    pub(crate) iopub: u16,
    pub(crate) stdin: u16,
    pub(crate) control: u16,
    pub(crate) hb: u16,
}

/// What the kernel is started with.
pub(crate) struct Launch<'a> {
    /// The kernelspec's name.
    pub(crate) kernel: &'a str,
    /// The working folder (the source trial's).
    pub(crate) cwd: &'a Path,
    /// The store (`$PROV_DB`).
    pub(crate) db: &'a Path,
    /// `$PROV_REPLAY_OF`: the source trial's UUID.
    pub(crate) replay_of: &'a str,
    /// `$PROV_TRIAL_NAME`: what the replay trial is called (made unique by the kernel).
    pub(crate) name: &'a str,
    /// `$JPY_SESSION_NAME`: the source trial's notebook, if it had one.
    pub(crate) notebook: Option<&'a str>,
}

/// A started kernel: its process, ports, key, and the folder holding its connection file and
/// log (removed when dropped).
pub(crate) struct Kernel {
    child: Child,
    pub(crate) ports: Ports,
    pub(crate) key: String,
    folder: tempfile::TempDir,
    exited: Option<String>,
}

impl Kernel {
    /// Finds the kernelspec and starts it.
    pub(crate) fn start(launch: &Launch<'_>) -> Result<Kernel, String> {
        let spec = kernelspec::find(launch.kernel).map_err(|e| format!("{e:#}"))?;
        let folder = tempfile::Builder::new()
            .prefix("prov-replay-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let ports = free_ports()?;
        let key = uuid::Uuid::new_v4().simple().to_string();
        let connection = serde_json::json!({
            "shell_port": ports.shell, "iopub_port": ports.iopub, "stdin_port": ports.stdin,
            "control_port": ports.control, "hb_port": ports.hb, "ip": "127.0.0.1", "key": key,
            "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": launch.kernel,
        });
        let file = folder.path().join("kernel.json");
        std::fs::write(&file, connection.to_string())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let log = std::fs::File::create(folder.path().join("kernel.log"))
            .map_err(|e| format!("cannot make the kernel's log: {e}"))?;
        let argv = spec.command(&file);
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .current_dir(launch.cwd)
            .envs(&spec.env)
            .env(provstore::ENV_DB, launch.db)
            .env("PROV_REPLAY_OF", launch.replay_of)
            .env("PROV_TRIAL_NAME", launch.name)
            .env_remove("JPY_SESSION_NAME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true);
        if let Some(notebook) = launch.notebook {
            command.env("JPY_SESSION_NAME", notebook);
        }
        let child = command.spawn().map_err(|e| {
            format!(
                "cannot start kernel `{}` ({}): {e}",
                launch.kernel,
                argv.join(" ")
            )
        })?;
        Ok(Kernel {
            child,
            ports,
            key,
            folder,
            exited: None,
        })
    }

    /// The kernel process's id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resolves when the kernel process exits, with a sentence saying how and the end of its
    /// log; never, while it runs.
    pub(crate) async fn exited(&mut self) -> String {
        if let Some(why) = &self.exited {
            return why.clone();
        }
        let status = self.child.wait().await;
        let how = match status {
            Ok(s) => format!("the kernel exited ({s})"),
            Err(e) => format!("the kernel could not be watched: {e}"),
        };
        let why = match self.log_tail() {
            Some(tail) => format!("{how}; its last words:\n{tail}"),
            None => how,
        };
        self.exited = Some(why.clone());
        why
    }

    /// The last lines the kernel wrote on stderr, prov-kernel's own progress lines left out.
    fn log_tail(&self) -> Option<String> {
        let text = std::fs::read(self.folder.path().join("kernel.log")).ok()?;
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !is_progress(l))
            .collect();
        let tail = lines[lines.len().saturating_sub(6)..].join("\n");
        (!tail.is_empty()).then_some(tail)
    }

    /// Waits at most `wait` for the kernel to exit (after a shutdown request), then kills its
    /// process group.
    pub(crate) async fn stop(&mut self, wait: Duration) {
        if self.exited.is_some() {
            return;
        }
        if tokio::time::timeout(wait, self.child.wait()).await.is_ok() {
            return;
        }
        self.kill().await;
    }

    /// Kills the kernel's process group (the kernel and what it started) and reaps it.
    pub(crate) async fn kill(&mut self) {
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) on the process group we created for the kernel.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// Whether a log line is prov-kernel's own progress (`[prov-kernel … INFO] …`), not news of
/// a death.
fn is_progress(line: &str) -> bool {
    line.starts_with("[prov-kernel") && line.contains(" INFO]")
}

/// Five free TCP ports on the loopback interface: each bound by us, its number noted, then
/// released for the kernel (as jupyter_client does).
fn free_ports() -> Result<Ports, String> {
    let mut listeners = Vec::new();
    for _ in 0..5 {
        let l = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot find a free port: {e}"))?;
        listeners.push(l);
    }
    let port = |i: usize| listeners[i].local_addr().map(|a| a.port()).unwrap_or(0);
    Ok(Ports {
        shell: port(0),
        iopub: port(1),
        stdin: port(2),
        control: port(3),
        hb: port(4),
    })
}
