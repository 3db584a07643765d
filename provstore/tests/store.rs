//! The store against real SQLite files in temporary folders: schema,
//! permissions, deduplication, trials, crash marking and the read queries.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use provstore::{ExecStatus, OutputRecord, Store, StoreError, TrialStatus, SCHEMA_VERSION};

/// The tables whose rows belong to a trial: deleting the trial deletes them.
const TRIAL_TABLES: [&str; 11] = [
    "executions",
    "outputs",
    "execution_names",
    "dependencies",
    "variable_tags",
    "cell_stages",
    // `captured_values` is a view over these rows and the shared lists.
    "captured_value_rows",
    "execution_value_sets",
    "execution_version_sets",
    "current_versions",
    "trial_packages",
];

#[test]
fn a_new_store_is_migrated_in_wal_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let store = Store::open(&db).unwrap();
    assert!(store.is_writable());
    drop(store);

    assert_eq!(count(&db, "PRAGMA user_version"), SCHEMA_VERSION);
    let mode: String = raw(&db)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let shared = ["store_info", "trials", "code", "output_data", "blobs"];
    for table in shared.into_iter().chain(TRIAL_TABLES) {
        let n = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '{table}'"
            ),
        );
        assert_eq!(n, 1, "table {table} missing");
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM store_info WHERE key = 'store_uuid'"
        ),
        1
    );

    // Opening again migrates nothing and keeps the store's identity.
    let uuid: String = raw(&db)
        .query_row(
            "SELECT value FROM store_info WHERE key = 'store_uuid'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    Store::open(&db).unwrap();
    let again: String = raw(&db)
        .query_row(
            "SELECT value FROM store_info WHERE key = 'store_uuid'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(uuid, again);
}

#[test]
fn folder_is_0700_and_files_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let mut store = Store::open(&db).unwrap();
    let trial = store.begin_trial(&this_trial(tmp.path())).unwrap();
    store
        .record_execution(trial.id, &exec(1, "x = 1", ""))
        .unwrap();

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    assert_eq!(mode(&db), 0o600);
    let wal = db.with_file_name("prov.db-wal");
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn readers_never_create_stores() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let err = Store::open_existing(&db).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("Python (prov)"), "{err}");
    assert!(!db.exists() && !db.parent().unwrap().exists());
}

#[test]
fn a_store_from_a_newer_prov_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    Store::open(&db).unwrap();
    raw(&db).pragma_update(None, "user_version", 999).unwrap();
    let err = Store::open_existing(&db).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade prov"), "{err}");
}

#[test]
fn a_file_that_is_not_a_store_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("notes.txt");
    std::fs::write(
        &db,
        "these are not the droids you are looking for, not at all, no",
    )
    .unwrap();
    let err = Store::open_existing(&db).unwrap_err();
    assert!(err.to_string().contains("not a prov store"), "{err}");
}

#[test]
fn executions_are_ordered_per_trial_and_code_is_stored_once() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (&trials[0], &trials[1]);
    assert_eq!((a.id, b.id), (1, 2));
    assert_ne!(a.uuid, b.uuid);

    store
        .record_execution(a.id, &exec(1, "print('hi')", "hi\n"))
        .unwrap();
    store
        .record_execution(b.id, &exec(2, "print('hi')", "hi\n"))
        .unwrap();
    store
        .record_execution(a.id, &exec(3, "print('hi')", "hi\n"))
        .unwrap();
    store.record_execution(a.id, &failing(4)).unwrap();

    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM code"),
        2,
        "print('hi') and 1/0"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM blobs"),
        1,
        "\"hi\\n\" once"
    );
    let orders: Vec<i64> = store
        .executions(a.id)
        .unwrap()
        .iter()
        .map(|e| e.order)
        .collect();
    assert_eq!(orders, [1, 2, 3]);
    assert_eq!(store.executions(b.id).unwrap()[0].order, 1);

    let all = store.executions(a.id).unwrap();
    let first = &all[0];
    assert_eq!(first.code, "print('hi')");
    assert_eq!(first.code_sha256.len(), 64);
    assert_eq!(first.execution_count, Some(1));
    assert_eq!(first.cell_id.as_deref(), Some("cell-1"));
    assert_eq!(first.status, ExecStatus::Ok);
    assert_eq!(first.started_at, "2026-11-21T16:30:03.630Z");
    assert_eq!(first.ended_at, "2026-11-21T16:30:03.642Z");
    assert_eq!(first.duration_ms, 12);
    assert_eq!(first.outputs.len(), 1);
    assert_eq!(first.outputs[0].output_type, "stream");
    assert_eq!(first.outputs[0].name.as_deref(), Some("stdout"));
    assert_eq!(first.outputs[0].mime_types, ["text/plain"]);
    assert_eq!(first.outputs[0].text.as_deref(), Some("hi\n"));

    let err = &all[2];
    assert_eq!(err.status, ExecStatus::Error);
    let info = err.error.as_ref().unwrap();
    assert_eq!(info.ename, "ZeroDivisionError");
    assert_eq!(info.traceback.len(), 2);
    assert_eq!(err.outputs[0].output_type, "error");
    assert!(err.outputs[0].mime_types.is_empty());

    let summary = store.trial(a.id).unwrap();
    assert_eq!(summary.executions, 3);
    assert_eq!(summary.status, TrialStatus::Running);
    assert_eq!(summary.notebook.as_deref(), Some("analysis.ipynb"));
}

