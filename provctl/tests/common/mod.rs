//! What the provctl end-to-end tests share: running the built binary, and a
//! trial as the kernel would begin it.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{Duration, TimeZone, Utc};
use provstore::{ExecStatus, ExecutionRecord, NewTrial};

/// `provctl ARGS` in `cwd`, with no `$PROV_DB` from the caller.
pub fn provctl(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provctl"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PROV_DB")
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A trial started 2026-11-21 16:30:00 UTC by this process, in `cwd`.
pub fn new_trial(cwd: &Path) -> NewTrial {
    NewTrial {
        notebook: Some("analysis.ipynb".into()),
        cwd: cwd.display().to_string(),
        platform: provstore::platform(),
        pid: std::process::id(),
        hostname: provstore::hostname(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 0).unwrap(),
    }
}

/// `In [n]` (cell `cell-n`) running `code`, started `n` seconds after the
/// trial, 30 ms long, fine, with no outputs and no dataflow facts.
pub fn execution(n: i64, code: &str) -> ExecutionRecord {
    let started_at = Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 0).unwrap() + Duration::seconds(n);
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: Some(format!("cell-{n}")),
        code: code.into(),
        started_at,
        ended_at: started_at + Duration::milliseconds(30),
        status: ExecStatus::Ok,
        error: None,
        outputs: vec![],
        dataflow: None,
    }
}
