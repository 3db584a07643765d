//! The team store's tables in PostgreSQL and their migrations. The version is the row
//! `schema_version` of `prov_meta`; the first connection of a build that knows more migrations
//! applies the missing ones, each in a transaction, under a session advisory lock so that two
//! laptops connecting at once do not both create the tables. A store newer than this build is
//! a clear error ([`TeamError::TooNew`]).
//!
//! Version 1 is the shared design's schema:
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `prov_meta` | fact about the team store | `key`, `value` (`schema_version`) |
//! | `prov_trials` | trial pushed | `id` (the team number, `team:412`), `uuid` (unique), `name`, `status`, `started_at`, `ended_at`, `user_name`, `host`, `notebook`, `cwd`, `python_version`, `executions` (how many the bundle holds), `tags` (tagged variables and stage labels), `store_schema` (the bundle's SQLite schema version), `bundle_sha256` (of the bundle's content: `digest.rs`), `pushed_at` |
//! | `prov_bundles` | trial | `trial_id`, `bytes` (the bundle file, zlib-deflated) |
//! | `prov_executions` | execution of a trial | `trial_id`, `seq`, `execution_count`, `cell_id`, `code_sha256`, `status`, `started_at`, `duration_ms` |
//! | `prov_values` | value captured after an execution | `trial_id`, `seq` (of the execution), `position` (0, 1, … in the order captured after it), `name`, `type_name`, `value_json`, `summary_json`, `tagged` (the name is a tagged variable of the trial), `label` (its tag's label) |
//!
//! Version 2 adds to `prov_trials` what the local trial list shows beside those, so a remote
//! trial lists with every key a local one has: `ipykernel_version`, `platform`, `pid`.
//!
//! Version 3 lets `values VAR` across every trial read one index and nothing else (measured by
//! the team benchmark: the join to `prov_executions` and the heap of `prov_values` were most of
//! its time): `prov_values` gains its execution's `execution_count` and `started_at` (filled at
//! push, and from `prov_executions` for rows pushed before), and the covering index
//! `prov_values_covering` on `(name, trial_id, seq, position)` including `type_name`,
//! `value_json`, `tagged`, `label`, `execution_count`, `started_at`, over the rows that fit a
//! B-tree entry ([`VALUES_COVERED`]: a query repeats that condition to use it, and reads the
//! rare other rows through `prov_values_name`).
//!
//! Version 4 indexes those rare other rows on their own (`prov_values_uncovered`, the negated
//! condition): without it, finding that a name has none re-read every row of the name from the
//! heap (0.8 s of 1.25 s for `values acc` over 200,000 values in the team benchmark).

use postgres::{Client, Transaction};

use crate::error::pg;
use crate::TeamError;

/// The newest team schema this build knows.
pub const TEAM_SCHEMA_VERSION: i64 = 4;

/// The rows of `prov_values` in the covering index (version 3): those small enough for a
/// B-tree entry. A query on values adds this condition (as is) to be answered from the index.
pub const VALUES_COVERED: &str = "octet_length(name) + coalesce(octet_length(type_name), 0) \
     + coalesce(octet_length(value_json), 0) + coalesce(octet_length(label), 0) < 2000";

/// The session advisory lock held while the schema is created or migrated.
const SCHEMA_LOCK: i64 = 0x7072_6f76_7363_6801; // "provsch" + 1

