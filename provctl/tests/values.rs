//! `provctl values`, `plot` and the tags and key values of `trials` end to end: the built
//! binary against a store whose executions carry the probe's notes, as the kernel records them.

mod common;

use std::path::{Path, PathBuf};

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, refused, stderr, store_in};
use provstore::ExecutionRecord;
use serde_json::{json, Value};

/// `In[n]` running `code`, after which the probe saw `bound`: name and what it noted (`type`,
/// `value` for a scalar, summary fields otherwise). Summaries travel as the probe sends them:
/// under `summaries`, as for a tagged variable.
fn exec(n: i64, code: &str, bound: &[(&str, Value)]) -> ExecutionRecord {
    noted(n, code, &binding_note(bound, 1000 * n))
}

/// Trial 1 "lr=0.1": acc 0.5 then 0.81, tagged `metric`; trial 2 "<lr&1>": acc an array
/// (mean 0.9); trial 3: acc a string.
fn values_store(dir: &Path) -> PathBuf {
    let (db, mut store) = store_in(dir);
    let a = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(a.id, "lr=0.1").unwrap();
    let float = |v: f64| json!({ "type": "float", "value": v });
    store
        .record_execution(a.id, &exec(1, "acc = 0.5", &[("acc", float(0.5))]))
        .unwrap();
    store
        .record_execution(a.id, &exec(2, "acc = 0.81", &[("acc", float(0.81))]))
        .unwrap();
    store.tag_variable(a.id, "acc", Some("metric")).unwrap();
    let b = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(b.id, "<lr&1>").unwrap();
    let array = json!({"type": "numpy.ndarray", "kind": "ndarray", "shape": [3],
        "dtype": "float64", "min": 0.8, "max": 1.0, "mean": 0.9, "nan_count": 0,
        "sha256": "ab", "sampled": false});
    store
        .record_execution(b.id, &exec(1, "acc = scores()", &[("acc", array)]))
        .unwrap();
    let c = store.begin_trial(&new_trial(dir)).unwrap();
    store
        .record_execution(
            c.id,
            &exec(
                1,
                "acc = 'n/a'\nmode = 'fast'",
                &[
                    ("acc", json!({"type": "str", "value": "n/a"})),
                    ("mode", json!({"type": "str", "value": "fast"})),
                ],
            ),
        )
        .unwrap();
    db
}

#[test]
fn values_json_is_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    let rows = json(&provctl(tmp.path(), &["values", "acc", "--json"]));
    let rows = rows.as_array().unwrap();
    let got: Vec<(i64, i64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["trial"].as_i64().unwrap(),
                r["execution_count"].as_i64().unwrap(),
                r["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, 1, "float"),
            (1, 2, "float"),
            (2, 1, "numpy.ndarray"),
            (3, 1, "str")
        ]
    );
    assert_eq!(rows[1]["value"], json!(0.81));
    assert_eq!(rows[1]["label"], "metric");
    assert_eq!(rows[2]["value"]["mean"], json!(0.9));
    assert_eq!(rows[3]["value"], "n/a");
    assert_eq!(rows[0]["trial_name"], "lr=0.1");

    let text = ok_stdout(&provctl(tmp.path(), &["values", "acc"]));
    assert!(text.starts_with("acc: 4 values in 3 trials"), "{text}");
    assert!(text.contains("ndarray float64 (3,) mean 0.9"), "{text}");
}

#[test]
fn unknown_variables_exit_2_with_similar_names() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    for args in [&["values", "acx"][..], &["plot", "acx", "-o", "x.svg"]] {
        let o = provctl(tmp.path(), args);
        let err = refused(&o, args);
        assert!(err.contains("no value of `acx`"), "{err}");
        assert!(err.contains("similar: acc"), "{err}");
    }
    assert!(!tmp.path().join("x.svg").exists());
}

