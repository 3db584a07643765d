//! `prov-kernel`: a Jupyter kernel that runs a real ipykernel behind itself, relays every
//! message unchanged, and records the provenance of what is executed.
//!
//! See ARCHITECTURE.md at the repository root for the map of the code.

mod channels;
mod child;
mod connection;
mod execute;
mod frontdoor;
mod guard;
mod log;
mod magics;
mod messages;
mod pending;
mod probe;
mod proxy;
mod recorder;
mod upstream;
mod wire;

use anyhow::{bail, Context, Result};
use child::ChildCommand;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Command line of `prov-kernel`.
#[derive(Parser)]
#[command(
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
}

/// Arguments of `prov-kernel run`.
#[derive(clap::Args)]
struct RunArgs {
    /// The connection file Jupyter wrote for this kernel.
    #[arg(short = 'f', long = "connection-file", value_name = "FILE")]
    connection_file: PathBuf,
    /// Python interpreter of the child ipykernel (default: `python3` on PATH).
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

fn run(args: RunArgs) -> Result<i32> {
    let command = match (args.wrap, args.python) {
        (Some(name), _) => ChildCommand::Wrap(kernelspec::find(&name)?),
        (None, Some(python)) => ChildCommand::Python(python),
        (None, None) => ChildCommand::Python(which_python3()?),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // block_on keeps the main future on this thread, so the child is spawned from the main
    // thread and its parent-death signal is tied to the whole process.
    runtime.block_on(proxy::run(&args.connection_file, command))
}

fn which_python3() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("python3");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("no python3 on PATH: pass --python /path/to/python")
}
