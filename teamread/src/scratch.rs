//! The store a per-trial query on a remote trial runs on: a temporary SQLite file into which
//! only the named trials' bundles are absorbed (each remote one keeping its team number), so
//! `show`, `deps`, `diff`… run the same code as on a local store. Deleted when dropped.

use std::path::{Path, PathBuf};

use provstore::Store;
use provteam::{Team, TeamError};

/// A scratch store in a temporary folder.
pub struct Scratch {
    // Declared first, so it is closed before the folder goes.
    store: Store,
    dir: tempfile::TempDir,
    bundles: usize,
}

impl Scratch {
    /// An empty store in a new temporary folder.
    pub fn new() -> Result<Scratch, TeamError> {
        let dir = tempfile::Builder::new()
            .prefix("prov-scratch-")
            .tempdir()
            .map_err(|source| TeamError::Io {
                path: std::env::temp_dir(),
                action: "make a temporary folder in",
                source,
            })?;
        let store = Store::open(&dir.path().join("scratch.db"))?;
        Ok(Scratch {
            store,
            dir,
            bundles: 0,
        })
    }

    /// The store, to query.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A new file name in the folder, for a bundle (which must not exist yet).
    pub fn bundle_path(&mut self) -> PathBuf {
        self.bundles += 1;
        self.dir.path().join(format!("bundle-{}.db", self.bundles))
    }

    /// Takes in the bundle at `path` (its trial as id `as_id` when free), then deletes the
    /// file; returns the trial's id here.
    pub fn absorb(&mut self, path: &Path, as_id: Option<i64>) -> Result<i64, TeamError> {
        let as_id = as_id.filter(|id| self.store.trial(*id).is_err());
        let absorbed = self.store.absorb_trial(path, as_id)?;
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
        self.store.resolve_trial(uuid).ok().map(|t| t.id)
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
