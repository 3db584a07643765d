//! Captured values and packages written from the runtime probe's notes: summaries of tagged
//! names, snapshots taken when a name is tagged, the packages a trial imported, and notes that
//! are malformed (ignored, never a failure).

mod common;

use common::{cell, raw, store_with_trials};

/// The captured rows of the execution with `execution_count` n: (name, type, value, summary).
type Row = (String, String, Option<String>, Option<String>);
fn rows(db: &std::path::Path, n: i64) -> Vec<Row> {
    captured(db, n, "summary_json", "name")
}

/// The captured rows of the execution with `execution_count` n: name, type, value and the
/// column `fourth`, ordered by `order`.
fn captured(db: &std::path::Path, n: i64, fourth: &str, order: &str) -> Vec<Row> {
    raw(db)
        .prepare(&format!(
            "SELECT v.name, v.type_name, v.value_json, v.{fourth} FROM captured_values v
             JOIN executions e ON e.id = v.execution_id
             WHERE e.execution_count = ?1 ORDER BY v.{order}"
        ))
        .unwrap()
        .query_map([n], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn summaries_tagged_snapshots_and_packages_are_stored() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let trial = trials[0].id;
    let summary =
        r#"{"kind": "ndarray", "shape": [3], "dtype": "int64", "sha256": "ab", "sampled": false}"#;
    let notes = format!(
        r#"{{"bound": [["arr", 1, {{"type": "numpy.ndarray", "summary": {summary}}}],
                       ["n", 2, {{"type": "int", "value": 3}}]],
            "deleted": [],
            "summaries": {{"arr": {{"type": "numpy.ndarray", "summary": {summary}}}}},
            "packages": {{"numpy": "2.1.0", "pandas": "2.2.3"}}}}"#
    );
    store
        .record_execution(trial, &cell(1, "arr = make()\nn = 3", "", Some(&notes)))
        .unwrap();
    let got = rows(&db, 1);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "arr");
    assert_eq!(got[0].1, "numpy.ndarray");
    let stored: serde_json::Value = serde_json::from_str(got[0].3.as_deref().unwrap()).unwrap();
    assert_eq!(stored["kind"], "ndarray");
    assert_eq!(stored["sha256"], "ab");
    assert_eq!(got[1], ("n".into(), "int".into(), Some("3".into()), None));

    // A mutation the probe summarised (no binding changed), and a name tagged in a cell that
    // does not define it: one row each, only "summaries"/"tagged" in the note.
    let notes = r#"{"summaries": {"arr": {"type": "numpy.ndarray", "summary": {"kind": "ndarray", "sha256": "cd"}}},
                    "tagged": {"model": [9, {"type": "m.M", "summary": {"kind": "estimator", "class": "m.M", "params": {}, "fitted_sha256": null}}]},
                    "packages": {"numpy": "2.1.1"}}"#;
    store
        .record_execution(trial, &cell(2, "print(arr)", "", Some(notes)))
        .unwrap();
    let got = rows(&db, 2);
    assert_eq!(
        got.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["arr", "model"]
    );
    assert!(got[0].3.as_deref().unwrap().contains("\"cd\""));
    assert!(got[1].3.as_deref().unwrap().contains("estimator"));

    // Packages: the latest version seen wins, sorted by name; other trials have none.
    assert_eq!(
        store.trial_packages(trial).unwrap(),
        [
            ("numpy".to_string(), "2.1.1".to_string()),
            ("pandas".to_string(), "2.2.3".to_string())
        ]
    );
    assert!(store.trial_packages(trials[1].id).unwrap().is_empty());
    assert!(store.trial_packages(999).is_err());
}

