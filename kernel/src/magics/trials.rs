//! `%trials`: every trial in the store, newest last, with its status, size, tags and the last
//! values of its tagged variables. `provctl trials` lists the same.

use super::args::{self, NoArgs};
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};

/// The `%trials` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trials",
    usage: "",
    help: "list the trials (kernel sessions) recorded in this store",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// Every trial of the store, this kernel's marked.
fn run(context: &MagicContext, _asked: NoArgs) -> MagicResult {
    let current = context.writer.trial().map(|t| t.id);
    context
        .writer
        .query(|store| store.trial_overviews())
        .map(|trials| provrender::render_trial_overviews(&trials, current))
        .map_err(store_error)
}
