//! `%trial_intersection_diff T1 [T2]`: the variables both trials end with, both values side by
//! side, changed ones first, and the input files both read. With one trial, it is compared with this kernel's trial.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use super::trial_diff::Sides;
use provargs::TrialPair;

/// The `%trial_intersection_diff` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_intersection_diff",
    usage: "T1 [T2]",
    help: "the variables two trials (or T1 and this one) both have, changed ones first",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// Lists the variables both trials have.
fn run(context: &MagicContext, asked: TrialPair) -> MagicResult {
    let sides = Sides::new(context, asked)?;
    let answer = context
        .writer
        .query(move |store| {
            let (left, right) = sides.resolve(store)?;
            store.intersection_diff(left, right)
        })
        .map_err(store_error)?;
    Ok(provrender::render_intersection(&answer))
}
