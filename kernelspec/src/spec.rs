//! Reading installed kernelspecs and finding them by name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::paths::{list_dirs, Env};

/// An installed Jupyter kernelspec: a folder holding a `kernel.json`.
///
/// prov-kernel reads one to learn how to launch the kernel it wraps
/// (`prov-kernel run --wrap NAME`), so it keeps the fields needed to start
/// that kernel the way Jupyter would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSpec {
    /// The spec's folder (Jupyter's `resource_dir`); its name is the spec's name.
    pub dir: PathBuf,
    /// The command line, with `{connection_file}` and `{resource_dir}` still
    /// to fill in; see [`KernelSpec::command`].
    pub argv: Vec<String>,
    /// The name Jupyter front ends show.
    pub display_name: String,
    /// The kernel's language, if the spec says.
    pub language: Option<String>,
    /// Environment variables to set for the kernel process.
    pub env: BTreeMap<String, String>,
    /// `"signal"` or `"message"`: how the kernel expects to be interrupted
    /// (Jupyter's default when absent is `"signal"`).
    pub interrupt_mode: Option<String>,
}

/// The fields of kernel.json that [`KernelSpec`] keeps; others are ignored.
#[derive(Deserialize)]
struct KernelJson {
    argv: Vec<String>,
    display_name: String,
    language: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    interrupt_mode: Option<String>,
}

impl KernelSpec {
    /// Reads the kernelspec in folder `dir` (its `kernel.json`).
    pub fn load(dir: &Path) -> anyhow::Result<KernelSpec> {
        let file = dir.join("kernel.json");
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let json: KernelJson = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid kernel.json", file.display()))?;
        if json.argv.is_empty() {
            bail!("{} has an empty argv", file.display());
        }
        Ok(KernelSpec {
            dir: dir.to_path_buf(),
            argv: json.argv,
            display_name: json.display_name,
            language: json.language,
            env: json.env,
            interrupt_mode: json.interrupt_mode,
        })
    }

    /// The command that starts this kernel on `connection_file`: `argv` with
    /// `{connection_file}` and `{resource_dir}` (= [`KernelSpec::dir`])
    /// replaced, as Jupyter does before launching a kernel.
    pub fn command(&self, connection_file: &Path) -> Vec<String> {
        let conn = connection_file.to_string_lossy();
        let dir = self.dir.to_string_lossy();
        self.argv
            .iter()
            .map(|a| {
                a.replace("{connection_file}", &conn)
                    .replace("{resource_dir}", &dir)
            })
            .collect()
    }

    /// Whether launching this spec runs prov-kernel: some argv word names a
    /// file called `prov-kernel`, or the same file as `kernel_exe`. Wrapping
    /// such a spec would make prov-kernel start itself without end.
    pub(crate) fn runs_prov_kernel(&self, kernel_exe: Option<&Path>) -> bool {
        let exe = kernel_exe.and_then(|e| e.canonicalize().ok());
        self.argv.iter().any(|word| {
            let path = Path::new(word);
            let named = path.file_stem().is_some_and(|s| s == "prov-kernel");
            named || (exe.is_some() && path.canonicalize().ok() == exe)
        })
    }
}

/// Finds the installed kernelspec called `name` along Jupyter's search path,
/// so prov-kernel can launch the kernel it was installed to wrap.
///
/// The search path is, highest priority first: each `$JUPYTER_PATH` entry,
/// Jupyter's user data dir, `share/jupyter` in the active environment
/// (`$VIRTUAL_ENV`, else `$CONDA_PREFIX`), `/usr/local/share/jupyter`,
/// `/usr/share/jupyter`; each with `/kernels` appended. As in jupyter_core 5,
/// the environment comes before the user dir inside a virtual environment or
/// when `$JUPYTER_PREFER_ENV_PATH` is set. Names match case-insensitively, as
/// in Jupyter. A missing spec's error lists the names that were found.
pub fn find(name: &str) -> anyhow::Result<KernelSpec> {
    find_in(name, &Env::from_process()?.kernel_dirs())
}

/// [`find`] over an explicit list of `kernels` folders.
pub(crate) fn find_in(name: &str, kernel_dirs: &[PathBuf]) -> anyhow::Result<KernelSpec> {
    validate_name(name)?;
    for dir in kernel_dirs {
        if let Some(found) = spec_dir_in(dir, name) {
            return KernelSpec::load(&found);
        }
    }
    let names = names_in(kernel_dirs);
    let found = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    bail!(
        "no kernelspec named `{name}`; kernelspecs found: {found} (searched {}). \
         Install it first, or pick one of the names found",
        list_dirs(kernel_dirs)
    )
}

/// The folder of spec `name` in `kernels_dir`, matching names as Jupyter does
/// (case-insensitively, valid names only, with a `kernel.json`).
pub(crate) fn spec_dir_in(kernels_dir: &Path, name: &str) -> Option<PathBuf> {
    let wanted = name.to_ascii_lowercase();
    spec_dirs_in(kernels_dir)
        .into_iter()
        .find(|(n, _)| *n == wanted)
        .map(|(_, d)| d)
}

/// The specs in one `kernels` folder, as (lower-cased name, folder).
fn spec_dirs_in(kernels_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(kernels_dir) else {
        return Vec::new();
    };
    let mut specs: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let dir = e.path();
            let ok = is_valid_name(&name) && dir.join("kernel.json").is_file();
            ok.then(|| (name.to_ascii_lowercase(), dir))
        })
        .collect();
    specs.sort();
    specs
}

/// The sorted, de-duplicated spec names in `kernel_dirs`.
fn names_in(kernel_dirs: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = kernel_dirs
        .iter()
        .flat_map(|d| spec_dirs_in(d))
        .map(|(n, _)| n)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// Checks a kernel name against Jupyter's rule: ASCII letters, digits, `-`,
/// `.` and `_`.
pub(crate) fn validate_name(name: &str) -> anyhow::Result<()> {
    if !is_valid_name(name) || name == "." || name == ".." {
        bail!(
            "`{name}` is not a valid kernel name: use only ASCII letters, digits, `-`, `.` and `_` \
             (for example `python-prov`)"
        );
    }
    Ok(())
}
