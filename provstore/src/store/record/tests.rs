//! The write path keeps its statements: none is parsed and planned again per execution.

use chrono::{Duration, Utc};

use crate::{DataflowRecord, ExecStatus, ExecutionRecord, OutputRecord, Store};

/// `In[n]`: a `pass` (the probe's empty note), or a cell binding `x` and printing it.
fn execution(n: i64) -> ExecutionRecord {
    let at = Utc::now();
    let (code, note, outputs) = if n % 2 == 0 {
        (
            "pass",
            r#"{"bound": [], "deleted": []}"#.to_string(),
            vec![],
        )
    } else {
        (
            "x = 1\nprint(x)",
            format!(r#"{{"bound": [["x", {n}, {{"type": "int", "value": {n}}}]], "deleted": []}}"#),
            vec![OutputRecord {
                output_type: "stream".into(),
                name: Some("stdout".into()),
                payloads: vec![("text/plain".into(), format!("{n}\n").into_bytes())],
            }],
        )
    };
    ExecutionRecord {
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: None,
        code: code.into(),
        code_replaced: false,
        started_at: at,
        ended_at: at + Duration::milliseconds(2),
        status: ExecStatus::Ok,
        error: None,
        outputs,
        dataflow: Some(DataflowRecord {
            analysis: String::new(),
            runtime: Some(note),
            failed_line: None,
        }),
    }
}

/// Each statement the connection holds, with how often SQLite prepared it again.
fn reprepared(store: &Store) -> Vec<(String, i32)> {
    use rusqlite::ffi;
    let mut found = Vec::new();
    // SAFETY: the handle is this connection's, used on this thread while `store` is borrowed;
    // the statements are only read (their SQL and a counter), none is stepped or finalized.
    unsafe {
        let db = store.conn.handle();
        let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !stmt.is_null() {
            let sql = std::ffi::CStr::from_ptr(ffi::sqlite3_sql(stmt));
            let times = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            found.push((sql.to_string_lossy().into_owned(), times));
            stmt = ffi::sqlite3_next_stmt(db, stmt);
        }
    }
    found
}

#[test]
fn recording_prepares_each_statement_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("prov.db")).unwrap();
    // Trial 1 and 2: a value SQLite's planner treats apart (0 and 1), and one it does not.
    for _ in 0..2 {
        let trial = store
            .begin_trial(&super::super::open::test_trial())
            .unwrap()
            .id;
        for n in 1..=12 {
            let staged = store.store_executions(trial, &[execution(n)]).unwrap();
            store.index_executions(staged).unwrap();
        }
    }
    let statements = reprepared(&store);
    assert!(
        statements.len() > 20,
        "the write path's statements are kept: {statements:?}"
    );
    let again: Vec<_> = statements.iter().filter(|(_, n)| *n > 0).collect();
    assert!(again.is_empty(), "prepared again: {again:?}");
}

#[test]
fn a_failing_light_index_does_not_cost_the_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let trial = store
        .begin_trial(&super::super::open::test_trial())
        .unwrap()
        .id;
    // In[1] and In[2] build the trial's live engine and keep the analysis of `pass`, so In[4]
    // (a `pass` again) is light: indexed in its rows' transaction.
    for n in [1, 2] {
        let staged = store.store_executions(trial, &[execution(n)]).unwrap();
        store.index_executions(staged).unwrap();
    }
    // From now on every write of the index fails.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER no_index_update BEFORE UPDATE ON dataflow_indexed
             BEGIN SELECT RAISE(ABORT, 'the index cannot be written'); END;
             CREATE TRIGGER no_index_insert BEFORE INSERT ON dataflow_indexed
             BEGIN SELECT RAISE(ABORT, 'the index cannot be written'); END;",
        )
        .unwrap();
    let staged = store
        .store_executions(trial, &[execution(4)])
        .expect("the rows are stored even though their index fails");
    assert!(
        !staged.indexed,
        "stored without the index it could not write"
    );
    let ids = staged.ids();
    assert!(
        store.index_executions(staged).is_err(),
        "the index still fails"
    );
    let stored: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM executions WHERE id = ?1 AND execution_count = 4",
            [ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
}
