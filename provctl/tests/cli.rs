//! provctl end to end: the built binary against stores filled through the
//! provstore API.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{
    json, new_trial, printing as exec, provctl, refused, stderr, stdout, store_in, zero_division,
};
use provstore::TrialStatus;

/// `dir/.prov/prov.db` with two trials: 1 "baseline" (finished, three
/// executions, the last one failing) and 2 (running, one execution).
fn sample_store(dir: &Path) -> PathBuf {
    let (db, mut store) = store_in(dir);
    let a = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(a.id, "baseline").unwrap();
    store
        .record_execution(a.id, &exec(1, "import pandas as pd", ""))
        .unwrap();
    store
        .record_execution(a.id, &exec(2, "print('hello')", "hello\n"))
        .unwrap();
    let failing = zero_division(exec(3, "1/0", ""), &["ZeroDivisionError: division by zero"]);
    store.record_execution(a.id, &failing).unwrap();
    store.end_trial(a.id, TrialStatus::Finished).unwrap();
    let b = store.begin_trial(&new_trial(dir)).unwrap();
    store
        .record_execution(b.id, &exec(10, "x = 1", ""))
        .unwrap();
    db
}

#[test]
fn trials_json() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    let v = json(&provctl(tmp.path(), &["trials", "--json"]));
    let trials = v.as_array().unwrap();
    assert_eq!(trials.len(), 2);
    let t = &trials[0];
    assert_eq!(t["id"], 1);
    assert_eq!(t["name"], "baseline");
    assert_eq!(t["status"], "finished");
    assert_eq!(t["executions"], 3);
    assert_eq!(t["notebook"], "analysis.ipynb");
    assert_eq!(t["started_at"], "2026-11-21T16:30:00.000Z");
    assert!(t["uuid"].as_str().unwrap().len() == 36);
    assert!(t["ended_at"].is_string());
    assert_eq!(trials[1]["status"], "running");
    assert!(trials[1]["name"].is_null() && trials[1]["ended_at"].is_null());
}

#[test]
fn show_by_id_and_by_name_json() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    let by_id = json(&provctl(tmp.path(), &["show", "1", "--json"]));
    let by_name = json(&provctl(tmp.path(), &["show", "baseline", "--json"]));
    assert_eq!(by_id, by_name);
    assert_eq!(by_id["trial"]["id"], 1);
    let execs = by_id["executions"].as_array().unwrap();
    assert_eq!(execs.len(), 3);
    let e = &execs[1];
    assert_eq!(e["execution_count"], 2);
    assert_eq!(e["cell_id"], "cell-2");
    assert_eq!(e["code"], "print('hello')");
    assert_eq!(e["code_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(e["status"], "ok");
    assert_eq!(e["started_at"], "2026-11-21T16:30:02.000Z");
    assert_eq!(e["duration_ms"], 30);
    assert_eq!(e["outputs"][0]["output_type"], "stream");
    assert_eq!(
        e["outputs"][0]["mime_types"],
        serde_json::json!(["text/plain"])
    );
    assert_eq!(execs[2]["status"], "error");
    assert_eq!(execs[2]["error"]["ename"], "ZeroDivisionError");
    let counts: Vec<i64> = execs
        .iter()
        .map(|e| e["execution_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 3]);
}

#[test]
fn db_goes_before_or_after_the_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let db = sample_store(tmp.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let db = db.to_str().unwrap();
    let before = json(&provctl(
        elsewhere.path(),
        &["--db", db, "trials", "--json"],
    ));
    let after = json(&provctl(
        elsewhere.path(),
        &["trials", "--json", "--db", db],
    ));
    assert_eq!(before, after);
    assert_eq!(before.as_array().unwrap().len(), 2);
}

#[test]
fn prov_db_is_used_and_discovery_walks_up() {
    let tmp = tempfile::tempdir().unwrap();
    let db = sample_store(tmp.path());
    let deep = tmp.path().join("notebooks/2026");
    std::fs::create_dir_all(&deep).unwrap();
    let found = json(&provctl(&deep, &["trials", "--json"]));
    assert_eq!(found.as_array().unwrap().len(), 2);

    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_provctl"))
        .args(["log", "--json", "-n", "2"])
        .current_dir(elsewhere.path())
        .env("PROV_DB", &db)
        .output()
        .unwrap();
    let log = json(&out);
    let codes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["x = 1", "1/0"]);
    assert_eq!(log[0]["trial_id"], 2);
    assert_eq!(log[1]["trial_name"], "baseline");
}

#[test]
fn a_missing_store_exits_2_and_says_how_to_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = provctl(tmp.path(), &["trials", "--json"]);
    refused(&out, "");
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("no provenance store found"), "{err}");
    assert!(
        err.contains("Python (prov)") && err.contains("--db"),
        "{err}"
    );

    let missing = tmp.path().join("nope.db");
    let out = provctl(tmp.path(), &["--db", missing.to_str().unwrap(), "trials"]);
    refused(&out, "");
    assert!(stderr(&out).contains("nope.db"), "{}", stderr(&out));
    assert!(!missing.exists(), "reading never creates a store");
}

