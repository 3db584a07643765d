//! Loading one trial for comparing: its executions with their code and outputs, the names
//! each deleted, each execution's producing statements (what they read and made, from the
//! dependency index) and each name's last capture, in a fixed number of queries, into the
//! plain structs of [`super::algorithm`] and [`super::statements`].

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::algorithm::{Exec, Names, Side};
use super::inputs::{Content, FileUse};
use super::statements::{Read, Stmt};
use crate::role::Role;
use crate::{Result, Store, StoreError, TrialSummary};

mod among;
mod captures;
#[cfg(test)]
mod equivalence_tests;
mod execs;
#[cfg(test)]
mod reference;

use among::{id_span, Among};
use captures::last_captures;
use execs::load_execs;

impl Store {
    /// Loads what the diff needs of one trial, in a fixed number of queries.
    pub(super) fn diff_side(&self, trial: i64) -> Result<(TrialSummary, Side)> {
        let summary = self.trial(trial)?;
        // The names each execution used and defined come from the dependency index; a
        // read-only store that cannot index an old trial still compares code and outputs.
        match self.prepare_dataflow(&summary) {
            Ok(()) | Err(StoreError::Unavailable { .. }) => {}
            Err(e) => return Err(e),
        }
        let side = self.read(|conn| {
            let mut at: HashMap<i64, usize> = HashMap::new();
            let mut execs = load_execs(conn, trial, &mut at)?;
            let among = Among::of(trial, &at);
            read_statements(conn, trial, among, &at, &mut execs)?;
            read_files(conn, &at, &mut execs)?;
            // What each execution made is in its statements; only deletions are read apart.
            let mut names = Names::default();
            for e in &execs {
                for made in e.statements.iter().flat_map(|s| &s.makes) {
                    names.note(e.seq, &made.symbol, Role::Defined);
                }
            }
            read_deleted(conn, among, |id, name| {
                if let Some(&i) = at.get(&id) {
                    names.note(execs[i].seq, name, Role::Deleted);
                }
            })?;
            let captured = last_captures(conn, among, &at, &execs)?;
            Ok(Side {
                id: trial,
                execs,
                finals: names.finals(captured),
            })
        })?;
        Ok((summary, side))
    }
}

/// Fills each execution's file accesses (`file_accesses`, schema 7; a store read as an older
/// version has an empty stand-in), each execution's in the order it first made them. One range
/// of the table's key, from the trial's first execution id to its last: its cost follows the
/// accesses there, not the executions (rows of another trial's executions in that range, run
/// at the same time, are passed over).
fn read_files(
    conn: &Connection,
    at: &HashMap<i64, usize>,
    execs: &mut [Exec],
) -> rusqlite::Result<()> {
    let Some((first, last)) = id_span(at) else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT execution_id, path, resolved, access, statement, size, mtime, sha256, sampled
         FROM file_accesses WHERE execution_id BETWEEN ?1 AND ?2
         ORDER BY execution_id, seq",
    )?;
    let mut rows = stmt.query([first, last])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        execs[i].files.push(FileUse {
            path: r.get(1)?,
            resolved: r.get(2)?,
            write: r.get_ref(3)?.as_str().unwrap_or("") == "write",
            statement: r.get(4)?,
            content: content_at(r, 5)?,
        });
    }
    Ok(())
}

/// A file's content from the columns `size, mtime, sha256, sampled`, the first at `first`.
fn content_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Content> {
    Ok(Content {
        size: r.get(first)?,
        mtime: r.get(first + 1)?,
        sha256: r.get(first + 2)?,
        sampled: r.get(first + 3)?,
    })
}

/// Calls `f(execution_id, name)` for every name the executions of `trial` deleted.
fn read_deleted(
    conn: &Connection,
    among: Among,
    mut f: impl FnMut(i64, &str),
) -> rusqlite::Result<()> {
    let by_trial = format!(
        "SELECT execution_id, name FROM ({}) WHERE role = 'deleted'",
        crate::shared_lists::names_of("(SELECT id FROM executions WHERE trial_id = ?1) e")
    );
    let (sql, args) = among.pick(
        &by_trial,
        "SELECT n.execution_id, n.name FROM execution_names n
         WHERE n.execution_id BETWEEN ?1 AND ?2 AND n.role = 'deleted'
         UNION ALL
         SELECT x.execution_id, m.name FROM execution_name_sets x
         JOIN name_set_members m ON m.set_id = x.set_id
         WHERE x.execution_id BETWEEN ?1 AND ?2 AND m.role = 'deleted'",
    );
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        f(id, r.get_ref(1)?.as_str().unwrap_or(""));
    }
    Ok(())
}

