//! Opening a store and writing trials and executions into it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpointer;
use crate::dataflow_index;

mod code_facts;
mod open;
mod record;
mod sql;

use crate::{process, timestamp, NewTrial, Result, StoreError, TrialHandle, TrialStatus};
pub(crate) use code_facts::ANALYSIS_SQL;
pub(crate) use open::file_uri;
pub use record::StagedExecutions;

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
    /// The thread checkpointing this connection's WAL, once asked for
    /// ([`Store::checkpoint_in_background`]).
    pub(crate) checkpointer: Option<crate::checkpoint::Checkpointer>,
    /// The live dataflow engine of the trial this store records, if any.
    pub(crate) live: std::cell::RefCell<Option<crate::dataflow_index::LiveIndex>>,
    /// The analyses of the codes recorded last (the writer's; see `code_facts`).
    analyses: std::cell::RefCell<code_facts::CodeAnalyses>,
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
    /// Moves this connection's WAL checkpoints to a thread of their own (`checkpoint.rs`): for
    /// the kernel's writer, whose commits an idle waits for. On error nothing changed and
    /// SQLite's automatic checkpoint stays on.
    pub fn checkpoint_in_background(&mut self) -> Result<()> {
        if self.checkpointer.is_some() {
            return Ok(());
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| self.err(e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| self.err(e))?;
        let checkpointer = Checkpointer::start(conn).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            action: "start the checkpoint thread for",
            source,
        })?;
        let hook = checkpointer.hook();
        self.conn.wal_hook(Some(hook)).map_err(|e| self.err(e))?;
        self.checkpointer = Some(checkpointer);
        Ok(())
    }

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
        self.execute(
            "INSERT INTO trials (uuid, status, started_at, notebook, cwd, platform, hostname, pid, pid_start,
                                 user_name)
             VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            (
                &uuid,
                timestamp(t.started_at),
                &t.notebook,
                &t.cwd,
                &t.platform,
                &t.hostname,
                i64::from(t.pid),
                pid_start,
                &t.user,
            ),
        )?;
        Ok(TrialHandle {
            id: self.conn.last_insert_rowid(),
            uuid,
        })
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
        let n = self.execute(
            "UPDATE trials SET python_version = COALESCE(?2, python_version),
                               ipykernel_version = COALESCE(?3, ipykernel_version)
             WHERE id = ?1",
            (trial, python, ipykernel),
        )?;
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
        let mut live = self.live.borrow_mut();
        let result = self.write(|tx| {
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
                (id, crate::note::stored(runtime)),
            )?;
            let pending = live.as_ref().is_some_and(|l| {
                l.trial == trial && l.pending.as_ref().is_some_and(|(m, _)| m == msg_id)
            });
            if let (true, Some(index)) = (pending, live.as_mut()) {
                let (_, mut item) = index.pending.take().expect("checked above");
                item.note = dataflow_index::parse_note(runtime);
                item.input.runtime = item.note.as_ref().and_then(dataflow_index::note_facts);
                dataflow_index::index_execution(tx, index.trial, &mut index.flow, item)?;
            } else {
                // Already in the graph (or never to be): the values still count.
                dataflow_index::write_values(tx, id)?;
            }
            Ok(())
        });
        if result.is_err() {
            *live = None;
        }
        result
    }

    /// The dataflow facts of a trial's executions, in execution order: what a trial's
    /// dependency graph is rebuilt from.
    pub fn dataflow_rows(&self, trial: i64) -> Result<Vec<crate::DataflowRow>> {
        self.dataflow_rows_of("e.trial_id = ?1", [trial])
    }

    /// The dataflow facts of execution `execution` and of every execution it read from,
    /// transitively (the `dependencies` rows), in execution order: what one execution's result
    /// rests on, without reading the rest of its trial.
    pub(crate) fn dataflow_rows_upstream_of(
        &self,
        execution: i64,
    ) -> Result<Vec<crate::DataflowRow>> {
        self.dataflow_rows_of(
            "e.id IN (WITH RECURSIVE up(id) AS (
                 VALUES (?1)
                 UNION SELECT d.depends_on_id
                   FROM up CROSS JOIN dependencies d ON d.execution_id = up.id
             ) SELECT id FROM up)",
            [execution],
        )
    }

    fn dataflow_rows_of(
        &self,
        which: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<crate::DataflowRow>> {
        self.rows(
            &format!(
                "SELECT e.id, e.execution_count, e.cell_id, c.text, {ANALYSIS_SQL}, d.runtime,
                    d.failed_line
             FROM executions e
             JOIN code c ON c.id = e.code_id
             JOIN execution_dataflow d ON d.execution_id = e.id
             WHERE {which} ORDER BY e.seq"
            ),
            params,
            |r| {
                Ok(crate::DataflowRow {
                    execution_id: r.get(0)?,
                    execution_count: r.get(1)?,
                    cell_id: r.get(2)?,
                    code: r.get(3)?,
                    analysis: r.get(4)?,
                    runtime: crate::note::read(r.get_ref(5)?)?,
                    failed_line: r.get(6)?,
                })
            },
        )
    }

    /// Names a trial (`%trial_name NAME`). Names are unique per store; a
    /// trial may be renamed. Purely numeric names are refused, since `provctl
    /// show 3` must mean trial 3.
    pub fn set_trial_name(&mut self, trial: i64, name: &str) -> Result<(), StoreError> {
        validate_name(name)?;
        let answer = self.write(|tx| -> rusqlite::Result<Result<()>> {
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
            Ok(Ok(()))
        })?;
        match answer {
            Err(StoreError::TrialNotFound { query, .. }) => Err(self.trial_not_found(&query)),
            answer => answer,
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
        let n = self.execute(
            "UPDATE trials SET status = ?2, ended_at = ?3 WHERE id = ?1",
            (trial, status.as_str(), ended),
        )?;
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
        let candidates: Vec<(i64, i64, Option<String>)> = self.rows(
            "SELECT id, pid, pid_start FROM trials WHERE status = 'running' AND hostname = ?1",
            [&host],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let dead: Vec<i64> = candidates
            .into_iter()
            .filter(|(_, pid, start)| process::is_dead(*pid, start.as_deref()))
            .map(|(id, _, _)| id)
            .collect();
        if dead.is_empty() {
            return Ok(dead);
        }
        self.write(|tx| {
            for id in &dead {
                tx.execute(
                    "UPDATE trials SET status = 'crashed',
                         ended_at = MAX(started_at, COALESCE(
                             (SELECT MAX(ended_at) FROM executions WHERE trial_id = ?1), started_at))
                     WHERE id = ?1 AND status = 'running'",
                    [id],
                )?;
            }
            Ok(())
        })?;
        Ok(dead)
    }
}

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
