//! `%global_backwards_deps VAR`: like `%backwards_deps`, for every value `VAR` ever had in this
//! trial (deleted ones too), not only the current one.

use super::{variable_query, MagicContext, MagicResult, MagicSpec};
use provstore::Store;

/// The `%global_backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "global_backwards_deps",
    aliases: &["global_backward_deps"],
    usage: "VAR",
    help: "the executions any value VAR ever had in this trial came from",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (answer, _) = variable_query(context, &SPEC, args, false, Store::global_backwards_deps)?;
    Ok(provrender::render_deps(&answer, false))
}