#[test]
fn tagging_a_value_already_recorded_adds_no_second_version() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let notes = r#"{"bound": [["acc", 1, {"type": "float", "value": 0.9}],
                              ["df", 2, {"type": "pandas.DataFrame"}]], "deleted": []}"#;
    store
        .record_execution(trial, &cell(1, "acc = 0.9\ndf = load()", "", Some(notes)))
        .unwrap();
    // Tagged in the next cell: acc's snapshot repeats what is known, df's adds its summary.
    let notes = r#"{"tagged": {
        "acc": [1, {"type": "float", "value": 0.9}],
        "df": [2, {"type": "pandas.DataFrame", "summary": {"kind": "dataframe", "sha256": "ab"}}]}}"#;
    store
        .record_execution(trial, &cell(2, "", "", Some(notes)))
        .unwrap();
    let got = rows(&db, 2);
    assert_eq!(got.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["df"]);
    // A changed scalar at tagging time is a new version.
    let notes = r#"{"tagged": {"acc": [3, {"type": "float", "value": 0.95}]}}"#;
    store
        .record_execution(trial, &cell(3, "", "", Some(notes)))
        .unwrap();
    assert_eq!(rows(&db, 3).len(), 1);
}

#[test]
fn late_notes_write_values_and_packages_too() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &cell(1, "x = 1", "", None))
        .unwrap();
    store
        .set_runtime_facts(
            trial,
            "msg-1",
            r#"{"bound": [["x", 5, {"type": "int", "value": 1}]], "deleted": [],
                "packages": {"requests": "2.32.0"}}"#,
        )
        .unwrap();
    assert_eq!(
        rows(&db, 1),
        [("x".into(), "int".into(), Some("1".into()), None)]
    );
    assert_eq!(
        store.trial_packages(trial).unwrap(),
        [("requests".to_string(), "2.32.0".to_string())]
    );
}

#[test]
fn malformed_notes_are_ignored() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let bad = [
        "not json",
        r#"[1, 2]"#,
        r#"{"bound": 3, "summaries": [1], "tagged": {"a": 5}, "packages": {"p": 1}}"#,
        r#"{"bound": [[1, 2, 3], ["x"], ["x", 1, "no"]], "summaries": {"x": 7, "y": {"type": 3}},
            "tagged": {"z": [1]}, "packages": []}"#,
    ];
    for (i, notes) in bad.iter().enumerate() {
        let n = i as i64 + 1;
        store
            .record_execution(trial, &cell(n, "x = 1", "", Some(notes)))
            .unwrap();
    }
    // Only `y` from the last note is well-formed enough for a row (its type unknown).
    let got = rows(&db, 4);
    assert_eq!(got, [("y".into(), "".into(), None, None)]);
    assert!(store.trial_packages(trial).unwrap().is_empty());
}

/// `fingerprint_json` of each captured row of execution `In[n]`, by name.
fn fingerprints(db: &std::path::Path, n: i64) -> Vec<(String, Option<String>)> {
    raw(db)
        .prepare(
            "SELECT v.name, v.fingerprint_json FROM captured_values v
             JOIN executions e ON e.id = v.execution_id
             WHERE e.execution_count = ?1 ORDER BY v.name",
        )
        .unwrap()
        .query_map([n], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn fingerprints_of_bound_values_are_stored_and_kept_beside_a_summary() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let fp = r#"{"sha256": "f1", "sampled": false}"#;
    let notes = format!(
        r#"{{"bound": [["arr", 1, {{"type": "numpy.ndarray", "fingerprint": {fp}}}],
                       ["tagged", 2, {{"type": "numpy.ndarray", "fingerprint": {fp}}}],
                       ["n", 3, {{"type": "int", "value": 3}}],
                       ["odd", 4, {{"type": "numpy.ndarray", "fingerprint": "not an object"}}]],
            "deleted": [],
            "summaries": {{"tagged": {{"type": "numpy.ndarray", "summary": {{"kind": "ndarray", "sha256": "s"}}}}}}}}"#
    );
    store
        .record_execution(
            trials[0].id,
            &cell(
                1,
                "arr = a()\ntagged = b()\nn = 3\nodd = c()",
                "",
                Some(&notes),
            ),
        )
        .unwrap();
    let got = fingerprints(&db, 1);
    let stored = |name: &str| {
        got.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, f)| f.as_deref())
            .map(|f| serde_json::from_str::<serde_json::Value>(f).unwrap())
    };
    assert_eq!(stored("arr").unwrap()["sha256"], "f1");
    assert_eq!(
        stored("tagged").unwrap()["sha256"],
        "f1",
        "kept beside the summary"
    );
    assert_eq!(stored("n"), None);
    assert_eq!(stored("odd"), None);
}

