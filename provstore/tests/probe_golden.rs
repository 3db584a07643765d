//! The runtime probe's notes as provstore reads them, from the golden files the probe's own
//! tests produce (tests/golden/probe/, format in README.md there; Python side:
//! tests/python/test_probe.py). Each summary goes through a real store into
//! [`provstore::CapturedValue`], and what the store makes of it (its kind, its line, the
//! numbers a plot shows) must be the `reads` the golden file states: a field the probe renames
//! or a summary the reader stops understanding fails here.

mod common;

use std::path::{Path, PathBuf};

use common::{exec, store_with_trials};
use provstore::{
    CapturedValue, DataflowRecord, ExecStatus, ExecutionRecord, Statistic, Store, StoreError,
};
use serde_json::{json, Map, Value};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/probe")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// An execution of `code` carrying the probe's `notes` (None: the probe sent none).
fn cell(n: i64, msg_id: &str, code: &str, failed: bool, notes: Option<&Value>) -> ExecutionRecord {
    let mut e = exec(n, code, "");
    e.msg_id = msg_id.into();
    if failed {
        e.status = ExecStatus::Error;
    }
    e.dataflow = Some(DataflowRecord {
        analysis: serde_json::to_string(&pyflow::analyze_cell(code)).unwrap(),
        runtime: notes.map(Value::to_string),
        failed_line: None,
    });
    e
}

/// Every captured value of `name` as the store reads it back: (execution_count, value).
fn captured(store: &Store, name: &str) -> Vec<(i64, CapturedValue)> {
    match store.var_values(name) {
        Ok(entries) => entries
            .into_iter()
            .map(|e| (e.execution_count.unwrap(), e.captured))
            .collect(),
        Err(StoreError::NoValues { .. }) => Vec::new(),
        Err(e) => panic!("{name}: {e}"),
    }
}

/// What provstore makes of a captured value, in the shape of a golden case's `reads`.
fn reads(v: &CapturedValue) -> Value {
    json!({
        "kind": v.kind(),
        "line": v.one_line(80),
        "mean": v.number(Statistic::Mean, None),
        "len": v.number(Statistic::Len, None),
        "comparable": v.is_comparable(),
    })
}

#[test]
fn every_golden_summary_reads_as_stated() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.ends_with("notes.json")
                && !p.ends_with("fingerprints.json")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 8, "golden files: {files:?}");
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let mut n = 0;
    for file in &files {
        for case in read(file).as_array().expect("a list of cases") {
            n += 1;
            let info = &case["info"];
            let notes = json!({"tagged": {"value": [n, info]}});
            store
                .record_execution(
                    trials[0].id,
                    &cell(n, &format!("m{n}"), "pass", false, Some(&notes)),
                )
                .unwrap();
            let got = captured(&store, "value");
            let about = format!("{}: {}", file.display(), case["about"]);
            assert_eq!(got.len(), n as usize, "{about}");
            let (count, value) = got.last().unwrap();
            assert_eq!(*count, n, "{about}");
            assert_eq!(
                Some(value.type_name.as_str()),
                info["type"].as_str(),
                "{about}"
            );
            assert_eq!(value.value.as_ref(), info.get("value"), "{about}");
            assert_eq!(value.summary.as_ref(), info.get("summary"), "{about}");
            assert_eq!(reads(value), case["reads"], "{about}");
            let same = value.same_as(value);
            assert_eq!(same, value.is_comparable().then_some(true), "{about}");
        }
    }
}

