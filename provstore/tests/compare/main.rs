//! Comparing two trials on a real store: the code diff, values judged by value, summary or
//! dataflow, deleted names, environment, output pairing, figures, and the default view.

#[path = "../common/mod.rs"]
mod common;
mod content;
mod expectations;
mod inputs;

use common::{binding_note, cell, exec, raw, store_with_trials};
use provstore::{
    CodeOpKind, DiffStatus, OutputRecord, Store, StoreError, TrialDiff, ValueDiff,
    MAGIC_ANSWER_MIME,
};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};

/// The probe's note for a cell that bound `entries` ([`binding_note`]). Every object gets its
/// own `id()`: equal ids would make them aliases.
fn bound(entries: &[(&str, serde_json::Value)]) -> String {
    static NEXT_ID: AtomicI64 = AtomicI64::new(1000);
    binding_note(
        entries,
        NEXT_ID.fetch_add(entries.len() as i64, Ordering::Relaxed),
    )
}

/// Records `cells` (code and the probe's note) in `trial` as `In[1]`, `In[2]`, …
fn record_cells(store: &mut Store, trial: i64, cells: &[(&str, String)]) {
    for (i, (code, runtime)) in cells.iter().enumerate() {
        store
            .record_execution(trial, &cell(i as i64 + 1, code, "", Some(runtime)))
            .unwrap();
    }
}

fn float(x: f64) -> serde_json::Value {
    json!({"type": "float", "value": x})
}

fn typed(t: &str) -> serde_json::Value {
    json!({ "type": t })
}

/// The notebook of the issue, with `C` as given and the accuracy it leads to.
fn record_model_run(store: &mut Store, trial: i64, c: f64, acc: f64) {
    let cells = [
        (
            "from lib import make, fit, score",
            bound(&[
                ("make", typed("function")),
                ("fit", typed("function")),
                ("score", typed("function")),
            ]),
        ),
        (&*format!("C = {c:?}"), bound(&[("C", float(c))])),
        ("X = make(0)", bound(&[("X", typed("numpy.ndarray"))])),
        ("model = fit(C, X)", bound(&[("model", typed("lib.Model"))])),
        ("acc = score(model, X)", bound(&[("acc", float(acc))])),
    ];
    record_cells(store, trial, &cells);
}

fn value<'a>(diff: &'a [ValueDiff], name: &str) -> &'a ValueDiff {
    diff.iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("{name} not in {diff:#?}"))
}

fn changed(diff: &TrialDiff) -> Vec<&str> {
    diff.values
        .iter()
        .filter(|v| v.status == DiffStatus::Changed)
        .map(|v| v.name.as_str())
        .collect()
}

#[test]
fn a_changed_parameter_changes_what_depends_on_it_and_nothing_else() {
    let (_tmp, _db, mut store, trials) = store_with_trials(3);
    let (a, b, c) = (trials[0].id, trials[1].id, trials[2].id);
    record_model_run(&mut store, a, 1.0, 0.9);
    record_model_run(&mut store, b, 0.001, 0.5);

    let diff = store.trial_diff(a, b).unwrap();
    assert_eq!(changed(&diff), vec!["C", "acc", "model"]);
    assert_eq!(value(&diff.values, "C").compared_by, "value");
    assert_eq!(value(&diff.values, "C").left, json!(1.0));
    assert_eq!(value(&diff.values, "C").right, json!(0.001));
    assert_eq!(value(&diff.values, "model").compared_by, "dependencies");
    assert_eq!(value(&diff.values, "model").left, serde_json::Value::Null);
    assert_eq!(value(&diff.values, "X").status, DiffStatus::Equal);
    assert_eq!(value(&diff.values, "make").status, DiffStatus::Equal);
    // Changed entries come first.
    assert!(diff.values[..3]
        .iter()
        .all(|v| v.status == DiffStatus::Changed));

    let ops: Vec<CodeOpKind> = diff.code.iter().map(|c| c.op).collect();
    assert_eq!(
        ops,
        vec![CodeOpKind::Equal, CodeOpKind::Replace, CodeOpKind::Equal]
    );
    let replace = &diff.code[1];
    assert_eq!(replace.left, vec![Some(2)]);
    assert_eq!(replace.right, vec![Some(2)]);
    let unified = replace.unified.as_deref().unwrap();
    assert!(unified.contains("-C = 1.0\n"), "{unified}");
    assert!(unified.contains("+C = 0.001\n"), "{unified}");
    assert!(unified.contains("In[2]"), "{unified}");

    let view = diff.only_differences();
    assert_eq!(view.code.len(), 1);
    assert!(view.values.iter().all(|v| v.status != DiffStatus::Equal));
    assert!(view.outputs.is_empty(), "{:#?}", view.outputs);
    let json = serde_json::to_value(&view).unwrap();
    for key in ["left", "right", "code", "values", "environment", "outputs"] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
    assert_eq!(json["code"][0]["op"], "replace");
    assert_eq!(json["values"][0]["status"], "changed");

    // Same code, same values: nothing to show.
    record_model_run(&mut store, c, 1.0, 0.9);
    let same = store.trial_diff(a, c).unwrap();
    assert!(same.is_same(), "{same:#?}");
    assert!(changed(&same).is_empty());

    let inter = store.intersection_diff(a, b).unwrap();
    let names: Vec<&str> = inter.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(&names[..3], &["C", "acc", "model"]);
    assert_eq!(names.len(), 7);
}

