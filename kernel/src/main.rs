//! `prov-kernel`: a Jupyter kernel that runs a real ipykernel behind itself, relays every
//! message unchanged, and records the provenance of what is executed.
//!
//! See ARCHITECTURE.md at the repository root for the map of the code.
//!
//! The modules are layered; each uses only those of the lines before its own (and a folder's
//! files their `mod.rs`), never one after, so the crate has no import circle:
//! 1. `log`, `wire` (the crate `provwire`), `connection`, `guard`, `flag`: formats and primitives;
//! 2. `edit`, `pending`, `messages`, `child`, `upstream`, `probe`: one message or one socket at
//!    a time;
//! 3. `link` (the child link), `recorder` (the tap), `magics` (`jobs`, `cell`), `push` (the
//!    background push to a team store): the relay's state, one concern each;
//! 4. `execute`: the rewriting of execute requests and replies;
//! 5. `channels` (`frames`, `outbox`, then one file per channel): the relay tasks;
//! 6. `proxy`: builds the state, runs the tasks, ends them.

mod channels;
mod child;
mod connection;
mod edit;
mod execute;
mod flag;
mod guard;
mod link;
mod log;
mod magics;
mod messages;
mod pending;
mod probe;
mod proxy;
mod push;
mod recorder;
mod upstream;
use provwire as wire;

use anyhow::{Context, Result};
use child::ChildCommand;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Command line of `prov-kernel`.
#[derive(Parser)]
#[command(
    name = "prov-kernel",
    version,
    about = "A Jupyter kernel that records the provenance of everything you run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as a kernel (Jupyter does this, from kernel.json).
    Run(RunArgs),
    /// Install the "Python (prov)" kernelspec.
    Install(kernelspec::InstallArgs),
    /// Remove an installed prov kernelspec.
    Uninstall(kernelspec::UninstallArgs),
    /// Say what this prov-kernel finds (its Python, ipykernel, store, kernelspecs) and what to
    /// fix; exits 1 when something is broken.
    Doctor(kernelspec::DoctorArgs),
}

/// Arguments of `prov-kernel run`.
#[derive(clap::Args)]
struct RunArgs {
    /// The connection file Jupyter wrote for this kernel.
    #[arg(short = 'f', long = "connection-file", value_name = "FILE")]
    connection_file: PathBuf,
    /// Python interpreter of the child ipykernel (default: the `python3` beside this
    /// executable, as in the environment pip installed it into, else `python3` on PATH).
    #[arg(long, value_name = "PATH", conflicts_with = "wrap")]
    python: Option<PathBuf>,
    /// Run the argv of this installed kernelspec as the child instead.
    #[arg(long, value_name = "KERNELSPEC")]
    wrap: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run(args),
        Command::Install(args) => install(&args).map(|installed| {
            println!("{installed}");
            0
        }),
        Command::Uninstall(args) => kernelspec::uninstall(&args).map(|removed| {
            println!("{removed}");
            0
        }),
        Command::Doctor(args) => doctor(&args),
    };
    match code {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("prov-kernel: error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn install(args: &kernelspec::InstallArgs) -> Result<kernelspec::Installed> {
    let exe = std::env::current_exe().context("cannot find the prov-kernel executable")?;
    kernelspec::install(args, &exe)
}

fn doctor(args: &kernelspec::DoctorArgs) -> Result<i32> {
    let exe = std::env::current_exe().context("cannot find the prov-kernel executable")?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let why = match std::env::var_os(provstore::ENV_DB) {
        Some(v) if !v.is_empty() => "from $PROV_DB",
        _ => ".prov/prov.db in the kernel's working folder, the notebook's; shown for this folder",
    };
    let store = provstore::default_db_path(&cwd);
    let report = kernelspec::doctor(args, &exe, env!("CARGO_PKG_VERSION"), (&store, why))?;
    print!("{report}");
    Ok(if report.healthy() { 0 } else { 1 })
}

fn run(args: RunArgs) -> Result<i32> {
    let command = match (args.wrap, args.python) {
        (Some(name), _) => ChildCommand::Wrap(kernelspec::find(&name)?),
        (None, Some(python)) => ChildCommand::Python(python),
        (None, None) => {
            let exe = std::env::current_exe().context("cannot find the prov-kernel executable")?;
            ChildCommand::Python(kernelspec::default_python(&exe)?)
        }
    };
    // One thread runs every relay task and the recorder: a message passes through several
    // tasks (connection, relay, recorder), and on a thread pool each hand-over could
    // wake another worker (a futex call and a context switch, ~9 per `pass` measured with
    // strace; 2 on one thread). The store's writer thread and the magics' blocking pool stay
    // apart.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // block_on keeps the main future on this thread, so the child is spawned from the main
    // thread and its parent-death signal is tied to the whole process.
    runtime.block_on(proxy::run(&args.connection_file, command))
}
