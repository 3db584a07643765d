//! The table list against the schema: a store made by this build matches it exactly, and a
//! table or column it does not name (a later feature's, forgotten) is found.

use super::tables::{check_schema, Kind, TABLES};
use crate::Store;

fn fresh() -> (tempfile::TempDir, rusqlite::Connection) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    drop(Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    (tmp, conn)
}

#[test]
fn the_table_list_names_every_table_and_column_of_the_schema() {
    let (_tmp, conn) = fresh();
    check_schema(&conn, "main").unwrap();
}

#[test]
fn a_table_or_column_the_list_misses_is_found() {
    let (_tmp, conn) = fresh();
    conn.execute_batch("CREATE TABLE trial_notes (trial_id INTEGER, note TEXT)")
        .unwrap();
    let err = check_schema(&conn, "main").unwrap_err();
    assert!(err.contains("trial_notes"), "{err}");

    let (_tmp, conn) = fresh();
    conn.execute_batch("ALTER TABLE executions ADD COLUMN energy_joules REAL")
        .unwrap();
    let err = check_schema(&conn, "main").unwrap_err();
    assert!(err.contains("energy_joules"), "{err}");

    let (_tmp, conn) = fresh();
    conn.execute_batch("DROP TABLE trial_replays").unwrap();
    let err = check_schema(&conn, "main").unwrap_err();
    assert!(err.contains("trial_replays"), "{err}");
}

#[test]
fn every_per_trial_row_is_found_from_its_trial() {
    // Each condition is valid SQL over its table in both schemas it is used with.
    let (_tmp, conn) = fresh();
    for t in TABLES {
        if let Kind::PerTrial { rows } = t.kind {
            let sql = format!(
                "SELECT COUNT(*) FROM main.{} WHERE {}",
                t.name,
                super::tables::rows_in(rows, "main")
            );
            let n: i64 = conn
                .query_row(&sql, rusqlite::named_params! {":trial": 1}, |r| r.get(0))
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(n, 0);
        }
    }
}
