//! `provctl deps`, `slice` and `graph` end to end: the built binary against a
//! store filled through the provstore API, whose writer indexes each
//! execution's dataflow as the kernel's recording does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, refused, stderr, store_in};
use provstore::{ExecutionRecord, Store};
use serde_json::{json, Value};

/// An execution with dataflow facts: the probe saw `bound` (name, Python type,
/// scalar value) bound.
fn exec(n: i64, code: &str, bound: &[(&str, &str, Option<Value>)]) -> ExecutionRecord {
    let infos: Vec<(&str, Value)> = bound
        .iter()
        .map(|(name, ty, value)| {
            let mut info = json!({ "type": ty });
            if let Some(v) = value {
                info["value"] = v.clone();
            }
            (*name, info)
        })
        .collect();
    noted(n, code, &binding_note(&infos, 1000 * n))
}

/// Trial 1 "baseline" (one execution) and trial 2, the latest: `total` comes
/// from In [5] <- In [4] <- In [2] and In [1]; In [3] is unrelated.
fn dataflow_store(dir: &Path) -> PathBuf {
    let (db, mut store) = store_in(dir);
    let a = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(a.id, "baseline").unwrap();
    store
        .record_execution(
            a.id,
            &exec(1, "total = 1", &[("total", "int", Some(json!(1)))]),
        )
        .unwrap();
    let b = store.begin_trial(&new_trial(dir)).unwrap();
    let cells = [
        exec(
            1,
            "import math\nfactor = 2",
            &[("math", "module", None), ("factor", "int", Some(json!(2)))],
        ),
        exec(
            2,
            "data = [1, 2, 3]\nprint(data)",
            &[("data", "list", None)],
        ),
        exec(3, "n = 10", &[("n", "int", Some(json!(10)))]),
        exec(
            4,
            "scaled = [x * factor for x in data]\nunused = 5",
            &[("scaled", "list", None), ("unused", "int", Some(json!(5)))],
        ),
        exec(
            5,
            "total = sum(scaled)",
            &[("total", "int", Some(json!(12)))],
        ),
    ];
    for e in &cells {
        store.record_execution(b.id, e).unwrap();
    }
    db
}

#[test]
fn deps_json_is_one_document_with_the_executions_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    dataflow_store(tmp.path());
    let v = json(&provctl(tmp.path(), &["deps", "total", "--json"]));
    assert_eq!(v["variable"], "total");
    assert_eq!(v["trial"]["id"], 2, "the latest trial by default");
    let execs = v["executions"].as_array().unwrap();
    let counts: Vec<i64> = execs
        .iter()
        .map(|e| e["execution_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 4, 5]);
    for e in execs {
        for key in ["execution_count", "cell_id", "code", "defines", "uses"] {
            assert!(e.get(key).is_some(), "missing {key} in {e}");
        }
    }
    let last = &execs[3];
    assert_eq!(last["cell_id"], "cell-5");
    assert_eq!(last["code"], "total = sum(scaled)");
    assert_eq!(last["defines"], json!(["total"]));
    assert_eq!(last["uses"], json!(["scaled"]));
    assert_eq!(last["values"][0]["value"], 12);
    let edges: Vec<(i64, i64)> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].as_i64().unwrap(), e["to"].as_i64().unwrap()))
        .collect();
    assert_eq!(edges.len(), 3, "{edges:?}");

    let old = json(&provctl(
        tmp.path(),
        &["deps", "total", "--trial", "baseline", "--json"],
    ));
    assert_eq!(old["trial"]["id"], 1);
    assert_eq!(old["executions"].as_array().unwrap().len(), 1);
}

#[test]
fn deps_text_shows_cells_or_only_the_statements() {
    let tmp = tempfile::tempdir().unwrap();
    dataflow_store(tmp.path());
    let text = ok_stdout(&provctl(tmp.path(), &["deps", "total"]));
    assert!(
        text.starts_with("total depends on 4 executions of trial 2\n"),
        "{text}"
    );
    assert!(text.contains("In [4]\n  defines  scaled"), "{text}");
    assert!(text.contains("  from     In [4]: scaled\n"), "{text}");
    assert!(text.contains("  value    total: int = 12\n"), "{text}");
    assert!(text.contains("  2 | unused = 5\n"), "{text}");
    assert!(!text.contains("n = 10"), "In [3] is unrelated: {text}");

    let only = ok_stdout(&provctl(tmp.path(), &["deps", "total", "--statements"]));
    assert!(
        only.contains("  1 | scaled = [x * factor for x in data]\n"),
        "{only}"
    );
    assert!(!only.contains("unused = 5"), "{only}");
    assert!(!only.contains("import math"), "{only}");
}

