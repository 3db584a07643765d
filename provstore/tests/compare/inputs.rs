//! The inputs section on a real store: files recorded from hand-made probe notes (`files`),
//! compared by content, and the values computed from a changed one changed by dependency,
//! statement by statement.

use super::*;

/// The probe's note `bound` with `files` added (one read per `(path, line, sha256)`).
fn with_files(bound: String, files: &[(&str, i64, &str)]) -> String {
    let mut note: serde_json::Value = serde_json::from_str(&bound).unwrap();
    note["files"] = files
        .iter()
        .map(|(path, line, sha)| {
            json!({"path": path, "resolved": format!("/data/{path}"), "access": "read",
                   "line": line, "size": 10, "mtime": 1765000000.5, "sha256": sha,
                   "sampled": false})
        })
        .collect();
    note.to_string()
}

/// A notebook that reads `data.csv` (content `sha`) in one line and sets `limit` beside it,
/// then fits on the frame and builds from the limit: values known by type only.
fn record_reading_run(store: &mut Store, trial: i64, sha: &str) {
    record_reading(store, trial, &[("data.csv", 1, sha)]);
}

/// [`record_reading_run`], its reading line reading `files`.
fn record_reading(store: &mut Store, trial: i64, files: &[(&str, i64, &str)]) {
    let cells = [
        ("import pandas as pd", bound(&[("pd", typed("module"))])),
        (
            "df = pd.read_csv('data.csv')\nlimit = 3",
            with_files(
                bound(&[
                    ("df", typed("pandas.DataFrame")),
                    ("limit", typed("lib.Limit")),
                ]),
                files,
            ),
        ),
        (
            "model = fit(df)\nbase = make(limit)",
            bound(&[("model", typed("lib.Model")), ("base", typed("lib.Base"))]),
        ),
    ];
    record_cells(store, trial, &cells);
}

#[test]
fn a_changed_input_file_changes_what_was_computed_from_it_and_nothing_else() {
    let (_tmp, _db, mut store, trials) = store_with_trials(3);
    let (a, b, c) = (trials[0].id, trials[1].id, trials[2].id);
    record_reading_run(&mut store, a, "aa");
    record_reading_run(&mut store, b, "ab");
    record_reading_run(&mut store, c, "aa");

    let diff = store.trial_diff(a, b).unwrap();
    assert_eq!(changed(&diff), ["df", "model"]);
    assert_eq!(value(&diff.values, "df").compared_by, "dependencies");
    assert_eq!(value(&diff.values, "base").status, DiffStatus::Equal);
    assert!(diff.code.iter().all(|op| op.op == CodeOpKind::Equal));
    assert!(!diff.is_same());
    let json = serde_json::to_value(diff.only_differences()).unwrap();
    let inputs = json["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:#?}");
    assert_eq!(inputs[0]["path"], "data.csv");
    assert_eq!(inputs[0]["status"], "changed");
    assert_eq!(inputs[0]["left"]["sha256"], "aa");
    assert_eq!(inputs[0]["right"]["sha256"], "ab");
    assert_eq!(inputs[0]["left"]["size"], 10);
    assert_eq!(inputs[0]["left"]["sampled"], false);
    assert_eq!(inputs[0]["left"]["resolved"], "/data/data.csv");
    assert_eq!(inputs[0]["left"]["read_by"], json!([2]));

    // The same file: nothing differs, and the equal entry is there only in the full diff.
    let same = store.trial_diff(a, c).unwrap();
    assert!(same.is_same(), "{same:#?}");
    assert!(same.only_differences().inputs.is_empty());
    assert_eq!(same.inputs.len(), 1);
    assert_eq!(same.inputs[0].status, DiffStatus::Equal);

    // Both trials read it: in the intersection too, with what changed.
    let both = store.intersection_diff(a, b).unwrap();
    assert_eq!(both.inputs.len(), 1);
    assert_eq!(both.inputs[0].status, DiffStatus::Changed);
    assert_eq!(value(&both.values, "model").status, DiffStatus::Changed);
    assert_eq!(value(&both.values, "base").status, DiffStatus::Equal);
}

#[test]
fn a_file_read_by_one_trial_only_is_added() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    record_reading_run(&mut store, a, "aa");
    // The same code, and a second file read by the reading line.
    record_reading(
        &mut store,
        b,
        &[("data.csv", 1, "aa"), ("extra.csv", 1, "ee")],
    );
    let diff = store.trial_diff(a, b).unwrap();
    let view = diff.only_differences();
    let seen: Vec<_> = view
        .inputs
        .iter()
        .map(|i| (i.path.as_str(), i.status, i.left.is_none()))
        .collect();
    assert_eq!(seen, [("extra.csv", DiffStatus::Added, true)]);
    assert_eq!(changed(&diff), ["df", "model"]);
}

#[test]
fn trials_recorded_at_the_same_time_keep_their_own_files() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    // Their executions interleave in the store: a, b, a, b.
    for n in 1..=2 {
        for (trial, sha) in [(a, "aa"), (b, "bb")] {
            let note = with_files(bound(&[]), &[(&*format!("in{n}.csv"), 1, sha)]);
            let code = format!("print(open('in{n}.csv').read())");
            store
                .record_execution(trial, &cell(n, &code, "", Some(&note)))
                .unwrap();
        }
    }
    let diff = store.trial_diff(a, b).unwrap();
    let seen: Vec<_> = diff
        .inputs
        .iter()
        .map(|i| {
            let sha = |s: &Option<provstore::InputSide>| s.as_ref().unwrap().sha256.clone();
            (i.path.as_str(), sha(&i.left), sha(&i.right))
        })
        .collect();
    let (aa, bb) = (Some("aa".to_string()), Some("bb".to_string()));
    assert_eq!(
        seen,
        [("in1.csv", aa.clone(), bb.clone()), ("in2.csv", aa, bb)]
    );
}