#[test]
fn an_unchanged_redefinition_clears_the_taint_and_deleted_code_taints_too() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    // `model` is tainted by C, then rebuilt from unchanged inputs: equal at the end.
    // `extra` is only touched by a cell the right trial skipped: changed.
    let left = [
        ("C = 1", bound(&[("C", json!({"type": "int", "value": 1}))])),
        ("model = fit(C)", bound(&[("model", typed("M"))])),
        ("model = fit(3)", bound(&[("model", typed("M"))])),
        ("extra = []", bound(&[("extra", typed("list"))])),
        ("extra.append(C)", bound(&[])),
    ];
    let right = [
        ("C = 2", bound(&[("C", json!({"type": "int", "value": 2}))])),
        ("model = fit(C)", bound(&[("model", typed("M"))])),
        ("model = fit(3)", bound(&[("model", typed("M"))])),
        ("extra = []", bound(&[("extra", typed("list"))])),
    ];
    record_cells(&mut store, a, &left);
    record_cells(&mut store, b, &right);
    let diff = store.trial_diff(a, b).unwrap();
    assert_eq!(changed(&diff), vec!["C", "extra"]);
    assert_eq!(value(&diff.values, "model").status, DiffStatus::Equal);
    let last = diff.code.last().unwrap();
    assert_eq!(last.op, CodeOpKind::Delete);
    assert_eq!(last.left, vec![Some(5)]);
    assert!(last.right.is_empty());
}

#[test]
fn added_removed_and_deleted_names() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let int = |v: i64| json!({"type": "int", "value": v});
    let left = [
        ("a = 1", bound(&[("a", int(1))])),
        ("b = 2", bound(&[("b", int(2))])),
        ("del b", json!({"bound": [], "deleted": ["b"]}).to_string()),
        ("d = 4", bound(&[("d", int(4))])),
    ];
    let right = [
        ("a = 1", bound(&[("a", int(1))])),
        ("b = 2", bound(&[("b", int(2))])),
        ("c = 3", bound(&[("c", int(3))])),
    ];
    record_cells(&mut store, a, &left);
    record_cells(&mut store, b, &right);
    let diff = store.trial_diff(a, b).unwrap();
    let statuses: Vec<(&str, DiffStatus, &str)> = diff
        .values
        .iter()
        .map(|v| (v.name.as_str(), v.status, v.compared_by))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("b", DiffStatus::Added, "presence"),
            ("c", DiffStatus::Added, "presence"),
            ("d", DiffStatus::Removed, "presence"),
            ("a", DiffStatus::Equal, "value"),
        ]
    );
    assert_eq!(value(&diff.values, "d").right, serde_json::Value::Null);
    assert_eq!(value(&diff.values, "d").right_type, None);
    // Outputs pair along the code: the replaced pair, then the left's extra execution.
    let outputs: Vec<DiffStatus> = diff.outputs.iter().map(|o| o.status).collect();
    assert_eq!(
        outputs,
        vec![
            DiffStatus::Equal,
            DiffStatus::Equal,
            DiffStatus::Equal,
            DiffStatus::Removed
        ]
    );
    let inter = store.intersection_diff(a, b).unwrap();
    let names: Vec<&str> = inter.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["a"]);
}

