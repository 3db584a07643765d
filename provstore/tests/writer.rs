//! The recorder thread against real stores: batching, concurrency between
//! kernels (threads and processes), an unwritable store, and `kill -9`.
//!
//! Tests that need a second process re-run this test binary with
//! `PROVSTORE_TEST_CHILD` set; the `child_*` tests do nothing otherwise.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use provstore::{OnProblem, Store, StoreError, TrialStatus, Writer, WriterConfig, WriterHandle};

const CHILD: &str = "PROVSTORE_TEST_CHILD";
const CHILD_DB: &str = "PROVSTORE_TEST_DB";

/// A problem callback that collects the messages.
fn collector() -> (Arc<Mutex<Vec<String>>>, OnProblem) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, Box::new(move |m| sink.lock().unwrap().push(m)))
}

fn start(db: &Path, cwd: &Path) -> (WriterHandle, Arc<Mutex<Vec<String>>>) {
    let (seen, on_problem) = collector();
    let w = Writer::start(db, this_trial(cwd), on_problem).unwrap();
    (w, seen)
}

#[test]
fn the_writer_records_names_and_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let (w, seen) = start(&db, tmp.path());
    let trial = w.trial().expect("the trial begins");
    assert_eq!(trial.id, 1);
    for n in 1..=3 {
        w.record(exec(n, &format!("x = {n}"), ""));
    }
    w.set_environment(Some("3.12.1".into()), Some("6.29.5".into()));
    w.set_trial_name("baseline").unwrap();
    let err = w.set_trial_name("12").unwrap_err();
    assert!(matches!(err, StoreError::InvalidName { .. }), "{err}");

    // Queries run after what was sent before them.
    let summary = w.query(move |s| s.trial(trial.id)).unwrap();
    assert_eq!(summary.executions, 3);
    assert_eq!(summary.name.as_deref(), Some("baseline"));
    assert_eq!(summary.python_version.as_deref(), Some("3.12.1"));
    assert_eq!(summary.status, TrialStatus::Running);

    w.record(exec(4, "y = 2", ""));
    assert!(w.flush(Duration::from_secs(5)));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM executions"), 4);

    // A second kernel on the same store cannot take the name.
    let (other, _) = start(&db, tmp.path());
    let err = other.set_trial_name("baseline").unwrap_err();
    assert!(
        matches!(err, StoreError::NameTaken { trial: 1, .. }),
        "{err}"
    );
    other.finish(TrialStatus::Finished);

    w.finish(TrialStatus::Finished);
    let store = Store::open_existing(&db).unwrap();
    let t = store.trial(1).unwrap();
    assert_eq!(t.status, TrialStatus::Finished);
    assert!(t.ended_at.is_some());
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn dropping_the_handle_finishes_the_trial() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let (w, _) = start(&db, tmp.path());
    w.record(exec(1, "pass", ""));
    drop(w);
    let store = Store::open_existing(&db).unwrap();
    let t = store.trial(1).unwrap();
    assert_eq!((t.status, t.executions), (TrialStatus::Finished, 1));
}

#[test]
fn two_kernels_writing_at_once_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            let cwd = tmp.path().to_path_buf();
            std::thread::spawn(move || {
                let (w, seen) = start(&db, &cwd);
                for n in 1..=500 {
                    w.record(exec(n, &format!("step({n})"), "ok\n"));
                    if n % 50 == 0 {
                        std::thread::yield_now();
                    }
                }
                w.finish(TrialStatus::Finished);
                assert!(
                    seen.lock().unwrap().is_empty(),
                    "{:?}",
                    seen.lock().unwrap()
                );
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_all_recorded(&db, 2, 500);
}

#[test]
fn two_kernel_processes_writing_at_once_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let children: Vec<_> = (0..2)
        .map(|_| {
            child("child_writes_500", &db)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
    }
    assert_all_recorded(&db, 2, 500);
}

/// Every one of `trials` trials has executions 1..=`each`, nothing missing.
fn assert_all_recorded(db: &Path, trials: i64, each: i64) {
    let store = Store::open_existing(db).unwrap();
    let all = store.trials().unwrap();
    assert_eq!(all.len() as i64, trials);
    for t in &all {
        assert_eq!(t.status, TrialStatus::Finished);
        let orders: Vec<i64> = store
            .executions(t.id)
            .unwrap()
            .iter()
            .map(|e| e.order)
            .collect();
        assert_eq!(orders, (1..=each).collect::<Vec<_>>(), "trial {}", t.id);
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM executions"), trials * each);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM code"),
        each,
        "each step(n) stored once"
    );
}