/// One migration: the DDL that takes the store from the version before to `version`.
pub(crate) struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// Every migration, in order. Append only: a released one never changes.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE prov_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE prov_trials (
    id             BIGSERIAL PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    name           TEXT,
    status         TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    ended_at       TIMESTAMPTZ,
    user_name      TEXT,
    host           TEXT NOT NULL,
    notebook       TEXT,
    cwd            TEXT,
    python_version TEXT,
    executions     INTEGER NOT NULL,
    tags           TEXT[] NOT NULL DEFAULT '{}',
    store_schema   INTEGER NOT NULL,
    bundle_sha256  TEXT NOT NULL,
    pushed_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE prov_bundles (
    trial_id BIGINT PRIMARY KEY REFERENCES prov_trials ON DELETE CASCADE,
    bytes    BYTEA NOT NULL
);
CREATE TABLE prov_executions (
    trial_id        BIGINT NOT NULL REFERENCES prov_trials ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    execution_count INTEGER,
    cell_id         TEXT,
    code_sha256     TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    duration_ms     BIGINT NOT NULL,
    PRIMARY KEY (trial_id, seq)
);
CREATE TABLE prov_values (
    trial_id     BIGINT NOT NULL REFERENCES prov_trials ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    type_name    TEXT,
    value_json   TEXT,
    summary_json TEXT,
    tagged       BOOLEAN NOT NULL,
    label        TEXT,
    PRIMARY KEY (trial_id, seq, position)
);
CREATE INDEX prov_trials_started ON prov_trials (started_at);
CREATE INDEX prov_trials_user ON prov_trials (user_name, id);
CREATE INDEX prov_trials_notebook ON prov_trials (notebook, id);
CREATE INDEX prov_trials_tags ON prov_trials USING GIN (tags);
CREATE INDEX prov_values_name ON prov_values (name, trial_id, seq);
",
    },
    Migration {
        version: 2,
        sql: "
ALTER TABLE prov_trials
    ADD COLUMN ipykernel_version TEXT,
    ADD COLUMN platform TEXT,
    ADD COLUMN pid BIGINT;
",
    },
    Migration {
        version: 3,
        sql: "
ALTER TABLE prov_values
    ADD COLUMN execution_count INTEGER,
    ADD COLUMN started_at TIMESTAMPTZ;
UPDATE prov_values v SET execution_count = e.execution_count, started_at = e.started_at
    FROM prov_executions e WHERE e.trial_id = v.trial_id AND e.seq = v.seq;
CREATE INDEX prov_values_covering ON prov_values (name, trial_id, seq, position)
    INCLUDE (type_name, value_json, tagged, label, execution_count, started_at)
    WHERE octet_length(name) + coalesce(octet_length(type_name), 0)
     + coalesce(octet_length(value_json), 0) + coalesce(octet_length(label), 0) < 2000;
",
    },
    Migration {
        version: 4,
        sql: "
CREATE INDEX prov_values_uncovered ON prov_values (name, trial_id, seq, position)
    WHERE NOT (octet_length(name) + coalesce(octet_length(type_name), 0)
     + coalesce(octet_length(value_json), 0) + coalesce(octet_length(label), 0) < 2000);
",
    },
];

/// The team store's schema version: 0 when it has no `prov_meta` yet.
pub(crate) fn version(client: &mut Client) -> Result<i64, TeamError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('prov_meta') IS NOT NULL", &[])
        .map_err(pg("read the schema version"))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_opt(
            "SELECT value FROM prov_meta WHERE key = 'schema_version'",
            &[],
        )
        .map_err(pg("read the schema version"))?;
    let Some(row) = row else { return Ok(0) };
    let text: String = row.get(0);
    text.trim().parse().map_err(|_| TeamError::BadTeamStore {
        problem: format!("its schema_version {text:?} in prov_meta is not a number"),
    })
}

/// Brings the team store to [`TEAM_SCHEMA_VERSION`], creating it on first use. Nothing is
/// locked when it is already there.
pub(crate) fn ensure(client: &mut Client) -> Result<(), TeamError> {
    ensure_up_to(client, TEAM_SCHEMA_VERSION)
}

/// Brings the team store to version `target` (tests build older stores with it).
pub(crate) fn ensure_up_to(client: &mut Client, target: i64) -> Result<(), TeamError> {
    let found = version(client)?;
    if found > TEAM_SCHEMA_VERSION {
        return Err(TeamError::TooNew {
            found,
            supported: TEAM_SCHEMA_VERSION,
        });
    }
    if found >= target {
        return Ok(());
    }
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])
        .map_err(pg("lock the schema"))?;
    let result = migrate_locked(client, target);
    // Unlocked on every path; the session's end would release it too.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])
        .map_err(pg("unlock the schema"));
    result.and(unlocked.map(|_| ()))
}

fn migrate_locked(client: &mut Client, target: i64) -> Result<(), TeamError> {
    // Another connection may have migrated while we waited for the lock.
    let found = version(client)?;
    if found > TEAM_SCHEMA_VERSION {
        return Err(TeamError::TooNew {
            found,
            supported: TEAM_SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > found && m.version <= target)
    {
        let action = format!("migrate the team schema to version {}", m.version);
        let mut tx = client.transaction().map_err(pg(action.clone()))?;
        tx.batch_execute(m.sql).map_err(pg(action.clone()))?;
        set_version(&mut tx, m.version).map_err(pg(action.clone()))?;
        tx.commit().map_err(pg(action))?;
    }
    Ok(())
}

fn set_version(tx: &mut Transaction<'_>, version: i64) -> Result<u64, postgres::Error> {
    tx.execute(
        "INSERT INTO prov_meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&version.to_string()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The value indexes' predicates are the one condition queries repeat: version 3's covering
    /// index holds the rows that fit it, version 4's the rest.
    #[test]
    fn the_value_indexes_split_on_the_covering_condition() {
        for (version, predicate) in [
            (3, format!("WHERE {};", words(VALUES_COVERED))),
            (4, format!("WHERE NOT ({});", words(VALUES_COVERED))),
        ] {
            let m = MIGRATIONS.iter().find(|m| m.version == version).unwrap();
            assert!(words(m.sql).contains(&predicate), "{}", m.sql);
        }
    }

    #[test]
    fn migrations_are_numbered_in_order_up_to_the_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().unwrap().version, TEAM_SCHEMA_VERSION);
    }
}
