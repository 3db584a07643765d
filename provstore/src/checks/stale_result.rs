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
//!
//! Live (after each execution, when warnings are on): the findings that execution causes. An
//! edited cell re-run is the `again` of every "edited and re-run" finding about the readers
//! of its earlier runs (found through the index of a cell's runs and the readers of those
//! runs); a circle is one that starts with the execution's own reads and comes back to its
//! cell, searched only among what it read, transitively, since its cell's first run.

use std::collections::{BTreeSet, HashMap};

use super::rule::{cell, Executed, Finding, Rule, Severity};
use crate::{is_file_name, Result, Store, TrialSummary};

/// The rule.
pub(super) static RULE: Rule = Rule {
    id: "stale-result",
    severity: Severity::Warning,
    help: "a cell's result rests on code since edited and re-run, or on an order Run All would not repeat",
    example: "In[1] x = 1; In[2] y = x * 2; In[3] (the first cell, edited) x = 2",
    find,
    live: Some(live),
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
        "SELECT id, seq, execution_count, cell_id, code_id FROM executions
          WHERE trial_id = ?1 ORDER BY seq",
        [trial.id],
        run_row,
    )?;
    let reads = store.rows(
        "SELECT d.execution_id, d.depends_on_id, d.name FROM dependencies d
           JOIN executions e ON e.id = d.execution_id
          WHERE e.trial_id = ?1 ORDER BY e.seq, d.name",
        [trial.id],
        read_row,
    )?;
    let (runs, reads) = cross_cell(runs, reads);
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

/// A row `id, seq, execution_count, cell_id, code_id` of `executions`.
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Run)> {
    Ok((
        r.get(0)?,
        Run {
            seq: r.get(1)?,
            count: r.get(2)?,
            cell: r.get(3)?,
            code: r.get(4)?,
        },
    ))
}

/// A row `execution_id, depends_on_id, name` of `dependencies`.
fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

/// The runs (by store id, in order) and their reads between two different cells, as indexes
/// into the runs; reads of runs not among them are left out.
fn cross_cell(runs: Vec<(i64, Run)>, reads: Vec<(i64, i64, String)>) -> (Vec<Run>, Vec<Read>) {
    let index: HashMap<i64, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let runs: Vec<Run> = runs.into_iter().map(|(_, r)| r).collect();
    let reads = reads
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
    (runs, reads)
}

/// The runs execution `?1` of trial `?2` read from, transitively, back to seq `?3`. CROSS JOIN
/// keeps SQLite's order (each run's reads by index, then their runs by id): left to itself it
/// scans the trial's runs since `?3` at every step.
const UPSTREAM: &str = "WITH RECURSIVE up(id) AS (
         VALUES (?1)
         UNION SELECT d.depends_on_id FROM up
           CROSS JOIN dependencies d ON d.execution_id = up.id
           CROSS JOIN executions e ON e.id = d.depends_on_id
          WHERE e.trial_id = ?2 AND e.seq >= ?3
     )";

/// What a reader read from one earlier run of a cell re-run with other code.
struct StaleRead {
    /// The reader's and the earlier run's store ids.
    runs: (i64, i64),
    /// Their `In[n]`.
    counts: (Option<i64>, Option<i64>),
    /// The names read, as shown.
    names: Vec<String>,
}

/// The findings execution `x` causes: the readers of its cell's earlier runs with other code,
/// and a circle through its own reads.
fn live(store: &Store, x: &Executed) -> Result<Vec<Finding>> {
    let Some(cell_id) = x.cell.as_deref() else {
        return Ok(Vec::new());
    };
    // Reads of the cell's earlier runs by the latest run of another cell.
    let reads = store.rows(
        "SELECT r.id, p.id, r.execution_count, p.execution_count, d.name
           FROM executions p
           JOIN dependencies d ON d.depends_on_id = p.id
           JOIN executions r ON r.id = d.execution_id
          WHERE p.trial_id = ?1 AND p.cell_id = ?2 AND p.seq < ?3 AND p.code_id <> ?4
            AND r.cell_id IS NOT NULL AND r.cell_id <> ?2 AND r.seq < ?3
            AND NOT EXISTS (SELECT 1 FROM executions l
                             WHERE l.trial_id = ?1 AND l.cell_id = r.cell_id AND l.seq > r.seq)
          ORDER BY r.seq, p.seq, d.name",
        (x.trial, cell_id, x.seq, x.code_id),
        |r| {
            Ok(StaleRead {
                runs: (r.get(0)?, r.get(1)?),
                counts: (r.get(2)?, r.get(3)?),
                names: vec![shown(&r.get::<_, String>(4)?)],
            })
        },
    )?;
    let mut grouped: Vec<StaleRead> = Vec::new();
    for read in reads {
        match grouped.iter_mut().find(|g| g.runs == read.runs) {
            Some(group) => group.names.extend(read.names),
            None => grouped.push(read),
        }
    }
    let mut findings: Vec<Finding> = grouped
        .into_iter()
        .map(|g| edited_finding(g.counts.0, &g.names, g.counts.1, x.count))
        .collect();
    findings.extend(live_circle(store, x, cell_id)?);
    Ok(findings)
}

