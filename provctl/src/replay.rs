//! `provctl replay T [--kernel NAME] [--until In[n]] [--strict]`: re-executes a trial's
//! executions in a fresh kernel (a new trial, recorded as a replay of T) and reports, execution
//! by execution, what reproduced. NOT BUILT YET: the engineer on replay fills this file.

use std::io::Write;

use clap::Args;
use provstore::Store;

use crate::output::{Failure, Json};

/// The arguments of `provctl replay`.
#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The trial to replay: id, name or UUID (default: the latest).
    #[arg(value_name = "T")]
    pub(crate) trial: Option<String>,
    /// The kernelspec to run it in.
    #[arg(long, value_name = "NAME", default_value = "python-prov")]
    pub(crate) kernel: String,
    /// Stop after this execution (`In[n]` or `n`).
    #[arg(long, value_name = "In[n]")]
    pub(crate) until: Option<String>,
    /// Exit with status 1 when anything did not reproduce.
    #[arg(long)]
    pub(crate) strict: bool,
}

/// Replays `trial` as `args` say.
pub(crate) fn run(
    _store: &Store,
    _trial: i64,
    _args: &ReplayArgs,
    _json: Option<Json>,
    _out: &mut impl Write,
) -> Result<(), Failure> {
    Err(Failure::Exit {
        code: 1,
        message: "replay is not built yet".into(),
    })
}
