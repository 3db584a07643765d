//! Recording executions: their rows first, then their dataflow index (two transactions, so
//! a waiting idle pays only for the first; see [`Store::store_executions`]). A batch of light
//! executions (a `pass`, a short cell: see [`LIGHT_STATEMENTS`]) is indexed in its rows' own
//! transaction instead: its index costs less than a second commit.

use std::sync::Arc;

use pyflow::CellAnalysis;
use rusqlite::{Connection, OptionalExtension};

#[cfg(test)]
mod tests;

use super::code_facts::{self, CodeAnalyses};
use super::{sha256_hex, Store};
use crate::dataflow_index::{self, Indexable, LiveIndex};
use crate::{timestamp, ExecStatus, ExecutionRecord, Result};

/// An execution whose code's analysis has at most this many statements, and whose probe
/// notes at most [`LIGHT_NOTE`] bytes, is indexed with its rows: its index is a few rows
/// (often only the trial's `dataflow_indexed`), less work than the commit a second
/// transaction costs. Anything larger keeps its index off the idle's path.
const LIGHT_STATEMENTS: usize = 16;

/// See [`LIGHT_STATEMENTS`].
const LIGHT_NOTE: usize = 4096;

impl Store {
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
        let mut kept = self.analyses.borrow_mut();
        let mut live = self.live.borrow_mut();
        // A failed light index must not cost the rows: the transaction is tried once more
        // without it (the engine is dropped then, so the second try stages them only).
        loop {
            let mut tried_light = false;
            let result = self.write(|tx| {
                let mut staged = StagedExecutions {
                    trial,
                    rows: Vec::with_capacity(records.len()),
                    indexed: false,
                };
                for (i, e) in records.iter().enumerate() {
                    let (id, shared) = insert_execution(tx, trial, e, cap, &mut kept)?;
                    let input = e.dataflow.as_ref().map(|d| {
                        let input = Unbuilt {
                            id,
                            execution_count: e.execution_count,
                            cell_id: e.cell_id.clone(),
                            failed: e.status == ExecStatus::Error,
                            analysis: shared.ok_or_else(|| (d.analysis.clone(), e.code.clone())),
                            runtime: d.runtime.clone(),
                            failed_line: d.failed_line,
                        };
                        // A failed cell's runtime notes come with the next execution: wait for them.
                        let wait = e.status == ExecStatus::Error
                            && d.runtime.is_none()
                            && i + 1 == records.len();
                        (e.msg_id.clone(), input, wait)
                    });
                    staged.rows.push((id, input));
                }
                // Only into an engine already built for this trial (building one replays the
                // trial) and caught up with what was stored before.
                if let Some(index) = live.as_mut().filter(|l| l.trial == trial) {
                    let light = staged
                        .rows
                        .iter()
                        .all(|(_, i)| i.as_ref().is_none_or(is_light));
                    if light && !index.behind {
                        tried_light = true;
                        index_rows(tx, index, &mut staged)?;
                        staged.indexed = true;
                    }
                }
                Ok(staged)
            });
            match &result {
                Ok(staged) if !staged.indexed => {
                    if let Some(index) = live.as_mut().filter(|l| l.trial == trial) {
                        index.behind = true;
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    // The code rows the kept analyses stand for may have been rolled back, and the
                    // engine may be ahead of what was.
                    kept.clear();
                    *live = None;
                    if tried_light {
                        continue;
                    }
                }
            }
            return result;
        }
    }

    /// The second half of [`Store::record_executions`]: adds executions already stored to the
    /// live dataflow engine and writes what it gained, in one transaction.
    pub fn index_executions(&mut self, staged: StagedExecutions) -> Result<()> {
        let trial = staged.trial;
        let mut live = self.live.borrow_mut();
        let caught_up = live.as_ref().is_none_or(|l| l.trial != trial);
        let mut staged = staged;
        if staged.indexed && !caught_up {
            // Indexed with their rows already (light): no transaction.
            return Ok(());
        }
        let result = self.write(|tx| {
            let index = live_for(tx, &mut live, trial)?;
            if caught_up {
                // Rebuilding the engine replayed every stored row, these included.
                return Ok(());
            }
            index_rows(tx, index, &mut staged)?;
            index.behind = false;
            Ok(())
        });
        if result.is_err() {
            // The engine may be ahead of what was rolled back: rebuild it from the store.
            *live = None;
        }
        result
    }
}

/// Whether a staged execution is indexed with its rows (see [`LIGHT_STATEMENTS`]).
fn is_light(input: &StagedInput) -> bool {
    let (_, unbuilt, _) = input;
    let statements = match &unbuilt.analysis {
        Ok(shared) => shared.statements.len(),
        // The execution's own analysis, as JSON: parsing it is the engine's larger part.
        Err(_) => return false,
    };
    statements <= LIGHT_STATEMENTS
        && unbuilt
            .runtime
            .as_ref()
            .is_none_or(|n| n.len() <= LIGHT_NOTE)
}

