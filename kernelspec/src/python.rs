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

/// The Python `prov-kernel run` starts ipykernel with when kernel.json names none: the
/// `python3` (or `python`) in the folder of the prov-kernel executable `kernel_exe`, which is
/// the environment pip installed prov-kernel into (its `bin/`), whatever environment the
/// Jupyter that starts the kernel runs in; else the `python3` on `$PATH` (a prov-kernel built
/// from source). `kernel_exe`'s folder is resolved through symlinks first, so a link to the
/// binary still finds its environment; the interpreter's own symlink is kept, because a venv's
/// `python3` points at the base interpreter and following it would lose the venv.
pub fn default_python(kernel_exe: &Path) -> anyhow::Result<PathBuf> {
    if let Some(beside) = beside_kernel(kernel_exe) {
        return Ok(beside);
    }
    on_path("python3", &Env::from_process()?).context(
        "no python3 beside prov-kernel or on PATH: pass --python /path/to/python \
         (in kernel.json: `prov-kernel install --python PY`)",
    )
}

/// The `python3` or `python` in the folder of `kernel_exe`'s real file, if there is one.
pub(crate) fn beside_kernel(kernel_exe: &Path) -> Option<PathBuf> {
    let dir = kernel_exe.canonicalize().ok()?.parent()?.to_path_buf();
    ["python3", "python"]
        .into_iter()
        .map(|name| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// The first executable `name` in the folders of `$PATH`.
pub(crate) fn on_path(name: &str, env: &Env) -> Option<PathBuf> {
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
pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
pub(crate) fn is_executable(path: &Path) -> bool {
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
    /// `platform.python_version()`.
    #[serde(default)]
    pub version: String,
    /// `ipykernel.__version__`, if it was imported.
    #[serde(default)]
    pub ipykernel_version: Option<String>,
}

impl Info {
    /// Whether the interpreter runs in a virtual environment.
    pub fn in_venv(&self) -> bool {
        self.prefix != self.base_prefix
    }

    /// Whether the ipykernel found is one prov-kernel can run (7 or newer: the proxy relies on
    /// its iopub welcome message). `None` when it was not imported.
    pub fn ipykernel_is_recent(&self) -> Option<bool> {
        let version = self.ipykernel_version.as_deref()?;
        let major = version.split('.').next()?.parse::<u32>().ok()?;
        Some(major >= MIN_IPYKERNEL_MAJOR)
    }
}

/// The oldest ipykernel major version prov-kernel runs.
pub(crate) const MIN_IPYKERNEL_MAJOR: u32 = 7;

const PROBE: &str = r#"
import json, platform, sys
err = None
version = None
if sys.argv[1] == "1":
    try:
        import ipykernel
        version = str(getattr(ipykernel, "__version__", "unknown"))
    except BaseException as e:
        err = "%s: %s" % (type(e).__name__, e)
print(json.dumps({"prefix": sys.prefix, "base_prefix": sys.base_prefix, "ipykernel_error": err,
                  "version": platform.python_version(), "ipykernel_version": version}))
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
