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
}

/// An execution ready for the engine.
#[derive(Debug)]
pub(crate) struct Indexable {
    pub(crate) input: ExecutionInput,
    /// Whether its analysis is its code's (schema v6): its statements' positions are then
    /// those of the code (`code_statements`), not rows of its own.
    pub(crate) shared: bool,
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

/// The probe's notes (`{"bound": [[name, id, info]], "deleted": [names]}`) as pyflow facts
/// (ids, deletions, and the types in `info`). The probe sends both in every note, empty when no
/// name changed (which the engine uses: a `try` binding it did not see did not happen); a note
/// with neither (from an older probe: only summaries or packages) says nothing about bindings:
/// None, as when there was no note, so the engine falls back on the static analysis.
pub(crate) fn runtime_facts(json: &str) -> Option<RuntimeFacts> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
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
        files: crate::files::file_facts(&v),
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

/// The engine's input for an execution, from what the store keeps.
pub(crate) fn execution_input(
    execution_id: i64,
    execution_count: Option<i64>,
    cell_id: Option<String>,
    failed: bool,
    analysis: CellAnalysis,
    runtime: Option<&str>,
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
        runtime: runtime.and_then(runtime_facts),
        failed,
        analysis,
    }
}

impl StoredRow {
    pub(crate) fn input(&self) -> Indexable {
        Indexable {
            input: execution_input(
                self.execution_id,
                self.execution_count,
                self.cell_id.clone(),
                self.status == "error",
                parse_analysis(self.analysis.as_deref(), &self.code),
                self.runtime.as_deref(),
                self.failed_line,
            ),
            shared: self.shared,
        }
    }
}

/// The executions of a trial with dataflow facts, in order, after `after_id`.
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
         WHERE e.trial_id = ?1 AND e.id > ?2 ORDER BY e.seq"
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
        let item = row.input();
        if row.execution_id > start {
            let analysis = (!item.shared).then(|| item.input.analysis.clone());
            let delta = flow.add_execution_delta(item.input);
            write_delta(conn, trial, row.execution_id, analysis.as_ref(), &delta)?;
            write_values(conn, row.execution_id)?;
        } else {
            flow.add_execution(item.input);
        }
    }
    conn.prepare_cached(
        "INSERT INTO dataflow_indexed (trial_id, through_id)
         VALUES (?1, COALESCE((SELECT MAX(id) FROM executions WHERE trial_id = ?1), 0))
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
    let analysis = (!item.shared).then(|| item.input.analysis.clone());
    let delta = flow.add_execution_delta(item.input);
    write_delta(conn, trial, id, analysis.as_ref(), &delta)?;
    write_values(conn, id)?;
    conn.prepare_cached(
        "INSERT INTO dataflow_indexed (trial_id, through_id) VALUES (?1, ?2)
         ON CONFLICT (trial_id) DO UPDATE SET through_id = MAX(through_id, excluded.through_id)",
    )?
    .execute((trial, id))?;
    Ok(())
}

