//! Files in the dependency answers, from hand-made probe notes: the cell that wrote a file a
//! value's code read is in its deps, its slice and the graph; content changed outside the trial
//! is an input the slice needs, not the earlier writer's product; `deps PATH` finds a file as
//! the code gave it, absolute or resolved; and a trial indexed from its stored rows after a
//! kill answers as the live writer did.

mod common;

use std::path::Path;

use common::{cell, store_with_trials};
use provstore::{ExecutionRecord, Store, TrialStatus};

/// A probe note of one file access (`access`: read or write) at `line`, content hash `sha`.
fn note(files: &[(&str, &str, &str, u32, &str)]) -> String {
    let entries: Vec<serde_json::Value> = files
        .iter()
        .map(|(path, resolved, access, line, sha)| {
            serde_json::json!({"path": path, "resolved": resolved, "access": access,
                "line": line, "size": 10, "mtime": 1.0, "sha256": sha, "sampled": false})
        })
        .collect();
    serde_json::json!({"bound": [], "deleted": [], "files": entries}).to_string()
}

fn counts(answer: &provstore::DepsAnswer) -> Vec<Option<i64>> {
    answer
        .executions
        .iter()
        .map(|e| e.execution_count)
        .collect()
}

/// The notebook of the issue: In[1] imports, In[2] writes the CSV, In[3] reads it back and
/// computes `mae` (and `n`, from nothing the file held); In[4] reads it again after it
/// changed outside (`changed`).
fn session(dir: &str, changed: bool) -> Vec<ExecutionRecord> {
    let csv = format!("{dir}/houses.csv");
    let second = if changed { "bb" } else { "aa" };
    vec![
        cell(1, "import pandas as pd\n", "", None),
        cell(
            2,
            "df = pd.DataFrame({'a': [1, 2]})\ndf.to_csv('houses.csv')\n",
            "",
            Some(&note(&[("houses.csv", &csv, "write", 2, "aa")])),
        ),
        cell(
            3,
            "n = 3\nback = pd.read_csv('houses.csv')\nmae = back.a.mean() * n\n",
            "",
            Some(&note(&[("houses.csv", &csv, "read", 2, "aa")])),
        ),
        cell(
            4,
            "again = pd.read_csv('houses.csv')\n",
            "",
            Some(&note(&[("houses.csv", &csv, "read", 1, second)])),
        ),
    ]
}

fn record(store: &mut Store, trial: i64, records: &[ExecutionRecord]) {
    for r in records {
        store.record_execution(trial, r).unwrap();
    }
}

#[test]
fn the_writer_of_a_file_read_is_in_the_deps_the_slice_and_the_graph() {
    let (tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let dir = tmp.path().to_str().unwrap().to_string();
    record(&mut store, trial, &session(&dir, false));

    let deps = store.backwards_deps(trial, "mae").unwrap();
    assert_eq!(counts(&deps), [Some(1), Some(2), Some(3)]);
    // The file is not listed among the variables the executions touched.
    assert!(deps.executions.iter().all(|e| e
        .defines
        .iter()
        .chain(&e.uses)
        .all(|n| !n.starts_with('/'))));
    let csv = format!("{dir}/houses.csv");
    assert_eq!(deps.files.len(), 1);
    assert_eq!(deps.files[0].path, "houses.csv");
    assert_eq!(deps.files[0].resolved, csv);
    assert_eq!(deps.files[0].sha256.as_deref(), Some("aa"));
    assert_eq!(deps.files[0].read_by, [deps.executions[2].execution_id]);
    assert_eq!(
        deps.files[0].written_by,
        Some(deps.executions[1].execution_id)
    );
    assert!(deps.inputs.is_empty());

    let slice = store.slice(trial, "mae").unwrap();
    let texts: Vec<&str> = slice.statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "import pandas as pd",
            "df = pd.DataFrame({'a': [1, 2]})",
            "df.to_csv('houses.csv')",
            "n = 3",
            "back = pd.read_csv('houses.csv')",
            "mae = back.a.mean() * n"
        ]
    );
    assert!(slice.inputs.is_empty());

    let graph = store.dataflow_graph(trial).unwrap();
    let (writer, reader) = (
        deps.executions[1].execution_id,
        deps.executions[2].execution_id,
    );
    assert!(graph
        .edges
        .iter()
        .any(|e| e.from == reader && e.to == writer && e.symbols == [csv.clone()]));
    let version = graph
        .files
        .iter()
        .find(|f| f.written_by == Some(writer))
        .unwrap();
    let last = graph.executions.last().unwrap().execution_id;
    assert_eq!(version.read_by, [reader, last]);
}