#[test]
fn unknown_variables_and_trials_exit_2_with_the_message() {
    let tmp = tempfile::tempdir().unwrap();
    dataflow_store(tmp.path());
    for args in [
        &["deps", "totl"][..],
        &["slice", "totl"][..],
        &["deps", "total", "--json", "--trial", "nope"][..],
        &["graph", "--trial", "9"][..],
    ] {
        let o = provctl(tmp.path(), args);
        refused(&o, args);
        assert!(
            o.stdout.is_empty(),
            "{args:?} printed {:?}",
            stdout_lossy(&o)
        );
        assert!(stderr(&o).starts_with("provctl: error: "), "{}", stderr(&o));
    }
    let o = provctl(tmp.path(), &["deps", "totl"]);
    assert!(
        stderr(&o).contains("total"),
        "similar names are offered: {}",
        stderr(&o)
    );
}

fn stdout_lossy(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn slice_prints_code_and_writes_notebooks_and_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    dataflow_store(tmp.path());
    let code = ok_stdout(&provctl(tmp.path(), &["slice", "total"]));
    assert_eq!(
        code,
        "# In[1]\nfactor = 2\n\n# In[2]\ndata = [1, 2, 3]\n\n# In[4]\n\
         scaled = [x * factor for x in data]\n\n# In[5]\ntotal = sum(scaled)\n"
    );
    let v = json(&provctl(tmp.path(), &["slice", "total", "--json"]));
    assert_eq!(v["statements"].as_array().unwrap().len(), 4);

    let nb_path = tmp.path().join("total.ipynb");
    let said = ok_stdout(&provctl(
        tmp.path(),
        &["slice", "total", "-o", "total.ipynb"],
    ));
    assert!(said.contains("total.ipynb"), "{said}");
    let nb: Value = serde_json::from_str(&std::fs::read_to_string(&nb_path).unwrap()).unwrap();
    assert_eq!(nb["nbformat"], 4);
    assert_eq!(nb["metadata"]["kernelspec"]["name"], "python-prov");
    let cells = nb["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    assert_eq!(cells[3]["source"], json!(["total = sum(scaled)"]));

    ok_stdout(&provctl(tmp.path(), &["slice", "total", "-o", "total.py"]));
    let py = std::fs::read_to_string(tmp.path().join("total.py")).unwrap();
    assert!(py.starts_with("# The code that makes `total`"), "{py}");
    assert!(py.ends_with(&code), "{py}");

    let o = provctl(tmp.path(), &["slice", "total", "-o", "total.txt"]);
    refused(&o, "");
    assert!(!tmp.path().join("total.txt").exists());
}

#[test]
fn graph_prints_a_summary_or_dot_and_writes_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let db = dataflow_store(tmp.path());
    // Cells that only asked prov something are no part of the graph.
    let mut store = Store::open(&db).unwrap();
    for (n, code) in [(6, "%trials"), (7, "# a look\n%backwards_deps total\n")] {
        store.record_execution(2, &exec(n, code, &[])).unwrap();
    }
    drop(store);
    let text = ok_stdout(&provctl(tmp.path(), &["graph"]));
    assert!(
        text.starts_with("Dataflow of trial 2: 5 executions, 3 dependencies\n"),
        "{text}"
    );
    assert!(text.contains("  In [5] <- In [4]: scaled\n"), "{text}");
    let dot = ok_stdout(&provctl(tmp.path(), &["graph", "--dot"]));
    assert!(dot.starts_with("digraph ") && dot.ends_with("}\n"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 3, "{dot}");

    ok_stdout(&provctl(tmp.path(), &["graph", "-o", "g.svg"]));
    let svg = std::fs::read_to_string(tmp.path().join("g.svg")).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("<g class=\"node\"").count(), 5);
    assert_eq!(svg.matches("<path class=\"edge\"").count(), 3);
    ok_stdout(&provctl(tmp.path(), &["graph", "-o", "g.dot"]));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("g.dot")).unwrap(),
        dot
    );

    let v = json(&provctl(tmp.path(), &["graph", "--json", "--trial", "2"]));
    assert_eq!(v["executions"].as_array().unwrap().len(), 5);
    assert_eq!(v["edges"].as_array().unwrap().len(), 3);
}
