//! The dependency answers read as now (the walk reading each execution's reads once;
//! `executions.rs`: each execution's rows in one pass, code and shared lists once each,
//! analyses only where a version was assumed) equal what the reads before gave
//! (`reference.rs`), on a long random session of re-run cells
//! with runtime values, unknown calls, deletions, failures, executions with their own analysis
//! and with their code's, and on the same store rewritten as before the lean store.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};

use super::{executions, reference, walk_from, StmtKey};
use crate::{DataflowRecord, ExecStatus, ExecutionRecord, Store};

/// xorshift64*: a fixed seed gives the same session every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// Cells of the notebook.
const CELLS: usize = 40;

/// Cell `c`'s code: each defines `v{c}` from earlier cells, in one of several shapes.
fn code(c: usize, rng: &mut Rng) -> String {
    if c == 0 {
        return "import pandas as pd\nv0 = 1\nfrom helpers import clean".into();
    }
    let (a, b) = (rng.below(c), rng.below(c));
    match c % 8 {
        0 => format!("v{c} = v{a} + v{b}"),
        1 => format!("l{c} = [v{a}]\nl{c}.append(v{b})\nv{c} = len(l{c})"),
        2 => format!("d{c} = {{}}\nd{c}['k'] = v{a}\nv{c} = d{c}['k'] + v{b}"),
        3 => format!("clean(v{a})\nv{c} = v{a} * 2"),
        4 => format!("tmp = v{a} + v{b}\nv{c} = tmp\ndel tmp"),
        5 => format!("v{c} = v{a} if v{b} else 0\nv{a} += 1"),
        6 => format!("v{c} = v{a} + 1\nboom()\nw{c} = v{b}"),
        _ => format!("def f{c}(x):\n    return x + v{b}\nv{c} = f{c}(v{a})"),
    }
}

/// Execution `n` of cell `c`: its own analysis or its code's, the probe's value of `v{c}`
/// every other time, and cell kind 6 failing at its second line now and then.
fn record(n: usize, c: usize, code: &str, rng: &mut Rng) -> ExecutionRecord {
    let at = Utc::now();
    let fails = c % 8 == 6 && rng.below(3) == 0;
    let analysis = if rng.below(2) == 0 {
        serde_json::to_string(&pyflow::analyze_cell(code)).unwrap()
    } else {
        String::new()
    };
    let runtime = (n.is_multiple_of(2) && !fails).then(|| {
        format!(r#"{{"bound": [["v{c}", {n}, {{"type": "int", "value": {n}}}]], "deleted": []}}"#)
    });
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}"),
        execution_count: Some(n as i64),
        cell_id: Some(format!("cell-{c}")),
        code: code.into(),
        started_at: at,
        ended_at: at + Duration::milliseconds(3),
        status: if fails {
            ExecStatus::Error
        } else {
            ExecStatus::Ok
        },
        error: None,
        outputs: vec![],
        dataflow: Some(DataflowRecord {
            analysis,
            runtime,
            failed_line: fails.then_some(2),
        }),
    }
}

/// Every statement the walk reaches from each current version of the trial, one set per
/// version (a variable's answer and every smaller one inside it); each walk equal to the
/// recursive query's.
fn walks(store: &Store, trial: i64) -> Vec<BTreeSet<StmtKey>> {
    let starts: Vec<StmtKey> = store
        .rows(
            "SELECT execution_id, statement FROM current_versions WHERE trial_id = ?1
             ORDER BY version",
            [trial],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    starts
        .iter()
        .map(|&start| {
            let now = store.read(|conn| walk_from(conn, &[start])).unwrap();
            let list = serde_json::to_string(&[start]).unwrap();
            let before = store
                .read(|conn| reference::walk_from(conn, &list))
                .unwrap();
            assert_eq!(now.statements, before.statements, "{start:?}");
            assert_eq!(now.edges, before.edges, "{start:?}");
            assert_eq!(now.files, before.files, "{start:?}");
            now.statements
        })
        .collect()
}

/// Both reads of each walk's executions agree; returns how many statements were compared, and
/// how many of them had an assumed change noted.
fn compare(store: &Store, trial: i64) -> (usize, usize) {
    let (mut compared, mut noted) = (0, 0);
    for statements in walks(store, trial) {
        let now = store
            .read(|conn| executions::dep_executions(conn, &statements))
            .unwrap();
        let before = store
            .read(|conn| reference::dep_executions(conn, &statements))
            .unwrap();
        assert_eq!(now, before, "{statements:?}");
        compared += statements.len();
        let all = now.iter().flat_map(|e| &e.statements);
        noted += all.filter(|s| !s.assumed.is_empty()).count();
    }
    (compared, noted)
}

#[test]
fn the_answers_executions_are_read_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let trial = store
        .begin_trial(&crate::NewTrial::for_this_process(tmp.path()))
        .unwrap()
        .id;
    let mut rng = Rng(7);
    let codes: Vec<String> = (0..CELLS).map(|c| code(c, &mut rng)).collect();
    let mut n = 0;
    // The notebook once, then stretches of re-runs.
    let mut order: Vec<usize> = (0..CELLS).collect();
    while order.len() < 400 {
        let start = rng.below(CELLS);
        order.extend(start..CELLS.min(start + 1 + rng.below(8)));
    }
    for c in order {
        n += 1;
        let e = record(n, c, &codes[c], &mut rng);
        store.record_execution(trial, &e).unwrap();
    }
    let assumed = store
        .rows(
            "SELECT count(*) FROM dataflow_versions WHERE kind = 'assumed'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    assert!(assumed[0] > 0, "the session has assumed changes to note");
    let lean = compare(&store, trial);
    assert!(
        lean.0 > 500 && lean.1 > 0,
        "{lean:?} statements compared, noted"
    );
    drop(store);

    // The same facts as rows of each execution, as a store from before the lean store has
    // them, migrated when opened: its versions stay rows.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(include_str!("../../tests/common/undo_lean.sql"))
        .unwrap();
    let migrated = Store::open_existing(&db).unwrap();
    let rows = migrated
        .rows("SELECT count(*) FROM version_rows", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    assert!(rows[0] > 0);
    assert_eq!(compare(&migrated, trial), lean);
}
