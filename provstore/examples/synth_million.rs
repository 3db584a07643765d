//! Builds the store of the "million" benchmarks: TRIALS trials holding EXECUTIONS executions in
//! all (1,000 and 1,000,000 by default), then checks it.
//!
//! ```text
//! cargo run --release -p provstore --example synth_million -- PATH [TRIALS EXECUTIONS PAIR]
//! ```
//!
//! Recording a million executions through the kernel's writer path takes far too long for a
//! benchmark, so the store is made in two steps:
//!
//! 1. **Recorded** through provstore's public write API, as a kernel would: `BASES` working
//!    sessions of synth_deps' 300-cell notebook (a [`Writer`] each; sizes 920, 940, … 1,060
//!    executions, each from its own seed, so each has its own order of cells, values and
//!    failures; `v150` tagged), later the diff pair of synth_diff (two trials of PAIR
//!    executions that differ in a few places) and last one more session whose size makes the
//!    total exact: the latest trial, which `provctl deps` reads by default.
//! 2. **Replicated**: the rest of the trials are copies of the recorded sessions, made by
//!    [`replicate`] in SQL (one statement per table), each with a new id, UUID, start time,
//!    message ids and execution ids, and its integer values shifted by the copy's number, so
//!    `provctl values VAR` across trials sees different values in every trial.
//!
//! Trial ids: the sessions 1..=BASES, their copies, then the diff pair (TRIALS-2, TRIALS-1),
//! then the latest session (TRIALS). Prints the build times and the checks: the counts, and a
//! copy's dependency answers, code and values compared with its recorded original's.

mod common;
#[path = "million/copies.rs"]
mod copies;

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use provstore::{NewTrial, OnProblem, Store, TrialStatus, Writer};
use rusqlite::{Connection, Transaction};

use common::deps_session::{cell, record, session};
use common::diff_session::record_pair;
use common::Rng;
use copies::{check_schema, COPIES};

/// Distinct sessions recorded through the writer, which the copies repeat.
const BASES: usize = 8;
/// Variables whose answers the checks compare between a copy and its original.
const CHECKED: [&str; 5] = ["v150", "v37", "df", "config", "v299"];

/// The size of recorded session `b`: 920, 940, … (990 on average, so 1,000 trials of
/// 1,000,000 executions leave the latest session a few thousand).
fn base_size(b: usize) -> usize {
    920 + 20 * b
}

/// How the store is laid out: the sizes of the recorded sessions, which base each copy
/// repeats, the diff pair's size and the latest session's.
struct Plan {
    bases: Vec<usize>,
    copies: Vec<usize>,
    pair: usize,
    latest: usize,
}

impl Plan {
    fn new(trials: usize, executions: usize, pair: usize) -> Result<Plan, String> {
        if trials < BASES + 3 {
            return Err(format!("need at least {} trials", BASES + 3));
        }
        let bases: Vec<usize> = (0..BASES).map(base_size).collect();
        let copies: Vec<usize> = (0..trials - BASES - 3).map(|k| k % BASES).collect();
        let sessions: usize =
            bases.iter().sum::<usize>() + copies.iter().map(|&b| bases[b]).sum::<usize>();
        let latest = executions
            .checked_sub(sessions + 2 * pair)
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                format!(
                    "{executions} executions are too few for {trials} trials \
                     ({sessions} in sessions and {} in the pair)",
                    2 * pair
                )
            })?;
        Ok(Plan {
            bases,
            copies,
            pair,
            latest,
        })
    }
}

/// Records one working session of `n` executions (seeded by `seed`) through a [`Writer`],
/// with `v150` tagged; returns the trial's id.
fn record_session(path: &Path, n: usize, seed: u64) -> Result<i64, String> {
    let mut rng = Rng(seed);
    let order = session(n, &mut rng);
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let on_problem: OnProblem = Box::new(|m| eprintln!("{m}"));
    let writer = Writer::start(path, NewTrial::for_this_process(&cwd), on_problem)
        .map_err(|e| e.to_string())?;
    writer.set_environment(Some("3.12.1".into()), Some("7.0.1".into()));
    for (i, c) in order.into_iter().enumerate() {
        let (code, fails) = cell(&mut rng, c);
        writer.record(record(i, c, code, fails));
    }
    if !writer.flush(Duration::from_secs(3600)) {
        return Err("the writer did not finish".into());
    }
    writer
        .tag_variable("v150", Some("key"))
        .map_err(|e| e.to_string())?;
    let trial = writer.trial().ok_or("the writer has no trial")?.id;
    writer.finish(TrialStatus::Finished);
    Ok(trial)
}

