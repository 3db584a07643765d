//! `%slice VAR`: the smallest code, statement by statement in the order it ran, that rebuilds the
//! current value of `VAR`, ready to copy into a new cell.

use super::{variable_query, MagicContext, MagicResult, MagicSpec};
use provstore::Store;

/// The `%slice` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "slice",
    aliases: &[],
    usage: "VAR",
    help: "the statements that rebuild the current value of VAR, in the order they ran",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (answer, _) = variable_query(context, &SPEC, args, false, Store::slice)?;
    Ok(provrender::render_slice(&answer))
}
