//! The writer indexes executions after their commit, several at a time, and without the deletes
//! a re-index needs: the rows it writes are the ones indexing each execution on its own writes,
//! and the ones a catch-up from the stored rows writes; and anything reading through the
//! writer, or waiting long enough, finds the index written.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{db_in, exec, store_with_trials, this_trial, with_notes};
use provstore::{ExecStatus, ExecutionRecord, OnProblem, Store, TrialStatus, Writer};

/// A session touching every kind of index row: versions made, read and deleted, reads within
/// and across cells, values (scalars, a tagged summary, a fingerprint), packages, files read
/// and written, and a failed cell whose notes come late, with the next execution.
fn session() -> Vec<ExecutionRecord> {
    let mut n = 0;
    let mut add = |code: &str, note: Option<&str>| {
        n += 1;
        with_notes(exec(n, code, ""), String::new(), note)
    };
    vec![
        add(
            "a = 1\nb = a + 1",
            Some(
                r#"{"bound": [["a", 11, {"type": "int", "value": 1}], ["b", 12, {"type": "int", "value": 2}]], "deleted": [], "packages": {"numpy": "2.0"}}"#,
            ),
        ),
        add("pass", Some(r#"{"bound": [], "deleted": []}"#)),
        add(
            "rows = [a, b]\nrows.append(b)\ndel a",
            Some(
                r#"{"bound": [["rows", 13, {"type": "list", "fingerprint": {"sha256": "ab", "sampled": false}}]], "deleted": ["a"], "summaries": {"rows": {"type": "list", "summary": {"kind": "list", "len": 3}}}}"#,
            ),
        ),
        add(
            "open('out.csv', 'w').write(str(rows))",
            Some(
                r#"{"bound": [], "deleted": [], "files": [{"path": "out.csv", "resolved": "/w/out.csv", "access": "write", "line": 1, "sha256": "cd", "size": 4}]}"#,
            ),
        ),
        {
            let mut failed = add("c = b * 2\nd = 1 / 0", None);
            failed.status = ExecStatus::Error;
            failed.dataflow.as_mut().unwrap().failed_line = Some(2);
            failed
        },
        add(
            "text = open('out.csv').read()\ne = c + b",
            Some(
                r#"{"bound": [["text", 14, {"type": "str", "value": "x"}], ["e", 15, {"type": "int", "value": 6}]], "deleted": [], "files": [{"path": "out.csv", "resolved": "/w/out.csv", "access": "read", "line": 1, "sha256": "cd", "size": 4}]}"#,
            ),
        ),
        add("pass", Some(r#"{"bound": [], "deleted": []}"#)),
        add("f = e + len(rows)", None),
    ]
}

/// The late notes of the failed cell of [`session`] (`msg_id`, note).
fn late_notes() -> (String, String) {
    (
        "msg-5".to_string(),
        r#"{"bound": [["c", 16, {"type": "int", "value": 4}]], "deleted": []}"#.to_string(),
    )
}

/// Every index row of the store's trials, by content and in a stable order (no row ids); the
/// tables only executions indexed before the lean store fill are left out.
fn index_rows(db: &Path) -> Vec<String> {
    let conn = common::raw(db);
    let queries = [
        "SELECT trial_id, version, name, symbol, execution_id, statement, kind, current
         FROM dataflow_versions",
        "SELECT execution_id, statement, dep_execution_id, dep_statement, symbol
         FROM dataflow_reads",
        "SELECT x.execution_id, m.statement, m.dep_statement, m.symbol
         FROM execution_read_sets x JOIN read_set_members m ON m.set_id = x.set_id",
        "SELECT x.execution_id, m.position, m.name, m.role
         FROM execution_name_sets x JOIN name_set_members m ON m.set_id = x.set_id",
        "SELECT execution_id, depends_on_id, name FROM dependencies",
        "SELECT execution_id, name, type_name, value_json, summary_json, fingerprint_json
         FROM captured_values",
        "SELECT execution_id, seq, path, resolved, access, line, statement, size, sha256
         FROM file_accesses",
        "SELECT trial_id, version, name, symbol, execution_id, statement, kind
         FROM current_versions",
        "SELECT trial_id, name, version FROM trial_packages",
        "SELECT trial_id, through_id FROM dataflow_indexed",
    ];
    let mut all = Vec::new();
    for sql in queries {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let fields: Vec<String> = (0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                Ok(fields.join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        assert!(!rows.is_empty(), "the session writes rows of: {sql}");
        all.extend(rows.into_iter().map(|row| format!("{sql}: {row}")));
    }
    all
}

/// Records the session through `store_executions` in batches (split after these positions),
/// indexing each batch on its own, or all batches together once; with the failed cell's notes
/// coming late, or never.
fn record_in_batches(db: &Path, splits: &[usize], together: bool, late: bool) -> Vec<String> {
    let mut store = Store::open(db).unwrap();
    let trial = store
        .begin_trial(&this_trial(db.parent().unwrap()))
        .unwrap()
        .id;
    let records = session();
    // The first on its own: the store's live engine is made (from the stored rows) then, and
    // the batches go through it.
    store.record_execution(trial, &records[0]).unwrap();
    let mut waiting: Option<provstore::StagedExecutions> = None;
    let mut from = 1;
    for &to in splits.iter().chain([records.len()].iter()) {
        if late && to > 5 && from <= 5 {
            // The failed cell's notes arrive with the reply of the execution after it: the
            // writer indexes what waits first.
            if let Some(staged) = waiting.take() {
                store.index_executions(staged).unwrap();
            }
            let (msg_id, note) = late_notes();
            store.set_runtime_facts(trial, &msg_id, &note).unwrap();
        }
        let staged = store.store_executions(trial, &records[from..to]).unwrap();
        match (&mut waiting, together) {
            (Some(w), true) => w.append(staged),
            (None, true) => waiting = Some(staged),
            (_, false) => store.index_executions(staged).unwrap(),
        }
        from = to;
    }
    if let Some(staged) = waiting.take() {
        store.index_executions(staged).unwrap();
    }
    store.end_trial(trial, TrialStatus::Finished).unwrap();
    drop(store);
    index_rows(db)
}

#[test]
fn batches_indexed_together_write_what_each_indexed_alone_writes() {
    let tmp = tempfile::tempdir().unwrap();
    // The failed cell (5th) last in a batch waits for its notes; first in one, it does not.
    for late in [true, false] {
        for splits in [&[5][..], &[2, 4, 5, 7], &[2, 3, 4, 5, 6, 7], &[4]] {
            let alone = record_in_batches(&tmp.path().join("alone.db"), splits, false, late);
            let together = record_in_batches(&tmp.path().join("together.db"), splits, true, late);
            assert_eq!(together, alone, "split at {splits:?}, late notes: {late}");
            for file in ["alone.db", "together.db"] {
                std::fs::remove_file(tmp.path().join(file)).unwrap();
            }
        }
    }
}

#[test]
fn the_live_index_writes_what_a_catch_up_from_the_stored_rows_writes() {
    let (tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    for (i, e) in session().iter().enumerate() {
        store.record_execution(trial, e).unwrap();
        if i == 4 {
            let (msg_id, note) = late_notes();
            store.set_runtime_facts(trial, &msg_id, &note).unwrap();
        }
    }
    store.end_trial(trial, TrialStatus::Finished).unwrap();
    drop(store);
    let live = index_rows(&db);

    // The same store with its graph forgotten but its lists and values left in place (as a
    // writer killed mid-way may leave them): the catch-up replaces them.
    let rebuilt = tmp.path().join("rebuilt.db");
    std::fs::copy(&db, &rebuilt).unwrap();
    common::raw(&rebuilt)
        .execute_batch(
            "DELETE FROM version_rows; DELETE FROM execution_version_sets;
             DELETE FROM current_versions; DELETE FROM dataflow_reads;
             DELETE FROM dataflow_statements; DELETE FROM dataflow_indexed;
             DELETE FROM execution_names; DELETE FROM dependencies;",
        )
        .unwrap();
    let reader = Store::open_existing(&rebuilt).unwrap();
    reader.backwards_deps(trial, "f").unwrap();
    drop(reader);
    assert_eq!(index_rows(&rebuilt), live);
}

fn no_problem() -> OnProblem {
    Box::new(|message| panic!("unexpected store problem: {message}"))
}

/// The trial's `through_id` as another process sees it.
fn indexed_through(db: &Path) -> Option<i64> {
    common::raw(db)
        .query_row("SELECT through_id FROM dataflow_indexed", [], |r| r.get(0))
        .ok()
}

#[test]
fn the_writer_indexes_what_waits_on_its_own_soon_after() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let writer = Writer::start(&db, this_trial(tmp.path()), no_problem()).unwrap();
    for e in session().into_iter().take(4) {
        writer.record(e);
    }
    assert!(writer.flush(Duration::from_secs(5)));
    let last: i64 = common::count(&db, "SELECT MAX(id) FROM executions");
    // No command follows: the index is written when its wait is over.
    let deadline = Instant::now() + Duration::from_secs(5);
    while indexed_through(&db) != Some(last) {
        assert!(Instant::now() < deadline, "the index is written");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_read_through_the_writer_finds_every_execution_before_it_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let writer = Writer::start(&db, this_trial(tmp.path()), no_problem()).unwrap();
    let trial = writer.trial().unwrap().id;
    let mut records = session().into_iter();
    writer.record(records.next().unwrap());
    // The first query makes the writer's live engine.
    let first = writer
        .query(move |store| store.backwards_deps(trial, "a"))
        .unwrap();
    assert_eq!(first.executions.len(), 1);
    for e in records.take(2) {
        writer.record(e);
    }
    // Asked at once, long before the index would be written on its own.
    let uses = writer
        .query(move |store| store.backwards_deps(trial, "rows"))
        .unwrap();
    let counts: Vec<Option<i64>> = uses.executions.iter().map(|e| e.execution_count).collect();
    assert_eq!(counts, [Some(1), Some(3)]);
    let values = writer
        .query(move |store| store.trial_values(trial))
        .unwrap();
    let rows = values.iter().filter(|v| v.name == "rows").count();
    assert_eq!(
        rows, 1,
        "the value captured after the last execution is there"
    );
}

#[test]
fn more_executions_than_one_index_batch_are_all_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let writer = Writer::start(&db, this_trial(tmp.path()), no_problem()).unwrap();
    let trial = writer.trial().unwrap().id;
    for n in 1..=300 {
        let note =
            format!(r#"{{"bound": [["x", {n}, {{"type": "int", "value": {n}}}]], "deleted": []}}"#);
        writer.record(with_notes(
            exec(n, "x = x + 1", ""),
            String::new(),
            Some(&note),
        ));
    }
    let deps = writer
        .query(move |store| store.backwards_deps(trial, "x"))
        .unwrap();
    assert_eq!(deps.executions.len(), 300);
    writer.finish(TrialStatus::Finished);
    assert_eq!(
        indexed_through(&db),
        Some(common::count(&db, "SELECT MAX(id) FROM executions"))
    );
}
