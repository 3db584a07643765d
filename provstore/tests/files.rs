//! The probe's `files` note becomes `file_accesses` rows (with the statement that opened each
//! file) and the engine's file facts; a malformed entry is skipped, a late note (a failed
//! cell's, sent with the next one) replaces the rows, and a store of schema 6 gains the table.

mod common;

use common::{count, store_with_trials};

const CODE: &str = "import pandas as pd\ndf = pd.DataFrame({'a': [1]})\n\
df.to_csv('out.csv')\nback = pd.read_csv(\n    'out.csv')\n";

fn note() -> String {
    r#"{"bound": [["df", 1, {"type": "pandas.DataFrame"}], ["back", 2, {"type": "pandas.DataFrame"}]],
        "deleted": [],
        "files": [
          {"path": "out.csv", "resolved": "/data/out.csv", "access": "write", "line": 3,
           "size": 10, "mtime": 1765000000.5, "sha256": "aa", "sampled": false},
          {"path": "out.csv", "resolved": "/data/out.csv", "access": "read", "line": 4,
           "size": 10, "mtime": 1765000000.5, "sha256": "aa", "sampled": false},
          {"path": "x", "resolved": "relative/not/allowed", "access": "read"},
          {"path": "y", "resolved": "/y", "access": "append"},
          {"path": "big.bin", "resolved": "/data/big.bin", "access": "read", "line": null,
           "size": 99, "sha256": null, "sampled": true}
        ]}"#
    .to_string()
}

#[test]
fn files_are_recorded_with_their_statement() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &common::cell(1, CODE, "", Some(&note())))
        .unwrap();
    let rows = store.file_accesses(trial).unwrap();
    let seen: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                r.resolved.as_str(),
                r.access.as_str(),
                r.line,
                r.statement,
                r.sha256.as_deref(),
                r.sampled,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "out.csv",
                "/data/out.csv",
                "write",
                Some(3),
                Some(2),
                Some("aa"),
                false
            ),
            // Line 4 opens a statement that goes on to line 5: the same statement, 3.
            (
                "out.csv",
                "/data/out.csv",
                "read",
                Some(4),
                Some(3),
                Some("aa"),
                false
            ),
            ("big.bin", "/data/big.bin", "read", None, None, None, true),
        ]
    );
    assert_eq!(rows[0].size, Some(10));
    assert_eq!(rows[0].mtime, Some(1765000000.5));
    assert!(rows.iter().all(|r| r.execution_count == Some(1)));
}

#[test]
fn the_engine_gets_the_file_facts() {
    let facts = pyflow::RuntimeFacts {
        files: vec![pyflow::FileAccess {
            path: "/data/out.csv".into(),
            write: true,
            line: Some(3),
            sha256: Some("aa".into()),
        }],
        ..Default::default()
    };
    let json = serde_json::to_string(&facts).unwrap();
    let back: pyflow::RuntimeFacts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, facts);
    // Facts without files (every store before schema 7) still read.
    let old: pyflow::RuntimeFacts =
        serde_json::from_str(r#"{"bound": [], "deleted": []}"#).unwrap();
    assert!(old.files.is_empty());
    assert!(pyflow::is_file_name("/data/out.csv"));
    assert!(!pyflow::is_file_name("df"));
}

#[test]
fn a_late_note_replaces_the_rows() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let mut failed = common::cell(1, "open('in.txt').read()\n1/0", "", None);
    failed.msg_id = "m1".into();
    failed.status = provstore::ExecStatus::Error;
    store.record_execution(trial, &failed).unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM file_accesses"), 0);
    let late = r#"{"bound": [], "deleted": [], "files": [{"path": "in.txt",
        "resolved": "/w/in.txt", "access": "read", "line": 1, "size": 2, "sha256": "bb",
        "sampled": false}]}"#;
    store.set_runtime_facts(trial, "m1", late).unwrap();
    let rows = store.file_accesses(trial).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].statement, Some(0));
    // The same note again (a repeated message) leaves one row, not two.
    store.set_runtime_facts(trial, "m1", late).unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM file_accesses"), 1);
}

/// A note of one file access (`access` of `resolved`, as `path`, at line 1, hash `sha`).
fn one_file(path: &str, resolved: &str, access: &str, sha: &str) -> String {
    serde_json::json!({"bound": [], "deleted": [], "files": [{"path": path, "resolved": resolved,
        "access": access, "line": 1, "size": 3, "mtime": 1.5, "sha256": sha, "sampled": false}]})
    .to_string()
}

#[test]
fn a_trials_files_are_its_own_in_execution_order() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let write = one_file("out.csv", "/w/out.csv", "write", "aa");
    let read = one_file("./out.csv", "/w/out.csv", "read", "bb");
    store
        .record_execution(a, &common::cell(1, "f()", "", Some(&write)))
        .unwrap();
    let other = one_file("x.txt", "/w/x.txt", "read", "cc");
    store
        .record_execution(b, &common::cell(1, "g()", "", Some(&other)))
        .unwrap();
    store
        .record_execution(a, &common::cell(2, "h()", "", None))
        .unwrap();
    store
        .record_execution(a, &common::cell(3, "f()", "", Some(&read)))
        .unwrap();
    let answer = store.trial_files(a).unwrap();
    assert_eq!(answer.trial.id, a);
    assert!(answer.recorded);
    assert_eq!(answer.schema_version, provstore::SCHEMA_VERSION);
    let seen: Vec<_> = answer
        .accesses
        .iter()
        .map(|r| (r.execution_count, r.path.as_str(), r.access.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(1), "out.csv", "write"),
            (Some(3), "./out.csv", "read")
        ]
    );
    assert_eq!(store.trial_files(b).unwrap().accesses.len(), 1);
    let missing = store.trial_files(99).unwrap_err();
    assert!(
        matches!(missing, provstore::StoreError::TrialNotFound { .. }),
        "{missing}"
    );
}

#[test]
fn the_files_of_a_tail_left_unindexed_by_a_killed_writer_are_listed() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let note = one_file("in.txt", "/w/in.txt", "read", "dd");
    store
        .record_execution(trial, &common::cell(1, "x = 1", "", None))
        .unwrap();
    // Stored, then the writer dies before indexing it (where the file rows are written).
    let staged = store
        .store_executions(
            trial,
            &[common::cell(2, "open('in.txt').read()", "", Some(&note))],
        )
        .unwrap();
    drop(staged);
    store
        .end_trial(trial, provstore::TrialStatus::Crashed)
        .unwrap();
    drop(store);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM file_accesses"), 0);
    let reader = provstore::Store::open_existing(&db).unwrap();
    let answer = reader.trial_files(trial).unwrap();
    assert_eq!(answer.accesses.len(), 1, "{answer:?}");
    assert_eq!(answer.accesses[0].execution_count, Some(2));
}
