//! Keeping a trial's dependency graph in the store (schema v3), so queries
//! walk indexes instead of replaying the trial through pyflow.
//!
//! The writer's [`crate::Store`] owns a live [`pyflow::Dataflow`] for the
//! trial it records ([`LiveIndex`]). Each recorded execution goes through
//! [`pyflow::Dataflow::add_execution_delta`] in the same transaction as its
//! row, and the delta is written down: versions (`dataflow_versions`, with
//! `current`), statement → statement reads (`dataflow_reads`), producing
//! statements' positions (`dataflow_statements`), the per-execution summary
//! (`execution_names`, `dependencies`), and `dataflow_indexed.through_id`. A file's content
//! from outside the trial is a version of kind `external` whose statement is negative
//! ([`external_statement`]; the crate's SCHEMA docs, version 7).
//!
//! A failed execution whose runtime notes have not arrived is held back
//! (the probe answers for a failed cell only with the next execution): it is
//! indexed when its notes arrive ([`crate::Store::set_runtime_facts`]), when
//! the next execution is recorded, or before a query on the same `Store`,
//! whichever comes first. Notes arriving later still reach
//! `execution_dataflow` (and the values shown), not the graph.
//!
//! Trials recorded before v3 (or whose tail was not indexed because their
//! writer died) are caught up on the first query, by replaying the stored
//! rows: that needs a writable store; a read-only one answers
//! [`crate::StoreError::Unavailable`] for such a trial. Running trials with an
//! index row are left to their writer.

/// `dataflow_versions.kind` of a change assumed rather than known.
pub(crate) const ASSUMED_KIND: &str = "assumed";

/// `dataflow_versions.kind` of a file's content that came from outside the trial.
pub(crate) const EXTERNAL_KIND: &str = "external";

/// The statement number that stands for "outside the trial, as the execution's file access
/// `k` saw it" (`file_accesses.seq = k`): negative, so no walk takes it for a statement, and
/// `-1 - statement` gives the access back.
pub(crate) fn external_statement(k: usize) -> i64 {
    -1 - k as i64
}

use std::collections::{BTreeSet, HashSet};

use rusqlite::{Connection, OptionalExtension};

use crate::role::Role;
use crate::store::ANALYSIS_SQL;

use pyflow::{CellAnalysis, Dataflow, ExecutionDelta, ExecutionInput, RuntimeFacts};

/// The live engine of the trial a `Store` writes.
#[derive(Debug)]
pub(crate) struct LiveIndex {
    pub(crate) trial: i64,
    pub(crate) flow: Dataflow,
    /// A failed execution waiting for its runtime notes: (msg_id, input).
    pub(crate) pending: Option<(String, Indexable)>,
    /// Whether executions were stored and not indexed yet: later ones must wait for them, so
    /// none is indexed with its rows (`store/record.rs`) until they are.
    pub(crate) behind: bool,
}

/// An execution ready for the engine.
#[derive(Debug)]
pub(crate) struct Indexable {
    pub(crate) input: ExecutionInput,
    /// Whether its analysis is its code's (schema v6): its statements' positions are then
    /// those of the code (`code_statements`), not rows of its own.
    pub(crate) shared: bool,
    /// The probe's note, parsed once: `input.runtime` was made from it, and its values and
    /// files are written from it.
    pub(crate) note: Option<serde_json::Value>,
    /// Whether it has no index rows yet (the writer's own, indexed once): nothing to replace,
    /// so none of the deletes a re-index needs.
    pub(crate) fresh: bool,
}

/// The stored facts of one execution, as read back.
pub(crate) struct StoredRow {
    pub(crate) execution_id: i64,
    pub(crate) execution_count: Option<i64>,
    pub(crate) cell_id: Option<String>,
    pub(crate) code: String,
    pub(crate) status: String,
    pub(crate) analysis: Option<String>,
    /// Whether the analysis is its code's (`code_analysis`).
    pub(crate) shared: bool,
    pub(crate) runtime: Option<String>,
    pub(crate) failed_line: Option<i64>,
}

/// The probe's note as JSON; None when it does not parse (skipped, like anything malformed).
pub(crate) fn parse_note(json: &str) -> Option<serde_json::Value> {
    serde_json::from_str(json).ok()
}

