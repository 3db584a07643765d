//! Dependency queries answered from the store: the graph the writer's live engine wrote,
//! on real SQLite files, after reopening, and for trials recorded before it existed.

mod common;

use std::path::Path;

use common::store_with_trials;
use provstore::{ExecStatus, ExecutionRecord, Store, StoreError, TrialStatus};

/// An execution of `code` in cell `cell_id`, with its analysis and the probe's notes.
fn cell(n: i64, cell_id: &str, code: &str, runtime: Option<&str>) -> ExecutionRecord {
    let mut e = common::cell(n, code, "", runtime);
    e.cell_id = Some(cell_id.into());
    e
}

/// The notebook: aliasing through runtime ids, a mutation through the alias, a deleted and
/// redefined name, a failed cell whose notes arrive late, a re-executed cell, dict keys.
fn record(store: &mut Store, trial: i64) {
    let cells = [
        (
            1,
            "a",
            "data = [1, 2, 3]\nscale = 2",
            Some(
                r#"{"bound": [["data", 100, {"type": "list"}], ["scale", 200, {"type": "int", "value": 2}]], "deleted": []}"#,
            ),
        ),
        (
            2,
            "b",
            "alias = data",
            Some(r#"{"bound": [["alias", 100, {"type": "list"}]], "deleted": []}"#),
        ),
        (
            3,
            "c",
            "alias.append(4)",
            Some(r#"{"bound": [], "deleted": []}"#),
        ),
        (
            4,
            "d",
            "total = sum(data) * scale",
            Some(r#"{"bound": [["total", 300, {"type": "int", "value": 20}]], "deleted": []}"#),
        ),
        (5, "e", "tmp = 5", None),
        (6, "f", "del tmp", None),
        (7, "g", "tmp = scale + 1", None),
    ];
    for (n, id, code, rt) in cells {
        store
            .record_execution(trial, &cell(n, id, code, rt))
            .unwrap();
    }
    // In[8] fails at line 2; its notes come with the next execution.
    let mut failed = cell(8, "h", "x = 1\ny = 1/0\nz = 3", None);
    failed.status = ExecStatus::Error;
    failed.dataflow.as_mut().unwrap().failed_line = Some(2);
    store.record_execution(trial, &failed).unwrap();
    store
        .set_runtime_facts(
            trial,
            "msg-8",
            r#"{"bound": [["x", 400, {"type": "int", "value": 1}]], "deleted": []}"#,
        )
        .unwrap();
    let rest = [
        (9, "i", "w = x + total"),
        (10, "d", "total = sum(data) * scale"),
        (11, "j", "d = {}\nd['a'] = scale\nd['b'] = tmp"),
        (12, "k", "gone = 1"),
        (13, "l", "del gone"),
    ];
    for (n, id, code) in rest {
        store
            .record_execution(trial, &cell(n, id, code, None))
            .unwrap();
    }
}

fn counts(store: &Store, trial: i64, var: &str) -> Vec<i64> {
    store
        .backwards_deps(trial, var)
        .unwrap_or_else(|e| panic!("{var}: {e}"))
        .executions
        .iter()
        .map(|e| e.execution_count.unwrap())
        .collect()
}

fn global_counts(store: &Store, trial: i64, var: &str) -> Vec<i64> {
    store
        .global_backwards_deps(trial, var)
        .unwrap()
        .executions
        .iter()
        .map(|e| e.execution_count.unwrap())
        .collect()
}

/// Every answer of the notebook, as checked by hand from the rules.
fn check_answers(store: &Store, trial: i64) {
    // Mutation through an alias (same runtime id) is a new version of `data`.
    assert_eq!(counts(store, trial, "data"), [1, 2, 3]);
    assert_eq!(counts(store, trial, "alias"), [1, 2, 3]);
    // The re-executed cell made the current `total`; the first run is only in its history.
    assert_eq!(counts(store, trial, "total"), [1, 2, 3, 10]);
    assert_eq!(global_counts(store, trial, "total"), [1, 2, 3, 4, 10]);
    // `w` read the `total` of In[4] and the `x` the failed In[8] made before failing.
    assert_eq!(counts(store, trial, "w"), [1, 2, 3, 4, 8, 9]);
    assert_eq!(counts(store, trial, "x"), [8]);
    // Deleted and redefined.
    assert_eq!(counts(store, trial, "tmp"), [1, 7]);
    assert_eq!(global_counts(store, trial, "tmp"), [1, 5, 7]);
    // Keys stay apart.
    assert_eq!(counts(store, trial, "d['a']"), [1, 11]);
    assert_eq!(counts(store, trial, "d['b']"), [1, 7, 11]);
    assert_eq!(counts(store, trial, "d"), [1, 7, 11]);

    // The failed cell's statements from the failing one on defined nothing.
    for var in ["y", "z"] {
        match store.backwards_deps(trial, var) {
            Err(StoreError::UnknownVariable { deleted_by, .. }) => assert_eq!(deleted_by, None),
            other => panic!("{var}: {other:?}"),
        }
    }
    match store.backwards_deps(trial, "gone") {
        Err(e @ StoreError::UnknownVariable { .. }) => {
            let StoreError::UnknownVariable { deleted_by, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*deleted_by, Some(13));
            assert!(e.to_string().contains("deleted by In[13]"), "{e}");
        }
        other => panic!("gone: {other:?}"),
    }
    assert_eq!(global_counts(store, trial, "gone"), [12]);
    match store.backwards_deps(trial, "totl") {
        Err(e @ StoreError::UnknownVariable { .. }) => {
            let StoreError::UnknownVariable { similar, .. } = &e else {
                unreachable!()
            };
            assert!(similar.contains(&"total".to_string()), "{similar:?}");
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("no variable `totl` in trial {trial}; similar: ")),
                "{text}"
            );
            assert!(!e.is_store_problem());
        }
        other => panic!("totl: {other:?}"),
    }

    // Contributing statements and their exact text.
    let slice = store.slice(trial, "d['b']").unwrap();
    let got: Vec<(i64, usize, &str)> = slice
        .statements
        .iter()
        .map(|s| (s.execution_count.unwrap(), s.statement, s.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 1, "scale = 2"),
            (7, 0, "tmp = scale + 1"),
            (11, 0, "d = {}"),
            (11, 2, "d['b'] = tmp"),
        ]
    );

    // The answer's details: statements, defines/uses, values, edges among its executions.
    let w = store.backwards_deps(trial, "w").unwrap();
    let e8 = &w.executions[4];
    assert_eq!(e8.execution_count, Some(8));
    assert_eq!(e8.status, "error");
    assert_eq!(e8.defines, ["x"]);
    assert_eq!(e8.statements.len(), 1);
    assert_eq!(e8.statements[0].text, "x = 1");
    assert_eq!(e8.values[0].name, "x");
    assert_eq!(e8.values[0].value, Some(serde_json::json!(1)));
    let e4 = &w.executions[3];
    assert_eq!(e4.defines, ["total"]);
    assert_eq!(e4.uses, ["data", "scale"]);
    assert_eq!(e4.values[0].type_name, "int");
    let id = |n: i64| {
        w.executions
            .iter()
            .find(|e| e.execution_count == Some(n))
            .unwrap()
            .execution_id
    };
    let edge = w
        .edges
        .iter()
        .find(|e| e.from == id(9) && e.to == id(8))
        .unwrap();
    assert_eq!(edge.symbols, ["x"]);
    assert!(w
        .edges
        .iter()
        .all(|e| w.executions.iter().any(|x| x.execution_id == e.from)
            && w.executions.iter().any(|x| x.execution_id == e.to)));

    // `provctl deps --json`.
    let json = serde_json::to_value(store.backwards_deps(trial, "total").unwrap()).unwrap();
    assert_eq!(json["variable"], "total");
    assert_eq!(json["trial"]["id"], trial);
    let last = &json["executions"][3];
    assert_eq!(last["execution_count"], 10);
    assert_eq!(last["cell_id"], "d");
    assert_eq!(last["code"], "total = sum(data) * scale");
    assert_eq!(last["defines"], serde_json::json!(["total"]));
    assert_eq!(last["uses"], serde_json::json!(["data", "scale"]));

    // The whole graph.
    let graph = store.dataflow_graph(trial).unwrap();
    assert_eq!(graph.executions.len(), 13);
    let g4 = &graph.executions[3];
    assert_eq!(
        (g4.values[0].name.as_str(), g4.values[0].value.clone()),
        ("total", Some(serde_json::json!(20)))
    );
    assert!(graph.executions.iter().all(|e| e.statements.is_empty()));
    assert!(graph
        .edges
        .iter()
        .any(|e| e.from == id(9) && e.to == id(8) && e.symbols == ["x"]));

    // The same answers as the engine replaying the trial.
    let replay = store.replay_dataflow(trial).unwrap();
    for var in replay.variables() {
        let want = common::replayed_deps(&replay, &var);
        let got: Vec<i64> = store
            .backwards_deps(trial, &var)
            .unwrap()
            .executions
            .iter()
            .map(|e| e.execution_id)
            .collect();
        assert_eq!(got, want, "{var}");
    }
}

