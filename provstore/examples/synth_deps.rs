//! Writes a store holding one finished trial of N synthetic executions with
//! dataflow facts, through the kernel's own writer path (so the dependency
//! graph in the store is the one a real session would leave), then times
//! [`Store::backwards_deps`] on random current variables.
//!
//! ```text
//! cargo run --release -p provstore --example synth_deps -- PATH N [QUERIES]
//! ```
//!
//! When PATH exists, nothing is written: the queries are timed on its latest
//! trial. The trial is a long working session on a
//! notebook of 300 cells: setup cells (imports, `df = pd.read_csv(...)`, a
//! function), then cells that each define `v{c}` from one or two upstream
//! cells (mostly among the ten above, one read in ten anywhere above), with
//! lists and their mutation, dict keys, frame columns (`df['c7'] = ...`), a
//! temporary deleted in the same cell, augmented assignments of an upstream
//! variable, comprehensions, and a cell kind that fails at its second line one
//! run in three. The session runs the notebook once, then stretches of 1-15
//! consecutive cells, mostly near where the last stretch ended, sometimes
//! anywhere, and the whole notebook one stretch in fifty. Every third
//! execution has runtime notes. Deterministic (fixed seeds).
//!
//! (pyflow's own benchmark workload, where every cell reads names of the last
//! ~100 executions, makes each value depend on thousands of executions —
//! a chain through the whole session: answers of that size take about
//! 45 µs per execution here, mostly reading code and names to return them.)
//!
//! Prints the recording time, the replay time it saves, then median / p95 / max of `backwards_deps`
//! (the whole answer: walk, executions with code, defines/uses, statements
//! and values) on QUERIES (default 300) random current variables, the same
//! with opening the store first (what one `provctl deps` call does), the
//! answers' sizes, and checks 30 answers against a replay of the trial
//! through pyflow.

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use provstore::{NewTrial, OnProblem, Store, TrialStatus, Writer};

use common::deps_session::{cell, record, session};
use common::{ms, path_n_queries, stats, Rng};

fn main() -> ExitCode {
    let Some((path, n, queries)) = path_n_queries("synth_deps PATH N [QUERIES]", 300) else {
        return ExitCode::from(2);
    };
    let trial = if path.exists() {
        let store = Store::open_existing(&path).expect("an existing store");
        let trial = store.latest_trial().expect("readable").expect("a trial").id;
        println!(
            "{} exists: timing queries on its latest trial ({trial})",
            path.display()
        );
        trial
    } else {
        match write_trial(&path, n) {
            Some(trial) => trial,
            None => return ExitCode::FAILURE,
        }
    };
    query(&path, trial, queries)
}

/// Records the synthetic session through a [`Writer`]; returns the trial.
fn write_trial(path: &std::path::Path, n: usize) -> Option<i64> {
    let mut rng = Rng(11);
    let order = session(n, &mut rng);
    let cells: Vec<(String, bool, usize)> = order
        .iter()
        .map(|&c| {
            let (code, fails) = cell(&mut rng, c);
            (code, fails, c)
        })
        .collect();
    let cwd = std::env::current_dir().expect("a working directory");
    let started = Instant::now();
    let on_problem: OnProblem = Box::new(|m| eprintln!("{m}"));
    let writer = match Writer::start(path, NewTrial::for_this_process(&cwd), on_problem) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            return None;
        }
    };
    for (i, (code, fails, c)) in cells.into_iter().enumerate() {
        writer.record(record(i, c, code, fails));
    }
    if !writer.flush(Duration::from_secs(3600)) {
        eprintln!("the writer did not finish");
        return None;
    }
    let trial = writer.trial().expect("a trial").id;
    writer.finish(TrialStatus::Finished);
    let recording = started.elapsed();
    println!(
        "recorded {n} executions (analysis in the writer thread's caller, graph in the writer) in {:.1} s ({:.0} µs per execution)",
        recording.as_secs_f64(),
        recording.as_secs_f64() * 1e6 / n.max(1) as f64
    );
    Some(trial)
}

/// Times and checks the queries on `trial`.
fn query(path: &std::path::Path, trial: i64, queries: usize) -> ExitCode {
    let store = Store::open_existing(path).expect("the store");
    let (replay, replay_time) = {
        let t = Instant::now();
        let r = store.replay_dataflow(trial).expect("replay");
        (r, t.elapsed())
    };
    let variables = replay.variables();
    println!(
        "replaying the trial through pyflow (what the store's graph saves per query): {}; {} current variables",
        ms(replay_time),
        variables.len()
    );
    if variables.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut rng = Rng(5);
    let picks: Vec<&String> = (0..queries)
        .map(|_| &variables[rng.below(variables.len())])
        .collect();

    let t = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(store.trial(trial).expect("the trial"));
    }
    println!(
        "  of which Store::trial (the summary every answer carries): {}",
        ms(t.elapsed() / 100)
    );
    let mut times = Vec::new();
    let mut sizes = Vec::new();
    let mut statements = Vec::new();
    for var in &picks {
        let t = Instant::now();
        let answer = store
            .backwards_deps(trial, var)
            .expect("a current variable");
        times.push(t.elapsed());
        sizes.push(answer.executions.len());
        statements.push(
            answer
                .executions
                .iter()
                .map(|e| e.statements.len())
                .sum::<usize>(),
        );
    }
    let (med, p95, max) = stats(times);
    sizes.sort_unstable();
    statements.sort_unstable();
    let q = |v: &[usize], f: f64| v[((v.len() - 1) as f64 * f).round() as usize];
    println!(
        "Store::backwards_deps on {queries} random current variables: median {}, p95 {}, max {}   [target ≤ 20 ms]",
        ms(med),
        ms(p95),
        ms(max)
    );
    println!(
        "  answer size: executions median {}, p95 {}, max {}; statements median {}, p95 {}, max {}",
        q(&sizes, 0.5),
        q(&sizes, 0.95),
        q(&sizes, 1.0),
        q(&statements, 0.5),
        q(&statements, 0.95),
        q(&statements, 1.0)
    );

    let mut whole = Vec::new();
    for var in picks.iter().take(100) {
        let t = Instant::now();
        let s = Store::open_existing(path).expect("open");
        let t_id = s.resolve_trial(&trial.to_string()).expect("trial").id;
        let answer = s.backwards_deps(t_id, var).expect("answer");
        let json = serde_json::to_string(&answer).expect("json");
        std::hint::black_box(json);
        whole.push(t.elapsed());
    }
    let (med, p95, max) = stats(whole);
    println!(
        "open store + resolve trial + backwards_deps + JSON (one provctl deps, minus process start), 100 variables: median {}, p95 {}, max {}",
        ms(med),
        ms(p95),
        ms(max)
    );

    let t = Instant::now();
    let graph = store.dataflow_graph(trial).expect("the graph");
    println!(
        "Store::dataflow_graph (all {} executions, {} edges): {}",
        graph.executions.len(),
        graph.edges.len(),
        ms(t.elapsed())
    );

    for var in picks.iter().take(30) {
        let want: Vec<i64> = replay
            .backwards_deps(var)
            .expect("replay answers")
            .iter()
            .map(|d| d.exec.execution_id)
            .collect();
        let got: Vec<i64> = store
            .backwards_deps(trial, var)
            .expect("store answers")
            .executions
            .iter()
            .map(|e| e.execution_id)
            .collect();
        if want != got {
            eprintln!("MISMATCH for {var}: store {got:?} vs replay {want:?}");
            return ExitCode::FAILURE;
        }
    }
    println!("30 answers checked against the replay: identical");
    ExitCode::SUCCESS
}
