//! Numbers shown as numbers: a trial's key values in `provctl trials` are rounded for a compact
//! line, but never so that a fraction reads as a different, whole float (`mae=34288.0` for
//! 34288.403 would look like an exact value).

mod common;

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, store_in};
use serde_json::json;

#[test]
fn a_rounded_key_value_never_looks_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (_db, mut store) = store_in(tmp.path());
    let trial = store.begin_trial(&new_trial(tmp.path())).unwrap();
    let bound = [
        ("mae", json!({"type": "float", "value": 34288.403})),
        ("rmse", json!({"type": "float", "value": 51000.02})),
        ("acc", json!({"type": "float", "value": 0.7777777777777778})),
    ];
    let code = "mae = 34288.403\nrmse = 51000.02\nacc = 7 / 9";
    store
        .record_execution(trial.id, &noted(1, code, &binding_note(&bound, 1000)))
        .unwrap();
    for name in ["mae", "rmse", "acc"] {
        store.tag_variable(trial.id, name, None).unwrap();
    }
    drop(store);
    let text = ok_stdout(&provctl(tmp.path(), &["trials"]));
    for shown in ["mae=34288.4", "rmse=51000.02", "acc=0.7778"] {
        assert!(text.contains(shown), "{shown} missing:\n{text}");
    }
    assert!(!text.contains("34288.0"), "{text}");
    // The JSON keeps the value itself; only its text is rounded.
    let trials = json(&provctl(tmp.path(), &["trials", "--json"]));
    let values = trials[0]["key_values"].as_array().unwrap();
    let mae = values.iter().find(|v| v["name"] == "mae").unwrap();
    assert_eq!(mae["value"], json!(34288.403));
    assert_eq!(mae["text"], "34288.4");
}
