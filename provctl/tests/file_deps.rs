//! `provctl deps PATH`, `slice` and `graph` with data files, end to end: the built binary
//! against a store whose probe notes name the files each cell opened.

mod common;

use std::path::Path;

use common::{json, new_trial, noted, ok_stdout, provctl, store_in};
use serde_json::json;

/// In [1] writes `houses.csv`, In [2] reads it and `raw.csv` (from outside) into `mae`.
fn store(dir: &Path) {
    let (_db, mut store) = store_in(dir);
    let trial = store.begin_trial(&new_trial(dir)).unwrap().id;
    let file = |path: &str, access: &str, line: u32, sha: &str| {
        json!({"path": path, "resolved": dir.join(path).to_str().unwrap(), "access": access,
               "line": line, "size": 3, "mtime": 1.0, "sha256": sha, "sampled": false})
    };
    let note = |files: Vec<serde_json::Value>| {
        json!({"bound": [], "deleted": [], "files": files}).to_string()
    };
    let cells = [
        noted(
            1,
            "df = make()\ndf.to_csv('houses.csv')",
            &note(vec![file("houses.csv", "write", 2, "aa11")]),
        ),
        noted(
            2,
            "back = read('houses.csv')\nraw = read('raw.csv')\nmae = score(back, raw)",
            &note(vec![
                file("houses.csv", "read", 1, "aa11"),
                file("raw.csv", "read", 2, "bb22"),
            ]),
        ),
    ];
    for c in &cells {
        store.record_execution(trial, c).unwrap();
    }
}

#[test]
fn deps_of_a_file_answers_like_a_variable() {
    let tmp = tempfile::tempdir().unwrap();
    store(tmp.path());
    for asked in [
        "houses.csv",
        tmp.path().join("houses.csv").to_str().unwrap(),
    ] {
        let v = json(&provctl(tmp.path(), &["deps", asked, "--json"]));
        let counts: Vec<i64> = v["executions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["execution_count"].as_i64().unwrap())
            .collect();
        assert_eq!(counts, [1], "{asked}");
        assert_eq!(v["variable"], asked);
    }
    let text = ok_stdout(&provctl(tmp.path(), &["deps", "mae"]));
    assert!(text.contains("  writes   houses.csv\n"), "{text}");
    assert!(
        text.contains("  reads    raw.csv (from outside, sha256 bb22)\n"),
        "{text}"
    );
}

#[test]
fn the_slice_includes_the_writer_and_names_its_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    store(tmp.path());
    let code = ok_stdout(&provctl(tmp.path(), &["slice", "mae"]));
    assert!(
        code.starts_with("# Files it needs from outside the trial:\n# raw.csv  sha256 bb22"),
        "{code}"
    );
    assert!(code.contains("df.to_csv('houses.csv')"), "{code}");
    let v = json(&provctl(tmp.path(), &["slice", "mae", "--json"]));
    assert_eq!(v["inputs"][0]["path"], "raw.csv");
    assert_eq!(v["inputs"][0]["sha256"], "bb22");
    let nb = tmp.path().join("rebuild.ipynb");
    ok_stdout(&provctl(
        tmp.path(),
        &["slice", "mae", "-o", nb.to_str().unwrap()],
    ));
    let nb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(nb).unwrap()).unwrap();
    assert_eq!(nb["metadata"]["prov"]["inputs"][0]["path"], "raw.csv");
}

#[test]
fn the_graph_draws_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    store(tmp.path());
    let dot = ok_stdout(&provctl(tmp.path(), &["graph", "--dot"]));
    assert_eq!(dot.matches("shape=note").count(), 2, "{dot}");
    let text = ok_stdout(&provctl(tmp.path(), &["graph"]));
    assert!(
        text.contains("  file houses.csv (sha256 aa11): written by In [1], read by In [2]\n"),
        "{text}"
    );
    let v = json(&provctl(tmp.path(), &["graph", "--json"]));
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    let png = tmp.path().join("graph.png");
    ok_stdout(&provctl(
        tmp.path(),
        &["graph", "-o", png.to_str().unwrap()],
    ));
    assert!(std::fs::read(png).unwrap().starts_with(b"\x89PNG"));
}
