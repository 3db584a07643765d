//! `%trial_diff T1 [T2] [--all]`: compares two trials — the code in execution order (unified
//! diffs), the input files, values, environment and outputs, changed figures side by side. With one trial, it is
//! compared with this kernel's trial (the right side). Only what differs unless `--all`. Its
//! arguments are `provctl diff`'s (`provargs::DiffArgs`), where T2 is required. A side may be a
//! team store's trial (`%trial_diff mine team:412`): both trials' bundles then go into a scratch
//! store, off the writer thread and within a deadline, and the same diff answers.

use std::sync::Arc;

use super::args;
use super::remote::{self, within_deadline};
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use provargs::{DiffArgs, TrialPair};
use provteam::Remote;
use provteamread::{split_ref, Scratch, Teams};

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
    /// The right side as typed, if it was.
    fn right_typed(&self) -> Option<&String> {
        match &self.right {
            Right::Named(text) => Some(text),
            Right::Current(_) => None,
        }
    }

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
    // Only a side like `team:412` reads the config: a damaged one spoils no local diff.
    let typed = [Some(&sides.left), sides.right_typed()];
    if typed.iter().flatten().any(|t| t.contains(':')) {
        let remotes = remote::remotes(context)?;
        let places = [
            place(&sides.left, &remotes),
            match &sides.right {
                Right::Named(text) => place(text, &remotes),
                Right::Current(id) => Side::Current(*id),
            },
        ];
        if places.iter().any(|p| matches!(p, Side::Remote(..))) {
            return remote_diff(context, places, all);
        }
    }
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

/// One side of a diff that may be remote.
enum Side {
    /// A team store's trial: the remote and its number, UUID or name there.
    Remote(Remote, String),
    /// A trial of this store, as typed.
    Local(String),
    /// This kernel's trial.
    Current(i64),
}

fn place(typed: &str, remotes: &[Remote]) -> Side {
    match split_ref(typed, remotes) {
        Some((remote, rest)) => Side::Remote(remote.clone(), rest.to_string()),
        None => Side::Local(typed.to_string()),
    }
}

/// The diff of two trials of which one or both are remote, on a scratch store holding both.
fn remote_diff(context: &MagicContext, sides: [Side; 2], all: bool) -> MagicResult {
    let writer = Arc::clone(&context.writer);
    let diff = within_deadline("the team store", move || {
        let mut scratch = Scratch::new().map_err(|e| e.to_string())?;
        let mut teams = Teams::default();
        let mut ids = [0; 2];
        // Remote sides first, so they keep their team numbers here.
        for (i, side) in sides.iter().enumerate() {
            if let Side::Remote(remote, typed) = side {
                let team = teams.get(remote).map_err(|e| e.to_string())?;
                remote::bounded(team)?;
                let id = team.resolve(typed).map_err(|e| e.to_string())?;
                ids[i] = scratch.absorb_team(team, id).map_err(|e| e.to_string())?;
            }
        }
        for (i, side) in sides.iter().enumerate() {
            let typed = match side {
                Side::Remote(..) => continue,
                Side::Local(typed) => Some(typed.clone()),
                Side::Current(_) => None,
            };
            let current = match side {
                Side::Current(id) => *id,
                _ => 0,
            };
            let (local, uuid) = writer
                .query(move |store| {
                    let trial = match &typed {
                        Some(typed) => store.resolve_trial(typed)?,
                        None => store.trial(current)?,
                    };
                    Ok((trial.id, trial.uuid))
                })
                .map_err(store_error)?;
            // Its pushed copy already here stands for it: one trial, one UUID.
            if let Some(id) = scratch.has(&uuid) {
                ids[i] = id;
                continue;
            }
            let path = scratch.bundle_path();
            let bundle = path.clone();
            // The bundle is written on the writer thread (it sees every execution recorded
            // before); the rest happens here.
            writer
                .query(move |store| store.extract_trial(local, &bundle))
                .map_err(store_error)?;
            ids[i] = scratch
                .absorb(&path, Some(local))
                .map_err(|e| e.to_string())?;
        }
        if ids[0] == ids[1] {
            return Err(format!(
                "both sides are trial {} (a trial and its pushed copy are one trial): there is \
                 nothing to compare",
                ids[0]
            ));
        }
        let store = scratch.store();
        let mut diff = store
            .trial_diff_with(ids[0], ids[1], all)
            .map_err(store_error)?;
        store
            .load_diff_figures(&mut diff, FIGURE_BUDGET)
            .map_err(store_error)?;
        Ok(diff)
    })?;
    Ok(provrender::render_trial_diff(&diff, all))
}
