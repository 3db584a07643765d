//! A trial's bundle: a standalone store file (same schema, this build's version) holding one
//! trial and every row it needs, nothing else. It is what travels between stores (a team
//! store keeps bundles; a query on a remote trial absorbs its bundle into a scratch store and
//! runs the same code as locally), so everything a trial recorded, including the tables later
//! features add, goes with it.
//!
//! - `tables.rs`: the list of every table and how its rows travel (the trial's own rows with
//!   their ids shifted, shared content deduplicated by its key), and the check that the
//!   schema has nothing the list misses.
//! - `extract.rs`: [`Store::extract_trial`](crate::Store::extract_trial) writes a bundle.
//! - `absorb.rs`: [`Store::absorb_trial`](crate::Store::absorb_trial) takes one in, by UUID,
//!   in one transaction; [`Store::scratch_mode`](crate::Store::scratch_mode) readies a
//!   throwaway store for it.

use serde::Serialize;

mod absorb;
mod extract;
mod tables;

#[cfg(test)]
mod tests;

impl crate::Store {
    /// Readies a store that lives for one query (a scratch store, into which remote trials'
    /// bundles are absorbed, then deleted) for absorbing: its journal in memory instead of a
    /// write-ahead log (absorbing wrote every page twice, to the log and back), no syncs, and
    /// a page cache large enough that a bundle's pages are not spilled mid-transaction. A
    /// transaction still rolls back; only a crash could damage the file, which nobody keeps.
    pub fn scratch_mode(&self) -> crate::Result<()> {
        self.conn
            .query_row("PRAGMA journal_mode = MEMORY", [], |_| Ok(()))
            .and_then(|()| self.conn.pragma_update(None, "synchronous", "OFF"))
            .and_then(|()| self.conn.pragma_update(None, "cache_size", -65536))
            .map_err(|e| self.err(e))
    }
}

/// What [`Store::absorb_trial`](crate::Store::absorb_trial) did with a bundle's trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Absorbed {
    /// The trial's id in this store.
    pub trial_id: i64,
    /// The trial's UUID (the same in every store).
    pub uuid: String,
    /// Whether it was added, replaced or already there.
    pub outcome: AbsorbOutcome,
}

/// Whether absorbing a bundle changed the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AbsorbOutcome {
    /// The store did not have the trial: it was added.
    Added,
    /// The store had an earlier state of the trial (fewer executions, or still `running`
    /// where the bundle's has ended): its rows were replaced by the bundle's.
    Replaced,
    /// The store already had the trial as the bundle has it: nothing was written.
    Unchanged,
}
