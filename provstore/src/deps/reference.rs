//! The dependency answers as they were read before: the walk as one recursive query, and the
//! executions before `executions.rs` (three passes over `executions`, every execution's
//! analysis read). Kept for the tests only, as the reference the current reads must answer
//! alike (`equivalence_tests.rs`).

use std::collections::{BTreeSet, HashMap};

use super::answers::{DepExecution, DepValue};
use super::assumed;
use super::executions::{execution_row, statement_text, StmtKey};
use super::Walk;
use crate::shared_lists;

/// A statement's recorded position: lines and bytes.
type Span = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// The executions of these statements, as the answer had them.
pub(super) fn dep_executions(
    conn: &rusqlite::Connection,
    statements: &BTreeSet<StmtKey>,
) -> rusqlite::Result<Vec<DepExecution>> {
    // A negative statement is a file's content from outside, no execution's code.
    let statements: BTreeSet<StmtKey> = statements.iter().filter(|s| s.1 >= 0).copied().collect();
    let statements = &statements;
    let mut ids: Vec<i64> = statements.iter().map(|s| s.0).collect();
    ids.dedup();
    let list = serde_json::to_string(&ids).expect("a list of integers serialises");
    let mut executions: Vec<DepExecution> = Vec::with_capacity(ids.len());
    let mut at: HashMap<i64, usize> = HashMap::with_capacity(ids.len());
    {
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, e.execution_count, e.cell_id, c.text, e.status
                 FROM json_each(?1) j
                 JOIN executions e ON e.id = j.value
                 JOIN code c ON c.id = e.code_id
                 ORDER BY e.id",
        )?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            at.insert(r.get(0)?, executions.len());
            executions.push(execution_row(r)?);
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT execution_id, name, role FROM ({})
             WHERE role IN ('defined', 'mutated', 'used')
             ORDER BY execution_id, position",
            shared_lists::names_of("(SELECT j.value AS id FROM json_each(?1) j) e")
        ))?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get(0)?) else {
                continue;
            };
            executions[i].note(r.get(1)?, r.get(2)?);
        }
    }
    let mut spans: HashMap<StmtKey, Span> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            // An execution without statement rows of its own has its code's (schema v6).
            "SELECT s.execution_id, s.statement, s.line_start, s.line_end, s.byte_start,
                        s.byte_end
                 FROM json_each(?1) j
                 JOIN dataflow_statements s ON s.execution_id = j.value
             UNION ALL
             SELECT e.id, s.statement, s.line_start, s.line_end, s.byte_start, s.byte_end
                 FROM json_each(?1) j
                 JOIN executions e ON e.id = j.value
                 JOIN code_statements s ON s.code_id = e.code_id
                 WHERE NOT EXISTS
                     (SELECT 1 FROM dataflow_statements o WHERE o.execution_id = e.id)",
        )?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let key: StmtKey = (r.get(0)?, r.get(1)?);
            if statements.contains(&key) {
                spans.insert(key, (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
            }
        }
    }
    let mut notes = assumed::notes(conn, &list, statements)?;
    for &(e, s) in statements {
        if let Some(&i) = at.get(&e) {
            let exec = &mut executions[i];
            let mut st = statement_text(s, spans.get(&(e, s)).copied(), &exec.code);
            st.assumed = notes.remove(&(e, s)).unwrap_or_default();
            exec.statements.push(st);
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT execution_id, name, type_name, value_json FROM ({})
                 ORDER BY execution_id, id",
            crate::shared_lists::values_of("(SELECT value AS id FROM json_each(?1)) e")
        ))?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get(0)?) else {
                continue;
            };
            let value: Option<String> = r.get(3)?;
            executions[i].values.push(DepValue {
                name: r.get(1)?,
                type_name: r.get(2)?,
                value: value.and_then(|v| serde_json::from_str(&v).ok()),
            });
        }
    }
    Ok(executions)
}

/// The walk as one recursive query, from the statements `starts` (JSON pairs).
pub(super) fn walk_from(conn: &rusqlite::Connection, starts: &str) -> rusqlite::Result<Walk> {
    let mut walk = Walk::default();
    {
        let mut stmt = conn.prepare_cached(
            "WITH RECURSIVE reach (e, s) AS (
                 SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?1) j
                 UNION
                 SELECT r.dep_execution_id, r.dep_statement
                 FROM reach JOIN dataflow_reads r ON r.execution_id = reach.e AND r.statement = reach.s
                 UNION
                 SELECT reach.e, m.dep_statement
                 FROM reach JOIN execution_read_sets x ON x.execution_id = reach.e
                 JOIN read_set_members m ON m.set_id = x.set_id AND m.statement = reach.s
             )
             SELECT reach.e, reach.s, r.dep_execution_id, r.dep_statement, r.symbol
             FROM reach LEFT JOIN dataflow_reads r
                 ON r.execution_id = reach.e AND r.statement = reach.s
                 AND (r.dep_execution_id <> reach.e OR r.dep_statement < 0)
             UNION ALL
             SELECT reach.e, reach.s, reach.e, m.dep_statement, m.symbol
             FROM reach JOIN execution_read_sets x ON x.execution_id = reach.e
             JOIN read_set_members m ON m.set_id = x.set_id AND m.statement = reach.s
             WHERE m.dep_statement < 0",
        )?;
        let mut rows = stmt.query([starts])?;
        while let Some(r) = rows.next()? {
            let at: StmtKey = (r.get(0)?, r.get(1)?);
            walk.statements.insert(at);
            let Some(dep) = r.get::<_, Option<i64>>(2)? else {
                continue;
            };
            let (dep_statement, symbol): (i64, String) = (r.get(3)?, r.get(4)?);
            // A read of a file's version: written by another execution, or from outside.
            if dep_statement < 0 || pyflow::is_file_name(&symbol) {
                let key = (dep, dep_statement, symbol.clone());
                walk.files.entry(key).or_default().insert(at.0);
            }
            if dep != at.0 && dep_statement >= 0 {
                walk.edges.entry((at.0, dep)).or_default().insert(symbol);
            }
        }
    }
    Ok(walk)
}