/// Fills each execution's producing statements from the dependency index: the versions they
/// made (`version_rows` and the shared lists, as the view `dataflow_versions` joins them) and read (`dataflow_reads`); whether the analysis found them
/// dynamic is read on demand ([`Store::mark_dynamic`]). Their texts are read only where the diff needs them
/// ([`Store::fill_statement_texts`]).
fn read_statements(
    conn: &Connection,
    trial: i64,
    among: Among,
    at: &HashMap<i64, usize>,
    execs: &mut [Exec],
) -> rusqlite::Result<()> {
    super::versions::read_versions(conn, trial, at, execs)?;
    for e in execs.iter_mut() {
        e.statements.sort_by_key(|s| s.index);
    }
    // Unsorted: each statement's reads of earlier executions come first, then those of its
    // own execution, each in key order, which is the order of a sort by (dep_execution_id, …).
    let by_trial =
        crate::shared_lists::reads_of("(SELECT id FROM executions WHERE trial_id = ?1) e");
    let (sql, args) = among.pick(
        &by_trial,
        "SELECT r.execution_id, r.statement, r.dep_execution_id, r.dep_statement, r.symbol
         FROM dataflow_reads r WHERE r.execution_id BETWEEN ?1 AND ?2
         UNION ALL
         SELECT x.execution_id, m.statement, x.execution_id, m.dep_statement, m.symbol
         FROM execution_read_sets x JOIN read_set_members m ON m.set_id = x.set_id
         WHERE x.execution_id BETWEEN ?1 AND ?2",
    );
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let dep = at.get(&r.get::<_, i64>(2)?).map(|&d| &execs[d]);
        let statement: i64 = r.get(3)?;
        if statement < 0 {
            continue; // a read of a file's content from outside (see above)
        }
        let symbol = r.get_ref(4)?.as_str().unwrap_or("");
        let made = dep.and_then(|d| {
            let s = statement_at(&d.statements, statement)?;
            d.statements[s]
                .makes
                .iter()
                .position(|m| m.symbol == symbol)
        });
        let read = Read {
            seq: dep.map(|d| d.seq),
            statement,
            made,
        };
        // Only a statement that made something reads (the index keeps no other).
        if let Some(s) = statement_at(&execs[i].statements, r.get(1)?) {
            execs[i].statements[s].reads.push(read);
        }
    }
    Ok(())
}

/// The position of statement `index` in a list sorted by index.
fn statement_at(statements: &[Stmt], index: i64) -> Option<usize> {
    statements.binary_search_by_key(&index, |s| s.index).ok()
}

impl Store {
    /// Reads the text of the producing statements of the executions `which` (positions in
    /// `side.execs`) from the spans `dataflow_statements` keeps: those the code diff replaced,
    /// whose statements are matched by text. A statement without a span (its cell could not
    /// be analysed) keeps no text.
    pub(super) fn fill_statement_texts(&self, side: &mut Side, which: &[usize]) -> Result<()> {
        if which.is_empty() {
            return Ok(());
        }
        let by_seq: HashMap<i64, usize> = which.iter().map(|&i| (side.execs[i].seq, i)).collect();
        let seqs = serde_json::to_string(&by_seq.keys().collect::<Vec<_>>())
            .expect("a list of integers serialises");
        let spans = self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                // CROSS JOIN: the few executions asked for first, not the whole trial.
                // An execution without statement rows of its own has its code's (schema v6).
                "SELECT e.seq, s.statement, s.byte_start, s.byte_end
                 FROM json_each(?2) j
                 CROSS JOIN executions e ON e.trial_id = ?1 AND e.seq = j.value
                 JOIN dataflow_statements s ON s.execution_id = e.id
                 UNION ALL
                 SELECT e.seq, s.statement, s.byte_start, s.byte_end
                 FROM json_each(?2) j
                 CROSS JOIN executions e ON e.trial_id = ?1 AND e.seq = j.value
                 JOIN code_statements s ON s.code_id = e.code_id
                 WHERE NOT EXISTS
                     (SELECT 1 FROM dataflow_statements o WHERE o.execution_id = e.id)",
            )?;
            let rows = stmt.query_map(params![side.id, seqs], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        for (seq, index, start, end) in spans {
            let Some(e) = by_seq.get(&seq).map(|&i| &mut side.execs[i]) else {
                continue;
            };
            let (Some(start), Some(end)) = (start, end) else {
                continue;
            };
            let range = usize::try_from(start).ok().zip(usize::try_from(end).ok());
            let text = range.and_then(|(a, b)| e.code.get(a..b)).map(String::from);
            if let Some(at) = statement_at(&e.statements, index) {
                e.statements[at].text = text;
            }
        }
        Ok(())
    }
}

