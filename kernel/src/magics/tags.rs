//! `%tags`: the tagged variables and stage marks of the current trial.

use super::args::{self, NoArgs};
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};

/// The `%tags` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tags",
    usage: "",
    help: "the tagged variables and stages of this trial",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, _asked: NoArgs) -> MagicResult {
    let Some(trial) = context.writer.trial() else {
        return Err("the store is not available, so no tags were recorded".into());
    };
    let answer = context
        .writer
        .query(move |store| store.tags(trial.id))
        .map_err(store_error)?;
    Ok(provrender::render_tags(&answer))
}
