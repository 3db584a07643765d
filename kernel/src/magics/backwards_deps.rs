//! `%backwards_deps VAR [--statements]`: which executions made the current value of `VAR`, with
//! their code (or only the statements that contributed), what each defined and used, and a
//! picture of how the value flowed.

use super::{current_trial, variable_args, MagicContext, MagicResult, MagicSpec};

/// The `%backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "backwards_deps",
    aliases: &["backward_deps"],
    usage: "VAR [--statements]",
    help: "the executions the current value of VAR came from (--statements: only the lines)",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (var, statements) = variable_args(&SPEC, args, true)?;
    let trial = current_trial(context)?;
    let answer = context
        .writer
        .query(move |store| store.backwards_deps(trial, &var))
        .map_err(super::store_error)?;
    Ok(provrender::render_deps(&answer, statements))
}
