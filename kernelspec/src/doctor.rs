//! `prov-kernel doctor`: what a prov-kernel finds around it (itself, the Python it would run,
//! the store, the kernelspecs of its name) and what to fix. A kernel that does not start shows
//! in JupyterLab as a dead kernel with no reason; this says why, from a shell.
//!
//! [`doctor`] gathers plain data into a [`Report`]; its `Display` renders it as text.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::paths::{list_dirs, share_jupyter, Env};
use crate::python::{self, Info, MIN_IPYKERNEL_MAJOR};
use crate::spec::{spec_dir_in, KernelSpec};
use crate::DEFAULT_NAME;

/// Options of `prov-kernel doctor`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct DoctorArgs {
    /// The kernelspec name to look for
    #[arg(long, default_value = DEFAULT_NAME)]
    pub(crate) name: String,
}

/// What `prov-kernel doctor` found. Healthy when [`Report::problems`] is empty.
#[derive(Debug, Clone)]
pub struct Report {
    /// The running prov-kernel executable and its version.
    pub(crate) exe: PathBuf,
    /// Its version.
    pub(crate) version: String,
    /// The Python `prov-kernel run` starts when kernel.json names none.
    pub(crate) default_python: Result<PythonFound, String>,
    /// The store a kernel started in the current folder writes to.
    pub(crate) store: StoreFound,
    /// The kernelspec name looked for.
    pub(crate) name: String,
    /// The `kernels` folders searched, in Jupyter's order, then this binary's environment.
    pub(crate) searched: Vec<PathBuf>,
    /// The kernelspecs of that name, in search order.
    pub(crate) specs: Vec<SpecFound>,
    /// What is broken, each with its fix.
    pub(crate) problems: Vec<Problem>,
}

/// A Python interpreter, why it is the one, and what it said about itself.
#[derive(Debug, Clone)]
pub(crate) struct PythonFound {
    /// The interpreter.
    pub(crate) path: PathBuf,
    /// Why this one ("beside prov-kernel", "--python in kernel.json", ...).
    pub(crate) why: String,
    /// Its answer, or why it could not be run.
    pub(crate) info: Result<Info, String>,
}

/// The store location and whether a kernel can write it.
#[derive(Debug, Clone)]
pub(crate) struct StoreFound {
    /// The store file.
    pub(crate) path: PathBuf,
    /// Where the location comes from.
    pub(crate) why: String,
    /// Its state ("exists, writable"), or why a kernel cannot write it.
    pub(crate) state: Result<String, String>,
}

/// One installed kernelspec of the name looked for.
#[derive(Debug, Clone)]
pub(crate) struct SpecFound {
    /// Its folder.
    pub(crate) dir: PathBuf,
    /// Which Jupyter picks it: "used by Jupyter started here", "shadowed", ...
    pub(crate) standing: String,
    /// What it launches.
    pub(crate) runs: Runs,
    /// The Python it runs ipykernel with (none with `--wrap` or when it cannot run).
    pub(crate) python: Option<PythonFound>,
    /// `--wrap NAME` and the wrapped spec's folder, or why it was not found.
    pub(crate) wrap: Option<(String, Result<PathBuf, String>)>,
}

/// What a kernelspec's argv launches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Runs {
    /// This very prov-kernel.
    ThisBinary,
    /// Another prov-kernel executable, with what its `--version` said.
    OtherBinary(PathBuf, Option<String>),
    /// A prov-kernel path that is not there (or not executable).
    Missing(PathBuf),
    /// Something that is not prov-kernel: the argv.
    NotProv(String),
    /// The kernel.json could not be read: why.
    Unreadable(String),
}

/// Something broken and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// What is wrong.
    pub(crate) what: String,
    /// The command or step that fixes it.
    pub(crate) fix: String,
}

