//! Opening a store and writing trials and executions into it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::dataflow_index::{self, LiveIndex};

mod open;
use crate::{
    process, timestamp, ExecStatus, ExecutionRecord, NewTrial, Result, StoreError, TrialHandle,
    TrialStatus,
};

/// Payloads larger than this (1 MiB) are recorded by hash and size only,
/// unless [`Store::set_payload_cap`] says otherwise: a notebook that plots a
/// huge image a thousand times should not fill the disk.
pub const DEFAULT_PAYLOAD_CAP: usize = 1 << 20;

/// How long a write waits for another process (another kernel, provctl)
/// holding the store's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open provenance store: one SQLite connection, migrated to
/// [`SCHEMA_VERSION`]. Writers (the kernel, through [`crate::Writer`]) and
/// readers (provctl, the magics) each open their own.
pub struct Store {
    pub(crate) conn: Connection,
    /// The live dataflow engine of the trial this store records, if any.
    pub(crate) live: std::cell::RefCell<Option<crate::dataflow_index::LiveIndex>>,
    path: PathBuf,
    payload_cap: usize,
    writable: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("payload_cap", &self.payload_cap)
            .field("writable", &self.writable)
            .finish()
    }
}

impl Store {
    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store could be opened for writing.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Sets the largest payload stored with its bytes; larger ones get only
    /// their hash and size recorded. The kernel sets it from
    /// `PROV_MAX_PAYLOAD`.
    pub fn set_payload_cap(&mut self, bytes: usize) {
        self.payload_cap = bytes;
    }

    /// The current payload cap in bytes (see [`Store::set_payload_cap`]).
    pub fn payload_cap(&self) -> usize {
        self.payload_cap
    }

