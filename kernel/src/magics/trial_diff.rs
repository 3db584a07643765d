//! `%trial_diff T1 [T2] [--all]`: compares two trials — the code in execution order (unified
//! diffs), values, environment and outputs, changed figures side by side. With one trial, it is
//! compared with this kernel's trial (the right side). Only what differs unless `--all`.

use super::{store_error, usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%trial_diff` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trial_diff",
    aliases: &[],
    usage: "T1 [T2] [--all]",
    help:
        "what differs between two trials (or T1 and this one): code, values, environment, outputs",
    run,
};

/// At most this many bytes of figures go into one answer (as data URIs in the HTML), so a
/// notebook of many plots does not make a huge cell output.
const FIGURE_BUDGET: usize = 8 << 20;

/// The trials a trial-comparing magic was given: left (as typed), right (as typed, or this
/// kernel's trial when only one was given), and flags.
pub(super) struct TrialPair {
    pub left: String,
    pub right: Right,
    pub all: bool,
}

/// The right side of a comparison.
pub(super) enum Right {
    /// As typed: an id, name or UUID.
    Named(String),
    /// This kernel's trial.
    Current(i64),
}

impl TrialPair {
    /// Reads `T1 [T2] [--all]` (`--all` only when `takes_all`).
    pub(super) fn parse(
        spec: &MagicSpec,
        context: &MagicContext,
        args: &[String],
        takes_all: bool,
    ) -> Result<TrialPair, String> {
        let mut all = false;
        let mut trials: Vec<&String> = Vec::new();
        for arg in args {
            if takes_all && arg == "--all" {
                all = true;
            } else if arg.starts_with('-') {
                return Err(usage_error(spec, &format!("unknown option {arg}")));
            } else {
                trials.push(arg);
            }
        }
        let right = match trials.as_slice() {
            [_] => {
                let current = context.writer.trial().ok_or(
                    "the store is not available, so this kernel's trial is not recorded: name \
                     both trials",
                )?;
                Right::Current(current.id)
            }
            [_, right] => Right::Named(right.to_string()),
            _ => {
                return Err(usage_error(
                    spec,
                    &format!("%{} takes one or two trials (ids or names)", spec.name),
                ))
            }
        };
        Ok(TrialPair {
            left: trials[0].clone(),
            right,
            all,
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
fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let pair = TrialPair::parse(&SPEC, context, args, true)?;
    let all = pair.all;
    let diff = context
        .writer
        .query(move |store| {
            let (left, right) = pair.resolve(store)?;
            let mut diff = store.trial_diff_with(left, right, all)?;
            store.load_diff_figures(&mut diff, FIGURE_BUDGET)?;
            Ok(diff)
        })
        .map_err(store_error)?;
    Ok(provrender::render_trial_diff(&diff, all))
}