#[test]
fn summaries_compare_by_hash_and_failed_ones_by_dependencies() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let array = |sha: &str| {
        json!({"type": "numpy.ndarray", "kind": "ndarray", "shape": [3], "dtype": "float64",
               "mean": 1.0, "sha256": sha, "sampled": false})
    };
    let failed = json!({"type": "Weird", "kind": "failed", "error": "ValueError"});
    for (trial, sha) in [(a, "aa"), (b, "bb")] {
        let cells = [
            (
                "same = load()\nother = load2()\nodd = weird()",
                bound(&[
                    ("same", array("11")),
                    ("other", array(sha)),
                    ("odd", failed.clone()),
                ]),
            ),
            // Mutated after its capture: only the type is still known, and the code is the
            // same, so it is judged equal by its dependencies.
            ("same.sort()", bound(&[])),
        ];
        record_cells(&mut store, trial, &cells);
    }
    let diff = store.trial_diff(a, b).unwrap();
    let other = value(&diff.values, "other");
    assert_eq!(other.status, DiffStatus::Changed);
    assert_eq!(other.compared_by, "summary");
    assert_eq!(other.left["sha256"], "aa");
    assert_eq!(other.right["kind"], "ndarray");
    let same = value(&diff.values, "same");
    assert_eq!(
        (same.status, same.compared_by),
        (DiffStatus::Equal, "dependencies")
    );
    let odd = value(&diff.values, "odd");
    assert_eq!(
        (odd.status, odd.compared_by),
        (DiffStatus::Equal, "dependencies")
    );
}

#[test]
fn environment_lists_runtime_then_packages() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    store
        .set_trial_environment(a, Some("3.12.1"), Some("7.0.1"))
        .unwrap();
    store
        .set_trial_environment(b, Some("3.12.2"), Some("7.0.1"))
        .unwrap();
    let conn = raw(&db);
    for (trial, name, version) in [
        (a, "numpy", "2.1.0"),
        (b, "numpy", "2.2.0"),
        (a, "scipy", "1.14"),
        (b, "scipy", "1.14"),
        (b, "pandas", "2.2.3"),
        (a, "torch", "2.5"),
    ] {
        conn.execute(
            "INSERT INTO trial_packages (trial_id, name, version) VALUES (?1, ?2, ?3)",
            (trial, name, version),
        )
        .unwrap();
    }
    let diff = store.trial_diff(a, b).unwrap();
    let env: Vec<(&str, DiffStatus)> = diff
        .environment
        .iter()
        .map(|e| (e.name.as_str(), e.status))
        .collect();
    assert_eq!(
        env,
        vec![
            ("python", DiffStatus::Changed),
            ("ipykernel", DiffStatus::Equal),
            ("platform", DiffStatus::Equal),
            ("numpy", DiffStatus::Changed),
            ("pandas", DiffStatus::Added),
            ("scipy", DiffStatus::Equal),
            ("torch", DiffStatus::Removed),
        ]
    );
    let view = diff.only_differences();
    assert_eq!(view.environment.len(), 4);
    assert_eq!(view.environment[0].left.as_deref(), Some("3.12.1"));
}

/// A PNG-like payload (the bytes need not be a real picture).
fn figure(bytes: &[u8]) -> OutputRecord {
    OutputRecord {
        output_type: "display_data".into(),
        name: None,
        payloads: vec![
            ("image/png".into(), bytes.to_vec()),
            (
                "text/plain".into(),
                b"<Figure size 640x480 with 1 Axes>".to_vec(),
            ),
        ],
    }
}