/// The fingerprints of bound values (fingerprints.json): stored from a `bound` entry, read back
/// from `captured_values.fingerprint_json`, and judged against themselves by content.
#[test]
fn golden_fingerprints_are_stored_and_judged_as_stated() {
    let cases = read(&golden_dir().join("fingerprints.json"));
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    for (i, case) in cases
        .as_array()
        .expect("a list of cases")
        .iter()
        .enumerate()
    {
        let n = i as i64 + 1;
        let info = &case["info"];
        let notes = json!({"bound": [["value", n, info]], "deleted": []});
        store
            .record_execution(
                trials[0].id,
                &cell(n, &format!("f{n}"), "value = make()", false, Some(&notes)),
            )
            .unwrap();
        let about = case["about"].as_str().unwrap();
        let (type_name, fingerprint): (String, Option<String>) = common::raw(&db)
            .query_row(
                "SELECT v.type_name, v.fingerprint_json FROM captured_values v
                 JOIN executions e ON e.id = v.execution_id WHERE e.execution_count = ?1",
                [n],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let value =
            CapturedValue::from_columns(type_name, None, None).with_fingerprint(fingerprint);
        assert_eq!(
            value.fingerprint.as_ref(),
            info.get("fingerprint"),
            "{about}"
        );
        let judged = value
            .judge(&value)
            .map(|j| json!({"same": j.same, "compared_by": j.by, "sampled": j.sampled}));
        let reads = json!({"line": value.one_line(80), "against_itself": judged});
        assert_eq!(reads, case["reads"], "{about}");
    }
}

#[test]
fn golden_notes_are_recorded_as_stated() {
    let golden = read(&golden_dir().join("notes.json"));
    let cells = golden["cells"].as_array().unwrap();
    // A failed cell's note arrives with the next answer: gather every note first.
    let mut notes = Map::new();
    for c in cells {
        if let Some(answer) = c["answer"]["data"]["application/json"].as_object() {
            notes.extend(answer.clone());
        }
    }
    // Every name the notes mention: the captured values are looked up by name.
    let mut names = std::collections::BTreeSet::new();
    for note in notes.values() {
        for entry in note["bound"].as_array().into_iter().flatten() {
            names.insert(entry[0].as_str().unwrap().to_string());
        }
        for key in ["summaries", "tagged"] {
            names.extend(
                note[key]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone()),
            );
        }
    }
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    for (i, c) in cells.iter().enumerate() {
        let n = i as i64 + 1;
        let msg_id = c["msg_id"].as_str().unwrap();
        let code = c["code"].as_str().unwrap();
        let failed = c["answer"].is_null();
        store
            .record_execution(
                trials[0].id,
                &cell(n, msg_id, code, failed, notes.get(msg_id)),
            )
            .unwrap();
        let got: Map<String, Value> = names
            .iter()
            .flat_map(|name| {
                captured(&store, name)
                    .into_iter()
                    .filter(|(count, _)| *count == n)
                    .map(move |(_, v)| (name.clone(), Value::String(v.one_line(80))))
            })
            .collect();
        assert_eq!(Value::Object(got), c["reads"], "{msg_id}: {code}");
    }
    let packages: Map<String, Value> = store
        .trial_packages(trials[0].id)
        .unwrap()
        .into_iter()
        .map(|(name, version)| (name, Value::String(version)))
        .collect();
    assert_eq!(Value::Object(packages), golden["packages"]);
}

/// The probe's `files` notes (`files/notes.json`) become the `file_accesses` rows its `reads`
/// state: `[access, path, line, statement]` per execution, in order; a failed cell's note,
/// arriving with the next answer, is attached to the failed execution.
#[test]
fn golden_file_notes_are_recorded_as_stated() {
    let golden = read(&golden_dir().join("files").join("notes.json"));
    let cells = golden["cells"].as_array().unwrap();
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let mut expected = Map::new();
    let mut ids = std::collections::BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        let n = i as i64 + 1;
        let msg_id = c["msg_id"].as_str().unwrap();
        let code = c["code"].as_str().unwrap();
        let failed = c["answer"].is_null();
        let notes = c["answer"]["data"]["application/json"].as_object();
        let own = notes.and_then(|n| n.get(msg_id));
        store
            .record_execution(trial, &cell(n, msg_id, code, failed, own))
            .unwrap();
        ids.insert(msg_id.to_string(), n);
        // Notes of earlier (failed) requests come with this answer, as the proxy passes them.
        for (other, note) in notes.into_iter().flatten() {
            if other != msg_id {
                store
                    .set_runtime_facts(trial, other, &note.to_string())
                    .unwrap();
            }
        }
        if let Some(reads) = c["reads"].as_object() {
            expected.extend(reads.clone());
        }
    }
    let rows = store.file_accesses(trial).unwrap();
    assert_eq!(expected.len(), cells.len(), "every cell's rows are stated");
    for (msg_id, want) in &expected {
        let n = ids[msg_id];
        let got: Vec<Value> = rows
            .iter()
            .filter(|r| r.execution_count == Some(n))
            .map(|r| json!([r.access, r.path, r.line, r.statement]))
            .collect();
        assert_eq!(Value::Array(got), *want, "{msg_id}");
    }
    // Every row names the file as resolved in the golden folder, with the content's hash.
    assert!(rows
        .iter()
        .all(|r| r.resolved.starts_with('/') && r.sha256.is_some()));
}
