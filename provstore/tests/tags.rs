//! Tags on a real SQLite file: variables tagged, relabelled and untagged, stage marks joined
//! to the execution they were set in, and the errors a person sees.

mod common;

use common::*;
use provstore::{Store, StoreError};

#[test]
fn variables_are_tagged_relabelled_and_untagged() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    store.record_execution(a, &exec(1, "x = 1", "")).unwrap();

    assert!(!store.tag_variable(a, "x", None).unwrap());
    assert!(!store.tag_variable(a, "model", Some("final")).unwrap());
    assert!(store.tag_variable(a, "x", Some("input")).unwrap());
    store.tag_variable(b, "other", None).unwrap();

    let tags = store.tags(a).unwrap();
    assert_eq!(tags.trial.id, a);
    let names: Vec<_> = tags
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.label.as_deref()))
        .collect();
    assert_eq!(names, [("x", Some("input")), ("model", Some("final"))]);
    assert_eq!(tags.variables[0].execution_count_at_tagging, Some(1));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM variable_tags"), 3);

    store.untag_variable(a, "x").unwrap();
    let err = store.untag_variable(a, "x").unwrap_err();
    assert!(matches!(err, StoreError::NotTagged { .. }), "{err}");
    assert!(!err.is_store_problem());
    let text = err.to_string();
    assert!(text.contains("`x` is not tagged in trial"), "{text}");
    assert!(text.contains("tagged: model"), "{text}");
    assert_eq!(store.tags(b).unwrap().variables.len(), 1);

    // Tags survive reopening the store.
    drop(store);
    let store = Store::open_existing(&db).unwrap();
    assert_eq!(store.tags(a).unwrap().variables[0].name, "model");
}

#[test]
fn stages_mark_the_execution_running_now() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let a = trials[0].id;
    store.record_execution(a, &exec(1, "load()", "")).unwrap();
    // `%tag_cell train` in the second cell: marked before that cell is recorded.
    store.mark_stage(a, "train").unwrap();
    store.mark_stage(a, "train").unwrap();
    let unrecorded = store.tags(a).unwrap().stages;
    assert_eq!(unrecorded.len(), 1);
    assert_eq!(unrecorded[0].execution_count, None);
    assert_eq!(unrecorded[0].cell_id, None);
    store.record_execution(a, &exec(2, "train()", "")).unwrap();
    store.mark_stage(a, "eval").unwrap();
    store
        .record_execution(a, &exec(3, "evaluate()", ""))
        .unwrap();

    let stages = store.tags(a).unwrap().stages;
    let got: Vec<_> = stages
        .iter()
        .map(|s| (s.label.as_str(), s.execution_count, s.cell_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("train", Some(2), Some("cell-2")),
            ("eval", Some(3), Some("cell-3"))
        ]
    );
    let json = serde_json::to_value(store.tags(a).unwrap()).unwrap();
    assert_eq!(json["stages"][0]["label"], "train");
    assert_eq!(json["stages"][0]["execution_count"], 2);
    assert!(json["variables"].as_array().unwrap().is_empty());
}

#[test]
fn bad_names_and_trials_are_refused() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let a = trials[0].id;
    for bad in ["", "two words", "a\nb"] {
        let err = store.tag_variable(a, bad, None).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidTag { .. }),
            "{bad:?}: {err}"
        );
        assert!(store.mark_stage(a, bad).is_err());
    }
    assert!(store.tag_variable(a, "x", Some("has space")).is_err());
    let err = store.tag_variable(a + 9, "x", None).unwrap_err();
    assert!(matches!(err, StoreError::TrialNotFound { .. }), "{err}");
    assert!(matches!(
        store.tags(a + 9).unwrap_err(),
        StoreError::TrialNotFound { .. }
    ));
}
