//! `provctl diff --json`'s `inputs` (the contract: `{"path", "status", "left", "right"}`, no
//! `equal` entries without `--all`) and its text, on a store filled from hand-made probe notes
//! with `files`.

mod common;

use std::path::{Path, PathBuf};

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, store_in};
use serde_json::{json, Value};

/// A note binding `df` (type only) that read `data.csv` (content `data`) and `params.json`
/// (content `params`) on line 1.
fn reading_note(data: &str, params: &str) -> String {
    let mut note: Value =
        serde_json::from_str(&binding_note(&[("df", json!({"type": "lib.Frame"}))], 1000)).unwrap();
    let file = |path: &str, sha: &str| {
        json!({"path": path, "resolved": format!("/data/{path}"), "access": "read", "line": 1,
               "size": 1234, "mtime": 1765000000.5, "sha256": sha, "sampled": false})
    };
    note["files"] = json!([file("data.csv", data), file("params.json", params)]);
    note.to_string()
}

/// Trials 1 and 2: the same code, `data.csv` changed by a byte, `params.json` the same.
fn store(dir: &Path) -> PathBuf {
    let (db, mut store) = store_in(dir);
    for data in ["a".repeat(64), "b".repeat(64)] {
        let t = store.begin_trial(&new_trial(dir)).unwrap();
        let note = reading_note(&data, &"c".repeat(64));
        store
            .record_execution(t.id, &noted(1, "df = load('data.csv')", &note))
            .unwrap();
    }
    db
}

#[test]
fn diff_json_has_the_inputs_contract() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let out = json(&provctl(dir.path(), &["diff", "1", "2", "--json"]));
    let inputs = out["inputs"].as_array().expect("an inputs array");
    assert_eq!(
        inputs.len(),
        1,
        "no equal entries without --all: {inputs:#?}"
    );
    let entry = &inputs[0];
    for key in ["path", "status", "left", "right"] {
        assert!(entry.get(key).is_some(), "{key} missing in {entry}");
    }
    assert_eq!(entry["path"], "data.csv");
    assert_eq!(entry["status"], "changed");
    for (side, sha) in [("left", "a"), ("right", "b")] {
        assert_eq!(entry[side]["sha256"], sha.repeat(64));
        assert_eq!(entry[side]["size"], 1234);
        assert_eq!(entry[side]["sampled"], false);
    }
    // What was computed from it changed by dependency.
    assert_eq!(out["values"][0]["name"], "df");
    assert_eq!(out["values"][0]["status"], "changed");
    assert_eq!(out["values"][0]["compared_by"], "dependencies");

    let all = json(&provctl(dir.path(), &["diff", "1", "2", "--json", "--all"]));
    let statuses: Vec<(&str, &str)> = all["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [("data.csv", "changed"), ("params.json", "equal")]
    );
}

#[test]
fn diff_text_shows_the_changed_input() {
    let dir = tempfile::tempdir().unwrap();
    store(dir.path());
    let text = ok_stdout(&provctl(dir.path(), &["diff", "1", "2"]));
    assert!(text.contains("inputs"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("data.csv"))
        .unwrap_or_else(|| panic!("no data.csv line in {text}"));
    assert!(line.contains("changed"), "{line}");
    assert!(
        line.contains("aaaaaaaa") && line.contains("bbbbbbbb"),
        "{line}"
    );
    assert!(!text.contains("params.json"), "{text}");
}
