//! `%trial_name NAME`: names the current trial, so later commands can say `baseline` instead of
//! remembering trial 7. Names are unique in a store.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%trial_name` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_name",
    usage: "NAME",
    help: "name the current trial (names are unique in the store)",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: Name) -> MagicResult {
    let name = asked.name.as_str();
    context.writer.set_trial_name(name).map_err(store_error)?;
    let trial = context.writer.trial().ok_or("the store is not available")?;
    let summary = context
        .writer
        .query(move |store| store.trial(trial.id))
        .map_err(store_error)?;
    Ok(provrender::render_trial_named(&summary))
}

/// `%trial_name NAME`.
#[derive(Args, Debug)]
struct Name {
    /// The name, unique in the store (quote one with spaces: "lr 0.1").
    name: String,
}
