//! `%tags`: the tagged variables and stage marks of the current trial.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%tags` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tags",
    aliases: &[],
    usage: "",
    help: "the tagged variables and stages of this trial",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    if !args.is_empty() {
        return Err(usage_error(&SPEC, "%tags takes no arguments"));
    }
    let trial = context
        .writer
        .trial()
        .ok_or("the store is not available, so no tags were recorded")?
        .id;
    let answer = context
        .writer
        .query(move |store| store.tags(trial))
        .map_err(super::store_error)?;
    Ok(provrender::render_tags(&answer))
}
