//! Each name's last capture in a side's trial: the captures in rows of their own, and each
//! shared list of values decoded once.

use std::collections::HashMap;

use rusqlite::Connection;

use super::super::algorithm::{Exec, Final};
use super::among::Among;

/// Each name's last capture in `trial`, with the `seq` of its execution (and its fingerprint,
/// in a store that has them: a read-only store of schema 3 or 4 is read without). Each shared
/// list of values is read and decoded once, however many executions link to it, and walked
/// from the trial's end, so only each name's last capture is kept (reading every execution's
/// captures in order, sorted, was an eighth of loading a 5,000-execution side).
pub(super) fn last_captures(
    conn: &Connection,
    among: Among,
    at: &HashMap<i64, usize>,
    execs: &[Exec],
) -> rusqlite::Result<HashMap<String, (i64, Final)>> {
    let seq_of = |id: i64| at.get(&id).map(|&i| execs[i].seq);
    // Row id → a capture, as both kinds of rows give it: (seq, id within, name, value).
    type Capture = (i64, i64, String, Final);
    let final_at = |r: &rusqlite::Row<'_>, first: usize| -> rusqlite::Result<Final> {
        Ok(Final {
            type_name: r.get(first)?,
            value_json: r.get(first + 1)?,
            summary_json: r.get(first + 2)?,
            fingerprint_json: r.get(first + 3)?,
            stale: false,
        })
    };
    // Captures in rows of their own (a store recorded before the shared lists): few or none.
    let (sql, args) = among.pick(
        "SELECT v.execution_id, v.id, v.name, v.type_name, v.value_json, v.summary_json,
                v.fingerprint_json
         FROM executions e JOIN captured_value_rows v ON v.execution_id = e.id
         WHERE e.trial_id = ?1",
        "SELECT v.execution_id, v.id, v.name, v.type_name, v.value_json, v.summary_json,
                v.fingerprint_json
         FROM captured_value_rows v WHERE v.execution_id BETWEEN ?1 AND ?2",
    );
    let mut stmt = conn.prepare_cached(sql)?;
    let mut own: Vec<Capture> = Vec::new();
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        if let Some(seq) = seq_of(r.get(0)?) {
            own.push((seq, r.get(1)?, r.get(2)?, final_at(r, 3)?));
        }
    }
    let (sql, args) = among.pick(
        "SELECT x.execution_id, x.set_id FROM executions e
         JOIN execution_value_sets x ON x.execution_id = e.id WHERE e.trial_id = ?1",
        "SELECT execution_id, set_id FROM execution_value_sets
         WHERE execution_id BETWEEN ?1 AND ?2",
    );
    let mut stmt = conn.prepare_cached(sql)?;
    let mut links: Vec<(i64, i64)> = Vec::new();
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        if let Some(seq) = seq_of(r.get(0)?) {
            links.push((seq, r.get(1)?));
        }
    }
    let mut sets: Vec<i64> = links.iter().map(|l| l.1).collect();
    sets.sort_unstable();
    sets.dedup();
    let ids = serde_json::to_string(&sets).expect("a list of integers serialises");
    let mut stmt = conn.prepare_cached(
        "SELECT m.set_id, m.position + 1, m.name, m.type_name, m.value_json, m.summary_json,
                m.fingerprint_json
         FROM json_each(?1) j CROSS JOIN value_set_members m ON m.set_id = j.value",
    )?;
    let mut lists: HashMap<i64, Vec<Capture>> = HashMap::new();
    let mut rows = stmt.query([ids])?;
    while let Some(r) = rows.next()? {
        let list = lists.entry(r.get(0)?).or_default();
        list.push((0, r.get(1)?, r.get(2)?, final_at(r, 3)?));
    }
    // From the end: executions by seq, within one its captures by id (rows of its own before
    // its list's on a tie), the first met of each name is its last.
    own.sort_by_key(|c| (c.0, c.1));
    links.sort_unstable();
    for list in lists.values_mut() {
        list.sort_by_key(|c| c.1);
    }
    let mut captured: HashMap<String, (i64, Final)> = HashMap::new();
    let mut keep = |seq: i64, c: &Capture| {
        if !captured.contains_key(&c.2) {
            captured.insert(c.2.clone(), (seq, c.3.clone()));
        }
    };
    let mut own = own.iter().rev().peekable();
    for &(seq, set) in links.iter().rev() {
        let list = lists.get(&set).map(Vec::as_slice).unwrap_or_default();
        // Rows of later executions first.
        while let Some(c) = own.next_if(|c| c.0 > seq) {
            keep(c.0, c);
        }
        let mut members = list.iter().rev().peekable();
        loop {
            match (own.peek().filter(|c| c.0 == seq), members.peek()) {
                (Some(o), Some(m)) if o.1 > m.1 => keep(seq, own.next().expect("peeked")),
                (_, Some(_)) => keep(seq, members.next().expect("peeked")),
                (Some(_), None) => keep(seq, own.next().expect("peeked")),
                (None, None) => break,
            }
        }
    }
    for c in own {
        keep(c.0, c);
    }
    Ok(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only store of schema 4 cannot gain the column: its captures read without it.
    #[test]
    fn captures_of_a_schema_4_store_read_without_fingerprints() {
        // A read-only store of `version`, as the reader sees it (with the stand-ins).
        let store = |version: i64| {
            let conn = Connection::open_in_memory().unwrap();
            let fingerprint = if version >= 5 {
                ", fingerprint_json TEXT"
            } else {
                ""
            };
            let value = if version >= 5 {
                ", '{\"sha256\": \"aa\"}'"
            } else {
                ""
            };
            conn.execute_batch(&format!(
                "CREATE TABLE executions (id INTEGER PRIMARY KEY, trial_id INTEGER, seq INTEGER);
                 CREATE TABLE dataflow_versions (trial_id, version, name, symbol, execution_id,
                     statement, kind, current);
                 CREATE TABLE captured_values (id INTEGER PRIMARY KEY, execution_id INTEGER,
                     name TEXT, type_name TEXT, value_json TEXT, summary_json TEXT{fingerprint});
                 INSERT INTO executions VALUES (1, 7, 1);
                 INSERT INTO captured_values VALUES (1, 1, 'x', 'numpy.ndarray', NULL, NULL{value});
                 PRAGMA user_version = {version};"
            ))
            .unwrap();
            crate::schema::stand_in_for_newer_tables(&conn).unwrap();
            conn
        };
        let execs = [Exec {
            id: 1,
            seq: 1,
            ..Exec::default()
        }];
        let at = HashMap::from([(1, 0)]);
        let read = |conn: &Connection, among: Among| last_captures(conn, among, &at, &execs);
        for among in [Among::Trial(7), Among::of(7, &at)] {
            let read = read(&store(4), among).unwrap();
            assert_eq!(read["x"].1.type_name, "numpy.ndarray");
            assert_eq!(read["x"].1.fingerprint_json, None);
        }
        let read = read(&store(5), Among::of(7, &at)).unwrap();
        assert_eq!(
            read["x"].1.fingerprint_json.as_deref(),
            Some("{\"sha256\": \"aa\"}")
        );
    }
}
