//! What the kernel's durability and sealing rest on: an execution handed over with
//! `record_then` is committed (visible to another connection) when the callback runs, even
//! while the store cannot be written the callback runs, and late runtime notes only ever reach
//! an execution of the trial that sends them.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use provstore::{ExecStatus, OnProblem, Writer};

#[test]
fn record_then_runs_after_the_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(tmp.path());
    let on_problem: OnProblem = Box::new(|m| panic!("{m}"));
    let writer = Writer::start(&db, this_trial(tmp.path()), on_problem).unwrap();
    let (tx, rx) = mpsc::channel();
    for n in 1..=20 {
        let tx = tx.clone();
        let db = db.clone();
        writer.record_then(
            exec(n, &format!("x = {n}"), ""),
            Box::new(move || {
                // Another connection, as a process started after a kill -9 would see it.
                let seen = count(
                    &db,
                    &format!("SELECT count(*) FROM executions WHERE msg_id = 'msg-{n}'"),
                );
                tx.send(seen).unwrap();
            }),
        );
    }
    for _ in 1..=20 {
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 1);
    }
}

#[test]
fn record_then_is_released_when_the_store_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the store's folder should be").unwrap();
    let on_problem: OnProblem = Box::new(|_| {});
    let writer =
        Writer::start(&blocker.join("prov.db"), this_trial(tmp.path()), on_problem).unwrap();
    let (tx, rx) = mpsc::channel();
    writer.record_then(exec(1, "x = 1", ""), Box::new(move || tx.send(()).unwrap()));
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the waiting idle is released at once");
}

#[test]
fn late_notes_reach_only_their_own_trial() {
    let (_tmp, db, mut store, trials) = store_with_trials(2);
    let (first, second) = (trials[0].id, trials[1].id);
    let mut failed = exec(1, "x = 1\n1/0", "");
    failed.status = ExecStatus::Error;
    failed.dataflow = Some(provstore::DataflowRecord {
        analysis: String::new(),
        runtime: None,
        failed_line: Some(2),
    });
    store.record_execution(first, &failed).unwrap();
    let runtime = |trial: i64| -> Option<String> {
        raw(&db)
            .query_row(
                "SELECT d.runtime FROM execution_dataflow d JOIN executions e ON e.id = d.execution_id
                 WHERE e.trial_id = ?1",
                [trial],
                |r| r.get(0),
            )
            .unwrap()
    };
    // Trial 2 names trial 1's request: nothing changes.
    let planted = r#"{"bound": [["evil", 1, {"type": "int", "value": 666}]], "deleted": []}"#;
    store.set_runtime_facts(second, "msg-1", planted).unwrap();
    assert_eq!(runtime(first), None);
    assert_eq!(count(&db, "SELECT count(*) FROM captured_values"), 0);
    // Trial 1's own late notes still arrive.
    let own = r#"{"bound": [["x", 5, {"type": "int", "value": 1}]], "deleted": []}"#;
    store.set_runtime_facts(first, "msg-1", own).unwrap();
    assert_eq!(runtime(first).as_deref(), Some(own));
}