#[test]
fn content_changed_outside_is_an_input_not_the_writers() {
    let (tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let dir = tmp.path().to_str().unwrap().to_string();
    record(&mut store, trial, &session(&dir, true));

    let again = store.backwards_deps(trial, "again").unwrap();
    assert_eq!(
        counts(&again),
        [Some(1), Some(4)],
        "not In[2], whose CSV was replaced"
    );
    let csv = format!("{dir}/houses.csv");
    assert_eq!(again.inputs.len(), 1);
    assert_eq!(again.inputs[0].path, "houses.csv");
    assert_eq!(again.inputs[0].resolved, csv);
    assert_eq!(again.inputs[0].sha256.as_deref(), Some("bb"));
    assert_eq!(again.files[0].written_by, None);
    assert!(again.edges.is_empty() || again.edges.iter().all(|e| !e.symbols.contains(&csv)));
    // The earlier read still came from the writer.
    assert_eq!(
        counts(&store.backwards_deps(trial, "mae").unwrap()),
        [Some(1), Some(2), Some(3)]
    );
    let slice = store.slice(trial, "again").unwrap();
    assert_eq!(slice.inputs, again.inputs);
    // The file's current content came from outside: deps of the file names no execution.
    let file = store.backwards_deps(trial, "houses.csv").unwrap();
    assert!(file.executions.is_empty());
    assert_eq!(file.inputs, again.inputs);
    // In the graph, the outside content is a version of its own, read by In[4].
    let graph = store.dataflow_graph(trial).unwrap();
    assert_eq!(graph.files.len(), 2);
    let outside = graph.files.iter().find(|f| f.written_by.is_none()).unwrap();
    assert_eq!(
        outside.read_by,
        [graph.executions.last().unwrap().execution_id]
    );
}

#[test]
fn only_the_statement_that_read_the_file_depends_on_it() {
    let (tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let dir = tmp.path().to_str().unwrap().to_string();
    record(&mut store, trial, &session(&dir, false));
    assert_eq!(
        counts(&store.backwards_deps(trial, "n").unwrap()),
        [Some(3)]
    );
    let slice = store.slice(trial, "n").unwrap();
    assert_eq!(slice.statements.len(), 1);
    assert!(slice.inputs.is_empty());
}

#[test]
fn a_file_never_written_is_an_input_of_the_slice() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(
            trial,
            &cell(
                1,
                "import json\nk = 2\nconf = json.load(open('conf.json'))\n",
                "",
                Some(&note(&[("conf.json", "/data/conf.json", "read", 3, "cc")])),
            ),
        )
        .unwrap();
    store
        .record_execution(trial, &cell(2, "rate = conf['rate'] * k\n", "", None))
        .unwrap();
    let slice = store.slice(trial, "rate").unwrap();
    assert_eq!(slice.statements.len(), 4);
    let inputs: Vec<_> = slice
        .inputs
        .iter()
        .map(|i| (i.path.as_str(), i.resolved.as_str(), i.sha256.as_deref()))
        .collect();
    assert_eq!(inputs, [("conf.json", "/data/conf.json", Some("cc"))]);
    assert!(store.slice(trial, "k").unwrap().inputs.is_empty());
    // No suggestion for an unknown variable names a file.
    let err = store
        .backwards_deps(trial, "conf_json")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("/data"), "{err}");
}