#[test]
fn outputs_pair_along_the_code_and_changed_figures_are_loaded() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    for (trial, printed, png) in [
        (a, "0.9\n", &b"left-png"[..]),
        (b, "0.5\n", &b"right-png"[..]),
    ] {
        store
            .record_execution(trial, &exec(1, "print(acc)", printed))
            .unwrap();
        let mut plot = exec(2, "plt.plot(xs)", "");
        plot.outputs = vec![figure(png)];
        store.record_execution(trial, &plot).unwrap();
        store
            .record_execution(trial, &exec(3, "print('done')", "done\n"))
            .unwrap();
    }
    // A silent execution (no count) only in the right trial.
    let mut silent = exec(4, "pass", "");
    silent.execution_count = None;
    silent.outputs.clear();
    store.record_execution(b, &silent).unwrap();

    // One that printed something, only in the right trial.
    store
        .record_execution(b, &exec(5, "print('extra')", "extra\n"))
        .unwrap();

    let mut diff = store.trial_diff(a, b).unwrap();
    let statuses: Vec<DiffStatus> = diff.outputs.iter().map(|o| o.status).collect();
    // The silent one is the code diff's business only: it showed nothing.
    assert_eq!(
        statuses,
        vec![
            DiffStatus::Changed,
            DiffStatus::Changed,
            DiffStatus::Equal,
            DiffStatus::Added
        ]
    );
    let first = &diff.outputs[0];
    assert_eq!(
        first.left.as_ref().unwrap().outputs[0].text.as_deref(),
        Some("0.9\n")
    );
    let added = diff.outputs[3].right.as_ref().unwrap();
    assert_eq!(added.execution_count, Some(5));
    let insert = diff.code.last().unwrap();
    assert_eq!(insert.op, CodeOpKind::Insert);
    assert_eq!(insert.right, vec![None, Some(5)]);
    assert_eq!(insert.right_seq, vec![4, 5]);

    store.load_diff_figures(&mut diff, 1 << 20).unwrap();
    let plot = &diff.outputs[1];
    let lf = &plot.left.as_ref().unwrap().figures;
    assert_eq!(lf.len(), 1);
    assert_eq!(lf[0].bytes.as_deref(), Some(&b"left-png"[..]));
    assert_eq!(
        plot.right.as_ref().unwrap().figures[0].bytes.as_deref(),
        Some(&b"right-png"[..])
    );
    // Figures never go into the JSON.
    let json = serde_json::to_string(&diff).unwrap();
    assert!(!json.contains("figures"), "{json}");
    // Over the budget: the hash stays, the bytes do not.
    let mut small = store.trial_diff(a, b).unwrap();
    store.load_diff_figures(&mut small, 10).unwrap();
    let right = &small.outputs[1].right.as_ref().unwrap().figures;
    assert_eq!(right[0].bytes, None);
}

/// prov's answer to `line`, as the recorder keeps it: the bundle and the marker, last.
fn magic_answer(line: &str, text: &str) -> OutputRecord {
    OutputRecord {
        output_type: "display_data".into(),
        name: None,
        payloads: vec![
            (
                "text/html".into(),
                format!("<div>{text}</div>").into_bytes(),
            ),
            ("text/plain".into(), text.as_bytes().to_vec()),
            (MAGIC_ANSWER_MIME.into(), line.as_bytes().to_vec()),
        ],
    }
}

