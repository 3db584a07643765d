//! `%slice VAR`: the smallest code, statement by statement in the order it ran, that rebuilds the
//! current value of `VAR`, ready to copy into a new cell.

use super::{current_trial, variable_args, MagicContext, MagicResult, MagicSpec};

/// The `%slice` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "slice",
    aliases: &[],
    usage: "VAR",
    help: "the statements that rebuild the current value of VAR, in the order they ran",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (var, _) = variable_args(&SPEC, args, false)?;
    let trial = current_trial(context)?;
    let answer = context
        .writer
        .query(move |store| store.slice(trial, &var))
        .map_err(super::store_error)?;
    Ok(provrender::render_slice(&answer))
}
