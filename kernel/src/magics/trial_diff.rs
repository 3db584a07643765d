//! `%trial_diff T1 [T2] [--all]`: compares two trials — the code in execution order (unified
//! diffs), the input files, values, environment and outputs, changed figures side by side. With one trial, it is
//! compared with this kernel's trial (the right side). Only what differs unless `--all`. Its
//! arguments are `provctl diff`'s (`provargs::DiffArgs`), where T2 is required.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use provargs::{DiffArgs, TrialPair};

/// The `%trial_diff` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_diff",
    usage: "T1 [T2] [--all]",
    help:
        "what differs between two trials (or T1 and this one): code, inputs, values, environment, \
         outputs",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// At most this many bytes of figures go into one answer (as data URIs in the HTML), so a
/// notebook of many plots does not make a huge cell output.
const FIGURE_BUDGET: usize = 8 << 20;

/// The trials a trial-comparing magic compares: left (as typed), right (as typed, or this
/// kernel's trial when only one was given).
pub(super) struct Sides {
    left: String,
    right: Right,
}

/// The right side of a comparison.
enum Right {
    /// As typed: an id, name or UUID.
    Named(String),
    /// This kernel's trial.
    Current(i64),
}

impl Sides {
    /// The sides of `T1 [T2]`.
    pub(super) fn new(context: &MagicContext, trials: TrialPair) -> Result<Sides, String> {
        let right = match trials.right {
            Some(right) => Right::Named(right),
            None => {
                let current = context.writer.trial().ok_or(
                    "the store is not available, so this kernel's trial is not recorded: name \
                     both trials",
                )?;
                Right::Current(current.id)
            }
        };
        Ok(Sides {
            left: trials.left,
            right,
        })
    }

    /// The two trials' ids, as the store resolves them (an unknown one is the store's message,
    /// which lists the trials there are).
    pub(super) fn resolve(&self, store: &provstore::Store) -> provstore::Result<(i64, i64)> {
        let left = store.resolve_trial(&self.left)?.id;
        let right = match &self.right {
            Right::Named(text) => store.resolve_trial(text)?.id,
            Right::Current(id) => *id,
        };
        Ok((left, right))
    }
}

/// Compares the trials, with the changed figures loaded for the HTML.
fn run(context: &MagicContext, asked: DiffArgs) -> MagicResult {
    let DiffArgs { trials, all } = asked;
    let sides = Sides::new(context, trials)?;
    let diff = context
        .writer
        .query(move |store| {
            let (left, right) = sides.resolve(store)?;
            let mut diff = store.trial_diff_with(left, right, all)?;
            store.load_diff_figures(&mut diff, FIGURE_BUDGET)?;
            Ok(diff)
        })
        .map_err(store_error)?;
    Ok(provrender::render_trial_diff(&diff, all))
}
