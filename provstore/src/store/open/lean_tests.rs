//! A store written before the lean store (versions and captured values as rows of each
//! execution, notes as text): read as it is by a reader that may not write it, migrated by one
//! that may, with every answer unchanged, and recorded into afterwards, where re-runs add no
//! per-name rows.

use std::path::Path;

use rusqlite::Connection;

use super::{Access, Mapping};
use crate::{ExecutionRecord, Store};

/// Rewrites a lean store as the schema before it kept the same facts, its notes too: `dataflow_versions` and
/// `captured_values` as tables holding every row (the views' rows, the `current` flag
/// included), no table of the lean store, every note as text; `user_version` 7.
fn undo_lean(db: &Path) {
    let conn = Connection::open(db).unwrap();
    let notes: Vec<(i64, Option<String>)> = conn
        .prepare("SELECT execution_id, runtime FROM execution_dataflow")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, crate::note::read(r.get_ref(1)?)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (id, note) in notes {
        conn.execute(
            "UPDATE execution_dataflow SET runtime = ?2 WHERE execution_id = ?1",
            (id, note),
        )
        .unwrap();
    }
    conn.execute_batch(super::v5_tests::UNDO_LEAN).unwrap();
}

/// `In[n]` running `code`, the probe noting `bound` as `(name, id, value)` ints.
fn cell(n: i64, code: &str, bound: &[(&str, u64, i64)]) -> ExecutionRecord {
    let mut e = super::v5_tests::cell(n, code, false);
    let entries: Vec<serde_json::Value> = bound
        .iter()
        .map(|(name, id, value)| serde_json::json!([name, id, {"type": "int", "value": value}]))
        .collect();
    e.dataflow.as_mut().unwrap().runtime =
        Some(serde_json::json!({"bound": entries, "deleted": []}).to_string());
    e
}

/// A cell binding `x0` … `x{n-1}`, each from the one before, and what the probe notes of it.
fn chain(n: usize) -> (String, Vec<(String, u64, i64)>) {
    let mut code = String::from("x0 = 0\n");
    for i in 1..n {
        code.push_str(&format!("x{i} = x{} + 1\n", i - 1));
    }
    let bound = (0..n)
        .map(|i| (format!("x{i}"), 1000 + i as u64, i as i64))
        .collect();
    (code, bound)
}

/// A `dataflow_versions` row: trial, version, name, symbol, execution, statement, kind, current.
type VersionRow = (i64, i64, String, String, i64, i64, String, bool);

/// What the queries answer about the trial: deps of some names, every version's row, each
/// name's values across trials.
fn answers(store: &Store, trial: i64) -> Vec<String> {
    let mut all = Vec::new();
    for var in ["x0", "x7", "x39", "y"] {
        let answer = store.backwards_deps(trial, var).unwrap();
        all.push(serde_json::to_string(&answer).unwrap());
    }
    all.push(
        store
            .backwards_deps(trial, "nothing")
            .unwrap_err()
            .to_string(),
    );
    for var in ["x3", "y"] {
        all.push(serde_json::to_string(&store.var_values(var).unwrap()).unwrap());
    }
    let versions: Vec<VersionRow> = store
        .rows(
            "SELECT trial_id, version, name, symbol, execution_id, statement, kind, current
             FROM dataflow_versions ORDER BY trial_id, version",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .unwrap();
    all.push(format!("{versions:?}"));
    all
}

fn bound(list: &[(String, u64, i64)]) -> Vec<(&str, u64, i64)> {
    list.iter().map(|(n, i, v)| (n.as_str(), *i, *v)).collect()
}

#[test]
fn a_store_from_before_the_lean_store_keeps_its_answers_and_grows_lean_after() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let (code, noted) = chain(40);
    let mut store = Store::open(&db).unwrap();
    let trial = store.begin_trial(&super::test_trial()).unwrap().id;
    store
        .record_execution(trial, &cell(1, &code, &bound(&noted)))
        .unwrap();
    store
        .record_execution(trial, &cell(2, "y = x39 * 2", &[("y", 5000, 78)]))
        .unwrap();
    store
        .record_execution(trial, &cell(3, &code, &bound(&noted)))
        .unwrap();
    let want = answers(&store, trial);
    drop(store);
    undo_lean(&db);

    // The old layout, read as it is, answers the same.
    let reader = Store::connect_as(&db, Access::Uri("mode=ro"), Mapping::Read).unwrap();
    assert_eq!(answers(&reader, trial), want);
    drop(reader);

    // Migrated: the same answers; the old rows stay where they were.
    let mut store = Store::open(&db).unwrap();
    assert_eq!(answers(&store, trial), want);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM version_rows"), 81);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM version_sets"), 0);

    // Re-running after the migration retires the old rows' versions and adds one shared list
    // of versions and one of values, whatever the number of names.
    store
        .record_execution(trial, &cell(4, &code, &bound(&noted)))
        .unwrap();
    let after_one = (
        count(&store, "SELECT COUNT(*) FROM version_set_members"),
        count(&store, "SELECT COUNT(*) FROM value_set_members"),
    );
    assert_eq!(after_one, (40, 40));
    store
        .record_execution(trial, &cell(5, &code, &bound(&noted)))
        .unwrap();
    store
        .record_execution(trial, &cell(6, &code, &bound(&noted)))
        .unwrap();
    assert_eq!(
        (
            count(&store, "SELECT COUNT(*) FROM version_set_members"),
            count(&store, "SELECT COUNT(*) FROM value_set_members"),
        ),
        after_one
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM version_rows WHERE current = 1"
        ),
        1,
        "only y's"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM dataflow_versions WHERE trial_id = 1 AND current = 1"
        ),
        41
    );
    // What the engine rebuilt from the stored rows says agrees with the index.
    let replay = store.replay_dataflow(trial).unwrap();
    for var in ["x0", "x39", "y"] {
        let from_index: Vec<i64> = store
            .backwards_deps(trial, var)
            .unwrap()
            .executions
            .iter()
            .map(|e| e.execution_count.unwrap())
            .collect();
        let replayed: Vec<i64> = replay
            .backwards_deps(var)
            .unwrap()
            .iter()
            .map(|d| d.exec.execution_count.unwrap())
            .collect();
        assert_eq!(from_index, replayed, "{var}");
    }
    assert_eq!(from_values(&store, "x3"), [3, 3, 3, 3, 3]);
}

fn count(store: &Store, sql: &str) -> i64 {
    store.row_opt(sql, [], |r| r.get(0)).unwrap().unwrap()
}

/// The values of `name`, in order.
fn from_values(store: &Store, name: &str) -> Vec<i64> {
    store
        .var_values(name)
        .unwrap()
        .iter()
        .map(|v| {
            serde_json::to_value(v).unwrap()["value"]
                .as_i64()
                .unwrap_or(-1)
        })
        .collect()
}
