//! Builders shared by the store's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use provstore::{
    ErrorInfo, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store, TrialHandle,
};
use tempfile::TempDir;

/// A fixed start time, so stored timestamps are predictable.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 2).unwrap() + Duration::milliseconds(630)
}

/// A trial of this process on this host.
pub fn this_trial(cwd: &Path) -> NewTrial {
    NewTrial {
        notebook: Some("analysis.ipynb".into()),
        cwd: cwd.display().to_string(),
        platform: provstore::platform(),
        pid: std::process::id(),
        hostname: provstore::hostname(),
        started_at: t0(),
    }
}

/// A successful execution of `code` that printed `printed` on stdout,
/// starting `n` seconds after [`t0`] and lasting 12 ms.
pub fn exec(n: i64, code: &str, printed: &str) -> ExecutionRecord {
    let started_at = t0() + Duration::seconds(n);
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: Some(format!("cell-{n}")),
        code: code.into(),
        started_at,
        ended_at: started_at + Duration::milliseconds(12),
        status: ExecStatus::Ok,
        error: None,
        outputs: vec![stream(printed)],
        dataflow: None,
    }
}

/// A stdout stream output.
pub fn stream(text: &str) -> OutputRecord {
    OutputRecord {
        output_type: "stream".into(),
        name: Some("stdout".into()),
        payloads: vec![("text/plain".into(), text.as_bytes().to_vec())],
    }
}

/// A failed execution (ZeroDivisionError) with its error output.
pub fn failing(n: i64) -> ExecutionRecord {
    let mut e = exec(n, "1/0", "");
    e.status = ExecStatus::Error;
    e.error = Some(ErrorInfo {
        ename: "ZeroDivisionError".into(),
        evalue: "division by zero".into(),
        traceback: vec![
            "Traceback (most recent call last)".into(),
            "ZeroDivisionError: division by zero".into(),
        ],
    });
    e.outputs = vec![OutputRecord {
        output_type: "error".into(),
        name: None,
        payloads: vec![],
    }];
    e
}

/// `dir/.prov/prov.db`.
pub fn db_in(dir: &Path) -> PathBuf {
    dir.join(".prov").join("prov.db")
}

/// A direct SQLite connection, to check what the store wrote.
pub fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
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
