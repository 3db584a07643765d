//! Reading a team store (issue 17's read side), shared by `provctl` and the magics:
//!
//! - `filters.rs`: the trial list's filters (`--user`, `--host`, `--notebook`, `--tag`,
//!   `--since`, `--until`), as clap arguments, applied to a local store's trials.
//! - `trials.rs`, `values.rs`: the cross-trial queries, run in PostgreSQL and returned as the
//!   local store's plain data (`TrialOverview`, `ValueEntry`), so the same renderers answer.
//! - `refs.rs`: which store a trial typed on the command line lives in (`team:412`).
//! - `scratch.rs`: the per-trial queries' store: a temporary SQLite file into which only the
//!   named trials' bundles are absorbed, deleted afterwards.
//! - `cache.rs`: scratch stores of remote trials kept in the user's cache, keyed by the
//!   trials' content digests, so a repeated query on them neither fetches nor absorbs again.

mod cache;
mod filters;
mod refs;
mod scratch;
mod trials;
mod values;

pub use filters::{page, parse_time, TrialFilters};
pub use refs::{looks_remote, split_ref, Teams};
pub use scratch::Scratch;
pub use trials::{latest, page as team_page};
pub use values::{values, TeamValue};
