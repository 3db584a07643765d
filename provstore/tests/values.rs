//! A variable's values across trials on a real SQLite file: their order (trials, then versions
//! within a trial), labels, the error for a name never captured, the evolution (last value per
//! trial, skipped trials, statistic and column) and the trial overviews with key values.

mod common;

use std::path::Path;

use common::*;
use provstore::{Statistic, Store, StoreError};
use serde_json::{json, Value};

/// Records `In[n]` in `trial` and captures `values` (name, type, scalar JSON, summary JSON)
/// after it, as the probe does.
fn captured(
    store: &mut Store,
    db: &Path,
    trial: i64,
    n: i64,
    values: &[(&str, &str, Option<&str>, Option<&str>)],
) {
    let id = store
        .record_execution(trial, &exec(n, &format!("cell {n}"), ""))
        .unwrap();
    let conn = raw(db);
    for (name, ty, value, summary) in values {
        conn.execute(
            "INSERT INTO captured_value_rows (execution_id, name, type_name, value_json, summary_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            (id, name, ty, value, summary),
        )
        .unwrap();
    }
}

const ARRAY: &str = r#"{"kind":"ndarray","shape":[3],"dtype":"float64","min":0,"max":2,"mean":1,"nan_count":0,"sha256":"ab","sampled":false}"#;
const FRAME: &str = r#"{"kind":"dataframe","shape":[4,2],"columns":[{"name":"id","dtype":"object"},{"name":"x","dtype":"float64","min":1,"max":5,"mean":3,"nan_count":0},{"name":"y","dtype":"float64","min":"nan","max":"nan","mean":"nan","nan_count":4}],"sha256":"cd","sampled":false}"#;

#[test]
fn values_come_in_trial_then_execution_order_with_labels() {
    let (_tmp, db, mut store, trials) = store_with_trials(3);
    let (a, b, c) = (trials[0].id, trials[1].id, trials[2].id);
    store.set_trial_name(a, "lr=0.1").unwrap();
    captured(
        &mut store,
        &db,
        a,
        1,
        &[("acc", "float", Some("0.5"), None)],
    );
    captured(&mut store, &db, b, 1, &[("other", "int", Some("1"), None)]);
    captured(
        &mut store,
        &db,
        a,
        2,
        &[("acc", "float", Some("0.7"), None)],
    );
    captured(
        &mut store,
        &db,
        b,
        2,
        &[("acc", "numpy.ndarray", None, Some(ARRAY))],
    );
    captured(
        &mut store,
        &db,
        c,
        1,
        &[("acc", "str", Some("\"n/a\""), None)],
    );
    store.tag_variable(a, "acc", Some("metric")).unwrap();
    store.tag_variable(b, "acc", None).unwrap();

    let values = store.var_values("acc").unwrap();
    let order: Vec<(i64, Option<i64>)> = values
        .iter()
        .map(|v| (v.trial, v.execution_count))
        .collect();
    assert_eq!(
        order,
        [(a, Some(1)), (a, Some(2)), (b, Some(2)), (c, Some(1))]
    );
    assert_eq!(values[0].trial_name.as_deref(), Some("lr=0.1"));
    assert_eq!(values[1].value, json!(0.7));
    assert_eq!(values[1].label.as_deref(), Some("metric"));
    assert!(values[2].tagged && values[2].label.is_none());
    assert!(!values[3].tagged);
    assert_eq!(values[2].value["kind"], "ndarray");

    let row = serde_json::to_value(&values[1]).unwrap();
    for key in ["trial", "execution_count", "type", "value"] {
        assert!(row.get(key).is_some(), "{key} missing: {row}");
    }
    assert_eq!(row["trial"], json!(a));
    assert_eq!(row["type"], "float");
    assert!(row.get("captured").is_none(), "{row}");
}

#[test]
fn a_name_never_captured_says_so_and_suggests_others() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let a = trials[0].id;
    captured(
        &mut store,
        &db,
        a,
        1,
        &[("accuracy", "float", Some("0.5"), None)],
    );
    let err = store.var_values("acurracy").unwrap_err();
    assert!(matches!(err, StoreError::NoValues { .. }), "{err}");
    assert!(!err.is_store_problem());
    let text = err.to_string();
    assert!(text.contains("no value of `acurracy`"), "{text}");
    assert!(text.contains("similar: accuracy"), "{text}");
    let far = store.var_values("zzz").unwrap_err().to_string();
    assert!(far.contains("check the name"), "{far}");
}

