//! `%trial_intersection_diff T1 [T2]`: the variables both trials end with, both values side by
//! side, changed ones first. With one trial, it is compared with this kernel's trial.

use super::trial_diff::TrialPair;
use super::{store_error, MagicContext, MagicResult, MagicSpec};

/// The `%trial_intersection_diff` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_intersection_diff",
    aliases: &[],
    usage: "T1 [T2]",
    help: "the variables two trials (or T1 and this one) both have, changed ones first",
    run,
};

/// Lists the variables both trials have.
fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let pair = TrialPair::parse(&SPEC, context, args, false)?;
    let answer = context
        .writer
        .query(move |store| {
            let (left, right) = pair.resolve(store)?;
            store.intersection_diff(left, right)
        })
        .map_err(store_error)?;
    Ok(provrender::render_intersection(&answer))
}
