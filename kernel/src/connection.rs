//! Connection files: reading the one Jupyter hands us, and writing the private one the child
//! kernel gets.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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

    /// The ZeroMQ endpoint of one channel.
    pub fn endpoint(&self, channel: Channel) -> String {
        let port = match channel {
            Channel::Shell => self.shell_port,
            Channel::Control => self.control_port,
            Channel::Stdin => self.stdin_port,
            Channel::Iopub => self.iopub_port,
            Channel::Heartbeat => self.hb_port,
        };
        format!("{}://{}:{}", self.transport, self.ip, port)
    }

    /// A connection for the child: loopback, the same key so frames pass unchanged.
    ///
    /// With `ChildPorts::ChosenByChild` every port is 0: ipykernel then binds free ports itself
    /// and writes them back into the file, so no other process can take a port between our
    /// choosing it and the child binding it. Other kernels (`--wrap`) may not do that, so for
    /// them ports are reserved by binding and released just before the child starts (holding
    /// them would let the child inherit the sockets).
    pub fn for_child(&self, ports: ChildPorts) -> Result<ConnectionInfo> {
        let ports: Vec<u16> = match ports {
            ChildPorts::ChosenByChild => vec![0; 5],
            ChildPorts::Reserved => {
                let listeners: Vec<TcpListener> = (0..5)
                    .map(|_| TcpListener::bind(("127.0.0.1", 0)))
                    .collect::<std::io::Result<_>>()
                    .context("cannot reserve loopback ports for the child kernel")?;
                listeners
                    .iter()
                    .map(|l| l.local_addr().map(|a| a.port()))
                    .collect::<std::io::Result<_>>()?
            }
        };
        Ok(ConnectionInfo {
            transport: "tcp".into(),
            ip: "127.0.0.1".into(),
            shell_port: ports[0],
            control_port: ports[1],
            stdin_port: ports[2],
            iopub_port: ports[3],
            hb_port: ports[4],
            key: self.key.clone(),
            signature_scheme: self.signature_scheme.clone(),
            extra: self.extra.clone(),
        })
    }
}

/// Who picks the child's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildPorts {
    /// ipykernel binds free ports and writes them into its connection file.
    ChosenByChild,
    /// We pick free ports for a kernel that may not write its ports back.
    Reserved,
}

impl ConnectionInfo {
    /// Whether every port is known (not 0).
    pub fn ports_known(&self) -> bool {
        [
            self.shell_port,
            self.control_port,
            self.stdin_port,
            self.iopub_port,
            self.hb_port,
        ]
        .iter()
        .all(|&p| p != 0)
    }

    /// Reads the child's connection file once it holds real ports; `None` while it does not
    /// (not yet written back, or caught half-written).
    pub fn read_bound(path: &Path) -> Option<ConnectionInfo> {
        let text = fs::read_to_string(path).ok()?;
        let info: ConnectionInfo = serde_json::from_str(&text).ok()?;
        info.ports_known().then_some(info)
    }
}

/// Name prefix of runtime directories; the pid of the proxy that made one follows it.
const PREFIX: &str = "prov-kernel-";

/// Removes runtime directories left by proxies that were killed (SIGKILL skips cleanup).
fn remove_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A private directory for the child's connection file, removed when dropped.
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
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn child_connection_is_private_and_keeps_the_key() {
        let parent: ConnectionInfo = serde_json::from_str(
            r#"{"ip":"0.0.0.0","shell_port":1,"control_port":2,"stdin_port":3,"iopub_port":4,
                "hb_port":5,"key":"k","signature_scheme":"hmac-sha256","kernel_name":"x"}"#,
        )
        .unwrap();
        let child = parent.for_child(ChildPorts::Reserved).unwrap();
        assert!(child.ports_known());
        assert!(!parent
            .for_child(ChildPorts::ChosenByChild)
            .unwrap()
            .ports_known());
        assert_eq!(child.ip, "127.0.0.1");
        assert_eq!(child.key, "k");
        assert_eq!(child.extra["kernel_name"], "x");
        let dir = RuntimeDir::create().unwrap();
        let file = dir.write_connection(&child).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        drop(dir);
        assert!(!file.exists(), "removed on drop");
    }
}