    /// Wraps an SQLite error with this store's path, for messages that say
    /// which file is in trouble.
    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Starts a trial for a kernel process: status `running`, a fresh UUID,
    /// the next per-store id.
    pub fn begin_trial(&mut self, t: &NewTrial) -> Result<TrialHandle> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let pid_start = process::start_identity(t.pid);
        self.conn
            .execute(
                "INSERT INTO trials (uuid, status, started_at, notebook, cwd, platform, hostname, pid, pid_start)
                 VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    &uuid,
                    timestamp(t.started_at),
                    &t.notebook,
                    &t.cwd,
                    &t.platform,
                    &t.hostname,
                    i64::from(t.pid),
                    pid_start,
                ),
            )
            .map_err(|e| self.err(e))?;
        Ok(TrialHandle {
            id: self.conn.last_insert_rowid(),
            uuid,
        })
    }

    /// Records one finished execution of `trial` and returns its row id. The
    /// order within the trial is the next one for that trial, assigned here,
    /// so kernels sharing a store never collide.
    pub fn record_execution(&mut self, trial: i64, e: &ExecutionRecord) -> Result<i64> {
        let ids = self.record_executions(trial, std::slice::from_ref(e))?;
        Ok(ids[0])
    }

    /// Records several executions of `trial` and returns their row ids: the rows in one
    /// transaction (either all are written or none), then their dataflow index in a second.
    pub fn record_executions(
        &mut self,
        trial: i64,
        records: &[ExecutionRecord],
    ) -> Result<Vec<i64>> {
        let staged = self.store_executions(trial, records)?;
        let ids = staged.ids();
        self.index_executions(staged)?;
        Ok(ids)
    }

    /// The first half of [`Store::record_executions`]: commits the executions' rows and the
    /// facts their dataflow is derived from, and nothing else, so a waiting idle can go out
    /// before the slower index is written ([`crate::Writer`]). A process killed between the two
    /// halves loses no fact: the index is caught up from the stored rows on the next query.
    pub fn store_executions(
        &mut self,
        trial: i64,
        records: &[ExecutionRecord],
    ) -> Result<StagedExecutions> {
        let cap = self.payload_cap;
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut staged = StagedExecutions {
                trial,
                rows: Vec::with_capacity(records.len()),
            };
            for (i, e) in records.iter().enumerate() {
                let id = insert_execution(&tx, trial, e, cap)?;
                let input = e.dataflow.as_ref().map(|d| {
                    let input = dataflow_index::execution_input(
                        id,
                        e.execution_count,
                        e.cell_id.clone(),
                        &e.code,
                        e.status == ExecStatus::Error,
                        Some(&d.analysis),
                        d.runtime.as_deref(),
                        d.failed_line,
                    );
                    // A failed cell's runtime notes come with the next execution: wait for them.
                    let wait = e.status == ExecStatus::Error
                        && d.runtime.is_none()
                        && i + 1 == records.len();
                    (e.msg_id.clone(), input, wait)
                });
                staged.rows.push((id, input));
            }
            tx.commit()?;
            Ok(staged)
        })();
        result.map_err(|e| self.err(e))
    }

    /// The second half of [`Store::record_executions`]: adds executions already stored to the
    /// live dataflow engine and writes what it gained, in one transaction.
    pub fn index_executions(&mut self, staged: StagedExecutions) -> Result<()> {
        let trial = staged.trial;
        let live = self.live.get_mut();
        let caught_up = live.as_ref().is_none_or(|l| l.trial != trial);
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let index = live_for(&tx, live, trial)?;
            if caught_up {
                // Rebuilding the engine replayed every stored row, these included.
                tx.commit()?;
                return Ok(());
            }
            if let Some((_, input)) = index.pending.take() {
                dataflow_index::index_execution(&tx, trial, &mut index.flow, input)?;
            }
            for (_, input) in staged.rows {
                let Some((msg_id, input, wait)) = input else {
                    continue;
                };
                if wait {
                    index.pending = Some((msg_id, input));
                } else {
                    dataflow_index::index_execution(&tx, trial, &mut index.flow, input)?;
                }
            }
            tx.commit()
        })();
        if result.is_err() {
            // The engine may be ahead of what was rolled back: rebuild it from the store.
            *live = None;
        }
        result.map_err(|e| self.err(e))
    }

    /// Records the Python and ipykernel versions of a trial once the kernel
    /// learns them (from the child's `kernel_info_reply`). A None leaves the
    /// stored value as it is.
    pub fn set_trial_environment(
        &mut self,
        trial: i64,
        python: Option<&str>,
        ipykernel: Option<&str>,
    ) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE trials SET python_version = COALESCE(?2, python_version),
                                   ipykernel_version = COALESCE(?3, ipykernel_version)
                 WHERE id = ?1",
                (trial, python, ipykernel),
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(self.trial_not_found(&trial.to_string()));
        }
        Ok(())
    }

    /// Attaches the runtime probe's notes (JSON) to an execution already recorded: for a cell
    /// that failed, the probe answers only with the next successful execution.
    ///
    /// When that execution is the failed one the live dataflow engine is holding back, it
    /// enters the dependency graph now, with these notes.
    /// Only `trial`'s executions are looked at: a note naming another trial's request (a cell
    /// can plant anything in the probe) changes nothing there.
    pub fn set_runtime_facts(&mut self, trial: i64, msg_id: &str, runtime: &str) -> Result<()> {
        let live = self.live.get_mut();
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id: Option<i64> = tx
                .query_row(
                    "SELECT id FROM executions WHERE trial_id = ?1 AND msg_id = ?2
                     ORDER BY seq DESC LIMIT 1",
                    (trial, msg_id),
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else { return Ok(()) };
            tx.execute(
                "UPDATE execution_dataflow SET runtime = ?2 WHERE execution_id = ?1",
                (id, runtime),
            )?;
            let pending = live.as_ref().is_some_and(|l| {
                l.trial == trial && l.pending.as_ref().is_some_and(|(m, _)| m == msg_id)
            });
            if let (true, Some(index)) = (pending, live.as_mut()) {
                let (_, mut input) = index.pending.take().expect("checked above");
                input.runtime = dataflow_index::runtime_facts(runtime);
                dataflow_index::index_execution(&tx, index.trial, &mut index.flow, input)?;
            } else {
                // Already in the graph (or never to be): the values still count.
                dataflow_index::write_values(&tx, id)?;
            }
            tx.commit()
        })();
        if result.is_err() {
            *live = None;
        }
        result.map_err(|e| self.err(e))
    }

    /// The dataflow facts of a trial's executions, in execution order: what a trial's
    /// dependency graph is rebuilt from.
    pub fn dataflow_rows(&self, trial: i64) -> Result<Vec<crate::DataflowRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.id, e.execution_count, e.cell_id, c.text, d.analysis, d.runtime,
                        d.failed_line
                 FROM executions e
                 JOIN code c ON c.id = e.code_id
                 JOIN execution_dataflow d ON d.execution_id = e.id
                 WHERE e.trial_id = ?1 ORDER BY e.seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([trial], |r| {
                Ok(crate::DataflowRow {
                    execution_id: r.get(0)?,
                    execution_count: r.get(1)?,
                    cell_id: r.get(2)?,
                    code: r.get(3)?,
                    analysis: r.get(4)?,
                    runtime: r.get(5)?,
                    failed_line: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        drop(stmt);
        rows.map_err(|e| self.err(e))
    }

    /// Names a trial (`%trial_name NAME`). Names are unique per store; a
    /// trial may be renamed. Purely numeric names are refused, since `provctl
    /// show 3` must mean trial 3.
    pub fn set_trial_name(&mut self, trial: i64, name: &str) -> Result<(), StoreError> {
        validate_name(name)?;
        let result = (|| -> rusqlite::Result<Result<()>> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx
                .query_row("SELECT 1 FROM trials WHERE id = ?1", [trial], |_| Ok(()))
                .optional()?
                .is_some();
            if !exists {
                return Ok(Err(StoreError::TrialNotFound {
                    query: trial.to_string(),
                    available: String::new(),
                }));
            }
            let holder: Option<i64> = tx
                .query_row(
                    "SELECT id FROM trials WHERE name = ?1 AND id <> ?2",
                    (name, trial),
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = holder {
                return Ok(Err(StoreError::NameTaken {
                    name: name.to_string(),
                    trial: other,
                }));
            }
            tx.execute("UPDATE trials SET name = ?2 WHERE id = ?1", (trial, name))?;
            tx.commit()?;
            Ok(Ok(()))
        })();
        match result {
            Ok(Err(StoreError::TrialNotFound { query, .. })) => Err(self.trial_not_found(&query)),
            Ok(answer) => answer,
            Err(e) => Err(self.err(e)),
        }
    }

    /// Names `trial` `base`, or the first of `base, run 2`, `base, run 3`… not taken: for names a
    /// script gives each run of a notebook, which may repeat. Returns the name given. An
    /// invalid `base` is [`StoreError::InvalidName`].
    pub fn name_trial_uniquely(&mut self, trial: i64, base: &str) -> Result<String> {
        validate_name(base)?;
        let mut last = None;
        for n in 1..=1000 {
            let name = if n == 1 {
                base.to_string()
            } else {
                format!("{base}, run {n}")
            };
            match self.set_trial_name(trial, &name) {
                Ok(()) => return Ok(name),
                Err(e @ StoreError::NameTaken { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("the loop ran"))
    }

    /// Ends a trial: its status (normally `Finished`) and `ended_at` = now.
    pub fn end_trial(&mut self, trial: i64, status: TrialStatus) -> Result<()> {
        self.flush_live(trial)?;
        let ended = (status != TrialStatus::Running).then(|| timestamp(Utc::now()));
        let n = self
            .conn
            .execute(
                "UPDATE trials SET status = ?2, ended_at = ?3 WHERE id = ?1",
                (trial, status.as_str(), ended),
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(self.trial_not_found(&trial.to_string()));
        }
        Ok(())
    }

    /// Marks `crashed` every trial of this host still `running` whose kernel
    /// process is gone (pid dead, or reused by another process), with
    /// `ended_at` = the end of its last execution (its start if it has
    /// none). Returns the ids marked. Runs on every writable open.
    pub fn mark_crashed_trials(&mut self) -> Result<Vec<i64>> {
        let host = process::hostname();
        let result = (|| {
            let candidates: Vec<(i64, i64, Option<String>)> = {
                let mut stmt = self.conn.prepare(
                    "SELECT id, pid, pid_start FROM trials WHERE status = 'running' AND hostname = ?1",
                )?;
                let rows = stmt.query_map([&host], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let dead: Vec<i64> = candidates
                .into_iter()
                .filter(|(_, pid, start)| process::is_dead(*pid, start.as_deref()))
                .map(|(id, _, _)| id)
                .collect();
            if dead.is_empty() {
                return Ok(dead);
            }
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for id in &dead {
                tx.execute(
                    "UPDATE trials SET status = 'crashed',
                         ended_at = MAX(started_at, COALESCE(
                             (SELECT MAX(ended_at) FROM executions WHERE trial_id = ?1), started_at))
                     WHERE id = ?1 AND status = 'running'",
                    [id],
                )?;
            }
            tx.commit()?;
            Ok(dead)
        })();
        result.map_err(|e| self.err(e))
    }
}

/// Retries an operation that failed with `SQLITE_BUSY` outside the busy
/// handler's reach (switching to WAL while another process creates the same
/// new store), for up to [`BUSY_TIMEOUT`].
/// Checks that `name` can name a trial, with a reason when it cannot.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let reason = if name.trim().is_empty() {
        Some("it is empty")
    } else if name.trim() != name {
        Some("it starts or ends with white space")
    } else if name.chars().all(|c| c.is_ascii_digit()) {
        Some("it is a number, and numbers are trial ids (add a letter, e.g. \"run-3\")")
    } else if name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else if name.chars().count() > 200 {
        Some("it is longer than 200 characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Lowercase hex SHA-256: the content address of code and payloads.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Inserts one execution with its code and outputs inside `tx`.
/// The live engine for `trial`, built from the store when this `Store` has none for it yet
/// (a new trial starts empty; a reopened one is replayed, and its unindexed tail written).
/// Executions committed by [`Store::store_executions`], waiting for
/// [`Store::index_executions`].
#[derive(Debug)]
pub struct StagedExecutions {
    trial: i64,
    /// Each row id, with what its dataflow needs (None: the record had no dataflow).
    rows: Vec<(i64, Option<StagedInput>)>,
}

/// One staged execution's dataflow input: (msg_id, input, whether it waits for its notes).
type StagedInput = (String, pyflow::ExecutionInput, bool);

impl StagedExecutions {
    /// The row ids, in the order the records were given.
    pub fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|(id, _)| *id).collect()
    }
}

fn live_for<'a>(
    tx: &Transaction<'_>,
    live: &'a mut Option<LiveIndex>,
    trial: i64,
) -> rusqlite::Result<&'a mut LiveIndex> {
    if live.as_ref().is_none_or(|l| l.trial != trial) {
        let through = dataflow_index::indexed_through(tx, trial)?;
        let flow = dataflow_index::catch_up(tx, trial, through)?;
        *live = Some(LiveIndex {
            trial,
            flow,
            pending: None,
        });
    }
    Ok(live.as_mut().expect("set above"))
}

fn insert_execution(
    tx: &Transaction<'_>,
    trial: i64,
    e: &ExecutionRecord,
    cap: usize,
) -> rusqlite::Result<i64> {
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM executions WHERE trial_id = ?1")?
        .query_row([trial], |r| r.get(0))?;
    let code_id = upsert_code(tx, &e.code)?;
    let duration_ms = (e.ended_at - e.started_at)
        .num_microseconds()
        .map_or(0, |us| (us + 500).div_euclid(1000))
        .max(0);
    let traceback = e
        .error
        .as_ref()
        .map(|err| serde_json::to_string(&err.traceback).expect("a list of strings serializes"));
    tx.prepare_cached(
        "INSERT INTO executions (trial_id, seq, msg_id, execution_count, cell_id, code_id,
             started_at, ended_at, duration_ms, status, error_name, error_value, error_traceback,
             code_replaced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(rusqlite::params![
        trial,
        seq,
        e.msg_id,
        e.execution_count,
        e.cell_id,
        code_id,
        timestamp(e.started_at),
        timestamp(e.ended_at),
        duration_ms,
        e.status.as_str(),
        e.error.as_ref().map(|x| &x.ename),
        e.error.as_ref().map(|x| &x.evalue),
        traceback,
        e.code_replaced,
    ])?;
    let execution_id = tx.last_insert_rowid();
    if let Some(d) = &e.dataflow {
        let analysed;
        let analysis = if d.analysis.is_empty() {
            analysed = serde_json::to_string(&pyflow::analyze_cell(&e.code))
                .expect("an analysis serialises");
            &analysed
        } else {
            &d.analysis
        };
        tx.prepare_cached(
            "INSERT INTO execution_dataflow (execution_id, analysis, runtime, failed_line)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((execution_id, analysis, &d.runtime, d.failed_line))?;
    }
    for (i, out) in e.outputs.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO outputs (execution_id, seq, output_type, stream_name) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((execution_id, i as i64 + 1, &out.output_type, &out.name))?;
        let output_id = tx.last_insert_rowid();
        for (j, (mime, bytes)) in out.payloads.iter().enumerate() {
            let blob_id = upsert_blob(tx, bytes, cap)?;
            tx.prepare_cached(
                "INSERT INTO output_data (output_id, position, mime_type, blob_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((output_id, j as i64, mime, blob_id))?;
        }
    }
    Ok(execution_id)
}

/// The id of the `code` row holding `text`, inserting it if new.
fn upsert_code(tx: &Transaction<'_>, text: &str) -> rusqlite::Result<i64> {
    let sha = sha256_hex(text.as_bytes());
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM code WHERE sha256 = ?1")?
        .query_row([&sha], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO code (sha256, text) VALUES (?1, ?2)")?
        .execute((&sha, text))?;
    Ok(tx.last_insert_rowid())
}

/// The id of the `blobs` row for `bytes`, inserting it if new: with the
/// bytes when within `cap`, else hash and size only. A payload first seen
/// over the cap gets its bytes later if it shows up again under a larger cap.
fn upsert_blob(tx: &Transaction<'_>, bytes: &[u8], cap: usize) -> rusqlite::Result<i64> {
    let sha = sha256_hex(bytes);
    let keep = bytes.len() <= cap;
    let found: Option<(i64, bool)> = tx
        .prepare_cached("SELECT id, data IS NOT NULL FROM blobs WHERE sha256 = ?1")?
        .query_row([&sha], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match found {
        Some((id, has_data)) => {
            if keep && !has_data {
                tx.prepare_cached("UPDATE blobs SET data = ?2 WHERE id = ?1")?
                    .execute((id, bytes))?;
            }
            Ok(id)
        }
        None => {
            tx.prepare_cached("INSERT INTO blobs (sha256, size, data) VALUES (?1, ?2, ?3)")?
                .execute((&sha, bytes.len() as i64, keep.then_some(bytes)))?;
            Ok(tx.last_insert_rowid())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("baseline").is_ok());
        assert!(validate_name("run 3 (lr=0.1)").is_ok());
        for bad in ["", "  ", " x", "42", "a\nb"] {
            let err = validate_name(bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidName { .. }), "{bad:?}");
        }
        assert!(validate_name("42")
            .unwrap_err()
            .to_string()
            .contains("trial ids"));
    }
}
