//! A store of schema 6 (before file accesses were recorded): a reader that may not write it
//! says the store cannot tell which files a trial opened (not an empty list); once migrated,
//! its old trials have no file rows and new ones get theirs.

use rusqlite::Connection;

use super::{Access, Mapping};
use crate::{ExecutionRecord, Store};

/// `In[n]` running `code` with the probe's note `runtime`.
fn cell(n: i64, code: &str, runtime: Option<String>) -> ExecutionRecord {
    let mut e = super::v5_tests::cell(n, code, true);
    if let Some(dataflow) = e.dataflow.as_mut() {
        dataflow.runtime = runtime;
    }
    e
}

fn reading(path: &str) -> String {
    serde_json::json!({"bound": [], "deleted": [], "files": [{"path": path,
        "resolved": format!("/w/{path}"), "access": "read", "line": 1, "size": 1,
        "mtime": 1.0, "sha256": "ab", "sampled": false}]})
    .to_string()
}

#[test]
fn a_schema_6_store_read_as_it_is_says_it_recorded_no_files() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let trial = store.begin_trial(&super::test_trial()).unwrap().id;
    store
        .record_execution(trial, &cell(1, "open('a.txt').read()", None))
        .unwrap();
    drop(store);
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(super::v5_tests::UNDO_LEAN).unwrap();
    conn.execute_batch("DROP TABLE file_accesses; PRAGMA user_version = 6;")
        .unwrap();
    drop(conn);

    let reader = Store::connect_as(&db, Access::Uri("mode=ro"), Mapping::Read).unwrap();
    let answer = reader.trial_files(trial).unwrap();
    assert!(!answer.recorded);
    assert_eq!(answer.schema_version, 6);
    assert!(answer.accesses.is_empty());
    drop(reader);

    // A writer migrates it: the old trial has no rows (it recorded none), a new execution
    // has its own.
    let mut store = Store::open(&db).unwrap();
    let answer = store.trial_files(trial).unwrap();
    assert!(answer.recorded && answer.accesses.is_empty());
    store
        .record_execution(
            trial,
            &cell(2, "open('b.txt').read()", Some(reading("b.txt"))),
        )
        .unwrap();
    let answer = store.trial_files(trial).unwrap();
    assert_eq!(answer.accesses.len(), 1);
    assert_eq!(answer.accesses[0].path, "b.txt");
}
