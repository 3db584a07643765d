//! Jupyter kernelspec install, uninstall and lookup for prov-kernel.
//!
//! Jupyter finds kernels through kernelspecs: folders holding a `kernel.json`
//! with the command line to launch. This crate writes the kernelspec that
//! makes Jupyter launch `prov-kernel run` ([`install`]), removes it again
//! ([`uninstall`]), and finds other installed kernelspecs ([`find`]) so that
//! `prov-kernel run --wrap NAME` can launch the kernel it proxies.

#![warn(missing_docs)]

mod doctor;
mod paths;
mod python;
mod spec;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

pub use doctor::{doctor, DoctorArgs, Report};
use paths::{share_jupyter, Env};
pub use python::default_python;
pub use spec::{find, KernelSpec};

/// The kernelspec name used when `--name` is not given.
pub const DEFAULT_NAME: &str = "python-prov";
/// The display name used when `--display-name` is not given.
pub const DEFAULT_DISPLAY_NAME: &str = "Python (prov)";

/// The logo files Jupyter front ends show, written beside kernel.json.
const LOGOS: [(&str, &[u8]); 3] = [
    ("logo-32x32.png", include_bytes!("../assets/logo-32x32.png")),
    ("logo-64x64.png", include_bytes!("../assets/logo-64x64.png")),
    ("logo-svg.svg", include_bytes!("../assets/logo-svg.svg")),
];

/// Which kernelspec folder to use: the flags shared by `install` and
/// `uninstall`, at most one of them.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
#[group(multiple = false)]
pub struct LocationArgs {
    /// Jupyter's per-user data dir ($JUPYTER_DATA_DIR, else
    /// ~/.local/share/jupyter or $XDG_DATA_HOME/jupyter; ~/Library/Jupyter on macOS)
    #[arg(long)]
    pub user: bool,
    /// The Python environment's own data dir: <sys.prefix>/share/jupyter
    #[arg(long)]
    pub sys_prefix: bool,
    /// DIR/share/jupyter, for an installation prefix of your choice
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
}

/// Make prov-kernel available to Jupyter as a kernel, by writing a kernelspec
/// (the options of `prov-kernel install`).
///
/// Where the kernelspec goes: `--user`, `--sys-prefix` or `--prefix DIR` when
/// given. Otherwise the default follows the Python environment: if the
/// interpreter runs in a virtual environment (its `sys.prefix` differs from
/// `sys.base_prefix`), the spec goes to `<sys.prefix>/share/jupyter/kernels`,
/// where that environment's Jupyter finds it; else, if `$VIRTUAL_ENV` is set,
/// to `$VIRTUAL_ENV/share/jupyter/kernels`; else to the user data dir. With
/// `--wrap`, the interpreter asked is the wrapped spec's own `python*` when it
/// has one, else the `python3` on `$PATH`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct InstallArgs {
    /// Where to write the kernelspec (see above for the default).
    #[command(flatten)]
    pub location: LocationArgs,
    /// The kernelspec's name (ASCII letters, digits, '-', '.', '_')
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
    /// The name Jupyter shows for the kernel
    #[arg(long, default_value = DEFAULT_DISPLAY_NAME)]
    pub display_name: String,
    /// The Python (with ipykernel) that prov-kernel runs `-m ipykernel_launcher` with
    /// [default: the python3 beside prov-kernel, as in the environment pip installed it into,
    /// else the python3 on PATH]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Launch the kernel of this installed kernelspec instead of ipykernel
    #[arg(long, value_name = "KERNELSPEC", conflicts_with = "python")]
    pub wrap: Option<String>,
}

impl Default for InstallArgs {
    /// The options as `prov-kernel install` with no flags parses them.
    fn default() -> Self {
        InstallArgs {
            location: LocationArgs::default(),
            name: DEFAULT_NAME.into(),
            display_name: DEFAULT_DISPLAY_NAME.into(),
            python: None,
            wrap: None,
        }
    }
}

