//! `%trial_name NAME`: names the current trial, so later commands can say `baseline` instead of
//! remembering trial 7. Names are unique in a store.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%trial_name` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_name",
    aliases: &[],
    usage: "NAME",
    help: "name the current trial (names are unique in the store)",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let [name] = args else {
        return Err(usage_error(&SPEC, "%trial_name takes exactly one name"));
    };
    context
        .writer
        .set_trial_name(name)
        .map_err(super::store_error)?;
    let trial = context.writer.trial().ok_or("the store is not available")?;
    let summary = context
        .writer
        .query(move |store| store.trial(trial.id))
        .map_err(super::store_error)?;
    Ok(provrender::render_trial_named(&summary))
}
