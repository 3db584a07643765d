//! The executions of a dependency answer, with their code, names, statements and values. An
//! answer of a long session reaches about a thousand executions that re-ran a few dozen cells,
//! so what is a function of the code or of a shared list (`name_sets`, `code_statements`) is
//! read once per code or list, and each execution's own rows are read in one pass, in id
//! order (before, the executions table alone was read three times over, and every
//! execution's analysis once, to find the few with an assumed change).

use std::collections::{BTreeSet, HashMap, HashSet};

use super::answers::{DepExecution, DepStatement, DepValue};
use super::assumed;
use crate::role::Role;

/// A statement: (execution id, statement index).
pub(super) type StmtKey = (i64, i64);

/// A statement's recorded position: lines and bytes (NULL for a cell that could not be
/// analysed).
type Span = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// An `executions` row of the answer: what the answer shows, and what finds the rest.
struct Row {
    id: i64,
    count: Option<i64>,
    cell_id: Option<String>,
    code_id: i64,
    status: String,
    trial_id: i64,
}

/// The executions of these statements, in execution order, with what they defined and used,
/// the probe's values and these statements.
pub(super) fn dep_executions(
    conn: &rusqlite::Connection,
    statements: &BTreeSet<StmtKey>,
) -> rusqlite::Result<Vec<DepExecution>> {
    // A negative statement is a file's content from outside, no execution's code.
    let statements: BTreeSet<StmtKey> = statements.iter().filter(|s| s.1 >= 0).copied().collect();
    let mut ids: Vec<i64> = statements.iter().map(|s| s.0).collect();
    ids.dedup();
    let list = json_list(&ids);
    let mut rows = execution_rows(conn, &list)?;
    let codes = code_texts(conn, &rows)?;
    // An execution is shown with its code (a row without one would be a broken store).
    rows.retain(|r| codes.contains_key(&r.code_id));
    let mut executions: Vec<DepExecution> = Vec::with_capacity(rows.len());
    let mut at: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
    for row in &rows {
        at.insert(row.id, executions.len());
        executions.push(DepExecution {
            execution_id: row.id,
            execution_count: row.count,
            cell_id: row.cell_id.clone(),
            code: codes[&row.code_id].clone(),
            status: row.status.clone(),
            defines: Vec::new(),
            uses: Vec::new(),
            statements: Vec::new(),
            values: Vec::new(),
        });
    }
    names(conn, &list, &at, &mut executions)?;
    let spans = spans(conn, &list, &rows, &statements)?;
    let candidates = assumed::candidates(conn, &list, &rows_trials(&rows))?;
    let mut notes = match candidates.is_empty() {
        true => HashMap::new(),
        false => assumed::notes(conn, &json_list(&candidates), &statements)?,
    };
    for &(e, s) in &statements {
        if let Some(&i) = at.get(&e) {
            let exec = &mut executions[i];
            let mut st = statement_text(s, spans.get(&(e, s)).copied(), &exec.code);
            st.assumed = notes.remove(&(e, s)).unwrap_or_default();
            exec.statements.push(st);
        }
    }
    values(conn, &list, &at, &mut executions)?;
    Ok(executions)
}

/// A list of integers as the JSON array `json_each` reads.
fn json_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).expect("a list of integers serialises")
}