#[test]
fn payloads_are_deduplicated_and_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let mut store = Store::open(&db).unwrap();
    assert_eq!(store.payload_cap(), provstore::DEFAULT_PAYLOAD_CAP);
    store.set_payload_cap(64);
    let trial = store.begin_trial(&this_trial(tmp.path())).unwrap();

    let big = vec![7u8; 100];
    let picture = |n| {
        let mut e = exec(n, "plot()", "small");
        e.outputs.push(OutputRecord {
            output_type: "display_data".into(),
            name: None,
            payloads: vec![
                ("image/png".into(), big.clone()),
                ("text/plain".into(), b"<Figure>".to_vec()),
            ],
        });
        e
    };
    store.record_execution(trial.id, &picture(1)).unwrap();
    store.record_execution(trial.id, &picture(2)).unwrap();

    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM blobs"),
        3,
        "small, big, <Figure>"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM output_data"), 6);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM blobs WHERE size = 100 AND data IS NULL"
        ),
        1
    );

    let shown = store.executions(trial.id).unwrap();
    let display = &shown[1].outputs[1];
    assert_eq!(display.output_type, "display_data");
    assert_eq!(display.mime_types, ["image/png", "text/plain"]);
    assert_eq!(display.text.as_deref(), Some("<Figure>"));
    let png = &display.payloads[0];
    assert_eq!((png.size, png.stored), (100, false));
    assert_eq!(png.sha256, sha256(&big));
    assert_eq!(store.payload(&png.sha256).unwrap(), None);
    assert_eq!(
        store.payload(&display.payloads[1].sha256).unwrap(),
        Some(b"<Figure>".to_vec())
    );

    // Seen again under a larger cap, the bytes are kept after all.
    store.set_payload_cap(1 << 20);
    store.record_execution(trial.id, &picture(3)).unwrap();
    assert_eq!(store.payload(&png.sha256).unwrap(), Some(big.clone()));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM blobs"), 3);
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_repeated_name_from_a_script_gets_a_run_number() {
    let (_tmp, _db, mut store, trials) = store_with_trials(4);
    let ids: Vec<i64> = trials.iter().map(|t| t.id).collect();
    assert_eq!(store.name_trial_uniquely(ids[0], "C=0.1").unwrap(), "C=0.1");
    assert_eq!(
        store.name_trial_uniquely(ids[1], "C=0.1").unwrap(),
        "C=0.1, run 2"
    );
    assert_eq!(
        store.name_trial_uniquely(ids[2], "C=0.1").unwrap(),
        "C=0.1, run 3"
    );
    // Naming a trial again with its own name keeps it.
    assert_eq!(store.name_trial_uniquely(ids[0], "C=0.1").unwrap(), "C=0.1");
    let err = store.name_trial_uniquely(ids[3], "12").unwrap_err();
    assert!(matches!(err, StoreError::InvalidName { .. }), "{err}");
    assert_eq!(store.trial(ids[3]).unwrap().name, None);
}