#[test]
fn plot_without_o_writes_var_svg_here_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    let said = ok_stdout(&provctl(tmp.path(), &["plot", "acc"]));
    assert!(said.contains("to acc.svg"), "{said}");
    let svg = std::fs::read_to_string(tmp.path().join("acc.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
}

#[test]
fn plot_writes_the_svg() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    let said = ok_stdout(&provctl(tmp.path(), &["plot", "acc", "-o", "acc.svg"]));
    assert!(
        said.contains("Wrote the evolution of acc across 2 trials"),
        "{said}"
    );
    assert!(said.contains("acc.svg"), "{said}");
    assert!(said.contains("skipped trial 3: not a number"), "{said}");
    let svg = std::fs::read_to_string(tmp.path().join("acc.svg")).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.ends_with("</svg>"), "{svg}");
    assert!(
        svg.contains("lr=0.1") && svg.contains("&lt;lr&amp;1&gt;"),
        "{svg}"
    );
    assert!(svg.contains("0.81") && svg.contains("0.9"), "{svg}");

    // --json: the numbers plotted; --stat picks the array's statistic.
    let plotted = json(&provctl(
        tmp.path(),
        &["plot", "acc", "-o", "max.svg", "--stat", "max", "--json"],
    ));
    assert_eq!(plotted["statistic"], "max");
    assert_eq!(plotted["points"][1]["value"], json!(1.0));
    assert_eq!(plotted["skipped"][0]["trial"], 3);
    assert!(tmp.path().join("max.svg").exists());
}

#[test]
fn plot_arguments_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    let stat = provctl(
        tmp.path(),
        &["plot", "acc", "-o", "a.svg", "--stat", "median"],
    );
    let err = refused(&stat, "--stat median");
    assert!(err.contains("mean, min, max, len"), "{err}");
    let ext = provctl(tmp.path(), &["plot", "acc", "-o", "a.jpg"]);
    let err = refused(&ext, "-o a.jpg");
    assert!(err.contains("FILE.svg"), "{err}");
    // A PNG is drawn from the same picture.
    let png = provctl(tmp.path(), &["plot", "acc", "-o", "a.png"]);
    assert_eq!(png.status.code(), Some(0), "{}", stderr(&png));
    let bytes = std::fs::read(tmp.path().join("a.png")).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let unwritable = provctl(tmp.path(), &["plot", "acc", "-o", "no/such/dir/a.svg"]);
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(
        stderr(&unwritable).contains("cannot write"),
        "{}",
        stderr(&unwritable)
    );
    // Nothing to plot: every trial's value is a string.
    let nothing = provctl(tmp.path(), &["plot", "mode", "-o", "a.svg"]);
    let err = refused(&nothing, "");
    assert!(err.contains("nothing to plot"), "{err}");
    assert!(err.contains("not a number: 'fast'"), "{err}");
    assert!(!tmp.path().join("a.svg").exists());
}

#[test]
fn trials_gain_tags_and_key_values() {
    let tmp = tempfile::tempdir().unwrap();
    values_store(tmp.path());
    let trials = json(&provctl(tmp.path(), &["trials", "--json"]));
    let first = &trials[0];
    for key in [
        "id",
        "uuid",
        "name",
        "status",
        "started_at",
        "executions",
        "cwd",
    ] {
        assert!(first.get(key).is_some(), "{key} missing: {first}");
    }
    assert_eq!(first["tags"], json!([{"name": "acc", "label": "metric"}]));
    assert_eq!(first["key_values"][0]["name"], "acc");
    assert_eq!(first["key_values"][0]["value"], json!(0.81));
    assert_eq!(first["key_values"][0]["text"], "0.81");
    assert_eq!(trials[1]["tags"], json!([]));
    let text = ok_stdout(&provctl(tmp.path(), &["trials"]));
    assert!(text.contains("tags / key values"), "{text}");
    assert!(text.contains("acc=0.81"), "{text}");
}