#[test]
fn evolution_keeps_each_trials_last_value_and_lists_the_skipped() {
    let (_tmp, db, mut store, trials) = store_with_trials(4);
    let ids: Vec<i64> = trials.iter().map(|t| t.id).collect();
    captured(
        &mut store,
        &db,
        ids[0],
        1,
        &[("m", "float", Some("0.5"), None)],
    );
    captured(
        &mut store,
        &db,
        ids[0],
        2,
        &[("m", "float", Some("0.9"), None)],
    );
    captured(
        &mut store,
        &db,
        ids[1],
        1,
        &[("m", "numpy.ndarray", None, Some(ARRAY))],
    );
    captured(
        &mut store,
        &db,
        ids[2],
        1,
        &[("m", "str", Some("\"x\""), None)],
    );
    // Damaged JSON reads as an unknown value, never an error.
    captured(
        &mut store,
        &db,
        ids[3],
        1,
        &[("m", "float", Some("{oops"), Some("[1"))],
    );

    let e = store.var_evolution("m", Statistic::Mean, None).unwrap();
    let points: Vec<(i64, f64)> = e.points.iter().map(|p| (p.trial, p.value)).collect();
    assert_eq!(points, [(ids[0], 0.9), (ids[1], 1.0)]);
    assert_eq!(e.points[0].execution_count, Some(2));
    assert!(e.summarised);
    let skipped: Vec<i64> = e.skipped.iter().map(|s| s.trial).collect();
    assert_eq!(skipped, [ids[2], ids[3]]);
    assert!(
        e.skipped[0].reason.contains("not a number"),
        "{:?}",
        e.skipped
    );
    assert!(
        e.skipped[1].reason.contains("only its type"),
        "{:?}",
        e.skipped
    );

    let max = store.var_evolution("m", Statistic::Max, None).unwrap();
    assert_eq!(max.points[1].value, 2.0);
    assert_eq!(max.statistic, "max");
    let len = store.var_evolution("m", Statistic::Len, None).unwrap();
    assert_eq!(len.points[1].value, 3.0);
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["variable"], "m");
    assert_eq!(json["statistic"], "mean");
    assert_eq!(json["points"][0]["trial"], json!(ids[0]));
    assert!(json["skipped"][0]["reason"].is_string());
}

#[test]
fn dataframes_plot_a_chosen_column_and_nan_is_no_number() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let a = trials[0].id;
    captured(
        &mut store,
        &db,
        a,
        1,
        &[("df", "pandas.core.frame.DataFrame", None, Some(FRAME))],
    );
    let first = store.var_evolution("df", Statistic::Mean, None).unwrap();
    assert_eq!(first.points[0].value, 3.0);
    let y = store
        .var_evolution("df", Statistic::Mean, Some("y"))
        .unwrap();
    assert!(y.points.is_empty());
    assert!(y.skipped[0].reason.contains("\"y\""), "{:?}", y.skipped);
    let rows = store
        .var_evolution("df", Statistic::Len, Some("y"))
        .unwrap();
    assert_eq!(rows.points[0].value, 4.0);
}

#[test]
fn overviews_add_tags_and_key_values_to_the_trials() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    captured(
        &mut store,
        &db,
        a,
        1,
        &[("acc", "float", Some("0.5"), None)],
    );
    captured(
        &mut store,
        &db,
        a,
        2,
        &[
            ("acc", "float", Some("0.93"), None),
            ("C", "float", Some("0.1"), None),
        ],
    );
    captured(
        &mut store,
        &db,
        b,
        1,
        &[("acc", "float", Some("0.7"), None)],
    );
    store.tag_variable(a, "acc", Some("metric")).unwrap();
    store.tag_variable(a, "C", None).unwrap();
    store.tag_variable(a, "model", None).unwrap();

    let overviews = store.trial_overviews().unwrap();
    assert_eq!(overviews.len(), 2);
    let first = &overviews[0];
    assert_eq!(first.trial, store.trial(a).unwrap());
    let tags: Vec<(&str, Option<&str>)> = first
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.label.as_deref()))
        .collect();
    assert_eq!(
        tags,
        [("acc", Some("metric")), ("C", None), ("model", None)]
    );
    let values: Vec<(&str, Value)> = first
        .key_values
        .iter()
        .map(|k| (k.name.as_str(), k.value.clone()))
        .collect();
    assert_eq!(values, [("acc", json!(0.93)), ("C", json!(0.1))]);
    assert_eq!(first.compact(), "acc=0.93 C=0.1 model");
    assert!(overviews[1].tags.is_empty() && overviews[1].key_values.is_empty());

    // The JSON keeps every key of the trial and adds the new ones.
    let json = serde_json::to_value(first).unwrap();
    let plain = serde_json::to_value(store.trial(a).unwrap()).unwrap();
    for (key, value) in plain.as_object().unwrap() {
        assert_eq!(&json[key], value, "{key}");
    }
    assert_eq!(json["key_values"][0]["text"], "0.93");
    assert_eq!(json["tags"][0]["label"], "metric");
}