impl Report {
    /// Whether nothing is broken.
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Looks at prov-kernel `exe` (version `version`), the store `store` (with where that location
/// comes from) and the kernelspecs named `args.name` on Jupyter's search path plus `exe`'s own
/// environment, and says what is broken.
pub fn doctor(
    args: &DoctorArgs,
    exe: &Path,
    version: &str,
    store: (&Path, &str),
) -> anyhow::Result<Report> {
    crate::spec::validate_name(&args.name)?;
    let env = Env::from_process()?;
    let mut probes = Probes::default();
    let mut problems = Vec::new();
    let store = check_store(store.0, store.1);
    if let Err(why) = &store.state {
        problems.push(Problem {
            what: format!(
                "the store {} cannot be written: {why}",
                store.path.display()
            ),
            fix: "make that folder writable, or set PROV_DB to a writable path".into(),
        });
    }
    let jupyter_dirs = env.kernel_dirs();
    let mut searched = jupyter_dirs.clone();
    // Where pip put the wheel's kernelspec: <prefix>/share/jupyter/kernels beside <prefix>/bin.
    let own_env = exe
        .canonicalize()
        .ok()
        .and_then(|e| Some(share_jupyter(e.parent()?.parent()?).join("kernels")));
    searched.extend(own_env.filter(|d| !jupyter_dirs.contains(d)));
    let mut specs = Vec::new();
    for (i, dir) in searched.iter().enumerate() {
        let Some(spec_dir) = spec_dir_in(dir, &args.name) else {
            continue;
        };
        let standing = if i >= jupyter_dirs.len() {
            "in this prov-kernel's environment: the Jupyter installed there uses it".to_string()
        } else if specs.is_empty() {
            "the one Jupyter started from this shell uses".to_string()
        } else {
            "shadowed by the one above, for Jupyter started from this shell".to_string()
        };
        specs.push(check_spec(
            spec_dir,
            standing,
            exe,
            &env,
            &mut probes,
            &mut problems,
        ));
    }
    if specs.is_empty() {
        problems.push(Problem {
            what: format!(
                "no kernelspec named `{}`: Jupyter will not offer \"Python (prov)\"",
                args.name
            ),
            fix: "`pip install prov-kernel` (the wheel) into the environment that runs JupyterLab, \
                  or `prov-kernel install --sys-prefix --python PY` there; for a JupyterLab \
                  of another environment, start it with JUPYTER_PATH=<this environment>/share/jupyter"
                .into(),
        });
    }
    let default_python = python::default_python(exe)
        .map(|path| {
            let why = why_default(exe, &path);
            probes.found(path, why)
        })
        .map_err(|e| format!("{e:#}"));
    Ok(Report {
        exe: exe.to_path_buf(),
        version: version.to_string(),
        default_python,
        store,
        name: args.name.clone(),
        searched,
        specs,
        problems,
    })
}

/// Interpreters already asked, so each runs once.
#[derive(Default)]
struct Probes(HashMap<PathBuf, Result<Info, String>>);

impl Probes {
    fn found(&mut self, path: PathBuf, why: String) -> PythonFound {
        let info = self
            .0
            .entry(path.clone())
            .or_insert_with(|| python::probe(&path, true).map_err(|e| format!("{e:#}")))
            .clone();
        PythonFound { path, why, info }
    }
}

fn why_default(kernel: &Path, python: &Path) -> String {
    if python::beside_kernel(kernel).as_deref() == Some(python) {
        "beside prov-kernel".into()
    } else {
        "python3 on PATH here; a kernel started by Jupyter looks on Jupyter's PATH".into()
    }
}

fn check_spec(
    dir: PathBuf,
    standing: String,
    exe: &Path,
    env: &Env,
    probes: &mut Probes,
    problems: &mut Vec<Problem>,
) -> SpecFound {
    let mut found = SpecFound {
        dir: dir.clone(),
        standing,
        runs: Runs::ThisBinary,
        python: None,
        wrap: None,
    };
    let reinstall = "remove it (`jupyter kernelspec remove NAME`, or `pip uninstall prov-kernel` \
                     if pip installed it) and install again";
    let spec = match KernelSpec::load(&dir) {
        Ok(spec) => spec,
        Err(e) => {
            found.runs = Runs::Unreadable(format!("{e:#}"));
            problems.push(Problem {
                what: format!("kernelspec {} cannot be read: {e:#}", dir.display()),
                fix: reinstall.replace("NAME", &spec_name(&dir)),
            });
            return found;
        }
    };
    if !spec.runs_prov_kernel(Some(exe)) {
        found.runs = Runs::NotProv(spec.argv.join(" "));
        problems.push(Problem {
            what: format!(
                "kernelspec {} does not run prov-kernel (it runs `{}`)",
                dir.display(),
                spec.argv.join(" ")
            ),
            fix: format!(
                "remove it with `jupyter kernelspec remove {}`",
                spec_name(&dir)
            ),
        });
        return found;
    }
    let argv0 = spec.argv[0].replace("{resource_dir}", &dir.to_string_lossy());
    let binary = if argv0.contains('/') {
        Some(dir.join(&argv0))
    } else {
        python::on_path(&argv0, env)
    };
    let Some(binary) = binary.filter(|b| python::is_executable(b)) else {
        found.runs = Runs::Missing(PathBuf::from(&argv0));
        problems.push(Problem {
            what: format!(
                "kernelspec {} runs {argv0}, which is not there: the kernel cannot start",
                dir.display()
            ),
            fix: reinstall.replace("NAME", &spec_name(&dir)),
        });
        return found;
    };
    let same = binary.canonicalize().ok() == exe.canonicalize().ok();
    if !same {
        found.runs = Runs::OtherBinary(binary.clone(), version_of(&binary));
    }
    let flag = |name: &str| {
        let at = spec.argv.iter().position(|a| a == name)?;
        spec.argv.get(at + 1).cloned()
    };
    if let Some(wrapped) = flag("--wrap") {
        let dirs = env.kernel_dirs();
        let target = crate::spec::find_in(&wrapped, &dirs)
            .map(|s| s.dir)
            .map_err(|e| format!("{e:#}"));
        if let Err(why) = &target {
            problems.push(Problem {
                what: format!("kernelspec {} wraps `{wrapped}`: {why}", dir.display()),
                fix: format!(
                    "install the kernelspec `{wrapped}`, or install prov's again without --wrap"
                ),
            });
        }
        found.wrap = Some((wrapped, target));
        return found;
    }
    let python = match flag("--python") {
        Some(p) => Ok(probes.found(PathBuf::from(p), "--python in kernel.json".into())),
        None => python::default_python(&binary)
            .map(|p| {
                let why = why_default(&binary, &p);
                probes.found(p, why)
            })
            .map_err(|e| format!("{e:#}")),
    };
    match &python {
        Ok(py) => problems.extend(python_problem(&dir, py)),
        Err(why) => problems.push(Problem {
            what: format!("kernelspec {} has no Python to run: {why}", dir.display()),
            fix: "install prov-kernel into a Python environment (`pip install prov-kernel`), or \
                  `prov-kernel install --python PY`"
                .into(),
        }),
    }
    found.python = python.ok();
    found
}

/// The problem with the Python a kernelspec runs, if any: not runnable, no ipykernel, or one
/// too old.
fn python_problem(dir: &Path, py: &PythonFound) -> Option<Problem> {
    let p = py.path.display();
    let install = format!("`{p} -m pip install 'ipykernel>={MIN_IPYKERNEL_MAJOR}'`");
    let what = match &py.info {
        Err(why) => {
            return Some(Problem {
                what: format!("kernelspec {} runs Python {p}, which does not work: {why}", dir.display()),
                fix: "install the kernelspec again with a working Python: \
                      `prov-kernel install --python PY` (or `pip install prov-kernel` into that environment)"
                    .into(),
            })
        }
        Ok(info) => match (&info.ipykernel_error, info.ipykernel_is_recent()) {
            (Some(err), _) => format!("Python {p} has no ipykernel ({err})"),
            (None, Some(false)) => format!(
                "Python {p} has ipykernel {}, prov-kernel needs {MIN_IPYKERNEL_MAJOR} or newer",
                info.ipykernel_version.as_deref().unwrap_or("?")
            ),
            _ => return None,
        },
    };
    Some(Problem {
        what: format!("{what}: kernelspec {} cannot start", dir.display()),
        fix: install,
    })
}

/// What `binary --version` prints, if it answers.
fn version_of(binary: &Path) -> Option<String> {
    let out = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn spec_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether a kernel started here could write the store at `path`.
fn check_store(path: &Path, why: &str) -> StoreFound {
    let state = if path.exists() {
        if !path.is_file() {
            Err("it is not a file".to_string())
        } else if writable(path) {
            Ok("exists, writable".to_string())
        } else {
            Err("it exists but is not writable".to_string())
        }
    } else {
        match path.ancestors().skip(1).find(|a| a.exists()) {
            Some(a) if !a.is_dir() => Err(format!("{} is not a folder", a.display())),
            Some(a) if !writable(a) => Err(format!("{} is not writable", a.display())),
            Some(_) => Ok("not there yet: created at the first execution".to_string()),
            None => Err("no part of its path exists".to_string()),
        }
    };
    StoreFound {
        path: path.to_path_buf(),
        why: why.to_string(),
        state,
    }
}

#[cfg(unix)]
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let mode = if path.is_dir() {
        libc::W_OK | libc::X_OK
    } else {
        libc::W_OK
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), mode) == 0 }
}

