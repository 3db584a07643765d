//! Making a trial's stored dependency graph complete before a query walks it: the failed cell
//! the live engine holds back, and a tail no writer indexed (a trial from before schema v3, or
//! one whose writer was killed between storing executions and indexing them).

use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, TransactionBehavior};

use crate::dataflow_index;
use crate::{Result, Store, StoreError, TrialStatus, TrialSummary};

/// How long a query waits for the writer of a running trial to index what it stored (it
/// takes milliseconds; a writer that is stuck longer is answered around).
const WRITER_WAIT: Duration = Duration::from_secs(2);

impl Store {
    /// Makes sure the trial's graph in the store is complete enough to answer: indexes the
    /// failed execution this `Store`'s live engine holds back, and catches up a trial that
    /// was recorded before schema v3 (or whose writer died before indexing its tail).
    pub(crate) fn prepare_dataflow(&self, trial: &TrialSummary) -> Result<()> {
        let id = trial.id;
        if self.flush_live(id)? {
            return Ok(());
        }
        if trial.status == TrialStatus::Running {
            self.wait_for_writer(id)?;
        }
        let indexed = self.read(|conn| {
            if !self.needs_catch_up(trial)? {
                return Ok(true);
            }
            if !self.is_writable() {
                return Ok(false);
            }
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            if self.needs_catch_up(trial)? {
                let through = dataflow_index::indexed_through(&tx, id)?;
                dataflow_index::catch_up(&tx, id, through)?;
            }
            tx.commit()?;
            Ok(true)
        })?;
        if indexed {
            return Ok(());
        }
        Err(StoreError::Unavailable {
            path: self.path().to_path_buf(),
            reason: format!(
                "trial {id} was recorded before dependencies were indexed, and the store \
                     is read-only; open it once with write access (e.g. provctl deps as the \
                 store's owner) to index it"
            ),
        })
    }

    /// Indexes the failed execution this `Store`'s live engine holds back for `trial`, if any.
    /// Returns whether this `Store` is the live writer of `trial`.
    pub(crate) fn flush_live(&self, trial: i64) -> Result<bool> {
        let mut live = self.live.borrow_mut();
        let Some(index) = live.as_mut().filter(|l| l.trial == trial) else {
            return Ok(false);
        };
        let Some((_, input)) = index.pending.take() else {
            return Ok(true);
        };
        let result =
            self.write(|tx| dataflow_index::index_execution(tx, trial, &mut index.flow, input));
        if result.is_err() {
            *live = None;
        }
        result.map(|()| true)
    }

    /// Waits (at most [`WRITER_WAIT`]) for the writer of a running trial to index what it has
    /// stored: it commits an execution's rows, releases its idle, then indexes it, so a query
    /// sent the moment a cell went idle would otherwise answer without that cell. A failed
    /// last execution waiting for its runtime notes is not waited for (its writer holds it
    /// back until the next execution).
    fn wait_for_writer(&self, trial: i64) -> Result<()> {
        let started = Instant::now();
        loop {
            let lagging = self.read(|conn| {
                let Some(through) = dataflow_index::indexed_through(conn, trial)? else {
                    return Ok(false);
                };
                conn.prepare_cached(
                    "SELECT 1 FROM executions e JOIN execution_dataflow d ON d.execution_id = e.id
                     WHERE e.trial_id = ?1 AND e.id > ?2
                         AND NOT (e.status = 'error' AND d.runtime IS NULL
                             AND e.seq = (SELECT MAX(seq) FROM executions WHERE trial_id = ?1))
                     LIMIT 1",
                )?
                .query_row((trial, through), |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
            })?;
            if !lagging || started.elapsed() >= WRITER_WAIT {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Whether the trial has executions with dataflow facts beyond what is indexed (a running
    /// trial that has an index belongs to its writer, which indexes it itself).
    fn needs_catch_up(&self, trial: &TrialSummary) -> rusqlite::Result<bool> {
        let through = dataflow_index::indexed_through(&self.conn, trial.id)?;
        if through.is_some() && trial.status == TrialStatus::Running {
            return Ok(false);
        }
        let through = through.unwrap_or(i64::MIN);
        // The last execution, by the (trial_id, seq) index: usually the one indexed last.
        let last: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM executions WHERE trial_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([trial.id], |r| r.get(0))
            .optional()?;
        if last.is_none_or(|last| last <= through) {
            return Ok(false);
        }
        self.conn
            .prepare_cached(
                "SELECT 1 FROM executions e JOIN execution_dataflow d ON d.execution_id = e.id
                 WHERE e.trial_id = ?1 AND e.id > ?2 LIMIT 1",
            )?
            .query_row((trial.id, through), |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
    }
}
