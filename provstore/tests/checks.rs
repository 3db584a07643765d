//! The checks over hand-made trials: per rule, a trial built to trigger it and one that must
//! not; the findings' JSON shape (the `provctl check --json` contract).

mod common;

use common::{binding_note, cell, store_with_trials};
use provstore::{Finding, Store};
use serde_json::json;

/// Records `cells` (`(cell id, code)`, run in that order as In[1], In[2], …) in a new trial
/// and returns the findings of rule `rule`.
fn findings_of(cells: &[(&str, &str)], rule: &str) -> Vec<Finding> {
    findings_with_notes(
        &cells
            .iter()
            .map(|(c, code)| (*c, *code, None))
            .collect::<Vec<_>>(),
        rule,
    )
}

fn findings_with_notes(cells: &[(&str, &str, Option<String>)], rule: &str) -> Vec<Finding> {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    for (i, (cell_id, code, note)) in cells.iter().enumerate() {
        let mut e = cell(i as i64 + 1, code, "", note.as_deref());
        e.cell_id = Some(cell_id.to_string());
        store.record_execution(trial, &e).unwrap();
    }
    check(&store, trial)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// Asserts that the message of `finding` says each of `parts`.
fn says(finding: &Finding, parts: &[&str]) {
    for part in parts {
        assert!(
            finding.message.contains(part),
            "{part:?} not in {:?}",
            finding.message
        );
    }
}

fn check(store: &Store, trial: i64) -> Vec<Finding> {
    let report = store.check(trial).unwrap();
    assert_eq!(
        report.rules,
        [
            "data-leakage",
            "stale-result",
            "numeric-trouble",
            "unseeded-randomness",
            "expectation-failed",
            "expectation-not-reached"
        ]
    );
    report.findings
}

const SPLIT: &str = "from sklearn.model_selection import train_test_split\n\
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3)";

#[test]
fn leakage_is_found_through_derived_values_and_named_with_its_lines() {
    let found = findings_of(
        &[
            ("a", "X, y = load()"),
            ("b", SPLIT),
            ("c", "scaled = scaler.transform(X_test)\nboth = scaled * 2"),
            ("d", "model = Model()\nmodel.fit(both,\n          y_train)"),
        ],
        "data-leakage",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.executions, [2, 4]);
    says(
        f,
        &[
            "In[4] line 2",
            "`both`",
            "In[2] line 2",
            "model.fit(both, y_train)",
        ],
    );
    assert_eq!(
        serde_json::to_value(f)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["executions", "message", "rule", "severity"]
    );
    assert_eq!(serde_json::to_value(f).unwrap()["severity"], "error");
    // fit_transform on the test labels, in the same cell as the split.
    let same_cell = findings_of(
        &[(
            "a",
            &format!("{SPLIT}\nenc = Encoder().fit_transform(y_test)"),
        )],
        "data-leakage",
    );
    assert_eq!(same_cell.len(), 1, "{same_cell:?}");
    assert_eq!(same_cell[0].executions, [1]);
    // Two test values in one call: one finding naming both.
    let both = findings_of(
        &[("a", SPLIT), ("b", "m = M().fit(X_test, y_test)")],
        "data-leakage",
    );
    assert_eq!(both.len(), 1, "{both:?}");
    assert!(
        both[0]
            .message
            .contains("fits on `X_test`, `y_test`, which come from"),
        "{}",
        both[0].message
    );
}

#[test]
fn fitting_on_the_training_part_is_not_leakage() {
    let found = findings_of(
        &[
            ("a", SPLIT),
            ("b", "scaler = StandardScaler().fit(X_train)\nmodel.fit(scaler.transform(X_train), y_train)"),
            ("c", "pred = model.predict(scaler.transform(X_test))\nacc = accuracy(y_test, pred)"),
            // Rebound from clean values: no longer test data.
            ("d", "X_test = X_train.copy()\nmodel.fit(X_test, y_train)"),
            ("e", "train, test = train_test_split(df)\nm2.fit(train)"),
        ],
        "data-leakage",
    );
    assert_eq!(found, []);
}

#[test]
fn a_result_from_a_cell_edited_and_rerun_since_is_stale() {
    let found = findings_of(
        &[("a", "x = 1"), ("b", "y = x * 2"), ("a", "x = 2")],
        "stale-result",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].executions, [2, 1, 3]);
    assert_eq!(found[0].severity, provstore::Severity::Warning);
    says(
        &found[0],
        &["In[2] used `x` from In[1]", "re-run In[2]'s cell"],
    );
}

