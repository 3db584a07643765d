//! Replays in the store: which trial replayed which, and a trial's executions as a replay
//! compares them (outputs with their text, captured values, errors).

mod common;

use common::*;
use provstore::Store;
use serde_json::json;

#[test]
fn a_replay_is_found_by_its_source_uuid_and_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db_in(tmp.path())).unwrap();
    let source = store.begin_trial(&this_trial(tmp.path())).unwrap();
    let replay = store.begin_trial(&this_trial(tmp.path())).unwrap();
    assert_eq!(store.replays_of(&source.uuid).unwrap(), vec![]);
    assert_eq!(store.replay_of(replay.id).unwrap(), None);
    store
        .set_replay_of(replay.id, &source.uuid.to_uppercase())
        .unwrap();
    let pid = i64::from(std::process::id());
    assert_eq!(
        store.replays_of(&source.uuid).unwrap(),
        vec![(replay.id, pid)]
    );
    assert_eq!(
        store.replay_of(replay.id).unwrap(),
        Some(source.uuid.clone())
    );
    assert!(store.set_replay_of(99, &source.uuid).is_err());
}

#[test]
fn executions_come_with_output_text_values_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db_in(tmp.path())).unwrap();
    let trial = store.begin_trial(&this_trial(tmp.path())).unwrap();
    let note = binding_note(&[("acc", json!({"type": "float", "value": 0.5}))], 1);
    store
        .record_execution(
            trial.id,
            &cell(1, "acc = 0.5\nprint(acc)", "0.5\n", Some(&note)),
        )
        .unwrap();
    store.record_execution(trial.id, &failing(2)).unwrap();
    let execs = store.replayed_executions(trial.id).unwrap();
    assert_eq!(execs.len(), 2);
    let first = &execs[0];
    assert_eq!((first.order, first.execution_count), (1, Some(1)));
    assert_eq!(first.status, "ok");
    let out = &first.outputs[0];
    assert_eq!(
        (out.output_type.as_str(), out.name.as_deref()),
        ("stream", Some("stdout"))
    );
    assert!(!out.magic);
    assert_eq!(out.parts[0].0, "text/plain");
    assert_eq!(out.parts[0].2.as_deref(), Some("0.5\n"));
    assert_eq!(first.values.len(), 1);
    assert_eq!(first.values[0].0, "acc");
    assert_eq!(first.values[0].1.value, Some(json!(0.5)));
    assert_eq!(execs[1].status, "error");
    assert_eq!(
        execs[1].error.as_deref(),
        Some("ZeroDivisionError: division by zero")
    );
}