/// Child: record 500 executions as a kernel would, then finish.
#[test]
fn child_writes_500() {
    let Some(db) = child_db() else { return };
    let (w, seen) = start(&db, db.parent().unwrap());
    for n in 1..=500 {
        w.record(exec(n, &format!("step({n})"), "ok\n"));
    }
    w.finish(TrialStatus::Finished);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn kill_9_leaves_a_readable_store_with_every_idle_execution() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let mut kernel = child("child_records_then_hangs", &db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = kernel.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("RECORDED 40"));
    assert!(ready, "the child did not report its executions");
    kernel.kill().unwrap(); // SIGKILL
    kernel.wait().unwrap();

    let c = raw(&db);
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(c);
    let store = Store::open_existing(&db).unwrap();
    let t = store.trial(1).unwrap();
    assert_eq!(t.status, TrialStatus::Crashed);
    assert_eq!(t.executions, 40);
    let last = store.executions(1).unwrap().pop().unwrap();
    assert_eq!(t.ended_at.as_deref(), Some(last.ended_at.as_str()));
}

/// Child: record 40 executions, say so once they are written, then wait to
/// be killed.
#[test]
fn child_records_then_hangs() {
    let Some(db) = child_db() else { return };
    let (w, _) = start(&db, db.parent().unwrap());
    for n in 1..=40 {
        w.record(exec(n, &format!("cell({n})"), "out\n"));
    }
    assert!(w.flush(Duration::from_secs(10)));
    println!("RECORDED 40");
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(1);
}

#[test]
fn an_unwritable_store_warns_once_and_drops_records() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, blocked_by) = unwritable_db(tmp.path());
    let (w, seen) = start_retrying(&db, tmp.path());
    assert_eq!(w.trial(), None);
    for n in 1..=50 {
        w.record(exec(n, "x = 1", ""));
        if n % 10 == 0 {
            std::thread::sleep(Duration::from_millis(25));
        }
    }
    assert!(w.flush(Duration::from_secs(5)));
    let err = w.set_trial_name("baseline").unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    let err = w.query(|s| s.trials()).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    w.finish(TrialStatus::Finished);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "warned once: {seen:?}");
    let msg = &seen[0];
    assert!(msg.contains(&db.display().to_string()), "{msg}");
    assert!(msg.contains("execution continues"), "{msg}");
    assert!(msg.contains("PROV_DB"), "{msg}");
    assert!(!db.exists());
    drop(blocked_by);
}

#[test]
fn recording_resumes_when_the_store_becomes_writable() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, blocked_by) = unwritable_db(tmp.path());
    let (w, seen) = start_retrying(&db, tmp.path());
    w.record(exec(1, "lost = 1", ""));
    assert!(w.flush(Duration::from_secs(5)));

    blocked_by.unblock();
    std::thread::sleep(Duration::from_millis(50));
    w.record(exec(2, "kept = 2", ""));
    assert!(w.flush(Duration::from_secs(5)));
    let trial = w.trial().expect("the trial begins once the store opens");
    w.set_trial_name("late").unwrap();
    w.finish(TrialStatus::Finished);

    assert_eq!(seen.lock().unwrap().len(), 1);
    let store = Store::open_existing(&db).unwrap();
    let codes: Vec<String> = store
        .executions(trial.id)
        .unwrap()
        .into_iter()
        .map(|e| e.code)
        .collect();
    assert_eq!(codes, ["kept = 2"]);
    assert_eq!(store.trial(trial.id).unwrap().name.as_deref(), Some("late"));
}

/// A writer that retries a failing store every 20 ms.
fn start_retrying(db: &Path, cwd: &Path) -> (WriterHandle, Arc<Mutex<Vec<String>>>) {
    let (seen, on_problem) = collector();
    let config = WriterConfig {
        retry_after: Duration::from_millis(20),
        ..WriterConfig::default()
    };
    let w = Writer::start_with(db, this_trial(cwd), on_problem, config).unwrap();
    (w, seen)
}

/// What makes a store path unwritable, and how to undo it.
enum Blocker {
    /// A folder with its write permission removed (as a normal user).
    ReadOnlyDir(PathBuf),
    /// A plain file where the store's folder should be (root ignores
    /// permissions, but not this).
    FileInTheWay(PathBuf),
}

impl Blocker {
    fn unblock(&self) {
        match self {
            Blocker::ReadOnlyDir(dir) => set_mode(dir, 0o755),
            Blocker::FileInTheWay(file) => std::fs::remove_file(file).unwrap(),
        }
    }
}

impl Drop for Blocker {
    fn drop(&mut self) {
        if let Blocker::ReadOnlyDir(dir) = self {
            set_mode(dir, 0o755);
        }
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A store path in a read-only folder, or, when running as root (which may
/// write anyway), below a file.
fn unwritable_db(root: &Path) -> (PathBuf, Blocker) {
    let dir = root.join("readonly");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o555);
    if std::fs::write(dir.join("probe"), "").is_err() {
        return (db_in(&dir), Blocker::ReadOnlyDir(dir));
    }
    set_mode(&dir, 0o755);
    let file = root.join("project");
    std::fs::write(&file, "not a folder").unwrap();
    (db_in(&file), Blocker::FileInTheWay(file))
}

/// This test binary, running only `test` with the child environment.
fn child(test: &str, db: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(CHILD_DB, db);
    c
}

/// The store a child test works on; None when not running as a child.
fn child_db() -> Option<PathBuf> {
    std::env::var_os(CHILD)?;
    std::env::var_os(CHILD_DB).map(PathBuf::from)
}
