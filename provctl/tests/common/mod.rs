//! What the provctl end-to-end tests share: running the built binary and reading what it
//! printed, and stores filled as the kernel would fill them (the record builders are
//! provstore's test builders, included by path so both crates' tests build records alike).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, TimeZone, Utc};
use provstore::{ExecutionRecord, NewTrial, Store};
use serde_json::Value;

#[path = "../../../provstore/tests/common/records.rs"]
mod records;

// Each test file uses some of them.
#[allow(unused_imports)]
pub use records::{binding_note, stream, with_notes, zero_division};

/// `provctl ARGS` in `cwd`, with no `$PROV_DB` from the caller, and a cache folder inside
/// `cwd`, so the scratch stores kept of remote trials never land in the user's own cache.
pub fn provctl(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provctl"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PROV_DB")
        .env("XDG_CACHE_HOME", cwd.join(".cache"))
        .output()
        .unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// What a run printed, whether it succeeded or not.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// What a run that must succeed printed.
pub fn ok_stdout(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(o));
    stdout(o)
}

/// What a run that must be refused (exit status 2) said on stderr; `what` names the run in
/// the failure message.
pub fn refused(o: &Output, what: impl std::fmt::Debug) -> String {
    assert_eq!(o.status.code(), Some(2), "{what:?}: {}", stderr(o));
    stderr(o)
}

/// The one JSON document a `--json` run printed (and nothing else).
pub fn json(o: &Output) -> Value {
    serde_json::from_str(&ok_stdout(o)).expect("stdout is exactly one JSON document")
}

/// 2026-11-21 16:30:00 UTC: when [`new_trial`]'s trials start.
fn trial_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 0).unwrap()
}

/// A trial started 2026-11-21 16:30:00 UTC by this process, in `cwd`.
pub fn new_trial(cwd: &Path) -> NewTrial {
    records::trial_at(cwd, trial_start())
}

/// `In [n]` (cell `cell-n`) running `code`, started `n` seconds after the
/// trial, 30 ms long, fine, with no outputs and no dataflow facts.
pub fn execution(n: i64, code: &str) -> ExecutionRecord {
    records::record(n, code, trial_start() + Duration::seconds(n), 30)
}

/// [`execution`] that printed `printed` on stdout.
pub fn printing(n: i64, code: &str, printed: &str) -> ExecutionRecord {
    ExecutionRecord {
        outputs: vec![stream(printed)],
        ..execution(n, code)
    }
}

/// [`execution`] after which the probe noted `note` (its analysis left for the store to make
/// from the code, so these tests need no parser of their own).
pub fn noted(n: i64, code: &str, note: &str) -> ExecutionRecord {
    with_notes(execution(n, code), String::new(), Some(note))
}

/// A new store at `dir/.prov/prov.db`, where provctl finds it from `dir`.
pub fn store_in(dir: &Path) -> (PathBuf, Store) {
    let db = dir.join(".prov").join("prov.db");
    let store = Store::open(&db).unwrap();
    (db, store)
}
