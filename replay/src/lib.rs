//! `provreplay`: re-executes a recorded trial in a fresh kernel and reports, execution by
//! execution, what reproduced (`provctl replay`).
//!
//! The replay is a small Jupyter client (`client.rs`) of a kernel it starts itself
//! (`kernel.rs`: the kernelspec by name, a connection file on free local TCP ports with a
//! fresh key, the source trial's working folder, the same store as `$PROV_DB`,
//! `$PROV_REPLAY_OF` = the source's UUID so the kernel records the new trial as its replay,
//! and a unique `$PROV_TRIAL_NAME` to name it in `%trial_diff`). Before anything starts,
//! `plan.rs` picks the executions (recorded order, up to `--until`, aborted ones left out) and
//! refuses a replay whose input files are gone. `session.rs` sends each execution's code with
//! its cell id and waits for its reply and idle (prov-kernel holds the idle until the
//! execution is in the store), every wait with a deadline. Both trials are then in the store:
//! `compare.rs` judges each pair (pure), `cause.rs` explains the first divergence from the
//! trial diff, `verdict.rs` assembles the [`ReplayReport`].

use std::path::Path;

use provstore::{ReplayReport, Store, StoreError, TrialSummary};

mod cause;
mod client;
mod compare;
mod kernel;
mod numbers;
mod options;
mod plan;
mod session;
mod verdict;

pub use options::Options;

/// Why a replay did not produce a report.
#[derive(Debug)]
pub enum ReplayError {
    /// The request cannot be met as asked (no such `In[n]`, a bad option): exit status 2.
    Usage(String),
    /// The replay cannot start or finish (files gone, no kernelspec, a dead kernel while
    /// starting, nothing recorded): exit status 1.
    Failed(String),
    /// The store could not be read.
    Store(StoreError),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Usage(m) | ReplayError::Failed(m) => f.write_str(m),
            ReplayError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for ReplayError {
    fn from(e: StoreError) -> ReplayError {
        ReplayError::Store(e)
    }
}

/// Replays trial `source` of the store at `db` and reports what reproduced.
pub fn replay(db: &Path, source: i64, options: &Options) -> Result<ReplayReport, ReplayError> {
    if !(options.tolerance >= 0.0 && options.tolerance.is_finite()) {
        return Err(ReplayError::Usage(format!(
            "--tolerance must be a number 0 or above, not {}",
            options.tolerance
        )));
    }
    let until = match &options.until {
        None => None,
        Some(text) => Some(plan::parse_cell(text).ok_or_else(|| {
            ReplayError::Usage(format!("--until takes In[n] or n, not {text:?}"))
        })?),
    };
    let store = Store::open_existing(db)?;
    let trial = store.trial(source)?;
    let db = store.path().to_path_buf();
    let executions = store.replayed_executions(trial.id)?;
    let plan = plan::plan(&executions, until)
        .map_err(|e| ReplayError::Usage(format!("cannot replay trial {}: {e}", trial.id)))?;
    let cwd = Path::new(&trial.cwd);
    if !cwd.is_dir() {
        return Err(ReplayError::Failed(format!(
            "cannot replay trial {}: its working folder {} is gone",
            trial.id, trial.cwd
        )));
    }
    let gone = plan::gone_inputs(&store.file_accesses(trial.id)?, &plan, |p| {
        Path::new(p).exists()
    });
    if !gone.is_empty() {
        let files: Vec<String> = gone
            .iter()
            .map(|(path, n)| format!("{path} (read by {})", cause::cell(*n)))
            .collect();
        return Err(ReplayError::Failed(format!(
            "cannot replay trial {}: it read {} that {} gone: {}",
            trial.id,
            if files.len() == 1 { "a file" } else { "files" },
            if files.len() == 1 { "is" } else { "are" },
            files.join(", ")
        )));
    }
    let name = match &options.name {
        Some(n) => {
            if store.resolve_trial(n).is_ok() {
                return Err(ReplayError::Usage(format!(
                    "cannot name the replay {n:?}: a trial is called that already (an id, a \
                     name or a UUID); choose another --name"
                )));
            }
            n.clone()
        }
        None => free_name(&store, &trial)?,
    };
    let before = store.latest_trial()?.map_or(0, |t| t.id);
    drop(store);

    let launch = kernel::Launch {
        kernel: &options.kernel,
        cwd,
        db: &db,
        replay_of: &trial.uuid,
        name: &name,
        notebook: trial.notebook.as_deref(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ReplayError::Failed(format!("cannot start the replay's runtime: {e}")))?;
    let ran = runtime
        .block_on(session::session(&launch, &plan.run, options))
        .map_err(|e| ReplayError::Failed(format!("cannot replay trial {}: {e}", trial.id)))?;

    let store = Store::open_existing(&db)?;
    let replay = find_replay(&store, &trial, before, ran.pid)?.ok_or_else(|| {
        ReplayError::Failed(format!(
            "kernel `{}` recorded no trial in {}: a replay needs a kernel that records \
             provenance (python-prov) into the same store",
            options.kernel,
            db.display()
        ))
    })?;
    let recorded = store.replayed_executions(replay.id)?;
    let diff = store.trial_diff(trial.id, replay.id)?;
    Ok(verdict::report(&verdict::Material {
        source_trial: trial.id,
        replay_trial: replay.id,
        replay_name: replay.name,
        tolerance: options.tolerance,
        planned: &plan.run,
        outcomes: &ran.outcomes,
        recorded: &recorded,
        not_replayed: plan.not_replayed.clone(),
        inputs: &diff.inputs,
        environment: &diff.environment,
    }))
}

/// `replay-of-<name or id>`, else with `-2`, `-3`… until no trial has it.
fn free_name(store: &Store, trial: &TrialSummary) -> Result<String, ReplayError> {
    let of: String = match &trial.name {
        Some(n) => n
            .chars()
            .map(|c| {
                if c.is_whitespace() || c == ',' {
                    '-'
                } else {
                    c
                }
            })
            .collect(),
        None => trial.id.to_string(),
    };
    let base = format!("replay-of-{of}");
    for n in 1..=10_000 {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        match store.resolve_trial(&name) {
            Err(StoreError::TrialNotFound { .. }) => return Ok(name),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
    }
    Ok(format!("{base}-{}", uuid::Uuid::new_v4().simple()))
}

/// The trial the replay's kernel recorded: a replay of `source` begun after trial `before`,
/// the one of the kernel's pid when there is one.
fn find_replay(
    store: &Store,
    source: &TrialSummary,
    before: i64,
    pid: Option<u32>,
) -> Result<Option<TrialSummary>, ReplayError> {
    let replays: Vec<(i64, i64)> = store
        .replays_of(&source.uuid)?
        .into_iter()
        .filter(|(id, _)| *id > before)
        .collect();
    let ours = replays
        .iter()
        .find(|(_, p)| pid.is_some_and(|pid| i64::from(pid) == *p))
        .or(replays.first());
    match ours {
        Some((id, _)) => Ok(Some(store.trial(*id)?)),
        None => Ok(None),
    }
}
