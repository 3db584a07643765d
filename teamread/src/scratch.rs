//! The store a per-trial query on a remote trial runs on: a temporary SQLite file into which
//! only the named trials' bundles are absorbed (each remote one keeping its team number), so
//! `show`, `deps`, `diff`… run the same code as on a local store. Deleted when dropped.
//!
//! When every trial named is remote and none is still running, the scratch store built for
//! them is kept in the user's cache (`cache.rs`), keyed by each trial's content digest, and
//! the next query on the same trials starts from a copy of it.

use std::path::{Path, PathBuf};

use provstore::{Store, TrialStatus};
use provteam::postgres::Client;
use provteam::{Remote, Team, TeamError};

use crate::cache::{self, Cache, Identity};
use crate::Teams;

/// A scratch store in a temporary folder.
pub struct Scratch {
    // Declared first, so it is closed before the folder goes (None only while it is closed
    // to be copied into the cache).
    store: Option<Store>,
    dir: tempfile::TempDir,
    bundles: usize,
}

impl Scratch {
    /// An empty store in a new temporary folder.
    pub fn new() -> Result<Scratch, TeamError> {
        let dir = temp_dir()?;
        let store = Store::open(&dir.path().join(STORE_FILE))?;
        store.scratch_mode()?;
        Ok(Scratch {
            store: Some(store),
            dir,
            bundles: 0,
        })
    }

    /// A store holding remote trials `trials` (a remote and a team number each), and their
    /// ids there, in order (each its team number when free). From the cache when it has these
    /// trials with this content; else each bundle fetched and absorbed, and the store kept.
    pub fn of_remotes(
        teams: &mut Teams,
        trials: &[(Remote, i64)],
    ) -> Result<(Scratch, Vec<i64>), TeamError> {
        let cache = Cache::open();
        if let Some(cache) = &cache {
            let mut known = Vec::with_capacity(trials.len());
            for (remote, id) in trials {
                known.push(identity(teams.get(remote)?.client(), *id)?);
            }
            if let Some(found) = Scratch::cached(cache, &known) {
                return Ok(found);
            }
        }
        let mut scratch = Scratch::new()?;
        let mut ids = Vec::with_capacity(trials.len());
        let mut fetched = Vec::with_capacity(trials.len());
        for (remote, id) in trials {
            let path = scratch.bundle_path();
            fetched.push(fetch(teams.get(remote)?, *id, &path)?);
            ids.push(scratch.absorb(&path, Some(*id))?);
        }
        if let Some(cache) = &cache {
            if !fetched.iter().any(|t| t.running) {
                scratch.keep(cache, &cache::key(&fetched))?;
            }
        }
        Ok((scratch, ids))
    }

    /// The cached store of `known`, and their ids in it; None when there is none or it does
    /// not hold them. A running trial is never taken from the cache: opening a store judges
    /// its running trials, which the store built afresh does not.
    fn cached(cache: &Cache, known: &[Identity]) -> Option<(Scratch, Vec<i64>)> {
        if known.iter().any(|t| t.running) {
            return None;
        }
        let dir = temp_dir().ok()?;
        let path = dir.path().join(STORE_FILE);
        if !cache.load(&cache::key(known), &path) {
            return None;
        }
        let store = Store::open(&path).ok()?;
        let ids = known
            .iter()
            .map(|t| store.resolve_trial(&t.uuid).ok().map(|found| found.id))
            .collect::<Option<Vec<i64>>>()?;
        let scratch = Scratch {
            store: Some(store),
            dir,
            bundles: 0,
        };
        Some((scratch, ids))
    }

    /// Copies the store into the cache under `key`: closed first (its write-ahead log folded
    /// into the file), then opened again.
    fn keep(&mut self, cache: &Cache, key: &[u8; 32]) -> Result<(), TeamError> {
        drop(self.store.take());
        let path = self.dir.path().join(STORE_FILE);
        cache.save(key, &path);
        self.store = Some(Store::open(&path)?);
        Ok(())
    }

    /// The store, to query.
    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("open except inside keep")
    }

    /// A new file name in the folder, for a bundle (which must not exist yet).
    pub fn bundle_path(&mut self) -> PathBuf {
        self.bundles += 1;
        self.dir.path().join(format!("bundle-{}.db", self.bundles))
    }

    /// Takes in the bundle at `path` (its trial as id `as_id` when free), then deletes the
    /// file; returns the trial's id here.
    pub fn absorb(&mut self, path: &Path, as_id: Option<i64>) -> Result<i64, TeamError> {
        let as_id = as_id.filter(|id| self.store().trial(*id).is_err());
        let absorbed = self.store().absorb_trial(path, as_id)?;
        let _ = std::fs::remove_file(path);
        Ok(absorbed.trial_id)
    }

    /// Takes in team trial `team_id`, as that id.
    pub fn absorb_team(&mut self, team: &mut Team, team_id: i64) -> Result<i64, TeamError> {
        let path = self.bundle_path();
        team.fetch_bundle(team_id, &path)?;
        self.absorb(&path, Some(team_id))
    }

    /// The id here of the trial with this UUID, if one was taken in: a trial and its pushed
    /// copy are one trial (one UUID), never two sides of a comparison.
    pub fn has(&self, uuid: &str) -> Option<i64> {
        self.store().resolve_trial(uuid).ok().map(|t| t.id)
    }

    /// Takes in local trial `trial` of `local`, as that id when no remote trial took it (the
    /// same trial's pushed copy already here stands for it).
    pub fn absorb_local(&mut self, local: &Store, trial: i64) -> Result<i64, TeamError> {
        if let Some(id) = self.has(&local.trial(trial)?.uuid) {
            return Ok(id);
        }
        let path = self.bundle_path();
        local.extract_trial(trial, &path)?;
        self.absorb(&path, Some(trial))
    }
}

/// The scratch store's file in its folder.
const STORE_FILE: &str = "scratch.db";

fn temp_dir() -> Result<tempfile::TempDir, TeamError> {
    tempfile::Builder::new()
        .prefix("prov-scratch-")
        .tempdir()
        .map_err(|source| TeamError::Io {
            path: std::env::temp_dir(),
            action: "make a temporary folder in",
            source,
        })
}

fn postgres(action: String) -> impl FnOnce(provteam::postgres::Error) -> TeamError {
    move |source| TeamError::Postgres { action, source }
}

/// What names the content of team trial `team_id`.
fn identity(client: &mut Client, team_id: i64) -> Result<Identity, TeamError> {
    let row = client
        .query_opt(
            "SELECT uuid, bundle_sha256, status FROM prov_trials WHERE id = $1",
            &[&team_id],
        )
        .map_err(postgres(format!("read team trial {team_id}")))?
        .ok_or_else(|| TeamError::NoSuchTrial {
            query: team_id.to_string(),
        })?;
    Ok(Identity {
        team_id,
        uuid: row.get(0),
        sha256: row.get(1),
        running: row.get::<_, &str>(2) == TrialStatus::Running.as_str(),
    })
}

/// Writes the bundle of team trial `team_id` to `path`, and its identity read in the same
/// snapshot: a push between the two cannot file one content under another's digest.
fn fetch(team: &mut Team, team_id: i64, path: &Path) -> Result<Identity, TeamError> {
    team.client()
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .map_err(postgres(format!("read team trial {team_id}")))?;
    let got = identity(team.client(), team_id)
        .and_then(|found| team.fetch_bundle(team_id, path).map(|()| found));
    let end = if got.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = team
        .client()
        .batch_execute(end)
        .map_err(postgres(format!("read team trial {team_id}")));
    let found = got?;
    ended?;
    Ok(found)
}