/// (Re)writes `captured_values` and `file_accesses` of execution `id` from its stored runtime
/// notes, and adds the packages they name to `trial_packages` of its trial.
///
/// One row per name: the names the execution defined or mutated (from `bound`, by the
/// analysis; and from `fingerprints`, values changed in place), the tagged names the probe summarised after it (`summaries`: the probe only
/// sends those that were rebound or changed), and the names tagged during it (`tagged`: their
/// value at tagging time). Each entry's info is `{"type", "value"?, "summary"?, "fingerprint"?}`:
/// the type goes to `type_name`, a scalar's value to `value_json`, the summary object to
/// `summary_json`, the fingerprint (a bound entry's, also when a summary replaced its info) to
/// `fingerprint_json`.
/// Anything malformed in the notes is skipped.
pub(crate) fn write_values(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    let runtime: Option<String> = conn
        .prepare_cached("SELECT runtime FROM execution_dataflow WHERE execution_id = ?1")?
        .query_row([id], |r| crate::note::read(r.get_ref(0)?))
        .optional()?
        .flatten();
    let note = runtime.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok());
    crate::files::write_files(conn, id, note.as_ref(), || analysis_of(conn, id))?;
    let Some(v) = note else {
        return crate::shared_lists::write_values(conn, id, &[]);
    };
    let mut rows: std::collections::BTreeMap<&str, &serde_json::Map<String, serde_json::Value>> =
        std::collections::BTreeMap::new();
    // Each bound name's fingerprint, kept for its row when a summary replaces its info.
    let mut fingerprints: std::collections::BTreeMap<&str, &serde_json::Value> =
        std::collections::BTreeMap::new();
    let defined: HashSet<String> = if v.get("bound").is_some() || v.get("fingerprints").is_some() {
        conn.prepare_cached(&format!(
            "SELECT name FROM ({}) WHERE role IN ('defined', 'mutated')",
            crate::shared_lists::names_of("(SELECT ?1 AS id) e")
        ))?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?
    } else {
        HashSet::new()
    };
    if let Some(bound) = v.get("bound").and_then(|b| b.as_array()) {
        for entry in bound {
            let entry = entry.as_array();
            let name = entry.and_then(|e| e.first()).and_then(|n| n.as_str());
            let info = entry.and_then(|e| e.get(2)).and_then(|i| i.as_object());
            if let (Some(name), Some(info)) = (name, info) {
                if defined.contains(name) {
                    rows.insert(name, info);
                    if let Some(f) = info.get("fingerprint").filter(|f| f.is_object()) {
                        fingerprints.insert(name, f);
                    }
                }
            }
        }
    }
    // Values the cell changed in place (`model.fit(X)`): their new fingerprint, in a row of
    // their own when the analysis says the execution mutated them.
    if let Some(changed) = v.get("fingerprints").and_then(|f| f.as_object()) {
        for (name, info) in changed {
            let Some(info) = info.as_object() else {
                continue;
            };
            if let Some(f) = info.get("fingerprint").filter(|f| f.is_object()) {
                fingerprints.insert(name, f);
            }
            // `X[0] = 1` mutates the symbol `X[…]`, whose base is `X`.
            let base = |d: &str| d.split(['[', '.']).next().unwrap_or("").to_string();
            if defined.iter().any(|d| base(d) == *name) {
                rows.entry(name).or_insert(info);
            }
        }
    }
    // Names whose only entry is the snapshot taken when they were tagged.
    let mut snapshots: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    if let Some(tagged) = v.get("tagged").and_then(|t| t.as_object()) {
        for (name, entry) in tagged {
            if let Some(info) = entry.get(1).and_then(|i| i.as_object()) {
                if rows.insert(name, info).is_none() {
                    snapshots.insert(name);
                }
            }
        }
    }
    if let Some(summaries) = v.get("summaries").and_then(|s| s.as_object()) {
        for (name, info) in summaries {
            if let Some(info) = info.as_object() {
                rows.insert(name, info);
                snapshots.remove(name.as_str());
            }
        }
    }
    let mut values: Vec<crate::shared_lists::NewValue> = Vec::with_capacity(rows.len());
    for (name, info) in rows {
        let type_name = info.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let value = info.get("value").map(|v| v.to_string());
        let summary = info
            .get("summary")
            .filter(|s| s.is_object())
            .map(|s| s.to_string());
        let row: ValueColumns = (type_name.to_string(), value, summary);
        // Tagging a scalar that is already recorded must not add a second, identical version.
        if snapshots.contains(name) && previous_value(conn, id, name)?.as_ref() == Some(&row) {
            continue;
        }
        let fingerprint = info
            .get("fingerprint")
            .filter(|f| f.is_object())
            .or_else(|| fingerprints.get(name).copied())
            .map(|f| f.to_string());
        values.push((name.to_string(), row.0, row.1, row.2, fingerprint));
    }
    crate::shared_lists::write_values(conn, id, &values)?;
    if let Some(packages) = v.get("packages").and_then(|p| p.as_object()) {
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO trial_packages (trial_id, name, version)
             SELECT trial_id, ?2, ?3 FROM executions WHERE id = ?1",
        )?;
        for (name, version) in packages {
            if let Some(version) = version.as_str() {
                insert.execute((id, name, version))?;
            }
        }
    }
    Ok(())
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

/// A `captured_values` row's content: `(type_name, value_json, summary_json)`.
type ValueColumns = (String, Option<String>, Option<String>);

/// The value of `name` last captured in the trial of execution `id` before it.
fn previous_value(
    conn: &Connection,
    id: i64,
    name: &str,
) -> rusqlite::Result<Option<ValueColumns>> {
    conn.prepare_cached(
        "SELECT v.type_name, v.value_json, v.summary_json
         FROM executions x
         JOIN executions e ON e.trial_id = x.trial_id AND e.seq < x.seq
         JOIN captured_values v ON v.execution_id = e.id AND v.name = ?2
         WHERE x.id = ?1
         ORDER BY e.seq DESC LIMIT 1",
    )?
    .query_row((id, name), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

/// Writes what the graph gained from execution `id`; its statements' positions only when it
/// has an `analysis` of its own (else its code's `code_statements` hold them).
fn write_delta(
    conn: &Connection,
    trial: i64,
    id: i64,
    analysis: Option<&CellAnalysis>,
    delta: &ExecutionDelta,
) -> rusqlite::Result<()> {
    for &v in &delta.retired {
        crate::shared_lists::retire_version(conn, trial, v as i64)?;
    }
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
    Ok(())
}
