//! The team store a kernel pushes to: the remote named by `$PROV_PUSH` (or the store's
//! config.toml), reached through `provteam`. One connection, kept between pushes and made
//! again after any failure; the local store is read through a connection of its own, so the
//! writer thread never waits for a push.

use super::Remote;
use crate::warn;
use provstore::{Store, WriterHandle};
use provteam::Team;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

/// The remote of this kernel's store that its trial is pushed to.
pub(crate) struct TeamStore {
    remote: provteam::Remote,
    db: PathBuf,
    /// Only to learn the trial's id: not kept alive by the push (whose thread may outlive the
    /// kernel's own use of it on an early exit, where dropping the writer finishes the trial).
    writer: Weak<WriterHandle>,
    /// The trial's local id, once the writer has begun it.
    trial: Option<i64>,
    store: Option<Store>,
    team: Option<Team>,
}

impl TeamStore {
    /// The remote this kernel pushes to: `$PROV_PUSH`, else `[push] remote` in the store's
    /// config.toml; None when neither is set. A name that is not a configured remote, or a
    /// config that cannot be read, is logged (the kernel records as usual, unpushed).
    pub(crate) fn configured(writer: &Arc<WriterHandle>) -> Option<TeamStore> {
        let db = writer.path().to_path_buf();
        let found = provteam::push_remote_name(&db)
            .and_then(|name| name.map(|n| provteam::find_remote(&db, &n)).transpose());
        match found {
            Ok(remote) => remote.map(|remote| TeamStore {
                remote,
                db,
                writer: Arc::downgrade(writer),
                trial: None,
                store: None,
                team: None,
            }),
            Err(e) => {
                warn!("the trial is not pushed to a team store: {e}");
                None
            }
        }
    }

    fn try_push(&mut self) -> Result<(), String> {
        let trial = match self.trial {
            Some(trial) => trial,
            None => {
                let writer = self.writer.upgrade().ok_or("the kernel is ending")?;
                let began = writer
                    .trial()
                    .ok_or("the local store has not begun the trial")?;
                *self.trial.insert(began.id)
            }
        };
        let store = match &mut self.store {
            Some(store) => store,
            empty => empty.insert(Store::open_existing(&self.db).map_err(|e| e.to_string())?),
        };
        let team = match &mut self.team {
            Some(team) => team,
            empty => empty.insert(Team::connect(&self.remote.url).map_err(|e| e.to_string())?),
        };
        team.push(store, &[trial]).map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Remote for TeamStore {
    fn describe(&self) -> String {
        format!(
            "{:?} ({})",
            self.remote.name,
            provteam::redact(&self.remote.url)
        )
    }

    fn push(&mut self) -> Result<(), String> {
        let pushed = self.try_push();
        if pushed.is_err() {
            // Whatever failed (the network, the server, the local file) is opened afresh.
            self.team = None;
            self.store = None;
        }
        pushed
    }
}