/// What an analysis with a dynamic statement contains (an SQL string literal).
const DYNAMIC: &str = "'\"dynamic\":true'";

impl Store {
    /// Marks the statements the stored analysis of their cell calls dynamic (`exec`, a magic, a
    /// star import), for the executions `which` (positions in `side.execs`) not read yet. Only
    /// analyses that contain one are decoded, and only that flag of each statement. Read on
    /// demand: the walk asks only for cells where a read changed (see
    /// [`super::statements::changed_names_wanting`]), and reading every execution's analysis
    /// was a sixth of a 5,000-execution diff. Whether any statement was marked: when none
    /// was, a walk that asked for these flags would answer as it did.
    pub(super) fn mark_dynamic(&self, side: &mut Side, which: &[usize]) -> Result<bool> {
        let which: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| !side.execs[i].dynamic_read)
            .collect();
        if which.is_empty() {
            return Ok(false);
        }
        let mut at: HashMap<i64, usize> = HashMap::new();
        for &i in &which {
            side.execs[i].dynamic_read = true;
            at.insert(side.execs[i].id, i);
        }
        let ids = serde_json::to_string(&at.keys().collect::<Vec<_>>())
            .expect("a list of integers serialises");
        let found = self.read(|conn| {
            // An execution with an analysis of its own, else its code's.
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT e.id, CASE WHEN d.analysis = '' THEN
                        (SELECT a.analysis FROM code_analysis a WHERE a.code_id = e.code_id)
                        ELSE d.analysis END AS analysis
                 FROM json_each(?1) j CROSS JOIN executions e ON e.id = j.value
                 JOIN execution_dataflow d ON d.execution_id = e.id
                 WHERE instr(analysis, {DYNAMIC}) > 0"
            ))?;
            let rows =
                stmt.query_map([ids], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let mut marked = false;
        for (id, text) in found {
            if let Some(&i) = at.get(&id) {
                marked |= set_dynamic(&mut side.execs[i].statements, &text);
            }
        }
        Ok(marked)
    }
}

/// Sets the dynamic flag of the statements the analysis `text` calls dynamic; whether it set
/// any (of a statement the index has).
fn set_dynamic(statements: &mut [Stmt], text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Analysis {
        #[serde(default)]
        statements: Vec<Flag>,
    }
    #[derive(serde::Deserialize)]
    struct Flag {
        #[serde(default)]
        dynamic: bool,
    }
    let Ok(analysis) = serde_json::from_str::<Analysis>(text) else {
        return false;
    };
    let mut set = false;
    for (index, flag) in analysis.statements.iter().enumerate() {
        if let Some(s) = statement_at(statements, index as i64).filter(|_| flag.dynamic) {
            statements[s].dynamic = true;
            set = true;
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only store of schema 6 has no `file_accesses`: the empty stand-in answers the
    /// same query, with no files.
    #[test]
    fn files_of_a_schema_6_store_read_from_the_stand_in() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA user_version = 6;").unwrap();
        crate::schema::stand_in_for_newer_tables(&conn).unwrap();
        let mut execs = vec![Exec::default()];
        let at = HashMap::from([(7, 0)]);
        read_files(&conn, &at, &mut execs).unwrap();
        assert!(execs[0].files.is_empty());
        // And the real table's rows, of this trial's executions only.
        conn.execute_batch(
            "INSERT INTO file_accesses (execution_id, seq, path, resolved, access, statement,
                 sha256, sampled)
             VALUES (7, 0, 'a.csv', '/w/a.csv', 'read', 1, 'aa', 0),
                    (8, 0, 'b.csv', '/w/b.csv', 'write', NULL, NULL, 1);",
        )
        .unwrap();
        read_files(&conn, &at, &mut execs).unwrap();
        let got: Vec<_> = execs[0]
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.write, f.statement))
            .collect();
        assert_eq!(got, [("a.csv", false, Some(1))]);
    }
}
