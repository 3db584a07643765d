//! What a read-only reader of an older store reads in place of the tables and columns later
//! versions added (see [`super::READABLE_FROM`]).

use rusqlite::Connection;

use super::user_version;

/// Creates empty temporary tables standing in for the tables of versions 6 and 7 in a store
/// read as it is at an older version, so one set of queries reads both: no execution of such
/// a store refers to them. Of the lean store's, `current_versions`, `version_rows` and
/// `captured_value_rows` stand in as views of the old tables, its lists as empty tables; a
/// temporary view of `trials` adds `user_name` (NULL) where the store has no such column.
pub(crate) fn stand_in_for_newer_tables(conn: &Connection) -> rusqlite::Result<()> {
    let version = user_version(conn)?;
    // Found by name, like the lean store: a temporary view is read before the table of the
    // same name, so every query of `trials` sees the column.
    let has_user: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('trials') WHERE name = 'user_name')",
        [],
        |r| r.get(0),
    )?;
    if !has_user {
        conn.execute_batch(
            "CREATE TEMP VIEW trials AS SELECT *, NULL AS user_name FROM main.trials;",
        )?;
    }
    // Found by name, not by version: the lean store's migration has no fixed number.
    let lean: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'current_versions')",
        [],
        |r| r.get(0),
    )?;
    if !lean {
        let fingerprint = if version >= 5 {
            "fingerprint_json"
        } else {
            "NULL AS fingerprint_json"
        };
        conn.execute_batch(&format!(
            "CREATE TEMP VIEW current_versions AS
                 SELECT trial_id, version, name, symbol, execution_id, statement, kind
                 FROM dataflow_versions WHERE current = 1;
             CREATE TEMP VIEW version_rows AS SELECT * FROM dataflow_versions;
             CREATE TEMP TABLE version_set_members (
                 set_id INTEGER NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                 symbol TEXT NOT NULL, statement INTEGER NOT NULL, kind TEXT NOT NULL,
                 PRIMARY KEY (set_id, position)) WITHOUT ROWID;
             CREATE TEMP TABLE execution_version_sets (
                 execution_id INTEGER PRIMARY KEY, trial_id INTEGER NOT NULL,
                 set_id INTEGER NOT NULL, base INTEGER NOT NULL);
             CREATE TEMP VIEW captured_value_rows AS
                 SELECT id, execution_id, name, type_name, value_json, summary_json,
                        {fingerprint}
                 FROM captured_values;
             CREATE TEMP TABLE value_set_members (
                 set_id INTEGER NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                 type_name TEXT NOT NULL, value_json TEXT, summary_json TEXT,
                 fingerprint_json TEXT, PRIMARY KEY (set_id, position)) WITHOUT ROWID;
             CREATE TEMP TABLE execution_value_sets (
                 execution_id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL);"
        ))?;
    }
    if version < 7 {
        conn.execute_batch(
            "CREATE TEMP TABLE file_accesses (
                 execution_id INTEGER NOT NULL, seq INTEGER NOT NULL, path TEXT NOT NULL,
                 resolved TEXT NOT NULL, access TEXT NOT NULL, line INTEGER, statement INTEGER,
                 size INTEGER, mtime REAL, sha256 TEXT, sampled INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (execution_id, seq)) WITHOUT ROWID;",
        )?;
    }
    if version >= 6 {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TEMP TABLE code_analysis (
             code_id INTEGER PRIMARY KEY, analysis_version INTEGER NOT NULL,
             analysis TEXT NOT NULL);
         CREATE TEMP TABLE code_statements (
             code_id INTEGER NOT NULL, statement INTEGER NOT NULL, line_start INTEGER,
             line_end INTEGER, byte_start INTEGER, byte_end INTEGER,
             PRIMARY KEY (code_id, statement)) WITHOUT ROWID;
         CREATE TEMP TABLE name_set_members (
             set_id INTEGER NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
             role TEXT NOT NULL, PRIMARY KEY (set_id, position)) WITHOUT ROWID;
         CREATE TEMP TABLE execution_name_sets (
             execution_id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL);
         CREATE TEMP TABLE read_set_members (
             set_id INTEGER NOT NULL, statement INTEGER NOT NULL,
             dep_statement INTEGER NOT NULL, symbol TEXT NOT NULL,
             PRIMARY KEY (set_id, statement, dep_statement, symbol)) WITHOUT ROWID;
         CREATE TEMP TABLE execution_read_sets (
             execution_id INTEGER PRIMARY KEY, set_id INTEGER NOT NULL);",
    )
}