/// Remove prov-kernel's kernelspec, so Jupyter stops offering it (the options
/// of `prov-kernel uninstall`).
///
/// Without a location flag it is removed from every folder on Jupyter's search
/// path (plus the sys.prefix of the `python3` on `$PATH`) where it is found.
/// Same-named kernelspecs that do not run prov-kernel are left alone.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct UninstallArgs {
    /// Where to remove the kernelspec from (default: everywhere it is found).
    #[command(flatten)]
    pub location: LocationArgs,
    /// The kernelspec's name
    #[arg(long, default_value = DEFAULT_NAME)]
    pub name: String,
}

impl Default for UninstallArgs {
    /// The options as `prov-kernel uninstall` with no flags parses them.
    fn default() -> Self {
        UninstallArgs {
            location: LocationArgs::default(),
            name: DEFAULT_NAME.into(),
        }
    }
}

/// What [`install`] did, for the caller to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The name the spec was installed under (lower-cased, as Jupyter does).
    pub name: String,
    /// The kernelspec folder written (holding kernel.json and the logos).
    pub dir: PathBuf,
    /// Whether a kernelspec of the same name was there and got replaced.
    pub replaced: bool,
    /// Why the spec went to this folder (which flag or default rule).
    pub location: String,
    /// The argv written to kernel.json.
    pub argv: Vec<String>,
}

impl fmt::Display for Installed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Installed kernelspec `{}` in {}",
            self.name,
            self.dir.display()
        )?;
        if self.replaced {
            write!(f, " (replaced the existing kernelspec of that name)")?;
        }
        writeln!(f, "\n  location: {}", self.location)?;
        write!(f, "  command: {}", self.argv.join(" "))
    }
}

/// What [`uninstall`] did, for the caller to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The kernelspec name that was removed.
    pub name: String,
    /// The kernelspec folders deleted.
    pub dirs: Vec<PathBuf>,
    /// Same-named kernelspecs left alone because they do not run
    /// prov-kernel, with the reason.
    pub kept: Vec<(PathBuf, String)>,
}

impl fmt::Display for Removed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Removed kernelspec `{}` from:", self.name)?;
        for d in &self.dirs {
            write!(f, "\n  {}", d.display())?;
        }
        for (d, why) in &self.kept {
            write!(f, "\nKept {} ({why})", d.display())?;
        }
        Ok(())
    }
}

/// Writes a kernelspec whose kernel.json launches `kernel_exe run` (the
/// absolute path of the running prov-kernel), so Jupyter can start
/// prov-kernel. See [`InstallArgs`] for where it goes.
///
/// Checks the interpreter has ipykernel (unless `--wrap`), refuses to wrap a
/// spec that itself runs prov-kernel, and replaces an existing spec of the
/// same name (saying so in the result).
pub fn install(args: &InstallArgs, kernel_exe: &Path) -> anyhow::Result<Installed> {
    install_with(args, kernel_exe, &Env::from_process()?)
}

/// Removes the kernelspec `args.name` so Jupyter no longer offers it; see
/// [`UninstallArgs`] for where it looks. Same-named specs that do not run
/// prov-kernel are kept. Fails if nothing was removed.
pub fn uninstall(args: &UninstallArgs) -> anyhow::Result<Removed> {
    let exe = std::env::current_exe().ok();
    uninstall_with(args, &Env::from_process()?, exe.as_deref())
}

/// A Python interpreter and what it said about itself.
type Interpreter = (PathBuf, python::Info);

fn install_with(args: &InstallArgs, kernel_exe: &Path, env: &Env) -> anyhow::Result<Installed> {
    spec::validate_name(&args.name)?;
    let name = args.name.to_ascii_lowercase();
    if !kernel_exe.is_absolute() {
        bail!(
            "the prov-kernel path {} must be absolute",
            kernel_exe.display()
        );
    }
    let exe = utf8(kernel_exe)?;
    let (tail, interpreter) = match &args.wrap {
        Some(wrapped) => {
            let spec = spec::find_in(wrapped, &env.kernel_dirs())?;
            if spec.runs_prov_kernel(Some(kernel_exe)) {
                bail!(
                    "kernelspec `{wrapped}` in {} runs prov-kernel itself ({}); wrapping it would \
                     make prov-kernel launch itself forever. Wrap a plain kernel such as `python3`",
                    spec.dir.display(),
                    spec.argv.join(" ")
                );
            }
            let interpreter = if needs_interpreter(&args.location) {
                wrap_interpreter(&spec, env)
            } else {
                None
            };
            (["--wrap".to_string(), wrapped.clone()], interpreter)
        }
        None => {
            let beside = args
                .python
                .is_none()
                .then(|| python::beside_kernel(kernel_exe))
                .flatten();
            let python = match beside {
                Some(python) => python,
                None => python::resolve(args.python.as_deref(), env)?,
            };
            let info = python::probe_for_kernel(&python)?;
            (
                ["--python".to_string(), utf8(&python)?.to_string()],
                Some((python, info)),
            )
        }
    };
    let (kernels_dir, location) = install_location(&args.location, interpreter.as_ref(), env)?;
    let mut argv = vec![exe.to_string(), "run".into()];
    argv.extend(tail);
    argv.extend(["-f".into(), "{connection_file}".into()]);
    let (dir, replaced) = write_spec(&kernels_dir, &name, &kernel_json(&argv, &args.display_name))?;
    Ok(Installed {
        name,
        dir,
        replaced,
        location,
        argv,
    })
}