#[test]
fn answers_come_from_the_store_and_survive_reopening() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let trial = trials[1].id;
    // Another trial in between must not leak into the answers.
    store
        .record_execution(trials[0].id, &cell(1, "z", "total = 99", None))
        .unwrap();
    record(&mut store, trial);
    check_answers(&store, trial);
    let before = serde_json::to_string(&store.backwards_deps(trial, "w").unwrap()).unwrap();
    drop(store);

    let reader = Store::open_existing(&db).unwrap();
    check_answers(&reader, trial);
    let after = serde_json::to_string(&reader.backwards_deps(trial, "w").unwrap()).unwrap();
    assert_eq!(before, after);
    assert_eq!(counts(&reader, trials[0].id, "total"), [1]);
}

#[test]
fn a_failed_cell_is_indexed_even_when_its_notes_never_come() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let mut failed = cell(1, "a", "x = 1\ny = 1/0", None);
    failed.status = ExecStatus::Error;
    failed.dataflow.as_mut().unwrap().failed_line = Some(2);
    store.record_execution(trial, &failed).unwrap();
    // A query on the writer's store sees it at once.
    assert_eq!(counts(&store, trial, "x"), [1]);
    store
        .record_execution(trial, &cell(2, "b", "z = x", None))
        .unwrap();
    store.end_trial(trial, TrialStatus::Finished).unwrap();
    drop(store);
    let reader = Store::open_existing(&db).unwrap();
    assert_eq!(counts(&reader, trial, "z"), [1, 2]);
}