/// Copies trial `base` as a new trial (copy number `k`): every row it owns, with new ids above
/// every existing one, a new UUID and start times `k` × 100 ms later. Returns the new trial.
fn replicate(tx: &Transaction<'_>, base: i64, k: i64, uuid: &str) -> rusqlite::Result<i64> {
    let shift = format!("+{:.1} seconds", k as f64 * 0.1);
    tx.execute(
        "INSERT INTO trials (uuid, name, status, started_at, ended_at, notebook, cwd,
                             python_version, ipykernel_version, platform, hostname, pid, pid_start)
         SELECT ?1, NULL, status, strftime('%Y-%m-%dT%H:%M:%fZ', started_at, ?2),
                strftime('%Y-%m-%dT%H:%M:%fZ', ended_at, ?2), notebook, cwd, python_version,
                ipykernel_version, platform, hostname, pid, pid_start
         FROM trials WHERE id = ?3",
        (uuid, &shift, base),
    )?;
    let trial = tx.last_insert_rowid();
    let offset = |table: &str, of: &str| -> rusqlite::Result<i64> {
        tx.query_row(
            &format!(
                "SELECT COALESCE((SELECT MAX(id) FROM {table}), 0) + 1
                      - COALESCE((SELECT MIN(id) FROM {table} WHERE {of}), 0)"
            ),
            [base],
            |r| r.get(0),
        )
    };
    let exec = offset("executions", "trial_id = ?1")?;
    let output = offset(
        "outputs",
        "execution_id IN (SELECT id FROM executions WHERE trial_id = ?1)",
    )?;
    for copy in COPIES {
        let names: Vec<&str> = copy.columns.iter().map(|(c, _)| *c).collect();
        let exprs: Vec<&str> = copy.columns.iter().map(|(_, e)| *e).collect();
        // New ids in the original's order (readers order by them, e.g. a statement's names).
        // A view's ids are its rows' order within each execution.
        let order = match (names.contains(&"id"), copy.from) {
            (false, _) => "",
            (true, None) => " ORDER BY id",
            (true, Some(_)) => " ORDER BY execution_id, id",
        };
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}{order}",
            copy.table,
            names.join(", "),
            exprs.join(", "),
            copy.from.unwrap_or(copy.table),
            copy.rows
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        for (name, value) in [
            (":base", base),
            (":trial", trial),
            (":exec", exec),
            (":output", output),
            (":k", k),
        ] {
            if let Some(i) = stmt.parameter_index(name)? {
                stmt.raw_bind_parameter(i, value)?;
            }
        }
        if let Some(i) = stmt.parameter_index(":shift")? {
            stmt.raw_bind_parameter(i, &shift)?;
        }
        stmt.raw_execute()?;
    }
    Ok(trial)
}

