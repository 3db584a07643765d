//! Comparing by content on a real store: untagged values known by their probe fingerprints, a
//! store from before fingerprints, and outputs that differ only in what is volatile by nature.

use super::*;

/// An untagged value's info with the probe's content fingerprint.
fn fingerprinted(t: &str, sha: &str, sampled: bool) -> serde_json::Value {
    json!({"type": t, "fingerprint": {"sha256": sha, "sampled": sampled}})
}

#[test]
fn untagged_values_with_fingerprints_compare_by_content() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    for (trial, draw) in [(a, "r1"), (b, "r2")] {
        let cells = [
            (
                "x = rand(3)",
                bound(&[("x", fingerprinted("numpy.ndarray", draw, false))]),
            ),
            // Computed from the changed x, yet the same content: equal, not by dependencies.
            (
                "n = shape_of(x)",
                bound(&[("n", fingerprinted("numpy.ndarray", "n1", false))]),
            ),
            (
                "big = ones()",
                bound(&[("big", fingerprinted("numpy.ndarray", "b1", true))]),
            ),
            (
                "model = fit(x)",
                bound(&[("model", fingerprinted("sk.KMeans", draw, false))]),
            ),
            ("bare = thing(x)", bound(&[("bare", typed("lib.Thing"))])),
            (
                "later = zeros()",
                bound(&[("later", fingerprinted("numpy.ndarray", "z1", false))]),
            ),
            ("later += x", bound(&[])),
        ];
        record_cells(&mut store, trial, &cells);
    }
    let diff = store.trial_diff(a, b).unwrap();
    let judged = |name: &str| {
        let v = value(&diff.values, name);
        (v.status, v.compared_by, v.sampled)
    };
    assert_eq!(judged("x"), (DiffStatus::Changed, "content", false));
    assert_eq!(judged("model"), (DiffStatus::Changed, "content", false));
    assert_eq!(judged("n"), (DiffStatus::Equal, "content", false));
    assert_eq!(judged("big"), (DiffStatus::Equal, "content", true));
    // Without a fingerprint, or mutated after it was taken: the dependencies decide.
    assert_eq!(judged("bare"), (DiffStatus::Changed, "dependencies", false));
    assert_eq!(
        judged("later"),
        (DiffStatus::Changed, "dependencies", false)
    );
    let json = serde_json::to_value(value(&diff.values, "big")).unwrap();
    assert_eq!(
        (json["compared_by"].as_str(), json["sampled"].as_bool()),
        (Some("content"), Some(true))
    );
    let json = serde_json::to_value(value(&diff.values, "x")).unwrap();
    assert_eq!(
        (json["status"].as_str(), json.get("sampled")),
        (Some("changed"), None)
    );
}

#[test]
fn a_store_of_schema_4_is_migrated_and_compares_as_before() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    record_model_run(&mut store, a, 1.0, 0.9);
    record_model_run(&mut store, b, 0.001, 0.5);
    drop(store);
    common::undo_lean(&db);
    let conn = raw(&db);
    conn.execute_batch(
        "ALTER TABLE captured_values DROP COLUMN fingerprint_json; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);
    let store = Store::open_existing(&db).unwrap();
    let diff = store.trial_diff(a, b).unwrap();
    assert_eq!(changed(&diff), vec!["C", "acc", "model"]);
    assert_eq!(value(&diff.values, "model").compared_by, "dependencies");
    assert_eq!(
        common::count(&db, "PRAGMA user_version"),
        provstore::SCHEMA_VERSION
    );
}

/// A rich output with these payloads.
fn display(output_type: &str, payloads: &[(&str, &str)]) -> OutputRecord {
    OutputRecord {
        output_type: output_type.into(),
        name: None,
        payloads: payloads
            .iter()
            .map(|(m, p)| (m.to_string(), p.as_bytes().to_vec()))
            .collect(),
    }
}

#[test]
fn outputs_differing_only_in_what_is_volatile_are_equal_and_say_so() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    let widget =
        |id: &str| format!(r#"{{"version_major": 2, "version_minor": 0, "model_id": "{id}"}}"#);
    for (trial, pid, address, time, id, answer) in [
        (a, "4242", "0x7f3a2c1b9d90", "1.2 s", "aa11", "41\n"),
        (b, "977", "0x7fe01122aa10", "980 ms", "bb22", "42\n"),
    ] {
        let warned = exec(
            1,
            "warnings.warn('careful')",
            &format!("/tmp/ipykernel_{pid}/3141592.py:1: UserWarning: careful\n"),
        );
        store.record_execution(trial, &warned).unwrap();
        let mut shown = exec(2, "Thing()", "");
        shown.outputs = vec![display(
            "execute_result",
            &[(
                "text/plain",
                &format!("<__main__.Thing object at {address}>"),
            )],
        )];
        store.record_execution(trial, &shown).unwrap();
        let timed = exec(
            3,
            "%%time\nf()",
            &format!("CPU times: user {time}\nWall time: {time}\n"),
        );
        store.record_execution(trial, &timed).unwrap();
        let mut slider = exec(4, "IntSlider()", "");
        slider.outputs = vec![display(
            "display_data",
            &[
                ("text/plain", "IntSlider(value=0)"),
                ("application/vnd.jupyter.widget-view+json", &widget(id)),
            ],
        )];
        store.record_execution(trial, &slider).unwrap();
        // Volatile parts beside a real change: still a change.
        let mixed = exec(
            5,
            "print(obj, answer)",
            &format!("<T at {address}> {answer}"),
        );
        store.record_execution(trial, &mixed).unwrap();
    }
    let diff = store.trial_diff(a, b).unwrap();
    let statuses: Vec<(DiffStatus, Vec<&str>)> = diff
        .outputs
        .iter()
        .map(|o| (o.status, o.ignored.clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (DiffStatus::Equal, vec!["ipykernel temporary path"]),
            (DiffStatus::Equal, vec!["memory address"]),
            (DiffStatus::Equal, vec!["timing"]),
            (DiffStatus::Equal, vec!["widget model id"]),
            (DiffStatus::Changed, vec![]),
        ]
    );
    let view = diff.only_differences();
    assert_eq!(view.outputs.len(), 1);
    assert_eq!(
        view.volatile_ignored,
        vec![
            "ipykernel temporary path",
            "memory address",
            "timing",
            "widget model id"
        ]
    );
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["volatile_ignored"][1], "memory address");
    // The payloads as stored are untouched: the left one still reads its own address.
    assert!(diff.outputs[1].left.as_ref().unwrap().outputs[0]
        .text
        .as_deref()
        .unwrap()
        .contains("0x7f3a2c1b9d90"));
}
