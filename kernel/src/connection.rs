//! Connection files: reading the one Jupyter hands us, and writing the private one the child
//! kernel gets.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The fields of a Jupyter connection file. Unknown fields are kept so they reach the child.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ConnectionInfo {
    #[serde(default = "default_transport")]
    pub transport: String,
    pub ip: String,
    pub shell_port: u16,
    pub control_port: u16,
    pub stdin_port: u16,
    pub iopub_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_transport() -> String {
    "tcp".into()
}

fn default_scheme() -> String {
    "hmac-sha256".into()
}

/// The five kernel channels, named as in connection files and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Shell,
    Control,
    Stdin,
    Iopub,
    Heartbeat,
}

impl Channel {
    /// The name used in logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Shell => "shell",
            Channel::Control => "control",
            Channel::Stdin => "stdin",
            Channel::Iopub => "iopub",
            Channel::Heartbeat => "heartbeat",
        }
    }
}

impl ConnectionInfo {
    /// Reads and checks the connection file Jupyter started us with.
    pub fn read(path: &Path) -> Result<ConnectionInfo> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read connection file {}", path.display()))?;
        let info: ConnectionInfo = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a Jupyter connection file", path.display()))?;
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            bail!(
                "signature scheme {:?} is not supported: prov-kernel signs with hmac-sha256",
                info.signature_scheme
            );
        }
        if info.transport != "tcp" {
            bail!(
                "transport {:?} is not supported: start the kernel with transport tcp",
                info.transport
            );
        }
        Ok(info)
    }

    /// The port of one channel.
    pub(crate) fn port(&self, channel: Channel) -> u16 {
        match channel {
            Channel::Shell => self.shell_port,
            Channel::Control => self.control_port,
            Channel::Stdin => self.stdin_port,
            Channel::Iopub => self.iopub_port,
            Channel::Heartbeat => self.hb_port,
        }
    }

    /// The Unix socket path of one channel of a connection over IPC. Jupyter's convention: the
    /// `ip` field, a dash and the "port".
    pub(crate) fn ipc_path(&self, channel: Channel) -> PathBuf {
        PathBuf::from(format!("{}-{}", self.ip, self.port(channel)))
    }

    /// A connection for the child: Unix sockets inside our private runtime directory, so only
    /// processes of our user that can enter the 0700 directory reach the child (and ipykernel
    /// has no reason to warn about unencrypted TCP); the same key so frames pass unchanged.
    /// Nobody else can create names in that directory, so the "ports" are fixed.
    pub fn for_child(&self, runtime: &RuntimeDir) -> Result<ConnectionInfo> {
        let info = ConnectionInfo {
            transport: "ipc".into(),
            ip: runtime.path.join("child").display().to_string(),
            shell_port: 1,
            control_port: 2,
            stdin_port: 3,
            iopub_port: 4,
            hb_port: 5,
            key: self.key.clone(),
            signature_scheme: self.signature_scheme.clone(),
            extra: self.extra.clone(),
        };
        check_socket_path(&info.ipc_path(Channel::Heartbeat))?;
        Ok(info)
    }
}

/// Unix socket paths are limited to 107 bytes: say so plainly instead of failing later.
fn check_socket_path(path: &Path) -> Result<()> {
    if path.as_os_str().len() > 100 {
        bail!(
            "the runtime directory's path is too long for Unix sockets ({}): \
             set XDG_RUNTIME_DIR or TMPDIR to a shorter directory",
            path.display()
        );
    }
    Ok(())
}

/// Name prefix of runtime directories; the pid of the proxy that made one follows it.
const PREFIX: &str = "prov-kernel-";

/// Removes runtime directories left by proxies that died without cleaning up (SIGKILL, abort).
///
/// Only real directories (never a symbolic link: `symlink_metadata` does not follow it, and
/// `remove_dir_all` does not follow links inside), owned by our user, named after a proxy pid
/// that no longer exists. A live process with a reused pid keeps its directory: harmless.
fn remove_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
            .filter(|&pid| pid > 0)
        else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_dir() || meta.uid() != me {
            continue;
        }
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            crate::debug!("removing the runtime directory of dead proxy {pid}");
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// The private directory of one proxy: the child's connection file and the child's Unix
/// sockets. Removed when dropped, and at the next start of any
/// proxy if this one could not (see `remove_stale`).
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Creates a 0700 directory under `$XDG_RUNTIME_DIR` (or the temp dir).
    pub fn create() -> Result<RuntimeDir> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        remove_stale(&base);
        let path = base.join(format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("cannot create runtime directory {}", path.display()))?;
        Ok(RuntimeDir { path })
    }

    /// Writes the child's connection file, readable by the user only.
    pub fn write_connection(&self, info: &ConnectionInfo) -> Result<PathBuf> {
        let file = self.path.join("kernel-child.json");
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        f.write_all(serde_json::to_string_pretty(info)?.as_bytes())?;
        Ok(file)
    }

    /// Removes the directory and everything in it. Safe to call more than once.
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests;