/// Forgets the graph of every trial, as in a store recorded before schema v3.
fn forget_graph(db: &Path) {
    let conn = common::raw(db);
    conn.execute_batch(
        "DELETE FROM version_rows; DELETE FROM execution_version_sets;
         DELETE FROM current_versions; DELETE FROM dataflow_reads;
         DELETE FROM dataflow_statements; DELETE FROM dataflow_indexed;
         DELETE FROM execution_names; DELETE FROM dependencies;",
    )
    .unwrap();
}

#[test]
fn trials_recorded_before_the_graph_was_kept_are_caught_up() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    record(&mut store, trial);
    store.end_trial(trial, TrialStatus::Finished).unwrap();
    drop(store);
    forget_graph(&db);
    let reader = Store::open_existing(&db).unwrap();
    check_answers(&reader, trial);
    assert_eq!(
        common::count(&db, "SELECT COUNT(*) FROM dataflow_indexed"),
        1
    );
}

#[test]
fn a_read_only_store_says_why_it_cannot_answer_for_an_old_trial() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &cell(1, "a", "x = 1", None))
        .unwrap();
    store.end_trial(trial, TrialStatus::Finished).unwrap();
    drop(store);
    forget_graph(&db);
    use std::os::unix::fs::PermissionsExt;
    let dir = db.parent().unwrap();
    let set = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set(&db, 0o400);
    set(dir, 0o500);
    let result = Store::open_existing(&db).map(|s| s.backwards_deps(trial, "x"));
    set(dir, 0o700);
    set(&db, 0o600);
    if let Ok(Err(e)) = result {
        assert!(e.to_string().contains("read-only"), "{e}");
    } // root can write anyway: then it simply answers
}

