//! The index by request id is gone (its migration): a store that had it loses it, and the two
//! look-ups by request id walk the trial's own index from its newest execution, with the same
//! answers.

use rusqlite::Connection;

use crate::schema::SCHEMA_VERSION;
use crate::Store;

/// The plan SQLite makes for `sql`, its lines joined.
fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    lines.join("; ")
}

#[test]
fn the_index_by_request_goes_and_the_latest_run_of_a_request_is_found_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let trial = store.begin_trial(&super::test_trial()).unwrap().id;
    for n in 1..=30 {
        let mut e = super::v5_tests::cell(n, "x = 1", false);
        // Requests 5 and 20 share an id (a frontend re-sending one): the latest is the answer.
        e.msg_id = if n == 20 {
            "m5".into()
        } else {
            format!("m{n}")
        };
        store.record_execution(trial, &e).unwrap();
    }
    drop(store);
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "CREATE INDEX executions_msg_id ON executions (msg_id);
         PRAGMA user_version = {};",
        SCHEMA_VERSION - 1
    ))
    .unwrap();
    drop(conn);

    let mut store = Store::open(&db).unwrap();
    let indexes: Vec<String> = store
        .conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(
        !indexes.iter().any(|i| i == "executions_msg_id"),
        "{indexes:?}"
    );
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);

    // Both look-ups: by the trial's (trial_id, seq) index, newest first, no sort, no scan.
    for sql in [
        "SELECT id FROM executions WHERE trial_id = 1 AND msg_id = 'm5' ORDER BY seq DESC LIMIT 1",
        "SELECT e.id FROM executions e JOIN code c ON c.id = e.code_id
          WHERE e.msg_id = 'm5' AND e.trial_id = 1 ORDER BY e.seq DESC LIMIT 1",
    ] {
        let plan = plan(&store.conn, sql);
        assert!(plan.contains("sqlite_autoindex_executions_1"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
    let latest: i64 = store
        .conn
        .query_row(
            "SELECT seq FROM executions WHERE trial_id = ?1 AND msg_id = 'm5'
             ORDER BY seq DESC LIMIT 1",
            [trial],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(latest, 20);
    // The late notes of request m5 land on its latest run.
    store
        .set_runtime_facts(trial, "m5", r#"{"bound": [], "deleted": []}"#)
        .unwrap();
    let noted: Vec<i64> = store
        .conn
        .prepare(
            "SELECT e.seq FROM execution_dataflow d JOIN executions e ON e.id = d.execution_id
              WHERE d.runtime IS NOT NULL",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(noted, vec![20]);
}
