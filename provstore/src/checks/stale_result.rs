//! `stale-result`: a result computed from code that is no longer what the notebook holds, or
//! from an execution order that running the notebook top to bottom would not repeat.
//!
//! Triggered by: `y = x * 2` in one cell, then the cell `x = 1` edited to `x = 2` and re-run
//! (and `y`'s cell not re-run)
//!
//! Two findings, from the dependency index (which execution read a name from which) and the
//! cells' ids (JupyterLab's `cellId`; executions without one are left out):
//!
//! - **edited and re-run**: the latest run of a cell read a name made by another cell's run,
//!   and that other cell was later run again with different code: what the first cell shows
//!   comes from code no longer in the notebook.
//! - **out of order**: the runs the notebook's current state rests on (each cell's latest run
//!   and, transitively, the runs they read from) read values across cells in a circle (cell A
//!   read from cell B, which read from an earlier run of A): whatever the cells' places in the
//!   notebook, one of them read a value from a cell below it, so a top-to-bottom run cannot
//!   reproduce it. The store does not know the cells' places, so a single read from a cell
//!   below (with no circle) is not seen.

use std::collections::{BTreeSet, HashMap};

use super::rule::{cell, Finding, Rule, Severity};
use crate::{is_file_name, Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "stale-result",
    severity: Severity::Warning,
    help: "a cell's result rests on code since edited and re-run, or on an order Run All would not repeat",
    example: "In[1] x = 1; In[2] y = x * 2; In[3] (the first cell, edited) x = 2",
    find,
};

/// One run in the trial.
struct Run {
    seq: i64,
    count: Option<i64>,
    cell: Option<String>,
    code: i64,
}

/// "`run` read `name` from `from`" (indexes into the runs).
struct Read {
    run: usize,
    from: usize,
    name: String,
}