#[test]
fn re_running_the_reader_or_the_same_code_is_not_stale() {
    // The reader re-run after the edit: up to date.
    let rerun = findings_of(
        &[
            ("a", "x = 1"),
            ("b", "y = x * 2"),
            ("a", "x = 2"),
            ("b", "y = x * 2"),
        ],
        "stale-result",
    );
    assert_eq!(rerun, []);
    // The producer re-run unchanged; an ordinary top-to-bottom notebook.
    let same = findings_of(
        &[
            ("a", "x = 1"),
            ("b", "y = x * 2"),
            ("a", "x = 1"),
            ("c", "print(y)"),
        ],
        "stale-result",
    );
    assert_eq!(same, []);
}

#[test]
fn reads_in_a_circle_between_cells_are_out_of_order() {
    // Cell a made x, cell b read it, then cell a (edited) read b's y: no order of a and b in
    // the notebook repeats this.
    let found = findings_of(
        &[("a", "x = 1"), ("b", "y = x + 1"), ("a", "x = y + 1")],
        "stale-result",
    );
    let circle: Vec<&Finding> = found
        .iter()
        .filter(|f| f.message.starts_with("out-of-order"))
        .collect();
    assert_eq!(circle.len(), 1, "{found:?}");
    says(
        circle[0],
        &["In[3] read `y` from In[2]", "In[2] read `x` from In[1]"],
    );
}

fn array(nan_count: i64, max: serde_json::Value) -> serde_json::Value {
    json!({"type": "numpy.ndarray", "kind": "ndarray", "shape": [3], "dtype": "float64",
           "min": 0.0, "max": max, "mean": 1.0, "nan_count": nan_count, "sha256": "h"})
}

fn frame(columns: serde_json::Value) -> serde_json::Value {
    json!({"type": "pandas.DataFrame", "kind": "dataframe", "shape": [10, 2],
           "columns": columns, "sha256": "f"})
}

#[test]
fn a_tagged_value_gaining_nan_or_inf_and_a_constant_column_are_numeric_trouble() {
    let found = findings_with_notes(
        &[
            (
                "a",
                "z = f()",
                Some(binding_note(&[("z", array(0, json!(2.0)))], 1)),
            ),
            (
                "b",
                "z = g(z)",
                Some(binding_note(&[("z", array(2, json!("inf")))], 2)),
            ),
            (
                "c",
                "z = h(z)",
                Some(binding_note(&[("z", array(2, json!(3.0)))], 3)),
            ),
            (
                "d",
                "df = load()",
                Some(binding_note(
                    &[(
                        "df",
                        frame(json!([
                            {"name": "a", "dtype": "int64", "min": 1, "max": 5, "nan_count": 0},
                            {"name": "b", "dtype": "int64", "min": 4, "max": 4, "nan_count": 0}
                        ])),
                    )],
                    4,
                )),
            ),
        ],
        "numeric-trouble",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].executions, [2]);
    says(&found[0], &["2 NaN", "inf values"]);
    assert_eq!(found[1].executions, [4]);
    says(&found[1], &["column `b` of `df`"]);
}

#[test]
fn finite_values_and_varying_columns_are_not_numeric_trouble() {
    let found = findings_with_notes(
        &[
            (
                "a",
                "z = f()",
                Some(binding_note(&[("z", array(0, json!(2.0)))], 1)),
            ),
            (
                "b",
                "df = load()",
                Some(binding_note(
                    &[(
                        "df",
                        frame(json!([
                            {"name": "a", "dtype": "float64", "min": 1.5, "max": 5.0, "nan_count": 0},
                            {"name": "s", "dtype": "object"}
                        ])),
                    )],
                    2,
                )),
            ),
        ],
        "numeric-trouble",
    );
    assert_eq!(found, []);
}