#[test]
fn trials_can_be_named_once_per_store() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (&trials[0], &trials[1]);

    store.set_trial_name(a.id, "baseline").unwrap();
    store.set_trial_name(a.id, "baseline").unwrap();
    let err = store.set_trial_name(b.id, "baseline").unwrap_err();
    assert!(
        matches!(err, StoreError::NameTaken { trial, .. } if trial == a.id),
        "{err}"
    );
    assert!(err.to_string().contains("already used by trial 1"), "{err}");
    let err = store.set_trial_name(b.id, "7").unwrap_err();
    assert!(matches!(err, StoreError::InvalidName { .. }), "{err}");
    let err = store.set_trial_name(99, "ghost").unwrap_err();
    assert!(matches!(err, StoreError::TrialNotFound { .. }), "{err}");

    // Renaming frees the old name.
    store.set_trial_name(a.id, "first").unwrap();
    store.set_trial_name(b.id, "baseline").unwrap();

    assert_eq!(store.resolve_trial("first").unwrap().id, a.id);
    assert_eq!(
        store.resolve_trial("2").unwrap().name.as_deref(),
        Some("baseline")
    );
    assert_eq!(store.resolve_trial(&b.uuid).unwrap().id, b.id);
    let err = store.resolve_trial("nope").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"nope\""), "{text}");
    assert!(text.contains("trials 1-2"), "{text}");
    assert!(
        text.contains("baseline (2)") && text.contains("first (1)"),
        "{text}"
    );
    assert_eq!(store.latest_trial().unwrap().unwrap().id, b.id);
}

#[test]
fn environment_and_end_are_recorded() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let t = &trials[0];
    store
        .set_trial_environment(t.id, Some("3.12.1"), None)
        .unwrap();
    store
        .set_trial_environment(t.id, None, Some("6.29.5"))
        .unwrap();
    store.end_trial(t.id, TrialStatus::Finished).unwrap();
    let s = store.trial(t.id).unwrap();
    assert_eq!(s.python_version.as_deref(), Some("3.12.1"));
    assert_eq!(s.ipykernel_version.as_deref(), Some("6.29.5"));
    assert_eq!(s.status, TrialStatus::Finished);
    assert!(s.ended_at.unwrap().ends_with('Z'));
    assert!(store.set_trial_environment(42, Some("3"), None).is_err());
}

#[test]
fn trials_of_dead_kernels_are_marked_crashed_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let mut store = Store::open(&db).unwrap();

    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();

    let mut dead = this_trial(tmp.path());
    dead.pid = dead_pid;
    let dead = store.begin_trial(&dead).unwrap();
    store
        .record_execution(dead.id, &exec(1, "a = 1", ""))
        .unwrap();
    store
        .record_execution(dead.id, &exec(5, "b = 2", ""))
        .unwrap();

    let mut idle = this_trial(tmp.path());
    idle.pid = dead_pid;
    let idle = store.begin_trial(&idle).unwrap();

    let alive = store.begin_trial(&this_trial(tmp.path())).unwrap();
    let mut elsewhere = this_trial(tmp.path());
    elsewhere.pid = dead_pid;
    elsewhere.hostname = "another-machine".into();
    let elsewhere = store.begin_trial(&elsewhere).unwrap();
    drop(store);

    let store = Store::open_existing(&db).unwrap();
    let crashed = store.trial(dead.id).unwrap();
    assert_eq!(crashed.status, TrialStatus::Crashed);
    assert_eq!(
        crashed.ended_at.as_deref(),
        Some("2026-11-21T16:30:07.642Z"),
        "end of its last execution"
    );
    let idle = store.trial(idle.id).unwrap();
    assert_eq!(idle.status, TrialStatus::Crashed);
    assert_eq!(
        idle.ended_at.as_deref(),
        Some("2026-11-21T16:30:02.630Z"),
        "its start: no executions"
    );
    assert_eq!(store.trial(alive.id).unwrap().status, TrialStatus::Running);
    assert_eq!(
        store.trial(elsewhere.id).unwrap().status,
        TrialStatus::Running
    );
}

