//! Times a trial's bundle both ways: `extract_trial` of trial TRIAL of the store at SOURCE,
//! then `absorb_trial` of that bundle into a new empty store, again (nothing to do), over an
//! earlier state of the trial (replaced), and, under
//! another UUID, into a copy of SOURCE (so every code, payload and shared list is found there by
//! its hash). Prints milliseconds and sizes; writes only under WORKDIR (must not exist).
//!
//! ```text
//! cargo run --release -p provstore --example synth_deps -- /tmp/s.db 5000 0
//! cargo run --release -p provstore --example bundle_timing -- /tmp/s.db 1 /tmp/timing
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use provstore::Store;

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let start = Instant::now();
    let value = f()?;
    println!(
        "{what:<48} {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(value)
}

fn run(source: &Path, trial: i64, work: &Path) -> Result<(), String> {
    let err = |e: provstore::StoreError| e.to_string();
    std::fs::create_dir(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let store = Store::open_existing(source).map_err(err)?;
    let executions = store.trial(trial).map_err(err)?.executions;
    println!(
        "trial {trial} of {}: {executions} executions",
        source.display()
    );
    let bundle = work.join("trial.prov");
    timed("extract_trial", || {
        store.extract_trial(trial, &bundle).map_err(err)
    })?;
    let size = std::fs::metadata(&bundle).map_err(|e| e.to_string())?.len();
    println!("bundle: {:.1} MB", size as f64 / 1e6);

    let empty = Store::open(&work.join("empty.db")).map_err(err)?;
    let added = timed("absorb_trial into an empty store (added)", || {
        empty.absorb_trial(&bundle, None).map_err(err)
    })?;
    timed("absorb_trial again (unchanged)", || {
        empty.absorb_trial(&bundle, None).map_err(err)
    })?;
    assert_eq!(
        empty.trial(added.trial_id).map_err(err)?.executions,
        executions
    );

    // An earlier state of the trial (its last execution not yet there), then the whole one.
    let earlier = work.join("earlier.prov");
    std::fs::copy(&bundle, &earlier).map_err(|e| e.to_string())?;
    rusqlite::Connection::open(&earlier)
        .and_then(|c| {
            c.execute(
                "DELETE FROM executions WHERE seq = (SELECT MAX(seq) FROM executions)",
                [],
            )
        })
        .map_err(|e| e.to_string())?;
    let pushed = Store::open(&work.join("pushed.db")).map_err(err)?;
    pushed.absorb_trial(&earlier, None).map_err(err)?;
    let replaced = timed("absorb_trial of the grown trial (replaced)", || {
        pushed.absorb_trial(&bundle, None).map_err(err)
    })?;
    assert_eq!(replaced.outcome, provstore::AbsorbOutcome::Replaced);

    // A store that has the same content under another trial: everything shared is found.
    let twin = work.join("twin.db");
    let conn = rusqlite::Connection::open(source).map_err(|e| e.to_string())?;
    conn.execute("VACUUM INTO ?1", [twin.to_string_lossy()])
        .map_err(|e| e.to_string())?;
    let twin_store = Store::open(&twin).map_err(err)?;
    twin_store
        .absorb_trial(&bundle, None)
        .map_err(err)
        .map(|a| println!("into a copy of the source: {:?}", a.outcome))?;
    let other = work.join("other.prov");
    empty.extract_trial(added.trial_id, &other).map_err(err)?;
    let renamed = work.join("renamed.prov");
    std::fs::copy(&other, &renamed).map_err(|e| e.to_string())?;
    rusqlite::Connection::open(&renamed)
        .and_then(|c| c.execute("UPDATE trials SET uuid = 'copy-' || uuid", []))
        .map_err(|e| e.to_string())?;
    timed("absorb_trial beside a trial of the same content", || {
        twin_store.absorb_trial(&renamed, None).map_err(err)
    })?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [source, trial, work] => trial
            .parse::<i64>()
            .ok()
            .map(|t| (PathBuf::from(source), t, PathBuf::from(work))),
        _ => None,
    };
    let Some((source, trial, work)) = parsed else {
        eprintln!("usage: bundle_timing SOURCE TRIAL WORKDIR");
        return ExitCode::from(2);
    };
    match run(&source, trial, &work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bundle_timing: {e}");
            ExitCode::FAILURE
        }
    }
}