#[test]
fn an_unknown_trial_is_an_error() {
    let (_tmp, _db, store, _trials) = store_with_trials(1);
    assert!(matches!(
        store.check(99),
        Err(provstore::StoreError::TrialNotFound { .. })
    ));
}

/// Two trials running `code` (In[1]) then `print(acc)` (In[2]) that bound and printed `acc` as
/// `values`; `acc` tagged in both. The findings of the second trial's check.
fn twins(codes: [&str; 2], values: [f64; 2]) -> Vec<Finding> {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    for ((trial, code), value) in trials.iter().zip(codes).zip(values) {
        let note = binding_note(&[("acc", json!({"type": "float", "value": value}))], 1);
        store
            .record_execution(trial.id, &cell(1, code, "", Some(&note)))
            .unwrap();
        store
            .record_execution(
                trial.id,
                &cell(2, "print(acc)", &format!("{value}\n"), None),
            )
            .unwrap();
        store.tag_variable(trial.id, "acc", None).unwrap();
    }
    check(&store, trials[1].id)
        .into_iter()
        .filter(|f| f.rule == "unseeded-randomness")
        .collect()
}

#[test]
fn equal_trials_that_disagree_are_unseeded_randomness() {
    let found = twins(["acc = rand()"; 2], [0.5, 0.75]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].executions, [1, 2]);
    says(
        &found[0],
        &[
            "trial 2",
            "trial 1",
            "`acc` (0.5 → 0.75)",
            "the output of In[2]",
        ],
    );
}

#[test]
fn trials_that_agree_or_ran_other_code_are_not_unseeded_randomness() {
    assert_eq!(twins(["acc = rand()"; 2], [0.5, 0.5]), []);
    assert_eq!(twins(["acc = rand()", "acc = rand() + 0"], [0.5, 0.75]), []);
}

/// Two trials of one cell with three asserts: the first passes everywhere; the second fails in
/// trial 2 only (its cell's own frame at line 3); the third is not reached there.
fn asserts_in_two_trials(second_fails: bool) -> (Vec<Finding>, Vec<Finding>) {
    const CODE: &str = "x = 1\nassert x == 1, 'one'\nassert x > 0, 'positive'\nassert x < 9\n";
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    for (k, t) in trials.iter().enumerate() {
        let mut e = cell(1, CODE, "", None);
        e.cell_id = Some("c1".into());
        if k == 1 && second_fails {
            e.status = provstore::ExecStatus::Error;
            e.error = Some(provstore::ErrorInfo {
                ename: "AssertionError".into(),
                evalue: "positive".into(),
                traceback: vec![
                    "\u{1b}[0;32mCell In[1], line 3\u{1b}[0m".into(),
                    "AssertionError: positive".into(),
                ],
            });
            e.dataflow.as_mut().unwrap().failed_line = Some(3);
        }
        store.record_execution(t.id, &e).unwrap();
    }
    let all = check(&store, trials[1].id);
    let of = |rule: &str| all.iter().filter(|f| f.rule == rule).cloned().collect();
    (of("expectation-failed"), of("expectation-not-reached"))
}

#[test]
fn a_failing_assert_is_found_with_the_trial_where_it_passed() {
    let (failed, not_reached) = asserts_in_two_trials(true);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let f = &failed[0];
    assert_eq!(f.executions, [1]);
    assert!(
        f.message
            .contains("`assert x > 0, 'positive'` failed in In[1] (line 3): positive"),
        "{}",
        f.message
    );
    says(f, &["%trial_diff 1 2"]);
    assert_eq!(not_reached.len(), 1, "{not_reached:?}");
    assert!(
        not_reached[0]
            .message
            .starts_with("`assert x < 9` (line 4) was not checked in In[1]"),
        "{}",
        not_reached[0].message
    );
}

#[test]
fn asserts_that_held_are_no_finding() {
    let (failed, not_reached) = asserts_in_two_trials(false);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(not_reached.is_empty(), "{not_reached:?}");
}