#[test]
fn a_missing_trial_or_bad_argument_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    for trial in ["99", "nonesuch"] {
        let out = provctl(tmp.path(), &["show", trial, "--json"]);
        refused(&out, trial);
        assert!(out.stdout.is_empty());
        let err = stderr(&out);
        assert!(err.contains(&format!("{trial:?}")), "{err}");
        assert!(err.contains("baseline (1)"), "lists what exists: {err}");
    }
    for args in [
        &["log", "-n", "many"][..],
        &["log", "-n", "0"],
        &["frobnicate"],
        &[],
    ] {
        let out = provctl(tmp.path(), args);
        refused(&out, args);
    }
}

#[test]
fn show_without_a_trial_shows_the_latest() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    let latest = json(&provctl(tmp.path(), &["show", "--json"]));
    assert_eq!(latest, json(&provctl(tmp.path(), &["show", "2", "--json"])));
    assert_eq!(latest["executions"][0]["code"], "x = 1");
    let said = stdout(&provctl(tmp.path(), &["show"]));
    assert!(said.starts_with("Trial 2: running"), "{said}");
}

#[test]
fn a_diff_of_a_trial_with_itself_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    for args in [
        &["diff", "1", "1"][..],
        &["diff", "1", "baseline", "--json"],
    ] {
        let out = provctl(tmp.path(), args);
        refused(&out, args);
        assert!(out.stdout.is_empty());
        let err = stderr(&out);
        assert!(err.contains("both sides are trial 1"), "{err}");
    }
}

#[test]
fn text_output_is_a_readable_table() {
    let tmp = tempfile::tempdir().unwrap();
    sample_store(tmp.path());
    let out = provctl(tmp.path(), &["trials"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("baseline") && text.contains("finished"),
        "{text}"
    );
    let out = provctl(tmp.path(), &["show", "baseline"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("Trial 1 \"baseline\": finished, 3 executions"),
        "{text}"
    );
    assert!(
        text.contains("print('hello')") && text.contains("hello"),
        "{text}"
    );
    assert!(
        text.contains("ZeroDivisionError: division by zero"),
        "{text}"
    );
    let out = provctl(tmp.path(), &["log"]);
    assert!(stdout(&out).contains("x = 1"));
}

/// Not a timed assertion: prints how long `provctl show` takes on a trial
/// of 10,000 executions, and checks that they all come out.
#[test]
fn show_on_10000_executions() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, mut store) = store_in(tmp.path());
    let t = store.begin_trial(&new_trial(tmp.path())).unwrap();
    let records: Vec<_> = (1..=10_000)
        .map(|n| {
            exec(
                n,
                &format!("df = load({n})\ndf.describe()"),
                &format!("{n} rows\n"),
            )
        })
        .collect();
    store.record_executions(t.id, &records).unwrap();
    drop(store);

    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let out = provctl(tmp.path(), &["show", "1", "--json"]);
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        let v = json(&out);
        assert_eq!(v["executions"].as_array().unwrap().len(), 10_000);
    }
    let start = Instant::now();
    let out = provctl(tmp.path(), &["show", "1"]);
    let text_ms = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(stdout(&out).lines().count(), 10_000 + 8);
    eprintln!("provctl show on 10,000 executions: {best:.0} ms (--json, best of 3), {text_ms:.0} ms (text)");
}

#[test]
fn tags_lists_a_trials_tags_as_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, mut store) = store_in(tmp.path());
    let a = store.begin_trial(&new_trial(tmp.path())).unwrap();
    store.set_trial_name(a.id, "tagged").unwrap();
    store.record_execution(a.id, &exec(1, "x = 1", "")).unwrap();
    store.tag_variable(a.id, "x", Some("input")).unwrap();
    store.mark_stage(a.id, "train").unwrap();
    store.record_execution(a.id, &exec(2, "fit()", "")).unwrap();
    let b = store.begin_trial(&new_trial(tmp.path())).unwrap();
    drop(store);

    let latest = json(&provctl(tmp.path(), &["tags", "--json"]));
    assert_eq!(latest["trial"]["id"], b.id);
    assert_eq!(latest["variables"], serde_json::json!([]));

    let tagged = json(&provctl(
        tmp.path(),
        &["tags", "--trial", "tagged", "--json"],
    ));
    assert_eq!(tagged["trial"]["id"], a.id);
    assert_eq!(tagged["variables"][0]["name"], "x");
    assert_eq!(tagged["variables"][0]["label"], "input");
    assert_eq!(tagged["variables"][0]["execution_count_at_tagging"], 1);
    assert_eq!(tagged["stages"][0]["label"], "train");
    assert_eq!(tagged["stages"][0]["execution_count"], 2);
    assert_eq!(tagged["stages"][0]["cell_id"], "cell-2");

    let o = provctl(tmp.path(), &["tags", "--trial", &a.id.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Tags of trial"), "{text}");
    assert!(text.contains("input"), "{text}");
    assert!(text.contains("train"), "{text}");

    let missing = provctl(tmp.path(), &["tags", "--trial", "nope"]);
    refused(&missing, "");
}