#[test]
fn the_log_is_newest_first_across_trials() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (&trials[0], &trials[1]);
    store.set_trial_name(b.id, "second").unwrap();
    store.record_execution(a.id, &exec(1, "one", "")).unwrap();
    store
        .record_execution(b.id, &exec(2, "two", "2\n"))
        .unwrap();
    store.record_execution(a.id, &exec(3, "three", "")).unwrap();

    let log = store.log(2).unwrap();
    let codes: Vec<&str> = log.iter().map(|e| e.execution.code.as_str()).collect();
    assert_eq!(codes, ["three", "two"]);
    assert_eq!(
        (log[0].trial_id, log[0].trial_name.as_deref()),
        (a.id, None)
    );
    assert_eq!(
        (log[1].trial_id, log[1].trial_name.as_deref()),
        (b.id, Some("second"))
    );
    assert_eq!(log[1].execution.outputs[0].text.as_deref(), Some("2\n"));
    assert_eq!(store.log(100).unwrap().len(), 3);

    let trials = store.trials().unwrap();
    assert_eq!(
        trials.iter().map(|t| t.executions).collect::<Vec<_>>(),
        [2, 1]
    );
}

#[test]
fn the_schema_has_room_for_later_features() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let t = &trials[0];
    let e1 = store.record_execution(t.id, &exec(1, "x = 1", "")).unwrap();
    let e2 = store
        .record_execution(t.id, &exec(2, "y = x + 1", ""))
        .unwrap();
    let c = raw(&db);
    c.execute_batch(&format!(
        "PRAGMA foreign_keys = ON;
         INSERT INTO execution_names (execution_id, name, role, statement_index) VALUES ({e1}, 'x', 'defined', 0), ({e2}, 'x', 'used', 0), ({e2}, 'y', 'defined', 0);
         INSERT INTO dependencies (execution_id, depends_on_id, name) VALUES ({e2}, {e1}, 'x');
         INSERT INTO variable_tags (trial_id, name, label, execution_id, tagged_at) VALUES ({t}, 'y', 'result', {e2}, '2026-11-21T16:31:00.000Z');
         INSERT INTO cell_stages (trial_id, cell_id, stage, tagged_at) VALUES ({t}, 'cell-1', 'load', '2026-11-21T16:31:00.000Z');
         INSERT INTO captured_value_rows (execution_id, name, type_name, value_json) VALUES ({e2}, 'y', 'int', '2');
         INSERT INTO trial_packages (trial_id, name, version) VALUES ({t}, 'numpy', '2.1.0');",
        t = t.id
    ))
    .unwrap();
    // Deleting a trial takes everything recorded under it along.
    c.execute("DELETE FROM trials WHERE id = ?1", [t.id])
        .unwrap();
    for table in TRIAL_TABLES {
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM {table}")),
            0,
            "{table}"
        );
    }
}

#[test]
fn bytes_per_execution_of_a_typical_small_execution() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let t = &trials[0];
    let before = file_size(&db);
    let n = 2000;
    let records: Vec<_> = (0..n)
        .map(|i| {
            let mut e = exec(
                i,
                &format!("df_{i} = df.groupby('city').mean()\ndf_{i}.head()"),
                "",
            );
            e.cell_id = Some(uuid::Uuid::new_v4().to_string());
            e.msg_id = uuid::Uuid::new_v4().to_string();
            e.outputs = vec![OutputRecord {
                output_type: "execute_result".into(),
                name: None,
                payloads: vec![(
                    "text/plain".into(),
                    format!("   city  value\n0  Oslo  {i}.5\n").into_bytes(),
                )],
            }];
            e
        })
        .collect();
    store.record_executions(t.id, &records).unwrap();
    let after = file_size(&db);
    let per = (after - before) as f64 / n as f64;
    eprintln!("store bytes per small execution (code ~60 B, one ~40 B execute_result): {per:.0}");
    assert!(per < 2000.0, "{per} bytes per execution");

    // Running the same cells again stores no new code or output text.
    let again: Vec<_> = records
        .into_iter()
        .map(|mut e| {
            e.msg_id = uuid::Uuid::new_v4().to_string();
            e
        })
        .collect();
    store.record_executions(t.id, &again).unwrap();
    let rerun = (file_size(&db) - after) as f64 / n as f64;
    eprintln!("store bytes per re-run of the same cell with the same output: {rerun:.0}");
    assert!(rerun < per, "{rerun} bytes per re-run");
}

/// The store's size with the WAL folded in.
fn file_size(db: &std::path::Path) -> u64 {
    raw(db)
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    std::fs::metadata(db).unwrap().len()
}