/// A circle of reads that starts with `x`'s own and comes back to its cell. Reads only go to
/// earlier runs, so none before its cell's first run can lead back to it: the search stops
/// there.
fn live_circle(store: &Store, x: &Executed, cell_id: &str) -> Result<Option<Finding>> {
    let first = store.row_opt(
        "SELECT MIN(seq) FROM executions WHERE trial_id = ?1 AND cell_id = ?2 AND seq < ?3",
        (x.trial, cell_id, x.seq),
        |r| r.get::<_, Option<i64>>(0),
    )?;
    let Some(first) = first.flatten() else {
        return Ok(None); // the cell's first run: no earlier run of it to come back to
    };
    let runs = store.rows(
        &format!(
            "{UPSTREAM} SELECT e.id, e.seq, e.execution_count, e.cell_id, e.code_id
               FROM up JOIN executions e ON e.id = up.id ORDER BY e.seq"
        ),
        (x.id, x.trial, first),
        run_row,
    )?;
    let reads = store.rows(
        &format!(
            "{UPSTREAM} SELECT d.execution_id, d.depends_on_id, d.name
               FROM up CROSS JOIN dependencies d ON d.execution_id = up.id ORDER BY d.name"
        ),
        (x.id, x.trial, first),
        read_row,
    )?;
    let (runs, reads) = cross_cell(runs, reads);
    let Some(own) = runs.iter().position(|r| r.seq == x.seq) else {
        return Ok(None);
    };
    // Out of `x`'s cell only `x`'s own reads: a circle through the cell's earlier runs alone
    // was there before `x`.
    let mut edges: HashMap<&str, Vec<(&str, &Read)>> = HashMap::new();
    for read in &reads {
        let (Some(a), Some(b)) = (
            runs[read.run].cell.as_deref(),
            runs[read.from].cell.as_deref(),
        ) else {
            continue;
        };
        if a != cell_id || read.run == own {
            edges.entry(a).or_default().push((b, read));
        }
    }
    Ok(circle_through(cell_id, &edges).map(|path| circle_finding(&runs, &path)))
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
            edited_finding(runs[run].count, &names, runs[from].count, runs[again].count)
        })
        .collect()
}

/// "`reader` used `names` from `from`, but that cell was edited and re-run since (`again`)".
fn edited_finding(
    reader: Option<i64>,
    names: &[String],
    from: Option<i64>,
    again: Option<i64>,
) -> Finding {
    let message = format!(
        "{} used {} from {}, but that cell was edited and re-run since ({}): {}'s \
         result comes from code that is no longer in the notebook; re-run {}'s cell \
         (or Run All) to bring it up to date",
        cell(reader),
        names.join(", "),
        cell(from),
        cell(again),
        cell(reader),
        cell(reader),
    );
    RULE.finding(
        message,
        [reader, from, again].into_iter().flatten().collect(),
    )
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
        findings.push(circle_finding(runs, &path));
    }
    findings
}

/// The finding for a circle of reads between cells.
fn circle_finding(runs: &[Run], path: &[&Read]) -> Finding {
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
    RULE.finding(message, involved.flatten().collect())
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

#[cfg(test)]
mod tests {
    use super::UPSTREAM;

    #[test]
    fn the_upstream_walk_follows_reads_by_index_never_scanning_the_trial() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("prov.db")).unwrap();
        let plan: Vec<String> = store
            .rows(
                &format!("EXPLAIN QUERY PLAN {UPSTREAM} SELECT id FROM up"),
                (1, 1, 1),
                |r| r.get(3),
            )
            .unwrap();
        let steps: Vec<&String> = plan
            .iter()
            .filter(|p| p.contains(" d ") || p.contains(" e "))
            .collect();
        assert_eq!(steps.len(), 2, "{plan:?}");
        assert!(steps[0].contains("dependencies_by_execution"), "{plan:?}");
        assert!(steps[1].contains("PRIMARY KEY"), "{plan:?}");
    }
}