#[test]
fn the_writer_thread_keeps_the_graph_and_magics_see_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = common::db_in(tmp.path());
    let on_problem: provstore::OnProblem = Box::new(|m| panic!("{m}"));
    let writer = provstore::Writer::start(&db, common::this_trial(tmp.path()), on_problem).unwrap();
    let trial = writer.trial().unwrap().id;
    writer.record(cell(1, "a", "x = 1", None));
    let mut failed = cell(2, "b", "y = x + 1\nboom()", None);
    failed.status = ExecStatus::Error;
    failed.dataflow.as_mut().unwrap().failed_line = Some(2);
    writer.record(failed);
    writer.set_runtime_facts(
        "msg-2".into(),
        r#"{"bound": [["y", 7, {"type": "int", "value": 2}]], "deleted": []}"#.into(),
    );
    writer.record(cell(3, "c", "z = y * 2", None));
    let answer = writer
        .query(move |store| store.backwards_deps(trial, "z"))
        .unwrap();
    let got: Vec<Option<i64>> = answer
        .executions
        .iter()
        .map(|e| e.execution_count)
        .collect();
    assert_eq!(got, [Some(1), Some(2), Some(3)]);
    assert_eq!(
        answer.executions[1].values[0].value,
        Some(serde_json::json!(2))
    );
    assert_eq!(answer.executions[1].statements[0].text, "y = x + 1");
    let slice = writer.query(move |store| store.slice(trial, "z")).unwrap();
    let text: Vec<&str> = slice.statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(text, ["x = 1", "y = x + 1", "z = y * 2"]);
    writer.finish(TrialStatus::Finished);
    let reader = Store::open_existing(&db).unwrap();
    assert_eq!(counts(&reader, trial, "z"), [1, 2, 3]);
}

/// The writer commits an execution's row before its index (so the idle waits for the row
/// only); a kill between the two leaves a tail that the first query indexes from the rows.
#[test]
fn a_tail_stored_but_not_indexed_is_caught_up_after_a_kill() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    record(&mut store, trial);
    let before = common::count(&db, "SELECT COUNT(*) FROM dataflow_versions");
    // Two more cells reach the store; the kill comes before their index is written.
    let staged = store
        .store_executions(
            trial,
            &[
                cell(14, "m", "late = w + 1", None),
                cell(15, "n", "later = late * scale", None),
            ],
        )
        .unwrap();
    assert_eq!(staged.ids().len(), 2);
    drop(staged);
    drop(store);
    assert_eq!(
        common::count(&db, "SELECT COUNT(*) FROM dataflow_versions"),
        before,
        "nothing of the tail is indexed yet"
    );
    let mut reopened = Store::open_existing(&db).unwrap();
    reopened.end_trial(trial, TrialStatus::Crashed).unwrap();
    assert_eq!(counts(&reopened, trial, "total"), [1, 2, 3, 10]);
    assert_eq!(reopened.dataflow_graph(trial).unwrap().executions.len(), 15);
    assert_eq!(counts(&reopened, trial, "late"), [1, 2, 3, 4, 8, 9, 14]);
    assert_eq!(
        counts(&reopened, trial, "later"),
        [1, 2, 3, 4, 8, 9, 14, 15]
    );
}

/// A query of a running trial sent the moment a cell went idle (its rows stored, its index
/// not yet written) waits for the writer rather than answering without that cell.
#[test]
fn a_query_waits_for_the_writer_to_index_what_it_stored() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &cell(1, "a", "x = 1", None))
        .unwrap();
    let staged = store
        .store_executions(trial, &[cell(2, "b", "z = x * 2", None)])
        .unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        store.index_executions(staged).unwrap();
        store
    });
    let reader = Store::open_existing(&db).unwrap();
    assert_eq!(counts(&reader, trial, "z"), [1, 2]);
    writer.join().unwrap();
}