/// The probe's notes (`{"bound": [[name, id, info]], "deleted": [names]}`) as pyflow facts
/// (ids, deletions, and the types in `info`). The probe sends both in every note, empty when no
/// name changed (which the engine uses: a `try` binding it did not see did not happen); a note
/// with neither (from an older probe: only summaries or packages) says nothing about bindings:
/// None, as when there was no note, so the engine falls back on the static analysis.
pub(crate) fn note_facts(v: &serde_json::Value) -> Option<RuntimeFacts> {
    if v.get("bound").is_none() && v.get("deleted").is_none() {
        return None;
    }
    let entries: &[serde_json::Value] = v
        .get("bound")
        .and_then(|b| b.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let bound = entries
        .iter()
        .filter_map(|e| {
            let e = e.as_array()?;
            let name = e.first()?.as_str()?.to_string();
            let id = e.get(1)?.as_u64()?;
            Some((name, id))
        })
        .collect();
    let deleted = v
        .get("deleted")
        .and_then(|d| d.as_array())
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // The type each bound value had (`info["type"]`), so pyflow knows which
    // values cannot change in place.
    let types = entries
        .iter()
        .filter_map(|e| {
            let name = e.get(0)?.as_str()?.to_string();
            let kind = e.get(2)?.get("type")?.as_str()?.to_string();
            Some((name, kind))
        })
        .collect();
    Some(RuntimeFacts {
        bound,
        deleted,
        types,
        files: crate::files::file_facts(v),
    })
}

/// A stored analysis (JSON) as pyflow's, or the code analysed afresh when there is none, it
/// does not parse, or an older pyflow made it.
pub(crate) fn parse_analysis(analysis: Option<&str>, code: &str) -> CellAnalysis {
    analysis
        .and_then(|a| serde_json::from_str::<CellAnalysis>(a).ok())
        .filter(|a| a.analysis_version >= pyflow::ANALYSIS_VERSION)
        .unwrap_or_else(|| pyflow::analyze_cell(code))
}

/// The engine's input for an execution, from what the store keeps (`note`: the probe's,
/// parsed).
pub(crate) fn execution_input(
    execution_id: i64,
    execution_count: Option<i64>,
    cell_id: Option<String>,
    failed: bool,
    analysis: CellAnalysis,
    note: Option<&serde_json::Value>,
    failed_line: Option<i64>,
) -> ExecutionInput {
    let failed_at_statement = failed_line
        .and_then(|l| usize::try_from(l).ok())
        .and_then(|l| pyflow::statement_at_line(&analysis, l));
    ExecutionInput {
        execution_id,
        execution_count,
        cell_id,
        failed_at_statement,
        runtime: note.and_then(note_facts),
        failed,
        analysis,
    }
}

impl StoredRow {
    /// What the engine takes of this row; `fresh` when it has no index rows to replace.
    pub(crate) fn input(&self, fresh: bool) -> Indexable {
        let note = self.runtime.as_deref().and_then(parse_note);
        Indexable {
            input: execution_input(
                self.execution_id,
                self.execution_count,
                self.cell_id.clone(),
                self.status == "error",
                parse_analysis(self.analysis.as_deref(), &self.code),
                note.as_ref(),
                self.failed_line,
            ),
            shared: self.shared,
            note,
            fresh,
        }
    }
}

/// The executions of a trial with dataflow facts, in order, after `after_id`. (`CAST`: see
/// `store/record.rs`, the planner would look at the bound trial id and plan again each time.)
pub(crate) fn stored_rows(
    conn: &Connection,
    trial: i64,
    after_id: i64,
) -> rusqlite::Result<Vec<StoredRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, e.execution_count, e.cell_id, c.text, e.status, {ANALYSIS_SQL},
                d.runtime, d.failed_line, d.analysis = ''
         FROM executions e
         JOIN code c ON c.id = e.code_id
         JOIN execution_dataflow d ON d.execution_id = e.id
         WHERE e.trial_id = CAST(?1 AS INTEGER) AND e.id > ?2 ORDER BY e.seq"
    ))?;
    let rows = stmt.query_map((trial, after_id), |r| {
        Ok(StoredRow {
            execution_id: r.get(0)?,
            execution_count: r.get(1)?,
            cell_id: r.get(2)?,
            code: r.get(3)?,
            status: r.get(4)?,
            analysis: r.get(5)?,
            runtime: crate::note::read(r.get_ref(6)?)?,
            failed_line: r.get(7)?,
            shared: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// How far a trial is indexed: None when it never was (recorded before v3).
pub(crate) fn indexed_through(conn: &Connection, trial: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT through_id FROM dataflow_indexed WHERE trial_id = ?1")?
        .query_row([trial], |r| r.get(0))
        .optional()
}

/// Rebuilds a trial's engine from its stored rows, writing down the deltas of
/// the executions after `through` (all of them for None). Returns the engine.
pub(crate) fn catch_up(
    conn: &Connection,
    trial: i64,
    through: Option<i64>,
) -> rusqlite::Result<Dataflow> {
    let mut flow = Dataflow::new();
    let start = through.unwrap_or(i64::MIN);
    for row in stored_rows(conn, trial, i64::MIN)? {
        let item = row.input(false);
        if row.execution_id > start {
            add_and_write(conn, trial, &mut flow, item)?;
        } else {
            flow.add_execution(item.input);
        }
    }
    conn.prepare_cached(
        "INSERT INTO dataflow_indexed (trial_id, through_id)
         VALUES (?1, COALESCE(
             (SELECT MAX(id) FROM executions WHERE trial_id = CAST(?1 AS INTEGER)), 0))
         ON CONFLICT (trial_id) DO UPDATE SET through_id = excluded.through_id",
    )?
    .execute([trial])?;
    Ok(flow)
}

/// Adds one execution to the live engine and writes its delta.
pub(crate) fn index_execution(
    conn: &Connection,
    trial: i64,
    flow: &mut Dataflow,
    item: Indexable,
) -> rusqlite::Result<()> {
    let id = item.input.execution_id;
    add_and_write(conn, trial, flow, item)?;
    conn.prepare_cached(
        "INSERT INTO dataflow_indexed (trial_id, through_id) VALUES (?1, ?2)
         ON CONFLICT (trial_id) DO UPDATE SET through_id = MAX(through_id, excluded.through_id)",
    )?
    .execute((trial, id))?;
    Ok(())
}

/// Adds one execution to the engine and writes what it gained: its delta, its values and
/// files; the rows an earlier index wrote for it replaced, unless it is fresh.
fn add_and_write(
    conn: &Connection,
    trial: i64,
    flow: &mut Dataflow,
    item: Indexable,
) -> rusqlite::Result<()> {
    let id = item.input.execution_id;
    if !item.fresh {
        crate::shared_lists::forget_lists(conn, id)?;
        crate::note_values::forget_values(conn, id)?;
    }
    let analysis = (!item.shared).then(|| item.input.analysis.clone());
    let delta = flow.add_execution_delta(item.input);
    let named = write_delta(conn, trial, id, analysis.as_ref(), &delta)?;
    // The names it defined or mutated, as just written: its values need no query for them.
    let defined = crate::note_values::Defined::Known(
        named
            .iter()
            .filter(|(_, role)| matches!(role, Role::Defined | Role::Mutated))
            .map(|(name, _)| name.as_str())
            .collect(),
    );
    crate::note_values::write_note_values(conn, id, item.note.as_ref(), defined, || {
        analysis_of(conn, id)
    })
}

/// Rewrites `captured_values` and `file_accesses` of execution `id` from its stored runtime
/// notes (they changed: late notes of a failed cell), and adds the packages they name to
/// `trial_packages` of its trial: see [`crate::note_values::write_note_values`].
pub(crate) fn write_values(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    let runtime: Option<String> = conn
        .prepare_cached("SELECT runtime FROM execution_dataflow WHERE execution_id = ?1")?
        .query_row([id], |r| crate::note::read(r.get_ref(0)?))
        .optional()?
        .flatten();
    crate::note_values::forget_values(conn, id)?;
    let note = runtime.as_deref().and_then(parse_note);
    crate::note_values::write_note_values(
        conn,
        id,
        note.as_ref(),
        crate::note_values::Defined::Stored,
        || analysis_of(conn, id),
    )
}

/// The analysis of execution `id` (its own, else its code's), to place a line in a statement.
fn analysis_of(conn: &Connection, id: i64) -> rusqlite::Result<Option<pyflow::CellAnalysis>> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(&format!(
            "SELECT c.text, {ANALYSIS_SQL}
               FROM executions e
               JOIN code c ON c.id = e.code_id
               JOIN execution_dataflow d ON d.execution_id = e.id
              WHERE e.id = ?1"
        ))?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(code, analysis)| parse_analysis(analysis.as_deref(), &code)))
}

/// Writes what the graph gained from execution `id`; its statements' positions only when it
/// has an `analysis` of its own (else its code's `code_statements` hold them). Returns the
/// names it touched, with their roles, as written.
fn write_delta(
    conn: &Connection,
    trial: i64,
    id: i64,
    analysis: Option<&CellAnalysis>,
    delta: &ExecutionDelta,
) -> rusqlite::Result<Vec<(String, Role)>> {
    let retired: Vec<i64> = delta.retired.iter().map(|&v| v as i64).collect();
    crate::shared_lists::retire_versions(conn, trial, &retired)?;
    let mut versions: Vec<crate::shared_lists::NewVersion> =
        Vec::with_capacity(delta.versions.len());
    let mut named: Vec<(String, Role)> = Vec::new();
    // What `named` holds, for a look-up per name instead of a scan (a cell may touch
    // thousands).
    let mut seen: HashSet<(String, Role)> = HashSet::new();
    for v in &delta.versions {
        if let Some(k) = v.external {
            // A file's content from outside: made by no statement, touched by no execution.
            versions.push((
                v.version as i64,
                v.symbol.base.to_string(),
                v.symbol.base.to_string(),
                external_statement(k),
                EXTERNAL_KIND,
                v.current,
            ));
            continue;
        }
        let kind = if v.mutation {
            Role::Mutated
        } else {
            Role::Defined
        };
        let symbol = v.symbol.to_string();
        // An assumed change (`clean(df)`, a callee on no list) is kept apart
        // so answers can say it is an assumption (`deps/assumed.rs`).
        let version_kind = if v.assumed.is_some() {
            ASSUMED_KIND
        } else {
            kind.as_str()
        };
        versions.push((
            v.version as i64,
            v.symbol.base.to_string(),
            symbol.clone(),
            v.statement as i64,
            version_kind,
            v.current,
        ));
        if seen.insert((symbol.clone(), kind)) {
            named.push((symbol, kind));
        }
    }
    // "used" is what came from earlier executions (a value made in the same cell is not a
    // dependency), as the answers' `uses` promise.
    for (_, u) in &delta.flow.depends_on {
        let symbol = u.to_string();
        if seen.insert((symbol.clone(), Role::Used)) {
            named.push((symbol, Role::Used));
        }
    }
    for d in &delta.flow.deletes {
        named.push((d.to_string(), Role::Deleted));
    }
    crate::shared_lists::write_versions(conn, trial, id, &versions)?;
    crate::shared_lists::write_names(conn, id, &named)?;
    let mut dep = conn.prepare_cached(
        "INSERT INTO dependencies (execution_id, depends_on_id, name) VALUES (?1, ?2, ?3)",
    )?;
    for (on, symbol) in &delta.flow.depends_on {
        dep.execute((id, on, symbol.to_string()))?;
    }
    let mut statement = conn.prepare_cached(
        "INSERT OR IGNORE INTO dataflow_statements
             (execution_id, statement, line_start, line_end, byte_start, byte_end)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for &s in analysis.map_or(&[][..], |_| &delta.statements) {
        let span = analysis.and_then(|a| a.statements.get(s));
        statement.execute(rusqlite::params![
            id,
            s as i64,
            span.map(|f| f.line_start as i64),
            span.map(|f| f.line_end as i64),
            span.map(|f| f.byte_start as i64),
            span.map(|f| f.byte_end as i64),
        ])?;
    }
    // Reads of earlier executions are rows of their own; reads within the execution are a
    // list shared with every execution whose statements read each other the same way.
    let mut read = conn.prepare_cached(
        "INSERT INTO dataflow_reads (execution_id, statement, dep_execution_id, dep_statement, symbol)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut outer: BTreeSet<(i64, i64, i64, String)> = BTreeSet::new();
    let mut inner: BTreeSet<(i64, i64, String)> = BTreeSet::new();
    for r in &delta.reads {
        let dep_statement = match r.external {
            Some(k) => external_statement(k),
            None => r.dep_statement as i64,
        };
        let statement = r.statement as i64;
        if r.dep_execution_id == id {
            inner.insert((statement, dep_statement, r.symbol.to_string()));
        } else {
            outer.insert((
                statement,
                r.dep_execution_id,
                dep_statement,
                r.symbol.to_string(),
            ));
        }
    }
    for (statement, dep_execution_id, dep_statement, symbol) in &outer {
        read.execute((id, statement, dep_execution_id, dep_statement, symbol))?;
    }
    crate::shared_lists::write_inner_reads(conn, id, &inner.into_iter().collect::<Vec<_>>())?;
    Ok(named)
}
