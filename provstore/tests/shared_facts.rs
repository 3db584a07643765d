//! Facts shared between executions (schema v6): a re-run cell's analysis, statement
//! positions, names and reads among its own statements are stored once, and every answer is
//! the one a replay of the trial through pyflow gives, and the one a trial whose executions
//! each keep their own analysis gives.

mod common;

use common::{exec, store_with_trials, with_notes};
use provstore::{ExecStatus, ExecutionRecord, Store, TrialStatus};
use serde_json::Value;

/// The cell re-run all session long: reads among its statements, a deleted temporary, a
/// dict key, a mutation, an augmented assignment.
const BIG: &str = "base = seed + 1
items = [base, base * 2]
items.append(base)
tmp = len(items)
d = {}
d['k'] = tmp + base
del tmp
total = sum(items) + d['k']
total += base";

/// The probe's note for a run of [`BIG`]: new ids each run, or the ids of the run before
/// (`same`), as when the values did not change.
fn big_note(run: i64) -> String {
    format!(
        r#"{{"bound": [["base", {a}, {{"type": "int", "value": {run}}}], ["items", {b}, {{"type": "list"}}], ["d", {c}, {{"type": "dict"}}], ["total", {t}, {{"type": "int", "value": 7}}]], "deleted": ["tmp"]}}"#,
        a = 1000 + run,
        b = 2000 + run,
        c = 3000 + run,
        t = 4000 + run
    )
}

/// The session, each execution with an empty analysis (the code's, as the kernel records) or
/// its own.
fn session(shared: bool) -> Vec<ExecutionRecord> {
    let mut records = Vec::new();
    let mut n = 0;
    let mut add = |code: &str, runtime: Option<String>, failed_line: Option<i64>| {
        n += 1;
        let analysis = if shared {
            String::new()
        } else {
            serde_json::to_string(&pyflow::analyze_cell(code)).unwrap()
        };
        let mut e = with_notes(exec(n, code, ""), analysis, runtime.as_deref());
        e.cell_id = Some(format!("c{}", code.len()));
        if let Some(line) = failed_line {
            e.status = ExecStatus::Error;
            e.dataflow.as_mut().unwrap().failed_line = Some(line);
        }
        records.push(e);
    };
    add("seed = 1", None, None);
    for run in 0..6 {
        let note = (run != 2).then(|| big_note(run % 4));
        add(BIG, note, None);
        match run {
            1 => add("seed = seed + 1", None, None),
            3 => add(
                "out = total * 2\nalias = items\nalias.append(out)",
                None,
                None,
            ),
            4 => add(BIG, None, Some(4)),
            _ => {}
        }
    }
    add("final = total + out", None, None);
    records
}

/// An answer as JSON without the store's ids (which differ between trials): executions by
/// their `In[n]`.
fn without_ids(answer: Value) -> Value {
    let mut answer = answer;
    let counts: std::collections::HashMap<i64, i64> = answer["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["execution_id"].as_i64().unwrap(),
                e["execution_count"].as_i64().unwrap(),
            )
        })
        .collect();
    answer.as_object_mut().unwrap().remove("trial");
    for e in answer["executions"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("execution_id");
    }
    for edge in answer["edges"].as_array_mut().unwrap() {
        for end in ["from", "to"] {
            let id = edge[end].as_i64().unwrap();
            edge[end] = counts[&id].into();
        }
    }
    answer
}

/// Every variable's answers from the store, checked against a replay of the trial.
fn answers(store: &Store, trial: i64) -> Vec<(String, Value, Value)> {
    let replay = store.replay_dataflow(trial).unwrap();
    let mut all = Vec::new();
    let mut variables = replay.variables();
    variables.extend(["d['k']".to_string(), "items".to_string()]);
    for var in variables {
        let answer = store.backwards_deps(trial, &var).unwrap();
        let want = common::replayed_deps(&replay, &var);
        let got: Vec<i64> = answer.executions.iter().map(|e| e.execution_id).collect();
        assert_eq!(got, want, "{var}");
        let global = store.global_backwards_deps(trial, &var).unwrap();
        all.push((
            var,
            without_ids(serde_json::to_value(answer).unwrap()),
            without_ids(serde_json::to_value(global).unwrap()),
        ));
    }
    all
}

fn count(store_db: &std::path::Path, sql: &str) -> i64 {
    common::count(store_db, sql)
}