/// The kernel.json of a prov kernelspec that runs `argv`. The wheel's own kernel.json
/// (packaging/, see ARCHITECTURE.md) is this with a `{resource_dir}`-relative argv; a test
/// keeps the two the same.
fn kernel_json(argv: &[String], display_name: &str) -> serde_json::Value {
    serde_json::json!({
        "argv": argv,
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": true},
        "kernel_protocol_version": "5.3",
    })
}

/// Whether choosing the install folder needs to ask a Python interpreter.
fn needs_interpreter(location: &LocationArgs) -> bool {
    !location.user && location.prefix.is_none()
}

/// The interpreter that decides `--sys-prefix` and the default location for
/// `--wrap`: the wrapped spec's `python*` executable if it answers, else the
/// `python3` on PATH. Other programs are never run with guessed arguments.
fn wrap_interpreter(spec: &KernelSpec, env: &Env) -> Option<Interpreter> {
    let argv0 = Path::new(&spec.argv[0]);
    let is_python = argv0
        .file_name()
        .is_some_and(|f| f.to_string_lossy().starts_with("python"));
    let from_spec = is_python
        .then(|| path_interpreter(Some(argv0), env))
        .flatten();
    from_spec.or_else(|| path_interpreter(None, env))
}

/// `python` (default: python3 on PATH) and its prefixes, if it can be run.
fn path_interpreter(python: Option<&Path>, env: &Env) -> Option<Interpreter> {
    let path = python::resolve(python, env).ok()?;
    let info = python::probe(&path, false).ok()?;
    Some((path, info))
}

/// The `kernels` folder an install goes to and a note on why.
fn install_location(
    location: &LocationArgs,
    interpreter: Option<&Interpreter>,
    env: &Env,
) -> anyhow::Result<(PathBuf, String)> {
    if let Some(prefix) = &location.prefix {
        let dir = share_jupyter(&env.absolute(prefix)).join("kernels");
        return Ok((dir, format!("--prefix {}", prefix.display())));
    }
    if location.user {
        return Ok((
            env.user_kernels_dir()?,
            "--user: Jupyter's user data dir".into(),
        ));
    }
    if location.sys_prefix {
        let (python, info) = interpreter.context(
            "--sys-prefix needs a Python to ask for sys.prefix, and none was found: \
             put python3 on PATH, or use --prefix DIR",
        )?;
        let why = format!("--sys-prefix: sys.prefix of {}", python.display());
        return Ok((share_jupyter(&info.prefix).join("kernels"), why));
    }
    match (interpreter, &env.virtual_env) {
        (Some((python, info)), _) if info.in_venv() => {
            let why = format!(
                "default: {} runs in a virtual environment, so its sys.prefix (use --user to override)",
                python.display()
            );
            Ok((share_jupyter(&info.prefix).join("kernels"), why))
        }
        (_, Some(venv)) => {
            let why = "default: $VIRTUAL_ENV is set, so that environment (use --user to override)";
            Ok((share_jupyter(venv).join("kernels"), why.into()))
        }
        _ => {
            let why = "default: not in a virtual environment, so Jupyter's user data dir \
                       (use --sys-prefix or --prefix to override)";
            Ok((env.user_kernels_dir()?, why.into()))
        }
    }
}

