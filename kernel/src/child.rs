//! The child kernel process: what to run, starting it so it cannot outlive the proxy, and
//! passing signals on to it.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tokio::process::{Child, Command};

/// What the proxy launches behind itself.
#[derive(Debug, Clone)]
pub enum ChildCommand {
    /// `<python> -m ipykernel_launcher -f <connection file>`.
    Python(PathBuf),
    /// The argv (and env) of an installed kernelspec, named by `--wrap`.
    Wrap(kernelspec::KernelSpec),
}

impl ChildCommand {
    fn argv(&self, connection_file: &Path) -> Vec<String> {
        match self {
            ChildCommand::Python(python) => vec![
                python.display().to_string(),
                "-m".into(),
                "ipykernel_launcher".into(),
                "-f".into(),
                connection_file.display().to_string(),
            ],
            ChildCommand::Wrap(spec) => spec.command(connection_file),
        }
    }
}

/// Starts the child kernel.
///
/// The child gets its own process group, so signals Jupyter sends to our group reach the proxy
/// only, and the proxy forwards them once (see `forward_signal`). It is killed if the proxy dies:
/// by `PR_SET_PDEATHSIG`, which fires on the death of the spawning thread. We spawn from the
/// main thread, which lives as long as the process.
pub fn spawn(command: &ChildCommand, connection_file: &Path) -> Result<Child> {
    let argv = command.argv(connection_file);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).kill_on_drop(true);
    if let ChildCommand::Wrap(spec) = command {
        cmd.envs(&spec.env);
    }
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setpgid(0, 0);
            #[cfg(target_os = "linux")]
            {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // The proxy may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            Ok(())
        });
    }
    cmd.spawn()
        .with_context(|| format!("cannot start the child kernel `{}`", argv.join(" ")))
}

/// Sends `signal` to the child's process group (the child leads its own group).
pub fn forward_signal(pid: u32, signal: libc::c_int) {
    // SAFETY: plain syscalls on a pid we started.
    unsafe {
        if libc::killpg(pid as libc::pid_t, signal) != 0 {
            libc::kill(pid as libc::pid_t, signal);
        }
    }
}
