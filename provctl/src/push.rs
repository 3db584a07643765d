//! `provctl push [NAME] [T…]` and `provctl pull [NAME] [T…]`: trials to and from a team store.
//! NAME is a configured remote (default: the push remote, else the only one); a first word
//! that is no remote's name is taken as a trial. One line per trial as its transaction ends
//! (pushed, unchanged, remote newer; pulled, updated, unchanged), or with `--json` one array.

use std::io::Write;
use std::path::Path;

use clap::Args;
use provstore::{AbsorbOutcome, Store};
use provteam::{PushOutcome, Remote, Team, TeamTrialRef};
use serde::Serialize;

use crate::output::{Failure, Json};

/// `provctl push` and `provctl pull`.
#[derive(Args, Debug)]
pub(crate) struct SyncArgs {
    /// The remote (default: the push remote, else the only one), then the trials.
    #[arg(value_name = "NAME|T")]
    pub(crate) words: Vec<String>,
}

/// The remote named by the first word, if it names one, and the trials after it.
fn split<'a>(store_db: &Path, words: &'a [String]) -> Result<(Remote, &'a [String]), Failure> {
    if let Some(first) = words.first() {
        let remotes = provteam::load_remotes(store_db)?;
        if let Some(r) = remotes.into_iter().find(|r| &r.name == first) {
            return Ok((r, &words[1..]));
        }
    }
    Ok((provteam::default_remote(store_db)?, words))
}

fn line(out: &mut impl Write, text: String) -> Result<(), Failure> {
    out.write_all(text.as_bytes())?;
    // Each trial's line as soon as it is in, so a long push shows its progress.
    Ok(out.flush()?)
}

/// Pushes trials of the store at `store_db`.
pub(crate) fn push(
    store_db: &Path,
    args: &SyncArgs,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let (remote, trials) = split(store_db, &args.words)?;
    let store = Store::open_existing(store_db)?;
    let ids = trials
        .iter()
        .map(|t| Ok(store.resolve_trial(t)?.id))
        .collect::<Result<Vec<i64>, Failure>>()?;
    let mut team = Team::connect(&remote.url)?;
    let mut done: Vec<PushOutcome> = Vec::new();
    let mut shown = Ok(());
    let result = team.push_with(&store, &ids, |o| {
        if json.is_none() && shown.is_ok() {
            shown = line(
                out,
                format!(
                    "{:<12} trial {} ({}, {} executions) -> {}:{}\n",
                    o.outcome.as_str(),
                    o.trial,
                    o.uuid,
                    o.executions,
                    remote.name,
                    o.team_id
                ),
            );
        }
        done.push(o.clone());
    });
    shown?;
    result?;
    match json {
        Some(j) => j.write(out, &done),
        None if done.is_empty() => line(
            out,
            format!(
                "Nothing to push: {} has every trial of this store.\n",
                remote.name
            ),
        ),
        None => Ok(()),
    }
}

/// One pulled trial as `--json` shows it.
#[derive(Serialize)]
struct Pulled {
    /// The local id it has now.
    trial: i64,
    uuid: String,
    /// `pulled` (new here), `updated` (a later state replaced ours), `unchanged`.
    outcome: &'static str,
}

/// Pulls trials into the store at `store_db` (created if there is none yet).
pub(crate) fn pull(
    store_db: &Path,
    args: &SyncArgs,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let (remote, trials) = split(store_db, &args.words)?;
    let refs: Vec<TeamTrialRef> = trials
        .iter()
        .map(|t| {
            // `team:412` names a trial of remote `team`.
            let t = t.strip_prefix(&format!("{}:", remote.name)).unwrap_or(t);
            TeamTrialRef::parse(t)
        })
        .collect();
    let mut team = Team::connect(&remote.url)?;
    let store = Store::open(store_db)?;
    let absorbed = team.pull(&store, &refs)?;
    let pulled: Vec<Pulled> = absorbed
        .into_iter()
        .map(|a| Pulled {
            trial: a.trial_id,
            uuid: a.uuid,
            outcome: match a.outcome {
                AbsorbOutcome::Added => "pulled",
                AbsorbOutcome::Replaced => "updated",
                AbsorbOutcome::Unchanged => "unchanged",
            },
        })
        .collect();
    if let Some(j) = json {
        return j.write(out, &pulled);
    }
    if pulled.is_empty() {
        return line(
            out,
            format!(
                "Nothing to pull: this store has every trial of {}.\n",
                remote.name
            ),
        );
    }
    for p in &pulled {
        line(
            out,
            format!(
                "{:<12} trial {} ({}) from {}\n",
                p.outcome, p.trial, p.uuid, remote.name
            ),
        )?;
    }
    Ok(())
}
