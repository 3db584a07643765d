//! `%trials`: every trial in the store, newest last, with its status, size, tags and the last
//! values of its tagged variables.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%trials` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trials",
    aliases: &[],
    usage: "",
    help: "list the trials (kernel sessions) recorded in this store",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    if !args.is_empty() {
        return Err(usage_error(&SPEC, "%trials takes no arguments"));
    }
    let trials = context
        .writer
        .query(|store| store.trial_overviews())
        .map_err(super::store_error)?;
    let current = context.writer.trial().map(|t| t.id);
    Ok(provrender::render_trial_overviews(&trials, current))
}