/// Builds the whole store at `path` by `plan`; prints what each step took.
fn build(path: &Path, plan: &Plan) -> Result<(), String> {
    let started = Instant::now();
    let mut bases = Vec::new();
    for (b, &n) in plan.bases.iter().enumerate() {
        bases.push(record_session(path, n, 101 + b as u64)?);
    }
    let recorded = started.elapsed();
    println!(
        "recorded {} sessions ({} executions) through the writer in {:.1} s",
        bases.len(),
        plan.bases.iter().sum::<usize>(),
        recorded.as_secs_f64()
    );
    let copying = Instant::now();
    let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
    check_schema(&conn)?;
    let mut rng = Rng(77);
    // One transaction per hundred copies: fewer syncs, and a kill leaves whole trials only.
    for chunk in plan.copies.chunks(100).enumerate() {
        let (c, copies) = chunk;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        for (j, &b) in copies.iter().enumerate() {
            let k = (c * 100 + j + 1) as i64;
            replicate(&tx, bases[b], k, &rng.uuid()).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
    }
    drop(conn);
    println!(
        "replicated them into {} more trials ({} executions) in {:.1} s",
        plan.copies.len(),
        plan.copies.iter().map(|&b| plan.bases[b]).sum::<usize>(),
        copying.elapsed().as_secs_f64()
    );
    let last = Instant::now();
    let mut store = Store::open(path).map_err(|e| e.to_string())?;
    record_pair(&mut store, plan.pair)?;
    drop(store);
    record_session(path, plan.latest, 999)?;
    println!(
        "recorded the diff pair (2 x {}) and the latest session ({}) in {:.1} s",
        plan.pair,
        plan.latest,
        last.elapsed().as_secs_f64()
    );
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(|e| e.to_string())?;
    println!("built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Checks the built store: the counts, and copy `copy`'s answers against its recorded original
/// `base` (the same executions, code and dependencies; values shifted by the copy's number).
fn check(
    path: &Path,
    trials: usize,
    executions: usize,
    base: i64,
    copy: i64,
) -> Result<(), String> {
    let store = Store::open_existing(path).map_err(|e| e.to_string())?;
    let listed = store.trials().map_err(|e| e.to_string())?;
    let total: i64 = listed.iter().map(|t| t.executions).sum();
    if listed.len() != trials || total != executions as i64 {
        return Err(format!(
            "the store has {} trials and {total} executions, want {trials} and {executions}",
            listed.len()
        ));
    }
    let (a, b) = (
        store.trial(base).map_err(|e| e.to_string())?,
        store.trial(copy).map_err(|e| e.to_string())?,
    );
    if a.executions != b.executions || a.uuid == b.uuid {
        return Err(format!("trial {copy} is not a copy of {base}"));
    }
    let mut compared = 0;
    for var in CHECKED {
        let (Ok(want), Ok(got)) = (
            store.backwards_deps(base, var),
            store.backwards_deps(copy, var),
        ) else {
            continue;
        };
        let shape = |d: &provstore::DepsAnswer| -> Vec<_> {
            d.executions
                .iter()
                .map(|e| {
                    (
                        e.execution_count,
                        e.code.clone(),
                        e.defines.clone(),
                        e.uses.clone(),
                    )
                })
                .collect()
        };
        if shape(&want) != shape(&got) {
            return Err(format!(
                "deps {var}: trial {copy} answers unlike trial {base}"
            ));
        }
        compared += 1;
    }
    if compared == 0 {
        return Err(format!("no checked variable has an answer in trial {base}"));
    }
    let values = store.var_values("v150").map_err(|e| e.to_string())?;
    let of = |t: i64| -> Vec<String> {
        values
            .iter()
            .filter(|v| v.trial == t)
            .map(|v| v.value.to_string())
            .collect()
    };
    let (want, got) = (of(base), of(copy));
    if want.len() != got.len() || (!want.is_empty() && want == got) {
        return Err(format!(
            "values of v150: trial {copy} has {got:?}, its original {base} {want:?} (want as many, shifted)"
        ));
    }
    let diff = store.trial_diff(base, copy).map_err(|e| e.to_string())?;
    if diff.code.iter().any(|c| c.unified.is_some()) {
        return Err(format!("trial {copy} runs other code than trial {base}"));
    }
    println!(
        "checked: {trials} trials, {executions} executions; trial {copy} answers `deps` for {compared} variables \
         and runs the code of trial {base}, the trial it copies"
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| {
        args.get(i).map_or(Ok(default), |s| {
            s.parse::<usize>().map_err(|e| e.to_string())
        })
    };
    let (Some(path), Ok(trials), Ok(executions), Ok(pair)) = (
        args.first(),
        number(1, 1000),
        number(2, 1_000_000),
        number(3, 5000),
    ) else {
        eprintln!("usage: synth_million PATH [TRIALS EXECUTIONS PAIR]");
        return ExitCode::from(2);
    };
    let path = Path::new(path);
    let plan = match Plan::new(trials, executions, pair) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synth_million: {e}");
            return ExitCode::from(2);
        }
    };
    if path.exists() {
        eprintln!("synth_million: {} exists; give a new path", path.display());
        return ExitCode::from(2);
    }
    // The first copy is of session 1, a few trials on a copy of another session.
    let checks = build(path, &plan).and_then(|()| {
        check(path, trials, executions, 1, BASES as i64 + 1)?;
        check(path, trials, executions, 3, BASES as i64 + 3)
    });
    match checks {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth_million: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small store built the same way: the counts are exact, every copy answers like the
    /// session it copies (checked by [`check`]), the diff pair differs where synth_diff makes
    /// it differ, and values differ from trial to trial.
    #[test]
    fn a_small_store_is_built_and_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("prov.db");
        let plan = Plan::new(20, 30_000, 500).unwrap();
        assert_eq!(plan.copies.len(), 9);
        build(&db, &plan).unwrap();
        for k in 1..=plan.copies.len() as i64 {
            let copy = BASES as i64 + k;
            check(
                &db,
                20,
                30_000,
                plan.copies[k as usize - 1] as i64 + 1,
                copy,
            )
            .unwrap();
        }
        let store = Store::open_existing(&db).unwrap();
        let trials = store.trials().unwrap();
        let sizes: Vec<i64> = trials.iter().map(|t| t.executions).collect();
        assert_eq!(&sizes[17..], &[500, 500, plan.latest as i64]);
        let diff = store.trial_diff(18, 19).unwrap();
        let changed: Vec<&str> = diff
            .values
            .iter()
            .filter(|v| v.status == provstore::DiffStatus::Changed)
            .map(|v| v.name.as_str())
            .collect();
        assert!(changed.contains(&"p"), "{changed:?}");
        let values = store.var_values("v150").unwrap();
        let distinct: std::collections::HashSet<String> =
            values.iter().map(|v| v.value.to_string()).collect();
        assert!(distinct.len() > 20, "{distinct:?}");
        // A schema this generator does not know is refused, not copied in part.
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE extra (execution_id INTEGER)")
            .unwrap();
        assert!(check_schema(&conn).unwrap_err().contains("extra"));
    }

    #[test]
    fn too_few_executions_for_the_trials_are_refused() {
        assert!(Plan::new(20, 10_000, 500).is_err());
        assert!(Plan::new(5, 1_000_000, 500).is_err());
    }
}
