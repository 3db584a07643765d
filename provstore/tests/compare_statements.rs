//! The trial diff at statement level on a real store (pyflow's analysis, the dependency index,
//! SQLite): a name defined beside a changed one in the same cell is not changed, what reads the
//! changed one is; cells of only prov magics are not code of the experiment.

mod common;

use common::{binding_note, cell, store_with_trials};
use provstore::{CodeOpKind, DiffStatus, OutputRecord, Store, TrialDiff, MAGIC_ANSWER_MIME};
use serde_json::json;

fn typed(t: &str) -> serde_json::Value {
    json!({ "type": t })
}

/// The house-price notebook: the hyperparameter in the cell of the seeded split.
fn record_house_prices(store: &mut Store, trial: i64, max_depth: i64, mae: f64) {
    let cells: [(String, Vec<(&str, serde_json::Value)>); 3] = [
        (
            "import numpy as np\nfrom lib import split, Tree, score\n\
             rng = np.random.default_rng(0)\ndata = rng.normal(size=(100, 3))"
                .into(),
            vec![
                ("np", typed("module")),
                ("split", typed("function")),
                ("Tree", typed("type")),
                ("score", typed("function")),
                ("rng", typed("numpy.random.Generator")),
                ("data", typed("numpy.ndarray")),
            ],
        ),
        (
            format!(
                "max_depth = {max_depth}\nfeatures = [0, 1]\nX = data[:, features]\n\
                 y = data[:, 2]\nX_train, X_test, y_train, y_test = split(X, y, seed=0)"
            ),
            vec![
                ("max_depth", json!({"type": "int", "value": max_depth})),
                ("features", typed("list")),
                ("X", typed("numpy.ndarray")),
                ("y", typed("numpy.ndarray")),
                ("X_train", typed("numpy.ndarray")),
                ("X_test", typed("numpy.ndarray")),
                ("y_train", typed("numpy.ndarray")),
                ("y_test", typed("numpy.ndarray")),
            ],
        ),
        (
            "model = Tree(max_depth=max_depth, random_state=0)\nmodel.fit(X_train, y_train)\n\
             pred = model.predict(X_test)\nmae = score(y_test, pred)"
                .into(),
            vec![
                ("model", typed("lib.Tree")),
                ("pred", typed("numpy.ndarray")),
                ("mae", json!({"type": "float", "value": mae})),
            ],
        ),
    ];
    for (i, (code, bound)) in cells.iter().enumerate() {
        let note = binding_note(bound, 1000 * (i as i64 + 1));
        let n = i as i64 + 1;
        store
            .record_execution(trial, &cell(n, code, "", Some(&note)))
            .unwrap();
    }
}

fn changed(diff: &TrialDiff) -> Vec<&str> {
    diff.values
        .iter()
        .filter(|v| v.status != DiffStatus::Equal)
        .map(|v| v.name.as_str())
        .collect()
}

#[test]
fn one_hyperparameter_changes_only_what_is_computed_from_it() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    record_house_prices(&mut store, a, 3, 34288.403);
    record_house_prices(&mut store, b, 6, 30123.5);
    let diff = store.trial_diff(a, b).unwrap();
    assert_eq!(changed(&diff), ["mae", "max_depth", "model", "pred"]);
    let by = |name: &str| {
        let v = diff.values.iter().find(|v| v.name == name).unwrap();
        (v.status, v.compared_by)
    };
    assert_eq!(by("model"), (DiffStatus::Changed, "dependencies"));
    for same in [
        "X_train", "X_test", "y_train", "y_test", "features", "np", "rng",
    ] {
        assert_eq!(by(same), (DiffStatus::Equal, "dependencies"), "{same}");
    }
    // The code diff still shows the changed cell whole.
    let ops: Vec<CodeOpKind> = diff.code.iter().map(|c| c.op).collect();
    assert_eq!(
        ops,
        [CodeOpKind::Equal, CodeOpKind::Replace, CodeOpKind::Equal]
    );
}

#[test]
fn a_statement_changed_in_one_cell_taints_its_readers_in_that_cell_only() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    for (trial, k) in [(trials[0].id, 1), (trials[1].id, 2)] {
        let code = format!("from lib import f\nk = {k}\na = f(k)\nb = f(0)\nc = f(a)\nd = f(b)");
        let note = binding_note(
            &[
                ("f", typed("function")),
                ("k", typed("lib.Thing")),
                ("a", typed("lib.Thing")),
                ("b", typed("lib.Thing")),
                ("c", typed("lib.Thing")),
                ("d", typed("lib.Thing")),
            ],
            100 * k,
        );
        store
            .record_execution(trial, &cell(1, &code, "", Some(&note)))
            .unwrap();
    }
    let diff = store.trial_diff(trials[0].id, trials[1].id).unwrap();
    assert_eq!(changed(&diff), ["a", "c", "k"]);
}

/// prov's answer to `line`, as the recorder keeps it.
fn answer(line: &str) -> OutputRecord {
    OutputRecord {
        output_type: "display_data".into(),
        name: None,
        payloads: vec![
            ("text/plain".into(), b"tagged".to_vec()),
            (MAGIC_ANSWER_MIME.into(), line.as_bytes().to_vec()),
        ],
    }
}

#[test]
fn cells_of_only_prov_magics_are_not_code_of_the_experiment() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    for trial in [a, b] {
        store
            .record_execution(trial, &cell(1, "x = 1", "", None))
            .unwrap();
    }
    // Only the right trial tagged x and listed the trials, in a cell of its own.
    let mut magics = cell(2, "%tag_var x\n%trials", "", None);
    magics.outputs = vec![answer("%tag_var x"), answer("%trials")];
    store.record_execution(b, &magics).unwrap();
    // A cell mixing a magic with code is code.
    let mut mixed = cell(3, "%trials\ny = 2", "", None);
    mixed.outputs = vec![answer("%trials")];
    store.record_execution(b, &mixed).unwrap();

    let diff = store.trial_diff(a, b).unwrap();
    let inserted: Vec<&CodeOpKind> = diff.code.iter().map(|c| &c.op).collect();
    assert_eq!(inserted, [&CodeOpKind::Equal, &CodeOpKind::Insert]);
    assert_eq!(diff.code[1].right, [Some(3)], "{:#?}", diff.code);
    let unified = diff.code[1].unified.as_deref().unwrap();
    assert!(!unified.contains("%tag_var"), "{unified}");
    // With --all (prov's answers too) the magics' cell is there.
    let all = store.trial_diff_with(a, b, true).unwrap();
    assert_eq!(all.code[1].right, [Some(2), Some(3)], "{:#?}", all.code);
}

#[test]
fn a_statement_out_of_the_analysis_sight_is_judged_by_its_cells_reads() {
    // `exec` binds `z` from `x` where the analysis cannot see it; the probe reports `z`.
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    for (trial, x) in [(trials[0].id, 1), (trials[1].id, 2)] {
        let first = binding_note(&[("x", json!({"type": "int", "value": x}))], 10 * x);
        store
            .record_execution(trial, &cell(1, &format!("x = {x}"), "", Some(&first)))
            .unwrap();
        let code = "y = x + 1\nw = 5\nexec('z = x * 2')";
        let second = binding_note(
            &[
                ("y", typed("lib.Thing")),
                ("w", typed("lib.Thing")),
                ("z", typed("lib.Thing")),
            ],
            100 * x,
        );
        store
            .record_execution(trial, &cell(2, code, "", Some(&second)))
            .unwrap();
    }
    let diff = store.trial_diff(trials[0].id, trials[1].id).unwrap();
    assert_eq!(changed(&diff), ["x", "y", "z"]);
}
