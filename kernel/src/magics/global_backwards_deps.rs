//! `%global_backwards_deps VAR`: like `%backwards_deps`, for every value `VAR` ever had in this
//! trial (deleted ones too), not only the current one.

use super::{current_trial, variable_args, MagicContext, MagicResult, MagicSpec};

/// The `%global_backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "global_backwards_deps",
    aliases: &["global_backward_deps"],
    usage: "VAR",
    help: "the executions any value VAR ever had in this trial came from",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (var, _) = variable_args(&SPEC, args, false)?;
    let trial = current_trial(context)?;
    let answer = context
        .writer
        .query(move |store| store.global_backwards_deps(trial, &var))
        .map_err(super::store_error)?;
    Ok(provrender::render_deps(&answer, false))
}
