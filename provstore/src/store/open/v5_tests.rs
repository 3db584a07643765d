//! A store of schema 5 (before facts were shared between executions): read as it is by a
//! reader that may not write it, migrated by one that may, and recorded into afterwards.

use std::path::Path;

use chrono::{Duration, Utc};
use rusqlite::Connection;

use super::{Access, Mapping};
use crate::{DataflowRecord, ExecStatus, ExecutionRecord, Store};

/// `In[n]` running `code`, with its own analysis (as every execution had before schema 6)
/// or none (the code's).
pub(super) fn cell(n: i64, code: &str, own_analysis: bool) -> ExecutionRecord {
    let at = Utc::now();
    let analysis = if own_analysis {
        serde_json::to_string(&pyflow::analyze_cell(code)).unwrap()
    } else {
        String::new()
    };
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: None,
        code: code.into(),
        started_at: at,
        ended_at: at + Duration::milliseconds(3),
        status: ExecStatus::Ok,
        error: None,
        outputs: vec![],
        dataflow: Some(DataflowRecord {
            analysis,
            runtime: None,
            failed_line: None,
        }),
    }
}

/// The lean store rewritten as the schema before it (`tests/common/undo_lean.sql`).
pub(super) const UNDO_LEAN: &str = include_str!("../../../tests/common/undo_lean.sql");

const CELLS: [&str; 4] = [
    "a = 1\nb = a + 1\ntmp = b\ndel tmp",
    "c = [a, b]\nc.append(a)",
    "a = 1\nb = a + 1\ntmp = b\ndel tmp",
    "d = sum(c) + b",
];

/// Rewrites a store of schema 6 whose executions all have their own analysis as schema 5
/// kept it: names and inner reads as rows of each execution, no table of version 6.
fn downgrade_to_v5(db: &Path) {
    let conn = Connection::open(db).unwrap();
    // First as before the lean store (its notes are small: none is deflated).
    conn.execute_batch(UNDO_LEAN).unwrap();
    conn.execute_batch(
        "INSERT INTO execution_names (execution_id, name, role)
             SELECT x.execution_id, m.name, m.role FROM execution_name_sets x
             JOIN name_set_members m ON m.set_id = x.set_id
             ORDER BY x.execution_id, m.position;
         INSERT INTO dataflow_reads
             SELECT x.execution_id, m.statement, x.execution_id, m.dep_statement, m.symbol
             FROM execution_read_sets x JOIN read_set_members m ON m.set_id = x.set_id;
         DROP TABLE execution_read_sets; DROP TABLE read_set_members; DROP TABLE read_sets;
         DROP TABLE execution_name_sets; DROP TABLE name_set_members; DROP TABLE name_sets;
         DROP TABLE code_statements; DROP TABLE code_analysis;
         PRAGMA user_version = 5;",
    )
    .unwrap();
}

/// Every answer of the trial: each variable's executions (`In[n]`) and statement texts.
fn answers(store: &Store, trial: i64) -> Vec<(String, Vec<i64>, Vec<String>)> {
    let mut all = Vec::new();
    for var in ["a", "b", "c", "d"] {
        let answer = store.backwards_deps(trial, var).unwrap();
        all.push((
            var.to_string(),
            answer
                .executions
                .iter()
                .map(|e| e.execution_count.unwrap())
                .collect(),
            answer
                .executions
                .iter()
                .flat_map(|e| e.statements.iter().map(|s| s.text.clone()))
                .collect(),
        ));
    }
    let deleted = store.backwards_deps(trial, "tmp").unwrap_err().to_string();
    all.push(("tmp".into(), Vec::new(), vec![deleted]));
    all
}

#[test]
fn a_schema_5_store_is_read_as_it_is_then_migrated_and_recorded_into() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let trial = store.begin_trial(&super::test_trial()).unwrap().id;
    for (i, code) in CELLS.iter().enumerate() {
        store
            .record_execution(trial, &cell(i as i64 + 1, code, true))
            .unwrap();
    }
    let want = answers(&store, trial);
    assert_eq!(want[3].1, [1, 2, 3, 4], "{want:?}");
    drop(store);
    downgrade_to_v5(&db);

    // A reader that may not write reads it as it is, with the same answers.
    let reader = Store::connect_as(&db, Access::Uri("mode=ro"), Mapping::Read).unwrap();
    assert!(!reader.is_writable());
    assert_eq!(answers(&reader, trial), want);
    drop(reader);
    let version = |db: &Path| -> i64 {
        Connection::open(db)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&db), 5);

    // A writer migrates it; the old rows answer as before, and re-runs recorded now (the
    // code's analysis, shared lists) join them.
    let mut store = Store::open(&db).unwrap();
    assert_eq!(version(&db), crate::SCHEMA_VERSION);
    assert_eq!(answers(&store, trial), want);
    store
        .record_execution(trial, &cell(5, CELLS[0], false))
        .unwrap();
    store
        .record_execution(trial, &cell(6, CELLS[3], false))
        .unwrap();
    let now = answers(&store, trial);
    assert_eq!(now[3].1, [1, 2, 5, 6], "{now:?}");
    assert_eq!(now[1].1, [5], "{now:?}");
    assert_eq!(now[3].2.last().map(String::as_str), Some("d = sum(c) + b"));
    let replay = store.replay_dataflow(trial).unwrap();
    for (var, counts, _) in &now[..4] {
        let want: Vec<i64> = replay
            .backwards_deps(var)
            .unwrap()
            .iter()
            .map(|d| d.exec.execution_count.unwrap())
            .collect();
        assert_eq!(&want, counts, "{var}");
    }
}
