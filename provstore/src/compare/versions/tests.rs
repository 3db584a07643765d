//! The versions read from the view's tables equal what the view `dataflow_versions` gives,
//! row by row (the earlier loader, kept as the reference below), for executions of shared
//! lists and of rows of their own, rebinding, changing in place and names only the probe saw.

use super::*;
use crate::compare::test_support::recorded;
use crate::{ExecutionRecord, NewTrial, Store};

/// The versions as the earlier loader read them, through the view.
fn reference(conn: &Connection, trial: i64, at: &HashMap<i64, usize>, execs: &mut [Exec]) {
    let mut stmt = conn
        .prepare(
            "SELECT execution_id, statement, name, symbol, current, kind FROM dataflow_versions
             WHERE trial_id = ?1 AND statement >= 0",
        )
        .unwrap();
    let mut rows = stmt.query([trial]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let Some(&i) = at.get(&r.get::<_, i64>(0).unwrap()) else {
            continue;
        };
        let made = Made {
            name: r.get(2).unwrap(),
            symbol: r.get(3).unwrap(),
            current: r.get(4).unwrap(),
            mutation: is_mutation(r.get_ref(5).unwrap().as_str().unwrap()),
        };
        push_made(&mut execs[i].statements, r.get(1).unwrap(), made);
    }
}

/// `In[n]` running `code`, the probe having seen it bind `bound` (name, value).
fn cell(n: i64, code: &str, bound: &[(&str, i64)]) -> ExecutionRecord {
    let values: Vec<String> = bound.iter().map(|(_, v)| v.to_string()).collect();
    let bound: Vec<(&str, Option<&str>)> = bound
        .iter()
        .zip(&values)
        .map(|((name, _), v)| (*name, Some(v.as_str())))
        .collect();
    recorded(n, None, code, true, &bound)
}

const CELLS: [(&str, &[(&str, i64)]); 9] = [
    ("x = 1\ny = 2\nd = {}", &[("x", 1), ("y", 2)]),
    ("d['a'] = x\nl = [y]\nl.append(x)", &[("l", 0)]),
    ("x = y + 1\nfig, ax = make(x)", &[("x", 3)]),
    (
        "ax.set_title(str(x))\nd['a'] = y\nextra = 7",
        &[("extra", 7), ("seen", 9)],
    ),
    ("exec('z = 1')\nw = x + y", &[("z", 1), ("w", 5)]),
    ("x = 1\ny = 2\nd = {}", &[("x", 1), ("y", 2)]),
    ("from lib import *\nq = x", &[("q", 1)]),
    ("d['a'] = x\nl = [y]\nl.append(x)", &[("l", 0)]),
    ("del w\nx = 5", &[("x", 5)]),
];

#[test]
fn versions_read_from_the_tables_equal_the_views_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("prov.db")).unwrap();
    let mut trials = Vec::new();
    for rounds in [1, 2, 3] {
        let trial = store
            .begin_trial(&NewTrial::for_this_process(tmp.path()))
            .unwrap()
            .id;
        for round in 0..rounds {
            for (n, (code, bound)) in CELLS.iter().enumerate() {
                let n = (round * CELLS.len() + n) as i64 + 1;
                store
                    .record_execution(trial, &cell(n, code, bound))
                    .unwrap();
            }
        }
        trials.push(trial);
    }
    for &trial in &trials {
        store.diff_side(trial).unwrap();
    }
    // The second trial's third execution as a store indexed before the lean one keeps it: in
    // rows of its own.
    store
        .read(|conn| {
            conn.execute_batch(&format!(
                "INSERT INTO version_rows
                     SELECT trial_id, version, name, symbol, execution_id, statement, kind,
                            current FROM dataflow_versions
                     WHERE execution_id = (SELECT id FROM executions
                                           WHERE trial_id = {t} AND seq = 3);
                 DELETE FROM execution_version_sets WHERE execution_id =
                     (SELECT id FROM executions WHERE trial_id = {t} AND seq = 3);",
                t = trials[1]
            ))
        })
        .unwrap();
    let mut seen = (0, 0, 0);
    for &trial in &trials {
        store
            .read(|conn| {
                let ids: Vec<i64> = conn
                    .prepare("SELECT id FROM executions WHERE trial_id = ?1 ORDER BY seq")?
                    .query_map([trial], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let at: HashMap<i64, usize> =
                    ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
                let (mut want, mut got) = (
                    vec![Exec::default(); ids.len()],
                    vec![Exec::default(); ids.len()],
                );
                reference(conn, trial, &at, &mut want);
                read_versions(conn, trial, &at, &mut got)?;
                for (w, g) in want.iter().zip(&got) {
                    assert_eq!(w.statements, g.statements, "trial {trial}");
                }
                for made in got
                    .iter()
                    .flat_map(|e| &e.statements)
                    .flat_map(|s| &s.makes)
                {
                    seen.0 += usize::from(made.current);
                    seen.1 += usize::from(!made.current);
                    seen.2 += usize::from(made.mutation);
                }
                Ok(())
            })
            .unwrap();
    }
    // Current and retired versions, and changes in place, were compared.
    assert!(seen.0 > 10 && seen.1 > 10 && seen.2 > 5, "{seen:?}");
    let rows: i64 = store
        .read(|conn| conn.query_row("SELECT count(*) FROM version_rows", [], |r| r.get(0)))
        .unwrap();
    assert!(rows > 0);
}
