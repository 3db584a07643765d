//! Finding the Python interpreter a kernelspec should launch, and asking it
//! about itself (prefix, virtual environment, ipykernel).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::paths::Env;

/// The interpreter to record in kernel.json, as an absolute path.
///
/// Without `given`, this is the `python3` found on `$PATH`. Only the folder is
/// canonicalized: the file itself is kept as found, because a venv's `python`
/// is a symlink to the base interpreter and following it would lose the venv.
/// A bare name (`--python python3.12`) is looked up on `$PATH` too.
pub(crate) fn resolve(given: Option<&Path>, env: &Env) -> anyhow::Result<PathBuf> {
    let Some(given) = given else {
        return on_path("python3", env)
            .context("no python3 on PATH; pass --python /path/to/python");
    };
    if given.components().count() == 1 && !given.is_absolute() {
        let name = given.to_string_lossy();
        return on_path(&name, env).with_context(|| {
            format!("no {name} on PATH; pass --python with the interpreter's full path")
        });
    }
    let path = env.absolute(given);
    if !path.is_file() {
        bail!(
            "--python {}: no such file; pass the path of a Python interpreter",
            given.display()
        );
    }
    canonical_dir(&path)
}

/// The first executable `name` in the folders of `$PATH`.
fn on_path(name: &str, env: &Env) -> Option<PathBuf> {
    std::env::split_paths(env.path.as_ref()?)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|dir| env.absolute(&dir).join(name))
        .find(|candidate| is_executable(candidate))
        .and_then(|found| canonical_dir(&found).ok())
}

/// `path` with its parent folder canonicalized and its file name kept.
fn canonical_dir(path: &Path) -> anyhow::Result<PathBuf> {
    let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
        bail!("{} is not a file path", path.display());
    };
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve folder {}", dir.display()))?;
    Ok(dir.join(file))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// What an interpreter says about itself.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Info {
    /// `sys.prefix`: where a `--sys-prefix` install goes.
    pub prefix: PathBuf,
    /// `sys.base_prefix`: differs from `prefix` inside a virtual environment.
    pub base_prefix: PathBuf,
    /// Why `import ipykernel` failed, if it was tried and did.
    pub ipykernel_error: Option<String>,
}

impl Info {
    /// Whether the interpreter runs in a virtual environment.
    pub fn in_venv(&self) -> bool {
        self.prefix != self.base_prefix
    }
}

const PROBE: &str = r#"
import json, sys
err = None
if sys.argv[1] == "1":
    try:
        import ipykernel
    except BaseException as e:
        err = "%s: %s" % (type(e).__name__, e)
print(json.dumps({"prefix": sys.prefix, "base_prefix": sys.base_prefix, "ipykernel_error": err}))
"#;

/// Runs `python` to learn its prefixes and, with `check_ipykernel`, whether
/// `import ipykernel` works (the kernel it launches needs it).
pub(crate) fn probe(python: &Path, check_ipykernel: bool) -> anyhow::Result<Info> {
    let out = Command::new(python)
        .args(["-c", PROBE, if check_ipykernel { "1" } else { "0" }])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run {}; pass --python /path/to/python",
                python.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().next_back().unwrap_or_default();
    match serde_json::from_str(last) {
        Ok(info) if out.status.success() => Ok(info),
        _ => bail!(
            "{} does not work as a Python interpreter ({}): {}; pass --python /path/to/python",
            python.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

/// Like [`probe`] with the ipykernel check, failing with the command that
/// installs ipykernel when it is missing.
pub(crate) fn probe_for_kernel(python: &Path) -> anyhow::Result<Info> {
    let info = probe(python, true)?;
    if let Some(err) = &info.ipykernel_error {
        let p = python.display();
        bail!("python {p} does not have ipykernel installed: run `{p} -m pip install ipykernel` ({err})");
    }
    Ok(info)
}