#[test]
fn deps_of_a_path_as_given_absolute_or_resolved() {
    let (tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let real = std::fs::canonicalize(tmp.path()).unwrap();
    std::fs::create_dir(real.join("data")).unwrap();
    std::fs::write(real.join("data/houses.csv"), "a\n1\n").unwrap();
    std::os::unix::fs::symlink(real.join("data/houses.csv"), real.join("link.csv")).unwrap();
    let resolved = real.join("data/houses.csv").to_str().unwrap().to_string();
    let code = "import pandas as pd\nout = pd.DataFrame()\nout.to_csv('link.csv')\n";
    store
        .record_execution(
            trial,
            &cell(
                1,
                code,
                "",
                Some(&note(&[("link.csv", &resolved, "write", 3, "aa")])),
            ),
        )
        .unwrap();
    let dir = tmp.path().to_str().unwrap();
    for asked in [
        "link.csv".to_string(),
        format!("{dir}/link.csv"),
        format!("{dir}/data/../link.csv"),
        "data/houses.csv".to_string(),
        resolved.clone(),
    ] {
        let answer = store.backwards_deps(trial, &asked).unwrap();
        assert_eq!(counts(&answer), [Some(1)], "{asked}");
        assert_eq!(answer.executions[0].statements.len(), 3, "{asked}");
        assert_eq!(answer.variable, asked);
        assert_eq!(answer.files.len(), 1, "{asked}");
        assert_eq!(answer.files[0].path, "link.csv");
    }
    assert!(store.backwards_deps(trial, "nothing.csv").is_err());
    // A variable wins over a file of the same name: `out` is the frame, not a file `out`.
    let file_out = format!("{dir}/out");
    store
        .record_execution(
            trial,
            &cell(
                2,
                "open('out', 'w').write('x')\n",
                "",
                Some(&note(&[("out", &file_out, "write", 1, "dd")])),
            ),
        )
        .unwrap();
    let answer = store.backwards_deps(trial, "out").unwrap();
    assert_eq!(counts(&answer), [Some(1)]);
    assert!(answer.files.is_empty());
    assert_eq!(
        counts(&store.backwards_deps(trial, &file_out).unwrap()),
        [Some(2)]
    );
    // `out.csv` reads as a file before it reads as an attribute `csv` of `out`; with no such
    // file, an attribute it is.
    assert_eq!(
        counts(&store.backwards_deps(trial, "out.x").unwrap()),
        [Some(1)]
    );
    let csv = format!("{dir}/out.csv");
    let note = note(&[("out.csv", &csv, "write", 1, "ee")]);
    store
        .record_execution(trial, &cell(3, "out.to_csv('out.csv')\n", "", Some(&note)))
        .unwrap();
    let answer = store.backwards_deps(trial, "out.csv").unwrap();
    assert_eq!(counts(&answer), [Some(1), Some(3)]);
    assert_eq!(answer.files[0].path, "out.csv");
}

/// What the answers about a session say, to compare a live writer's with a catch-up's.
fn answers(store: &Store, trial: i64) -> Vec<String> {
    ["mae", "again", "n", "houses.csv"]
        .iter()
        .flat_map(|v| {
            let deps = store.backwards_deps(trial, v).unwrap();
            let slice = store.slice(trial, v).unwrap();
            [
                format!("{:?} {:?} {:?}", counts(&deps), deps.files, deps.inputs),
                format!("{:?}", (slice.statements, slice.inputs)),
            ]
        })
        .chain([format!("{:?}", store.dataflow_graph(trial).unwrap().files)])
        .collect()
}

#[test]
fn a_trial_indexed_after_a_kill_answers_as_the_live_writer() {
    let dir = "/w";
    let (_tmp, _db, mut live, trials) = store_with_trials(1);
    let trial = trials[0].id;
    record(&mut live, trial, &session(dir, true));
    let expected = answers(&live, trial);
    assert!(expected.iter().any(|a| a.contains("\"bb\"")));

    let (_tmp2, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let records = session(dir, true);
    let (first, tail) = records.split_at(1);
    record(&mut store, trial, first);
    drop(store.store_executions(trial, tail).unwrap());
    drop(store);
    let mut reopened = Store::open_existing(&db).unwrap();
    reopened.end_trial(trial, TrialStatus::Crashed).unwrap();
    assert_eq!(answers(&reopened, trial), expected);
    // And pyflow's replay of the stored rows agrees on who the values came from.
    let replay = reopened.replay_dataflow(trial).unwrap();
    for var in ["mae", "again", "n"] {
        let ids: Vec<i64> = reopened
            .backwards_deps(trial, var)
            .unwrap()
            .executions
            .iter()
            .map(|e| e.execution_id)
            .collect();
        assert_eq!(common::replayed_deps(&replay, var), ids, "{var}");
    }
    assert!(Path::new(&db).exists());
}

/// The diff reads the same index: outside content (a version no statement made) and an
/// assumed change (`clean(df)`) neither break it nor count as changed by themselves.
#[test]
fn a_diff_of_trials_that_read_files_still_compares() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let read = note(&[("a.csv", "/w/a.csv", "read", 2, "aa")]);
    for t in &trials {
        let cells = [
            cell(
                1,
                "import pandas as pd\nx = pd.read_csv('a.csv')\n",
                "",
                Some(&read),
            ),
            cell(2, "y = x * 2\nclean(y)\n", "", None),
        ];
        record(&mut store, t.id, &cells);
    }
    let diff = store.trial_diff(trials[0].id, trials[1].id).unwrap();
    let json = serde_json::to_value(&diff).unwrap();
    let changed: Vec<&serde_json::Value> = json["values"]
        .as_array()
        .map(|v| v.iter().filter(|v| v["status"] != "equal").collect())
        .unwrap_or_default();
    assert!(changed.is_empty(), "{changed:?}");
}
