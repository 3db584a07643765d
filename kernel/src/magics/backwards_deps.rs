//! `%backwards_deps VAR [--statements]`: which executions made the current value of `VAR`, with
//! their code (or only the statements that contributed), what each defined and used, and a
//! picture of how the value flowed.

use super::{variable_query, MagicContext, MagicResult, MagicSpec};
use provstore::Store;

/// The `%backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "backwards_deps",
    aliases: &["backward_deps"],
    usage: "VAR [--statements]",
    help: "the executions the current value of VAR came from (--statements: only the lines)",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (answer, statements) = variable_query(context, &SPEC, args, true, Store::backwards_deps)?;
    Ok(provrender::render_deps(&answer, statements))
}