#[test]
fn a_value_changed_in_place_gets_a_row_with_its_new_fingerprint() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let fp = |sha: &str| {
        format!(r#"{{"type": "m.Model", "fingerprint": {{"sha256": "{sha}", "sampled": false}}}}"#)
    };
    let notes = format!(
        r#"{{"bound": [["model", 1, {}]], "deleted": []}}"#,
        fp("before")
    );
    store
        .record_execution(trial, &cell(1, "model = Model()", "", Some(&notes)))
        .unwrap();
    // The probe notes the fingerprints of names the cell mentioned and changed in place.
    let notes = format!(
        r#"{{"fingerprints": {{"model": {}, "arr": {}, "seen": {}}}}}"#,
        fp("after"),
        fp("a2"),
        fp("s2")
    );
    store
        .record_execution(
            trial,
            &cell(2, "model.fit(X)\narr[0] = 1\nprint(seen)", "", Some(&notes)),
        )
        .unwrap();
    let got = fingerprints(&db, 2);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    // `seen` was only read: the analysis says the cell did not change it, so no row.
    assert_eq!(names, ["arr", "model"], "{got:?}");
    assert!(got[1].1.as_deref().unwrap().contains("after"));
}

/// Every captured row of the execution with `execution_count` n, in order, with its
/// fingerprint.
fn all_rows(db: &std::path::Path, n: i64) -> Vec<Row> {
    captured(db, n, "fingerprint_json", "id")
}

#[test]
fn values_written_when_indexed_are_those_the_stored_names_give() {
    // The writer takes the names an execution defined or mutated from the index it has just
    // written; late notes read them back from the store. Both must pick the same entries:
    // names the cell bound or changed in place, not those it only read or deleted.
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let fp = |sha: &str| format!(r#"{{"type": "m.M", "fingerprint": {{"sha256": "{sha}"}}}}"#);
    store
        .record_execution(trial, &cell(1, "y = 1\narr = f()\nold = 2", "", None))
        .unwrap();
    let code = "x = y + 1\narr[0] = x\nprint(y)\ndel old\nfor i in range(2):\n    z = i";
    let note = format!(
        r#"{{"bound": [["x", 7, {{"type": "int", "value": 2}}],
                      ["i", 9, {{"type": "int", "value": 1}}],
                      ["z", 10, {{"type": "int", "value": 1}}],
                      ["q", 11, {{"type": "int", "value": 5}}]],
             "deleted": ["old"], "fingerprints": {{"arr": {}, "y": {}}}}}"#,
        fp("a2"),
        fp("y2")
    );
    store
        .record_execution(trial, &cell(2, code, "", Some(&note)))
        .unwrap();
    let indexed = all_rows(&db, 2);
    let names: Vec<&str> = indexed.iter().map(|r| r.0.as_str()).collect();
    // `q`: bound by the probe though the analysis saw no binding (the engine trusts the probe);
    // `y`: only read, its fingerprint noted all the same.
    assert_eq!(names, ["arr", "i", "q", "x", "z"], "{indexed:?}");
    // The same note again, late: written from the names the store holds.
    store.set_runtime_facts(trial, "msg-2", &note).unwrap();
    assert_eq!(all_rows(&db, 2), indexed);
}

#[test]
fn rebinding_some_names_retires_only_their_versions() {
    // Retiring is per version: `y`'s, numbered between `x`'s and `z`'s, stays current when a
    // cell rebinds only `x`, `z` and `w`; `x` rebound again retires only its own.
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &cell(1, "x = 1\ny = 2\nz = 3\nw = 4", "", None))
        .unwrap();
    store
        .record_execution(trial, &cell(2, "x = 5\nz = 6\nw = 7", "", None))
        .unwrap();
    store
        .record_execution(trial, &cell(3, "x = 8", "", None))
        .unwrap();
    let current: Vec<(String, i64)> = raw(&db)
        .prepare(
            "SELECT v.name, e.execution_count FROM dataflow_versions v
             JOIN executions e ON e.id = v.execution_id
             WHERE v.current = 1 ORDER BY v.name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want = [("w", 2), ("x", 3), ("y", 1), ("z", 2)].map(|(n, c)| (n.to_string(), c));
    assert_eq!(current, want);
    assert_eq!(
        raw(&db)
            .query_row("SELECT COUNT(*) FROM current_versions", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        4
    );
}
