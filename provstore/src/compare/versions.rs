//! The versions each execution of a trial made, for the diff's statements: what the view
//! `dataflow_versions` holds, read from its tables. Through the view, each of a trial's
//! thousands of executions decoded its list's members again and looked up in
//! `current_versions` whether each is current (a third of loading a 5,000-execution side);
//! here each shared list is read and decoded once, and the trial's current versions once.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::algorithm::Exec;
use super::statements::{Made, Stmt};

/// A version of a shared list: (position, statement, made).
type Member = (i64, i64, Made);

/// Fills each execution's statements (positions in `execs` by row id in `at`) with the versions
/// it made, in the order it made them: those kept in rows of their own (indexed before the
/// lean store), then those of its shared list. The statements are left unsorted.
pub(super) fn read_versions(
    conn: &Connection,
    trial: i64,
    at: &HashMap<i64, usize>,
    execs: &mut [Exec],
) -> rusqlite::Result<()> {
    // A negative statement is a file's content from outside the trial (kind `external`), made
    // by no statement: what the diff says of it comes from the files' hashes.
    let mut stmt = conn.prepare_cached(
        "SELECT execution_id, statement, name, symbol, current, kind FROM version_rows
         WHERE trial_id = ?1 AND statement >= 0 ORDER BY version",
    )?;
    let mut rows = stmt.query([trial])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let made = Made {
            name: r.get(2)?,
            symbol: r.get(3)?,
            current: r.get(4)?,
            mutation: is_mutation(r.get_ref(5)?.as_str()?),
        };
        push_made(&mut execs[i].statements, r.get(1)?, made);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT execution_id, set_id, base FROM execution_version_sets WHERE trial_id = ?1
         ORDER BY execution_id",
    )?;
    let links = stmt
        .query_map([trial], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if links.is_empty() {
        return Ok(());
    }
    let mut sets: Vec<i64> = links.iter().map(|l| l.1).collect();
    sets.sort_unstable();
    sets.dedup();
    let members = read_members(conn, &sets)?;
    let current: HashSet<i64> = conn
        .prepare_cached("SELECT version FROM current_versions WHERE trial_id = ?1")?
        .query_map([trial], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, set, base) in links {
        let (Some(&i), Some(list)) = (at.get(&id), members.get(&set)) else {
            continue;
        };
        for (position, statement, made) in list {
            let made = Made {
                current: current.contains(&(base + position)),
                ..made.clone()
            };
            push_made(&mut execs[i].statements, *statement, made);
        }
    }
    Ok(())
}

/// The members of the shared lists `sets` made by a statement, each list in order.
fn read_members(conn: &Connection, sets: &[i64]) -> rusqlite::Result<HashMap<i64, Vec<Member>>> {
    let ids = serde_json::to_string(sets).expect("a list of integers serialises");
    let mut stmt = conn.prepare_cached(
        "SELECT m.set_id, m.position, m.statement, m.name, m.symbol, m.kind
         FROM json_each(?1) j CROSS JOIN version_set_members m ON m.set_id = j.value
         WHERE m.statement >= 0 ORDER BY m.set_id, m.position",
    )?;
    let mut rows = stmt.query([ids])?;
    let mut members: HashMap<i64, Vec<Member>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let made = Made {
            name: r.get(3)?,
            symbol: r.get(4)?,
            current: false,
            mutation: is_mutation(r.get_ref(5)?.as_str()?),
        };
        let list = members.entry(r.get(0)?).or_default();
        list.push((r.get(1)?, r.get(2)?, made));
    }
    Ok(members)
}

/// Whether a version's `kind` (a role, or `assumed`: a change in place assumed rather than
/// known) changed its name's object in place.
fn is_mutation(kind: &str) -> bool {
    matches!(kind, "mutated" | crate::dataflow_index::ASSUMED_KIND)
}

/// Adds `made` to statement `index` of a list of statements.
fn push_made(list: &mut Vec<Stmt>, index: i64, made: Made) {
    // Versions come in the order they were made: a statement's are together, but for the
    // names only the probe saw, added to a statement at the end of their cell.
    let s = match list.iter().rposition(|s| s.index == index) {
        Some(s) => s,
        None => {
            list.push(Stmt {
                index,
                ..Stmt::default()
            });
            list.len() - 1
        }
    };
    list[s].makes.push(made);
}

#[cfg(test)]
mod tests;
