//! The team store of prov: a PostgreSQL database that every laptop of a team pushes its trials
//! to and pulls them from. The local SQLite store stays the embedded default; what travels is
//! a trial's bundle (a standalone store file of one trial, made and taken in by `provstore`),
//! with the rows that cross-trial queries read in PostgreSQL (the trial list, values across
//! trials).
//!
//! - `config.rs`: the remotes in `.prov/config.toml` ([`add_remote`], [`load_remotes`],
//!   [`find_remote`], [`push_remote_name`]); a URL with a password is refused.
//! - `connect.rs` and `pgpass.rs`: connecting the way libpq does (URL or conninfo, the `PG*`
//!   environment, `PGPASSWORD`, the password file, a bounded connect time).
//! - `schema.rs`: the tables and their migrations ([`TEAM_SCHEMA_VERSION`]).
//! - `push.rs`, `pull.rs`: one transaction per trial pushed; bundles pulled and absorbed;
//!   `digest.rs`: what tells an unchanged trial (its bundle's content, not its bytes).
//! - `error.rs`: [`TeamError`], worded for the user.

mod config;
mod connect;
mod digest;
mod error;
mod pgpass;
mod pull;
mod push;
mod schema;

use std::path::Path;

use provstore::{Absorbed, Store};

pub use config::{
    add_remote, config_path, default_remote, find_remote, load_remotes, push_remote_name, Remote,
    CONFIG_FILE, ENV_PUSH,
};
pub use connect::redact;
pub use error::TeamError;
/// The PostgreSQL client crate, for callers' own SQL through [`Team::client`].
pub use postgres;
pub use pull::TeamTrialRef;
pub use push::{PushOutcome, PushStatus};
pub use schema::{TEAM_SCHEMA_VERSION, VALUES_COVERED};

/// A bare connection to the PostgreSQL server at `url` (libpq's conventions, as
/// [`Team::connect`]) that touches no table: for administration and tests.
pub fn connect_raw(url: &str) -> Result<postgres::Client, TeamError> {
    connect::connect(url)
}

/// Brings the team store behind `client` to schema `version` only (tests build the stores
/// of older builds with it); newer than this build: [`TeamError::TooNew`].
#[doc(hidden)]
pub fn create_schema_up_to(client: &mut postgres::Client, version: i64) -> Result<(), TeamError> {
    schema::ensure_up_to(client, version)
}

/// A connection to a team store, its schema ready.
pub struct Team {
    client: postgres::Client,
    url: String,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team").field("url", &self.url).finish()
    }
}

impl Team {
    /// Connects to the team store at `url` (a `postgresql://` URL or a conninfo string; the
    /// password from `$PGPASSWORD` or the password file, as libpq finds it) and creates or
    /// migrates its tables when needed.
    pub fn connect(url: &str) -> Result<Team, TeamError> {
        let mut client = connect::connect(url)?;
        schema::ensure(&mut client)?;
        Ok(Team {
            client,
            url: redact(url),
        })
    }

    /// The URL connected to, with any password hidden.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection, for queries of the caller's own.
    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }

    /// Pushes `trials` (local ids) of `store`, in order, each in one transaction; none given:
    /// every trial the team store lacks or has in another state ([`Team::pending`]). A trial
    /// that fails stops the push; those before it are in.
    pub fn push(&mut self, store: &Store, trials: &[i64]) -> Result<Vec<PushOutcome>, TeamError> {
        let mut done = Vec::new();
        self.push_with(store, trials, |o| done.push(o.clone()))?;
        Ok(done)
    }

    /// [`Team::push`], telling `each` about every trial as soon as its transaction ends (so a
    /// report shows what is in even when a later trial fails).
    pub fn push_with(
        &mut self,
        store: &Store,
        trials: &[i64],
        mut each: impl FnMut(&PushOutcome),
    ) -> Result<(), TeamError> {
        let pending;
        let trials = if trials.is_empty() {
            pending = self.pending(store)?;
            &pending
        } else {
            trials
        };
        for &t in trials {
            let prepared = push::prepare(store, t)?;
            each(&push::push_prepared(&mut self.client, &prepared)?);
        }
        Ok(())
    }

    /// The local trials a push without names sends: those the team store lacks, or has with
    /// another number of executions, status, name or tags, unless its state there is a later
    /// one (a pulled trial, the same there, is not sent back).
    pub fn pending(&mut self, store: &Store) -> Result<Vec<i64>, TeamError> {
        push::pending(&mut self.client, store)
    }

    /// Pulls `trials` into `store`; none given: every team trial `store` lacks or holds in an
    /// earlier state (fewer executions, or still running there).
    pub fn pull(
        &mut self,
        store: &Store,
        trials: &[TeamTrialRef],
    ) -> Result<Vec<Absorbed>, TeamError> {
        let ids = if trials.is_empty() {
            pull::missing(&mut self.client, store)?
        } else {
            trials
                .iter()
                .map(|r| pull::team_id(&mut self.client, r))
                .collect::<Result<_, _>>()?
        };
        ids.into_iter()
            .map(|id| pull::pull_one(&mut self.client, store, id))
            .collect()
    }

    /// Writes the bundle of team trial `team_id`, inflated, to `dest`.
    pub fn fetch_bundle(&mut self, team_id: i64, dest: &Path) -> Result<(), TeamError> {
        pull::fetch_bundle(&mut self.client, team_id, dest)
    }

    /// The team id of a team number, UUID or name (the latest trial of that name).
    pub fn resolve(&mut self, query: &str) -> Result<i64, TeamError> {
        pull::resolve(&mut self.client, query)
    }
}