#[cfg(not(unix))]
fn writable(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| !m.permissions().readonly())
}

impl fmt::Display for PythonFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): ", self.path.display(), self.why)?;
        match &self.info {
            Err(why) => write!(f, "does not work: {why}"),
            Ok(info) => {
                write!(f, "Python {}, ", info.version)?;
                match (&info.ipykernel_version, &info.ipykernel_error) {
                    (Some(v), _) => write!(f, "ipykernel {v}"),
                    (None, Some(_)) => write!(f, "no ipykernel"),
                    (None, None) => write!(f, "ipykernel not checked"),
                }
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "prov-kernel {}: {}", self.version, self.exe.display())?;
        match &self.default_python {
            Ok(py) => writeln!(f, "Python when kernel.json names none: {py}")?,
            Err(why) => writeln!(f, "Python when kernel.json names none: none found: {why}")?,
        }
        let state = match &self.store.state {
            Ok(s) => s.clone(),
            Err(e) => format!("NOT WRITABLE: {e}"),
        };
        writeln!(
            f,
            "Store: {} ({}): {state}",
            self.store.path.display(),
            self.store.why
        )?;
        if self.specs.is_empty() {
            writeln!(f, "Kernelspecs named `{}`: none", self.name)?;
        } else {
            writeln!(
                f,
                "Kernelspecs named `{}`, in Jupyter's search order:",
                self.name
            )?;
        }
        for spec in &self.specs {
            writeln!(f, "  {} ({})", spec.dir.display(), spec.standing)?;
            let runs = match &spec.runs {
                Runs::ThisBinary => "this prov-kernel".to_string(),
                Runs::OtherBinary(p, v) => format!(
                    "ANOTHER prov-kernel: {} ({})",
                    p.display(),
                    v.as_deref().unwrap_or("its --version did not answer")
                ),
                Runs::Missing(p) => format!("{}, which is NOT THERE", p.display()),
                Runs::NotProv(argv) => format!("`{argv}`, which is NOT prov-kernel"),
                Runs::Unreadable(why) => format!("nothing: {why}"),
            };
            writeln!(f, "    runs: {runs}")?;
            if let Some(py) = &spec.python {
                writeln!(f, "    Python: {py}")?;
            }
            if let Some((name, target)) = &spec.wrap {
                match target {
                    Ok(dir) => writeln!(f, "    wraps: `{name}` ({})", dir.display())?,
                    Err(why) => writeln!(f, "    wraps: `{name}`, NOT FOUND: {why}")?,
                }
            }
        }
        writeln!(f, "Searched: {}", list_dirs(&self.searched))?;
        writeln!(f)?;
        if self.problems.is_empty() {
            return writeln!(
                f,
                "No problems found: Jupyter finds `{}` and can start it.",
                self.name
            );
        }
        let n = self.problems.len();
        writeln!(f, "{n} problem{}:", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            writeln!(f, "  - {}\n    fix: {}", p.what, p.fix)?;
        }
        Ok(())
    }
}