/// Writes kernel.json and the logos to `kernels_dir/name`, replacing any spec
/// there. The files are written to a staging folder first (a name Jupyter
/// ignores) and moved into place, so a failed write leaves the old spec.
/// Returns the spec folder and whether a spec was replaced.
fn write_spec(
    kernels_dir: &Path,
    name: &str,
    kernel_json: &serde_json::Value,
) -> anyhow::Result<(PathBuf, bool)> {
    let dir = kernels_dir.join(name);
    let staging = kernels_dir.join(format!("{name}~partial-{}", std::process::id()));
    let write = || -> anyhow::Result<()> {
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        let json = serde_json::to_string_pretty(kernel_json)? + "\n";
        std::fs::write(staging.join("kernel.json"), json)?;
        for (file, bytes) in LOGOS {
            std::fs::write(staging.join(file), bytes)?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e.context(format!(
            "cannot write a kernelspec in {}; pick another location",
            kernels_dir.display()
        )));
    }
    // Any same-named spec, whatever the case of its folder's name.
    let existing =
        spec::spec_dir_in(kernels_dir, name).or_else(|| dir.exists().then(|| dir.clone()));
    if let Some(old) = &existing {
        std::fs::remove_dir_all(old)
            .with_context(|| format!("cannot remove the existing kernelspec {}", old.display()))?;
    }
    std::fs::rename(&staging, &dir)
        .with_context(|| format!("cannot move {} to {}", staging.display(), dir.display()))?;
    Ok((dir, existing.is_some()))
}

fn uninstall_with(
    args: &UninstallArgs,
    env: &Env,
    self_exe: Option<&Path>,
) -> anyhow::Result<Removed> {
    spec::validate_name(&args.name)?;
    let name = args.name.to_ascii_lowercase();
    let loc = &args.location;
    let kernel_dirs = if let Some(prefix) = &loc.prefix {
        vec![share_jupyter(&env.absolute(prefix)).join("kernels")]
    } else if loc.user {
        vec![env.user_kernels_dir()?]
    } else {
        let sys_prefix = path_interpreter(None, env)
            .map(|(_, info)| info.prefix)
            .or_else(|| env.virtual_env.clone())
            .map(|p| share_jupyter(&p).join("kernels"));
        if loc.sys_prefix {
            vec![sys_prefix.context(
                "--sys-prefix needs a Python to ask for sys.prefix, and there is no python3 \
                 on PATH; use --prefix DIR",
            )?]
        } else {
            let mut all = env.kernel_dirs();
            all.extend(sys_prefix.filter(|d| !all.contains(d)));
            all
        }
    };
    let mut removed = Removed {
        name: name.clone(),
        dirs: Vec::new(),
        kept: Vec::new(),
    };
    for spec_dir in kernel_dirs
        .iter()
        .filter_map(|d| spec::spec_dir_in(d, &name))
    {
        match KernelSpec::load(&spec_dir) {
            Ok(spec) if spec.runs_prov_kernel(self_exe) => {
                std::fs::remove_dir_all(&spec_dir)
                    .with_context(|| format!("cannot remove {}", spec_dir.display()))?;
                removed.dirs.push(spec_dir);
            }
            Ok(spec) => {
                let why = format!(
                    "it runs `{}`, not prov-kernel; remove it with `jupyter kernelspec remove {name}`",
                    spec.argv.join(" ")
                );
                removed.kept.push((spec_dir, why));
            }
            Err(e) => removed.kept.push((spec_dir, format!("{e:#}"))),
        }
    }
    if removed.dirs.is_empty() {
        let kept: Vec<String> = removed
            .kept
            .iter()
            .map(|(d, why)| format!("{}: {why}", d.display()))
            .collect();
        if !kept.is_empty() {
            bail!(
                "no prov-kernel kernelspec `{name}` to remove; kept {}",
                kept.join("; ")
            );
        }
        bail!(
            "kernelspec `{name}` is not installed (searched {})",
            paths::list_dirs(&kernel_dirs)
        );
    }
    Ok(removed)
}

/// `path` as text, since kernel.json holds strings.
fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| {
        format!(
            "{} is not valid UTF-8, which kernel.json needs",
            path.display()
        )
    })
}
