//! The schema and its forward migrations, keyed on `PRAGMA user_version`.
//! The crate docs (section SCHEMA) describe the tables in words.

use rusqlite::{Connection, TransactionBehavior};

mod stand_in;

pub(crate) use stand_in::stand_in_for_newer_tables;

/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[i]` takes a store from version `i` to `i + 1`. Only ever
/// append: a released migration never changes.
const MIGRATIONS: [&str; 12] = [
    V1,
    V2,
    V3,
    V4,
    V5,
    V6,
    V7,
    CELL_RUNS,
    REPLAY_OF,
    LEAN_REPEATS,
    TRIAL_USER,
    NO_MSG_ID_INDEX,
];

/// The index of executions by request id goes: every execution wrote a page of it (a random
/// leaf: request ids are UUIDs) for two look-ups that want the trial's latest execution of a
/// request (the late notes of a failed cell, the live checks), which the trial's own index
/// `(trial_id, seq)` finds walking back from its newest execution. Only an index: readers of
/// a store with it get the same answers.
const NO_MSG_ID_INDEX: &str = r#"
DROP INDEX IF EXISTS executions_msg_id;
"#;

/// Who ran a trial (`trials.user_name`: `$USER`, else `$LOGNAME`, else the account name of the
/// kernel's uid), so a team store can tell everyone's trials apart. NULL for trials recorded
/// before. A store read as it is at an older version gets a view standing in
/// ([`stand_in_for_newer_tables`]).
const TRIAL_USER: &str = r#"
ALTER TABLE trials ADD COLUMN user_name TEXT;
"#;

/// The runs of one cell in a trial, found by index: the live checks (`PROV_WARN`, `%prov_warn`)
/// ask, after each execution, for the earlier runs of its cell and whether a reader's run is
/// its cell's latest, which must not read every execution of a long trial. Only an index:
/// readers of a store without it get the same answers.
const CELL_RUNS: &str = r#"
CREATE INDEX IF NOT EXISTS executions_by_cell ON executions (trial_id, cell_id, seq);
"#;

/// Replays (`provctl replay`): for a trial that re-executed another, the UUID of that trial
/// (`trial_replays`, from the kernel's `$PROV_REPLAY_OF`); a trial a person ran has no row. A
/// UUID, not an id, so it still names the right trial when stores are merged. A table of its
/// own, created only if missing, so the migration is safe to run on any store.
const REPLAY_OF: &str = r#"
CREATE TABLE IF NOT EXISTS trial_replays (
    trial_id  INTEGER PRIMARY KEY REFERENCES trials (id) ON DELETE CASCADE,
    replay_of TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trial_replays_by_source ON trial_replays (replay_of);
"#;

/// Re-running unchanged code adds no per-name rows: the versions an execution made and the
/// values the probe captured after it are lists stored once per distinct content, as the names
/// and reads of version 6 are. `dataflow_versions` and `captured_values` become views of the
/// same columns over the rows kept per execution until now (`version_rows`,
/// `captured_value_rows`) and the shared lists: `version_sets` / `version_set_members` (a
/// version's number is its execution's `base` plus its `position` in the list) with
/// `execution_version_sets`, and `value_sets` / `value_set_members` with
/// `execution_value_sets`. Which versions are current is a table of its own
/// (`current_versions`, the whole row of each), so re-running moves those rows instead of
/// flagging a row per version. Nothing here assumes the number this migration gets.
const LEAN_REPEATS: &str = r#"
ALTER TABLE dataflow_versions RENAME TO version_rows;
CREATE TABLE current_versions (
    trial_id     INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    execution_id INTEGER NOT NULL,
    statement    INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    PRIMARY KEY (trial_id, version)
) WITHOUT ROWID;
CREATE INDEX current_versions_by_name ON current_versions (trial_id, name);
INSERT INTO current_versions (trial_id, version, name, symbol, execution_id, statement, kind)
    SELECT trial_id, version, name, symbol, execution_id, statement, kind
    FROM version_rows WHERE current = 1;
CREATE TABLE version_sets (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE
);
CREATE TABLE version_set_members (
    set_id    INTEGER NOT NULL REFERENCES version_sets (id),
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    symbol    TEXT NOT NULL,
    statement INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    PRIMARY KEY (set_id, position)
) WITHOUT ROWID;
CREATE INDEX version_set_members_by_name ON version_set_members (name, set_id);
CREATE TABLE execution_version_sets (
    execution_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
    trial_id     INTEGER NOT NULL,
    set_id       INTEGER NOT NULL REFERENCES version_sets (id),
    base         INTEGER NOT NULL
);
CREATE INDEX execution_version_sets_by_trial ON execution_version_sets (trial_id);
CREATE INDEX execution_version_sets_by_set ON execution_version_sets (set_id, trial_id);
CREATE VIEW dataflow_versions AS
    SELECT trial_id, version, name, symbol, execution_id, statement, kind, current
    FROM version_rows
    UNION ALL
    SELECT x.trial_id, x.base + m.position, m.name, m.symbol, x.execution_id, m.statement,
           m.kind,
           EXISTS (SELECT 1 FROM current_versions c
                   WHERE c.trial_id = x.trial_id AND c.version = x.base + m.position)
    FROM execution_version_sets x JOIN version_set_members m ON m.set_id = x.set_id;
ALTER TABLE captured_values RENAME TO captured_value_rows;
CREATE TABLE value_sets (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE
);
CREATE TABLE value_set_members (
    set_id           INTEGER NOT NULL REFERENCES value_sets (id),
    position         INTEGER NOT NULL,
    name             TEXT NOT NULL,
    type_name        TEXT NOT NULL,
    value_json       TEXT,
    summary_json     TEXT,
    fingerprint_json TEXT,
    PRIMARY KEY (set_id, position)
) WITHOUT ROWID;
CREATE INDEX value_set_members_by_name ON value_set_members (name, set_id);
CREATE TABLE execution_value_sets (
    execution_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
    set_id       INTEGER NOT NULL REFERENCES value_sets (id)
);
CREATE INDEX execution_value_sets_by_set ON execution_value_sets (set_id);
CREATE VIEW captured_values AS
    SELECT id, execution_id, name, type_name, value_json, summary_json, fingerprint_json
    FROM captured_value_rows
    UNION ALL
    SELECT m.position + 1, x.execution_id, m.name, m.type_name, m.value_json, m.summary_json,
           m.fingerprint_json
    FROM execution_value_sets x JOIN value_set_members m ON m.set_id = x.set_id;
"#;

/// Version 7: the files an execution's code read and wrote (`file_accesses`, one row per file,
/// access and statement, from the probe's `files` note; never their content), found by
/// resolved path for `provctl deps PATH` and the trial diff's inputs.
const V7: &str = r#"
CREATE TABLE IF NOT EXISTS file_accesses (
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    path         TEXT NOT NULL,
    resolved     TEXT NOT NULL,
    access       TEXT NOT NULL CHECK (access IN ('read', 'write')),
    line         INTEGER,
    statement    INTEGER,
    size         INTEGER,
    mtime        REAL,
    sha256       TEXT,
    sampled      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_accesses_by_resolved ON file_accesses (resolved, execution_id);
"#;

/// Version 6: facts that are a function of the code, stored once per code instead of once per
/// execution. `code_analysis` holds the static analysis of a code row (with the
/// `pyflow::ANALYSIS_VERSION` that made it); an execution whose `execution_dataflow.analysis`
/// is empty uses it. `code_statements` holds the positions of that analysis' statements; an
/// execution with no `dataflow_statements` rows of its own uses those of its code. The names
/// an execution touched (`execution_names` until now) are a list kept once per distinct
/// content (`name_sets`, `name_set_members`), each execution naming its list
/// (`execution_name_sets`); so are the reads of an execution's statements from statements of
/// the same execution (`read_sets`, `read_set_members`, `execution_read_sets`), while
/// `dataflow_reads` keeps the reads of earlier executions.
const V6: &str = r#"
CREATE TABLE IF NOT EXISTS code_analysis (
    code_id          INTEGER PRIMARY KEY REFERENCES code (id),
    analysis_version INTEGER NOT NULL,
    analysis         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS code_statements (
    code_id    INTEGER NOT NULL REFERENCES code (id),
    statement  INTEGER NOT NULL,
    line_start INTEGER,
    line_end   INTEGER,
    byte_start INTEGER,
    byte_end   INTEGER,
    PRIMARY KEY (code_id, statement)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS name_sets (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS name_set_members (
    set_id   INTEGER NOT NULL REFERENCES name_sets (id),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL CHECK (role IN ('defined', 'used', 'mutated', 'deleted')),
    PRIMARY KEY (set_id, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS name_set_members_by_name ON name_set_members (name, role);
CREATE TABLE IF NOT EXISTS execution_name_sets (
    execution_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
    set_id       INTEGER NOT NULL REFERENCES name_sets (id)
);
CREATE INDEX IF NOT EXISTS execution_name_sets_by_set ON execution_name_sets (set_id);
CREATE TABLE IF NOT EXISTS read_sets (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS read_set_members (
    set_id        INTEGER NOT NULL REFERENCES read_sets (id),
    statement     INTEGER NOT NULL,
    dep_statement INTEGER NOT NULL,
    symbol        TEXT NOT NULL,
    PRIMARY KEY (set_id, statement, dep_statement, symbol)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS execution_read_sets (
    execution_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
    set_id       INTEGER NOT NULL REFERENCES read_sets (id)
);
"#;

/// Version 5: the probe's content fingerprint of a captured value that has no summary (an
/// untagged array, frame, tensor or estimator), `{"sha256", "sampled"}`, so a diff compares
/// content where it knew only the type. Null for everything recorded before.
const V5: &str = r#"
ALTER TABLE captured_values ADD COLUMN fingerprint_json TEXT;
"#;

/// Version 4: an execution whose request was not valid UTF-8 is recorded with the invalid bytes
/// replaced (as the child ran it), and says so.
const V4: &str = r#"
ALTER TABLE executions ADD COLUMN code_replaced INTEGER NOT NULL DEFAULT 0;
"#;

/// Version 3: the dataflow graph itself, written by the kernel's live engine as each
/// execution is recorded, so dependency queries walk indexes instead of replaying the trial:
/// every version of a variable (and whether it is current), what each producing statement
/// read (statement → statement), the producing statements' positions, and how far each
/// trial is indexed. `execution_names` and `dependencies` (version 1) get the per-execution
/// summary (defined / mutated / used / deleted; execution → execution), and
/// `captured_values` the probe's values of what each execution defined; the index of
/// `execution_names` by execution becomes covering.
const V3: &str = r#"
CREATE TABLE dataflow_versions (
    trial_id     INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    execution_id INTEGER NOT NULL,
    statement    INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    current      INTEGER NOT NULL,
    PRIMARY KEY (trial_id, version)
) WITHOUT ROWID;
CREATE INDEX dataflow_versions_by_name ON dataflow_versions (trial_id, name);
CREATE INDEX dataflow_versions_current ON dataflow_versions (trial_id, name) WHERE current = 1;
CREATE TABLE dataflow_reads (
    execution_id     INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    statement        INTEGER NOT NULL,
    dep_execution_id INTEGER NOT NULL,
    dep_statement    INTEGER NOT NULL,
    symbol           TEXT NOT NULL,
    PRIMARY KEY (execution_id, statement, dep_execution_id, dep_statement, symbol)
) WITHOUT ROWID;
CREATE TABLE dataflow_statements (
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    statement    INTEGER NOT NULL,
    line_start   INTEGER,
    line_end     INTEGER,
    byte_start   INTEGER,
    byte_end     INTEGER,
    PRIMARY KEY (execution_id, statement)
) WITHOUT ROWID;
DROP INDEX execution_names_by_execution;
CREATE INDEX execution_names_by_execution ON execution_names (execution_id, role, name);
CREATE TABLE dataflow_indexed (
    trial_id   INTEGER PRIMARY KEY REFERENCES trials (id) ON DELETE CASCADE,
    through_id INTEGER NOT NULL
);
"#;

/// Version 2: the dataflow facts of each execution (the static analysis of its code, the
/// runtime probe's notes, the line it failed at), from which a trial's dependency graph is
/// rebuilt for any query, in any later session.
const V2: &str = r#"
CREATE TABLE execution_dataflow (
    execution_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,
    analysis     TEXT NOT NULL,
    runtime      TEXT,
    failed_line  INTEGER
);
CREATE INDEX executions_msg_id ON executions (msg_id);
"#;

/// Version 1: trials, executions, content-addressed code and payloads, and
/// the tables later features fill (names, dependencies, tags, captured
/// values, packages).
const V1: &str = r#"
CREATE TABLE store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE trials (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    name              TEXT UNIQUE,
    status            TEXT NOT NULL CHECK (status IN ('running', 'finished', 'crashed')),
    started_at        TEXT NOT NULL,
    ended_at          TEXT,
    notebook          TEXT,
    cwd               TEXT NOT NULL,
    python_version    TEXT,
    ipykernel_version TEXT,
    platform          TEXT NOT NULL,
    hostname          TEXT NOT NULL,
    pid               INTEGER NOT NULL,
    pid_start         TEXT
);
CREATE INDEX trials_running ON trials (hostname) WHERE status = 'running';

CREATE TABLE code (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    text   TEXT NOT NULL
);

CREATE TABLE executions (
    id              INTEGER PRIMARY KEY,
    trial_id        INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    msg_id          TEXT NOT NULL,
    execution_count INTEGER,
    cell_id         TEXT,
    code_id         INTEGER NOT NULL REFERENCES code (id),
    started_at      TEXT NOT NULL,
    ended_at        TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ok', 'error', 'aborted')),
    error_name      TEXT,
    error_value     TEXT,
    error_traceback TEXT,
    UNIQUE (trial_id, seq)
);
CREATE INDEX executions_by_start ON executions (started_at);

CREATE TABLE outputs (
    id           INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    output_type  TEXT NOT NULL,
    stream_name  TEXT,
    UNIQUE (execution_id, seq)
);

CREATE TABLE blobs (
    id     INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    size   INTEGER NOT NULL,
    data   BLOB
);

CREATE TABLE output_data (
    output_id INTEGER NOT NULL REFERENCES outputs (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    blob_id   INTEGER NOT NULL REFERENCES blobs (id),
    PRIMARY KEY (output_id, position)
) WITHOUT ROWID;

CREATE TABLE execution_names (
    id              INTEGER PRIMARY KEY,
    execution_id    INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('defined', 'used', 'mutated', 'deleted')),
    statement_index INTEGER
);
CREATE INDEX execution_names_by_execution ON execution_names (execution_id);
CREATE INDEX execution_names_by_name ON execution_names (name, role);

CREATE TABLE dependencies (
    id            INTEGER PRIMARY KEY,
    execution_id  INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    depends_on_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    name          TEXT,
    kind          TEXT NOT NULL DEFAULT 'variable'
);
CREATE INDEX dependencies_by_execution ON dependencies (execution_id);
CREATE INDEX dependencies_by_source ON dependencies (depends_on_id);

CREATE TABLE variable_tags (
    id           INTEGER PRIMARY KEY,
    trial_id     INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    label        TEXT,
    execution_id INTEGER REFERENCES executions (id) ON DELETE SET NULL,
    tagged_at    TEXT NOT NULL
);
CREATE INDEX variable_tags_by_trial ON variable_tags (trial_id, name);
CREATE INDEX variable_tags_by_execution ON variable_tags (execution_id);

CREATE TABLE cell_stages (
    id        INTEGER PRIMARY KEY,
    trial_id  INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    cell_id   TEXT NOT NULL,
    stage     TEXT NOT NULL,
    tagged_at TEXT NOT NULL,
    UNIQUE (trial_id, cell_id, stage)
);

CREATE TABLE captured_values (
    id           INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    type_name    TEXT NOT NULL,
    value_json   TEXT,
    summary_json TEXT
);
CREATE INDEX captured_values_by_execution ON captured_values (execution_id);
CREATE INDEX captured_values_by_name ON captured_values (name);

CREATE TABLE trial_packages (
    trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    version  TEXT NOT NULL,
    PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
"#;

/// The oldest version a read-only reader can read as it is: later migrations only add what
/// readers do not ask for (version 4: `executions.code_replaced`), or add what a read-only
/// reader of an older store stands in for with temporary tables and views (version 5:
/// `captured_values.fingerprint_json`, read as NULL; version 6: `code_analysis`,
/// `code_statements`, `name_set_members`, `execution_name_sets`, `read_set_members`,
/// `execution_read_sets`; version 7: `file_accesses`; the lean store's tables; see
/// [`stand_in_for_newer_tables`]), or add only an index (the runs of a cell) or a table
/// looked for by name (replays, [`has_replays`]), or a column of `trials` a view stands in
/// for (`user_name`), or drop an index (by request id): every execution of such a store keeps
/// its facts in its own rows.
const READABLE_FROM: i64 = 3;

/// What [`migrate`] found.
pub(crate) enum Migration {
    /// The store is at [`SCHEMA_VERSION`] (possibly after migrating).
    Current,
    /// The store has a newer schema than this build knows.
    TooNew(i64),
}

/// Brings the store up to [`SCHEMA_VERSION`]. The check is a plain read, so
/// an up-to-date store (even a read-only one) is never locked; migrating
/// takes the write lock first and checks again, so two processes opening a
/// new store at once migrate it exactly once. A store that cannot be written is read as it
/// is when its version is recent enough ([`READABLE_FROM`]).
pub(crate) fn migrate(
    conn: &mut Connection,
    store_uuid: &str,
    now: &str,
    writable: bool,
) -> rusqlite::Result<Migration> {
    let version = user_version(conn)?;
    if !writable && (READABLE_FROM..SCHEMA_VERSION).contains(&version) {
        return Ok(Migration::Current);
    }
    if version >= SCHEMA_VERSION {
        return Ok(if version == SCHEMA_VERSION {
            Migration::Current
        } else {
            Migration::TooNew(version)
        });
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = user_version(&tx)?;
    if version > SCHEMA_VERSION {
        return Ok(Migration::TooNew(version));
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    if version == 0 {
        let created_by = concat!("provstore ", env!("CARGO_PKG_VERSION"));
        for (key, value) in [
            ("store_uuid", store_uuid),
            ("created_at", now),
            ("created_by", created_by),
        ] {
            tx.execute(
                "INSERT OR IGNORE INTO store_info (key, value) VALUES (?1, ?2)",
                (key, value),
            )?;
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(Migration::Current)
}

/// Whether the store has `trial_replays` (the replays' migration): a read-only store of an
/// older version has no replays.
pub(crate) fn has_replays(conn: &Connection) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare("SELECT 1 FROM pragma_table_info('trial_replays') LIMIT 1")?;
    stmt.exists([])
}

/// The schema version recorded in the file (0 for a new, empty file).
pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}
