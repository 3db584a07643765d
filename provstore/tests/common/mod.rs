//! Builders shared by the store's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use provstore::{ExecutionRecord, NewTrial, Store, TrialHandle};
use tempfile::TempDir;

mod records;

pub use records::*;

/// A fixed start time, so stored timestamps are predictable.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 2).unwrap() + Duration::milliseconds(630)
}

/// A trial of this process on this host.
pub fn this_trial(cwd: &Path) -> NewTrial {
    trial_at(cwd, t0())
}

/// A successful execution of `code` that printed `printed` on stdout,
/// starting `n` seconds after [`t0`] and lasting 12 ms.
pub fn exec(n: i64, code: &str, printed: &str) -> ExecutionRecord {
    ExecutionRecord {
        outputs: vec![stream(printed)],
        ..record(n, code, t0() + Duration::seconds(n), 12)
    }
}

/// A failed execution (ZeroDivisionError) with its error output.
pub fn failing(n: i64) -> ExecutionRecord {
    zero_division(
        exec(n, "1/0", ""),
        &[
            "Traceback (most recent call last)",
            "ZeroDivisionError: division by zero",
        ],
    )
}

/// An execution of `code` printing `printed`, with its analysis (made here with pyflow, as
/// the kernel does) and the probe's `runtime` note.
pub fn cell(n: i64, code: &str, printed: &str, runtime: Option<&str>) -> ExecutionRecord {
    let analysis = serde_json::to_string(&pyflow::analyze_cell(code)).unwrap();
    with_notes(exec(n, code, printed), analysis, runtime)
}

/// `dir/.prov/prov.db`.
pub fn db_in(dir: &Path) -> PathBuf {
    dir.join(".prov").join("prov.db")
}

/// A direct SQLite connection, to check what the store wrote.
pub fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Rewrites the store at `path` as the schema before the lean store kept it (versions and
/// captured values as tables of rows; see `undo_lean.sql`).
pub fn undo_lean(path: &Path) {
    raw(path)
        .execute_batch(include_str!("undo_lean.sql"))
        .unwrap();
}

/// One integer from a query.
pub fn count(path: &Path, sql: &str) -> i64 {
    raw(path).query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A new store in a temporary folder (kept alive by the returned `TempDir`)
/// with `n` trials of this process begun.
pub fn store_with_trials(n: usize) -> (TempDir, PathBuf, Store, Vec<TrialHandle>) {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let mut store = Store::open(&db).unwrap();
    let trials = (0..n)
        .map(|_| store.begin_trial(&this_trial(tmp.path())).unwrap())
        .collect();
    (tmp, db, store, trials)
}

/// The executions a replay of the trial through pyflow says `var` depends on.
#[allow(dead_code)] // not every test file uses it
pub fn replayed_deps(replay: &pyflow::Dataflow, var: &str) -> Vec<i64> {
    replay
        .backwards_deps(var)
        .unwrap()
        .iter()
        .map(|d| d.exec.execution_id)
        .collect()
}