/// Adds the staged executions to the live engine and writes what it gained, inside `tx`: first
/// the failed execution held back for its notes (they did not come before the next one), then
/// these in order, the last held back in turn when it failed without notes. Takes the inputs,
/// so a later [`Store::index_executions`] of the same executions has nothing left to do.
fn index_rows(
    tx: &Connection,
    index: &mut LiveIndex,
    staged: &mut StagedExecutions,
) -> rusqlite::Result<()> {
    let trial = index.trial;
    if let Some((_, input)) = index.pending.take() {
        dataflow_index::index_execution(tx, trial, &mut index.flow, input)?;
    }
    for (_, input) in &mut staged.rows {
        let Some((msg_id, input, wait)) = input.take() else {
            continue;
        };
        let input = input.build();
        if wait {
            index.pending = Some((msg_id, input));
        } else {
            dataflow_index::index_execution(tx, trial, &mut index.flow, input)?;
        }
    }
    Ok(())
}

/// Executions committed by [`Store::store_executions`], waiting for
/// [`Store::index_executions`].
#[derive(Debug)]
pub struct StagedExecutions {
    trial: i64,
    /// Each row id, with what its dataflow needs (None: the record had no dataflow).
    rows: Vec<(i64, Option<StagedInput>)>,
    /// Whether they were indexed in their rows' transaction (light: see [`LIGHT_STATEMENTS`]).
    indexed: bool,
}

/// One staged execution's dataflow input: (msg_id, input, whether it waits for its notes).
type StagedInput = (String, Unbuilt, bool);

/// What an execution's dataflow input is made from, made into it only when the index is
/// written, so the idle waiting for the execution's rows does not wait for that too.
#[derive(Debug)]
struct Unbuilt {
    id: i64,
    execution_count: Option<i64>,
    cell_id: Option<String>,
    failed: bool,
    /// The code's analysis, or the execution's own (JSON) with its code.
    analysis: std::result::Result<Arc<CellAnalysis>, (String, String)>,
    runtime: Option<String>,
    failed_line: Option<i64>,
}

impl Unbuilt {
    fn build(self) -> Indexable {
        let shared = self.analysis.is_ok();
        let analysis = match self.analysis {
            Ok(a) => CellAnalysis::clone(&a),
            Err((own, code)) => dataflow_index::parse_analysis(Some(&own), &code),
        };
        let note = self.runtime.as_deref().and_then(dataflow_index::parse_note);
        Indexable {
            input: dataflow_index::execution_input(
                self.id,
                self.execution_count,
                self.cell_id,
                self.failed,
                analysis,
                note.as_ref(),
                self.failed_line,
            ),
            shared,
            note,
            // Stored just now by this writer, never indexed.
            fresh: true,
        }
    }
}

impl StagedExecutions {
    /// The row ids, in the order the records were given.
    pub fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|(id, _)| *id).collect()
    }

    /// How many executions wait for their index.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether none does.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds executions of the same trial staged after these, so one
    /// [`Store::index_executions`] indexes both as two calls in a row would: a failed
    /// execution last in these no longer waits for its notes (the next one is here, and
    /// indexing it first took it out of waiting before).
    pub fn append(&mut self, later: StagedExecutions) {
        debug_assert_eq!(self.trial, later.trial, "one trial's executions");
        if let Some((_, Some((_, _, wait)))) = self.rows.last_mut() {
            *wait = false;
        }
        self.rows.extend(later.rows);
        self.indexed &= later.indexed;
    }
}

/// The live engine for `trial`, built from the store when this `Store` has none for it yet
/// (a new trial starts empty; a reopened one is replayed, and its unindexed tail written).
fn live_for<'a>(
    tx: &Connection,
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
            behind: false,
        });
    }
    Ok(live.as_mut().expect("set above"))
}

/// Inserts one execution with its code and outputs inside `tx`. Returns its id and, when its
/// analysis is its code's (`code_analysis`, see [`code_facts`]), that analysis.
fn insert_execution(
    tx: &Connection,
    trial: i64,
    e: &ExecutionRecord,
    cap: usize,
    kept: &mut CodeAnalyses,
) -> rusqlite::Result<(i64, Option<Arc<CellAnalysis>>)> {
    // `CAST`: with a bare `?1` SQLite's planner looks at the bound value, so each new binding
    // (the statement cache clears them) made it parse and plan this statement again, the
    // writer's largest single cost per execution. Same index, same answer.
    let seq: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM executions WHERE trial_id = CAST(?1 AS INTEGER)",
        )?
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
    let mut shared = None;
    if let Some(d) = &e.dataflow {
        // No analysis given: the code's, analysed once per code and referred to by an empty one.
        let own = if d.analysis.is_empty() {
            shared = code_facts::code_analysis(tx, kept, code_id, &e.code)?;
            match &shared {
                Some(_) => String::new(),
                None => serde_json::to_string(&pyflow::analyze_cell(&e.code))
                    .expect("an analysis serialises"),
            }
        } else {
            d.analysis.clone()
        };
        tx.prepare_cached(
            "INSERT INTO execution_dataflow (execution_id, analysis, runtime, failed_line)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((
            execution_id,
            own,
            d.runtime.as_deref().map(crate::note::stored),
            d.failed_line,
        ))?;
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
    Ok((execution_id, shared))
}

/// The id of the `code` row holding `text`, inserting it if new.
fn upsert_code(tx: &Connection, text: &str) -> rusqlite::Result<i64> {
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
fn upsert_blob(tx: &Connection, bytes: &[u8], cap: usize) -> rusqlite::Result<i64> {
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