fn find(store: &Store, trial: &TrialSummary) -> Result<Vec<Finding>> {
    let runs = store.rows(
        "SELECT seq, execution_count, cell_id, code_id, id FROM executions
          WHERE trial_id = ?1 ORDER BY seq",
        [trial.id],
        |r| {
            Ok((
                r.get::<_, i64>(4)?,
                Run {
                    seq: r.get(0)?,
                    count: r.get(1)?,
                    cell: r.get(2)?,
                    code: r.get(3)?,
                },
            ))
        },
    )?;
    let index: HashMap<i64, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let runs: Vec<Run> = runs.into_iter().map(|(_, r)| r).collect();
    let reads: Vec<Read> = store
        .rows(
            "SELECT d.execution_id, d.depends_on_id, d.name FROM dependencies d
               JOIN executions e ON e.id = d.execution_id
              WHERE e.trial_id = ?1 ORDER BY e.seq, d.name",
            [trial.id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?
        .into_iter()
        .filter_map(|(run, from, name)| {
            Some(Read {
                run: *index.get(&run)?,
                from: *index.get(&from)?,
                name,
            })
        })
        .filter(|r| {
            let (a, b) = (&runs[r.run].cell, &runs[r.from].cell);
            a.is_some() && b.is_some() && a != b
        })
        .collect();
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        if let Some(c) = &run.cell {
            latest.insert(c.as_str(), i);
        }
    }
    let mut findings = edited(&runs, &reads, &latest);
    findings.extend(circles(&runs, &reads, &latest));
    Ok(findings)
}

/// `x`, or `the file /data/a.csv`.
fn shown(name: &str) -> String {
    if is_file_name(name) {
        format!("the file {name}")
    } else {
        format!("`{name}`")
    }
}

/// A reader, the run it read from, and that run's cell run again since (indexes into the runs).
type Stale = (usize, usize, usize);

/// Latest runs that read from a run whose cell was re-run with other code after them.
fn edited(runs: &[Run], reads: &[Read], latest: &HashMap<&str, usize>) -> Vec<Finding> {
    // (reader, producer, the producer's cell re-run) → the names read.
    let mut grouped: Vec<(Stale, Vec<&str>)> = Vec::new();
    for read in reads {
        let (run, from) = (&runs[read.run], &runs[read.from]);
        let (Some(cell_id), Some(from_cell)) = (&run.cell, &from.cell) else {
            continue;
        };
        if latest.get(cell_id.as_str()) != Some(&read.run) {
            continue;
        }
        let again = latest[from_cell.as_str()];
        if runs[again].seq > run.seq && runs[again].code != from.code {
            let key = (read.run, read.from, again);
            match grouped.iter_mut().find(|(k, _)| *k == key) {
                Some((_, names)) => names.push(&read.name),
                None => grouped.push((key, vec![&read.name])),
            }
        }
    }
    grouped
        .into_iter()
        .map(|((run, from, again), names)| {
            let names: Vec<String> = names.iter().map(|n| shown(n)).collect();
            let message = format!(
                "{} used {} from {}, but that cell was edited and re-run since ({}): {}'s \
                 result comes from code that is no longer in the notebook; re-run {}'s cell \
                 (or Run All) to bring it up to date",
                cell(runs[run].count),
                names.join(", "),
                cell(runs[from].count),
                cell(runs[again].count),
                cell(runs[run].count),
                cell(runs[run].count),
            );
            let involved = [runs[run].count, runs[from].count, runs[again].count];
            RULE.finding(message, involved.into_iter().flatten().collect())
        })
        .collect()
}

/// Circles between cells among the runs the current state rests on.
fn circles(runs: &[Run], reads: &[Read], latest: &HashMap<&str, usize>) -> Vec<Finding> {
    let mut by_run: HashMap<usize, Vec<&Read>> = HashMap::new();
    for read in reads {
        by_run.entry(read.run).or_default().push(read);
    }
    // The runs the current state rests on: each cell's latest, and what they read, transitively.
    let mut kept = vec![false; runs.len()];
    let mut todo: Vec<usize> = latest.values().copied().collect();
    while let Some(r) = todo.pop() {
        if std::mem::replace(&mut kept[r], true) {
            continue;
        }
        todo.extend(by_run.get(&r).into_iter().flatten().map(|read| read.from));
    }
    // The cell graph: cell -> (cell it read from, the read).
    let mut edges: HashMap<&str, Vec<(&str, &Read)>> = HashMap::new();
    for read in reads.iter().filter(|r| kept[r.run]) {
        let (Some(a), Some(b)) = (
            runs[read.run].cell.as_deref(),
            runs[read.from].cell.as_deref(),
        ) else {
            continue;
        };
        edges.entry(a).or_default().push((b, read));
    }
    let mut seen: BTreeSet<Vec<&str>> = BTreeSet::new();
    let mut findings = Vec::new();
    let mut starts: Vec<&str> = edges.keys().copied().collect();
    starts.sort_by_key(|c| runs[latest[c]].seq);
    for start in starts {
        let Some(path) = circle_through(start, &edges) else {
            continue;
        };
        let mut members: Vec<&str> = path
            .iter()
            .map(|r| runs[r.run].cell.as_deref().unwrap_or(""))
            .collect();
        members.sort_unstable();
        if !seen.insert(members) {
            continue;
        }
        let steps: Vec<String> = path
            .iter()
            .map(|r| {
                format!(
                    "{} read {} from {}",
                    cell(runs[r.run].count),
                    shown(&r.name),
                    cell(runs[r.from].count)
                )
            })
            .collect();
        let message = format!(
            "out-of-order execution: {}; these cells read values from each other in a circle, so \
             one of them read a value from a cell below it and Run All would fail or compute \
             something else; move each definition above the cells that use it, then Run All",
            steps.join(", ")
        );
        let involved = path
            .iter()
            .flat_map(|r| [runs[r.run].count, runs[r.from].count]);
        findings.push(RULE.finding(message, involved.flatten().collect()));
    }
    findings
}

/// A shortest circle of reads from cell `start` back to it (breadth first), if any.
fn circle_through<'a>(
    start: &'a str,
    edges: &HashMap<&'a str, Vec<(&'a str, &'a Read)>>,
) -> Option<Vec<&'a Read>> {
    let mut came: HashMap<&str, (&str, &Read)> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        for &(next, read) in edges.get(at).into_iter().flatten() {
            if next == start {
                let mut path = vec![read];
                let mut back = at;
                while back != start {
                    let (prev, r) = came[back];
                    path.push(r);
                    back = prev;
                }
                path.reverse();
                return Some(path);
            }
            if next != start && !came.contains_key(next) {
                came.insert(next, (at, read));
                queue.push_back(next);
            }
        }
    }
    None
}