/// The `executions` rows of the ids in `list` (ascending), in id order.
fn execution_rows(conn: &rusqlite::Connection, list: &str) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.execution_count, e.cell_id, e.code_id, e.status, e.trial_id
         FROM json_each(?1) j JOIN executions e ON e.id = j.value",
    )?;
    let mut rows = stmt
        .query_map([list], |r| {
            Ok(Row {
                id: r.get(0)?,
                count: r.get(1)?,
                cell_id: r.get(2)?,
                code_id: r.get(3)?,
                status: r.get(4)?,
                trial_id: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<Row>>>()?;
    // json_each gives the ids in order, so this only checks.
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The executions' trials, each once.
fn rows_trials(rows: &[Row]) -> Vec<(i64, Vec<i64>)> {
    let mut trials: Vec<(i64, Vec<i64>)> = Vec::new();
    for row in rows {
        match trials.iter_mut().find(|(t, _)| *t == row.trial_id) {
            Some((_, ids)) => ids.push(row.id),
            None => trials.push((row.trial_id, vec![row.id])),
        }
    }
    trials
}

/// The code of each distinct code of `rows`, by code id.
fn code_texts(conn: &rusqlite::Connection, rows: &[Row]) -> rusqlite::Result<HashMap<i64, String>> {
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.code_id).collect();
    let list = json_list(&ids.into_iter().collect::<Vec<_>>());
    let mut stmt = conn
        .prepare_cached("SELECT c.id, c.text FROM json_each(?1) j JOIN code c ON c.id = j.value")?;
    let texts = stmt
        .query_map([&list], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect();
    texts
}

/// Fills in what each execution defined and used: its own rows (stored before schema v6) and
/// its shared list's members, read once per list, in the order of their positions.
fn names(
    conn: &rusqlite::Connection,
    list: &str,
    at: &HashMap<i64, usize>,
    executions: &mut [DepExecution],
) -> rusqlite::Result<()> {
    // (position, name, role) of each execution's own rows.
    let mut own: HashMap<i64, Vec<(i64, String, Role)>> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT n.execution_id, n.rowid, n.name, n.role
             FROM json_each(?1) j JOIN execution_names n ON n.execution_id = j.value",
        )?;
        let mut rows = stmt.query([list])?;
        while let Some(r) = rows.next()? {
            own.entry(r.get(0)?)
                .or_default()
                .push((r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    let links = assumed::list_links(conn, "execution_name_sets", list)?;
    let sets: BTreeSet<i64> = links.iter().map(|l| l.1).collect();
    let mut members: HashMap<i64, Vec<(i64, String, Role)>> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT m.set_id, m.position, m.name, m.role
             FROM json_each(?1) j JOIN name_set_members m ON m.set_id = j.value",
        )?;
        let mut rows = stmt.query([json_list(&sets.into_iter().collect::<Vec<_>>())])?;
        while let Some(r) = rows.next()? {
            members
                .entry(r.get(0)?)
                .or_default()
                .push((r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    // What a list alone makes of an execution's names, worked out once per list.
    let mut noted: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    let mut set_of: HashMap<i64, i64> = links.into_iter().collect();
    for (&id, &i) in at {
        let set = set_of.remove(&id);
        let mine = own.remove(&id);
        let exec = &mut executions[i];
        if let (Some(set), None) = (set, &mine) {
            let (defines, uses) = noted.entry(set).or_insert_with(|| {
                let mut scratch = empty_names();
                for (_, name, role) in members.get(&set).into_iter().flatten() {
                    scratch.note(name.clone(), *role);
                }
                (scratch.defines, scratch.uses)
            });
            exec.defines.clone_from(defines);
            exec.uses.clone_from(uses);
            continue;
        }
        let mut all: Vec<&(i64, String, Role)> = mine.iter().flatten().collect();
        all.extend(set.and_then(|s| members.get(&s)).into_iter().flatten());
        // Stable: an execution's own rows come first at equal positions.
        all.sort_by_key(|m| m.0);
        for (_, name, role) in all {
            exec.note(name.clone(), *role);
        }
    }
    Ok(())
}

/// An execution with no names yet, to work out a shared list's names on.
fn empty_names() -> DepExecution {
    DepExecution {
        execution_id: 0,
        execution_count: None,
        cell_id: None,
        code: String::new(),
        status: String::new(),
        defines: Vec::new(),
        uses: Vec::new(),
        statements: Vec::new(),
        values: Vec::new(),
    }
}

/// The recorded positions of `statements`: an execution's own rows, or (with none, schema v6)
/// its code's, read once per code.
fn spans(
    conn: &rusqlite::Connection,
    list: &str,
    rows: &[Row],
    statements: &BTreeSet<StmtKey>,
) -> rusqlite::Result<HashMap<StmtKey, Span>> {
    let mut spans: HashMap<StmtKey, Span> = HashMap::new();
    let mut with_rows: HashSet<i64> = HashSet::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT s.execution_id, s.statement, s.line_start, s.line_end, s.byte_start,
                    s.byte_end
             FROM json_each(?1) j JOIN dataflow_statements s ON s.execution_id = j.value",
        )?;
        let mut found = stmt.query([list])?;
        while let Some(r) = found.next()? {
            let key: StmtKey = (r.get(0)?, r.get(1)?);
            with_rows.insert(key.0);
            if statements.contains(&key) {
                spans.insert(key, (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
            }
        }
    }
    let by_code: Vec<&Row> = rows.iter().filter(|r| !with_rows.contains(&r.id)).collect();
    if by_code.is_empty() {
        return Ok(spans);
    }
    let codes: BTreeSet<i64> = by_code.iter().map(|r| r.code_id).collect();
    let mut of_code: HashMap<StmtKey, Span> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT s.code_id, s.statement, s.line_start, s.line_end, s.byte_start, s.byte_end
             FROM json_each(?1) j JOIN code_statements s ON s.code_id = j.value",
        )?;
        let mut found = stmt.query([json_list(&codes.into_iter().collect::<Vec<_>>())])?;
        while let Some(r) = found.next()? {
            of_code.insert(
                (r.get(0)?, r.get(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            );
        }
    }
    for row in by_code {
        let mine = statements.range((row.id, i64::MIN)..=(row.id, i64::MAX));
        for &(e, s) in mine {
            if let Some(span) = of_code.get(&(row.code_id, s)) {
                spans.insert((e, s), *span);
            }
        }
    }
    Ok(spans)
}

/// Fills in the values the probe noted after each execution, in their order.
fn values(
    conn: &rusqlite::Connection,
    list: &str,
    at: &HashMap<i64, usize>,
    executions: &mut [DepExecution],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT execution_id, name, type_name, value_json FROM ({})
             ORDER BY execution_id, id",
        crate::shared_lists::values_of("(SELECT value AS id FROM json_each(?1)) e")
    ))?;
    let mut rows = stmt.query([list])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get(0)?) else {
            continue;
        };
        executions[i].values.push(value_from_row(r)?);
    }
    Ok(())
}

impl DepExecution {
    /// Notes a name the execution touched in `role` (once each); a deletion is not listed, nor
    /// a file (not a variable: the answers' `files` show them).
    pub(super) fn note(&mut self, name: String, role: Role) {
        if pyflow::is_file_name(&name) {
            return;
        }
        let list = match role {
            Role::Defined | Role::Mutated => &mut self.defines,
            Role::Used => &mut self.uses,
            Role::Deleted => return,
        };
        if !list.contains(&name) {
            list.push(name);
        }
    }
}

/// A statement's position and exact text; with no recorded position (a cell that could not
/// be analysed) the whole cell stands for it.
pub(super) fn statement_text(index: i64, span: Option<Span>, code: &str) -> DepStatement {
    let whole = || DepStatement {
        index: index as usize,
        line_start: 1,
        line_end: code.lines().count().max(1),
        text: code.to_string(),
        assumed: Vec::new(),
    };
    match span {
        Some((Some(ls), Some(le), Some(bs), Some(be))) => {
            match code.get(bs as usize..be as usize) {
                Some(text) => DepStatement {
                    index: index as usize,
                    line_start: ls as usize,
                    line_end: le as usize,
                    text: text.to_string(),
                    assumed: Vec::new(),
                },
                None => whole(),
            }
        }
        _ => whole(),
    }
}

/// A [`DepValue`] from `(execution_id, name, type_name, value_json)` of `captured_values`.
pub(super) fn value_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DepValue> {
    let value: Option<String> = r.get(3)?;
    Ok(DepValue {
        name: r.get(1)?,
        type_name: r.get(2)?,
        value: value.and_then(|v| serde_json::from_str(&v).ok()),
    })
}

/// An execution from a row of `id, execution_count, cell_id, code, status`; its names,
/// statements and values are filled in afterwards.
pub(super) fn execution_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DepExecution> {
    Ok(DepExecution {
        execution_id: r.get(0)?,
        execution_count: r.get(1)?,
        cell_id: r.get(2)?,
        code: r.get(3)?,
        status: r.get(4)?,
        defines: Vec::new(),
        uses: Vec::new(),
        statements: Vec::new(),
        values: Vec::new(),
    })
}