#[test]
fn a_rerun_cell_keeps_its_facts_once_and_answers_as_when_each_run_kept_its_own() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (shared, own) = (trials[0].id, trials[1].id);
    for e in session(true) {
        store.record_execution(shared, &e).unwrap();
    }
    for e in session(false) {
        store.record_execution(own, &e).unwrap();
    }
    let from_shared = answers(&store, shared);
    assert_eq!(from_shared, answers(&store, own));
    assert!(from_shared.len() >= 8, "{from_shared:?}");
    let graph =
        |trial| without_ids(serde_json::to_value(store.dataflow_graph(trial).unwrap()).unwrap());
    assert_eq!(graph(shared), graph(own));
    // Statement texts come from the code's positions: `total`'s last statement is its own line.
    let total = &from_shared.iter().find(|(v, ..)| v == "total").unwrap().1;
    let last = total["executions"].as_array().unwrap().last().unwrap();
    let texts: Vec<&str> = last["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"total += base"), "{texts:?}");
    let diff = store.trial_diff(shared, own).unwrap();
    assert!(
        diff.values
            .iter()
            .all(|v| serde_json::to_value(v).unwrap()["status"] == "equal"),
        "{:?}",
        diff.values
    );

    // The shared trial's executions keep no analysis, positions or inner reads of their own.
    let of_shared = format!("FROM execution_dataflow d JOIN executions e ON e.id = d.execution_id WHERE e.trial_id = {shared}");
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) {of_shared} AND d.analysis <> ''")
        ),
        0
    );
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM dataflow_statements s JOIN executions e ON e.id = s.execution_id WHERE e.trial_id = {shared}")),
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM code_analysis"),
        5,
        "one per distinct code"
    );

    // Six more runs of the cell, with notes seen before, add one row per list, no members.
    let members =
        "SELECT (SELECT COUNT(*) FROM name_set_members) + (SELECT COUNT(*) FROM read_set_members)
                   + (SELECT COUNT(*) FROM code_statements) + (SELECT COUNT(*) FROM code_analysis)";
    let before = count(&db, members);
    let (names, reads) = (
        count(&db, "SELECT COUNT(*) FROM execution_name_sets"),
        count(&db, "SELECT COUNT(*) FROM execution_read_sets"),
    );
    let mut more = Vec::new();
    for run in 0..6 {
        let mut e = with_notes(
            exec(100 + run, BIG, ""),
            String::new(),
            Some(&big_note(run % 2)),
        );
        e.cell_id = Some("again".into());
        more.push(e);
    }
    store.record_executions(shared, &more).unwrap();
    assert_eq!(count(&db, members), before);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM execution_name_sets"),
        names + 6
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM execution_read_sets"),
        reads + 6
    );
    answers(&store, shared);

    // A reader in another process answers the same.
    store.end_trial(shared, TrialStatus::Finished).unwrap();
    let expected = answers(&store, shared);
    drop(store);
    let reader = Store::open_existing(&db).unwrap();
    assert_eq!(answers(&reader, shared), expected);
}

/// The writer commits an execution's row (with a reference to its code's analysis) before
/// its index; a kill between the two leaves a tail the first query indexes from the rows.
#[test]
fn shared_facts_survive_a_kill_between_storing_and_indexing() {
    let (_tmp, db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let mut records = session(true);
    // An analysis of its own makes the tail's batch heavy: indexed after its rows are
    // committed (a batch of light executions is indexed with them, in one transaction).
    let own = serde_json::to_string(&pyflow::analyze_cell(&records[5].code)).unwrap();
    records[5].dataflow.as_mut().unwrap().analysis = own;
    let (first, tail) = records.split_at(5);
    for e in first {
        store.record_execution(trial, e).unwrap();
    }
    let staged = store.store_executions(trial, tail).unwrap();
    drop(staged);
    drop(store);
    assert_eq!(
        count(&db, "SELECT through_id FROM dataflow_indexed"),
        count(
            &db,
            "SELECT id FROM executions ORDER BY id LIMIT 1 OFFSET 4"
        ),
        "the tail is stored, not indexed"
    );
    let mut reopened = Store::open_existing(&db).unwrap();
    reopened.end_trial(trial, TrialStatus::Crashed).unwrap();
    let caught_up = answers(&reopened, trial);

    // The same as recording the session in one go.
    let (_tmp2, _db2, mut whole, trials) = store_with_trials(1);
    for e in &records {
        whole.record_execution(trials[0].id, e).unwrap();
    }
    assert_eq!(caught_up, answers(&whole, trials[0].id));
}