#[test]
fn magic_answers_are_left_out_of_the_outputs_unless_asked_for() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    for (trial, trials_text) in [(a, "1 trial"), (b, "2 trials")] {
        let mut mixed = exec(1, "x = 1\nprint(x)\n%trials", "1\n");
        mixed.outputs.push(magic_answer("%trials", trials_text));
        store.record_execution(trial, &mixed).unwrap();
    }
    // The right trial compared itself with the left one: a diff among its outputs.
    let mut nested = exec(2, "%trial_diff 1", "");
    nested.outputs = vec![magic_answer("%trial_diff 1", "Diff of trial 1 → trial 2 …")];
    store.record_execution(b, &nested).unwrap();

    let diff = store.trial_diff(a, b).unwrap();
    // The printed 1 is the same on both sides; %trials' answers differ but are prov's; the
    // execution that only ran %trial_diff showed nothing of the user's.
    assert!(
        diff.outputs.iter().all(|o| o.status == DiffStatus::Equal),
        "{:#?}",
        diff.outputs
    );
    let json = serde_json::to_string(&diff).unwrap();
    assert!(
        !json.contains("Diff of") && !json.contains("magic"),
        "{json}"
    );
    for o in &diff.outputs {
        for side in [&o.left, &o.right].into_iter().flatten() {
            assert!(side
                .outputs
                .iter()
                .all(|out| out.mime_types == ["text/plain"]));
        }
    }

    let all = store.trial_diff_with(a, b, true).unwrap();
    let statuses: Vec<DiffStatus> = all.outputs.iter().map(|o| o.status).collect();
    assert_eq!(statuses, vec![DiffStatus::Changed, DiffStatus::Added]);
    let answer = &all.outputs[1].right.as_ref().unwrap().outputs[0];
    assert_eq!(answer.magic.as_deref(), Some("%trial_diff 1"));
    // The marker is no MIME type of the output.
    assert_eq!(answer.mime_types, ["text/html", "text/plain"]);
}

#[test]
fn an_unknown_trial_is_the_stores_message() {
    let (_tmp, _db, store, trials) = store_with_trials(1);
    let err = store.trial_diff(trials[0].id, 99).unwrap_err();
    assert!(matches!(err, StoreError::TrialNotFound { .. }), "{err}");
    assert!(err.to_string().contains("99"), "{err}");
}

#[test]
fn damaged_captures_and_empty_trials_do_not_stop_the_diff() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let empty = store.trial_diff(a, b).unwrap();
    assert!(empty.is_same());
    store
        .record_execution(a, &cell(1, "x = 1", "", Some(&bound(&[("x", float(1.0))]))))
        .unwrap();
    store
        .record_execution(b, &cell(1, "x = 1", "", Some(&bound(&[("x", float(1.0))]))))
        .unwrap();
    // The last execution's values, out of the list it shares with the other trial's, as rows
    // of its own, damaged.
    raw(&db)
        .execute_batch(
            "INSERT INTO captured_value_rows
                 (execution_id, name, type_name, value_json, summary_json, fingerprint_json)
             SELECT execution_id, name, type_name,
                    CASE name WHEN 'x' THEN '{broken' ELSE value_json END,
                    CASE name WHEN 'x' THEN '[1' ELSE summary_json END, fingerprint_json
             FROM captured_values WHERE execution_id = (SELECT MAX(id) FROM executions);
             DELETE FROM execution_value_sets
             WHERE execution_id = (SELECT MAX(id) FROM executions);",
        )
        .unwrap();
    let diff = store.trial_diff(a, b).unwrap();
    let x = value(&diff.values, "x");
    assert_eq!(x.compared_by, "dependencies");
    assert_eq!(x.status, DiffStatus::Equal);
}

#[test]
fn a_notebook_run_again_and_again_diffs_run_by_run() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let runs = 40;
    for (trial, changed_from) in [(a, runs), (b, runs / 2)] {
        let mut records = Vec::new();
        for run in 0..runs {
            let p = if run >= changed_from { 0.25 } else { 0.5 };
            let cells = [
                (format!("p = {p:?}"), bound(&[("p", float(p))])),
                ("a = p * 2".to_string(), bound(&[("a", float(p * 2.0))])),
                (
                    "b = 3".to_string(),
                    bound(&[("b", json!({"type": "int", "value": 3}))]),
                ),
                ("m = fit(a, b)".to_string(), bound(&[("m", typed("M"))])),
            ];
            for (code, rt) in cells {
                let n = records.len() as i64 + 1;
                records.push(cell(n, &code, "", Some(&rt)));
            }
        }
        store.record_executions(trial, &records).unwrap();
    }
    let diff = store.trial_diff(a, b).unwrap().only_differences();
    assert_eq!(diff.code.len(), runs / 2);
    assert!(diff.code.iter().all(|c| c.op == CodeOpKind::Replace));
    assert_eq!(diff.code[0].left, vec![Some(4 * runs as i64 / 2 + 1)]);
    assert_eq!(changed(&diff), vec!["a", "m", "p"]);
    assert_eq!(value(&diff.values, "a").right, json!(0.5));
}
