//! Loading one trial for comparing: its executions with their code and outputs, the names
//! each touched, and each name's last capture, in a fixed number of queries, into the plain
//! structs of [`super::algorithm`].

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};

use super::algorithm::{Exec, Final, Names, Side};
use super::model::{OutputEntry, MAGIC_ANSWER_MIME};
use crate::role::Role;
use crate::{Result, Store, StoreError, TrialSummary};

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
            let mut names = Names::default();
            read_names(conn, trial, |id, name, role| {
                if let Some(&i) = at.get(&id) {
                    names.note(&mut execs[i], name, role);
                }
            })?;
            let captured = last_captures(conn, trial)?;
            Ok(Side {
                id: trial,
                execs,
                finals: names.finals(captured),
            })
        })?;
        Ok((summary, side))
    }
}

/// Each name's last capture in `trial`, with the `seq` of its execution (and its fingerprint,
/// in a store that has them: a read-only store of schema 3 or 4 is read without).
fn last_captures(conn: &Connection, trial: i64) -> rusqlite::Result<HashMap<String, (i64, Final)>> {
    let mut captured: HashMap<String, (i64, Final)> = HashMap::new();
    let fingerprint = if crate::schema::has_fingerprints(conn)? {
        "v.fingerprint_json"
    } else {
        "NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.seq, v.name, v.type_name, v.value_json, v.summary_json, {fingerprint}
         FROM executions e JOIN captured_values v ON v.execution_id = e.id
         WHERE e.trial_id = ?1 ORDER BY e.seq, v.id"
    ))?;
    let mut rows = stmt.query([trial])?;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let name: String = r.get(1)?;
        let fin = Final {
            type_name: r.get(2)?,
            value_json: r.get(3)?,
            summary_json: r.get(4)?,
            fingerprint_json: r.get(5)?,
            stale: false,
        };
        captured.insert(name, (seq, fin));
    }
    Ok(captured)
}

/// The executions of `trial` in order, with their code and outputs, and (in `at`) the index
/// of each by its row id. One query, reading only what the diff uses (not the times, ids and
/// tracebacks `Store::executions` reads for `provctl show`).
fn load_execs(
    conn: &Connection,
    trial: i64,
    at: &mut HashMap<i64, usize>,
) -> rusqlite::Result<Vec<Exec>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.seq, e.execution_count, c.sha256, c.text, e.error_name, e.error_value,
                o.id, o.output_type, o.stream_name, d.mime_type, b.sha256,
                CASE WHEN d.mime_type IN ('text/plain', ?2) THEN b.data END
         FROM executions e
         JOIN code c ON c.id = e.code_id
         LEFT JOIN outputs o ON o.execution_id = e.id
         LEFT JOIN output_data d ON d.output_id = o.id
         LEFT JOIN blobs b ON b.id = d.blob_id
         WHERE e.trial_id = ?1
         ORDER BY e.seq, o.seq, d.position",
    )?;
    let mut rows = stmt.query(params![trial, MAGIC_ANSWER_MIME])?;
    let mut execs: Vec<Exec> = Vec::new();
    let (mut last_exec, mut last_output): (Option<i64>, Option<i64>) = (None, None);
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if last_exec != Some(id) {
            last_exec = Some(id);
            let ename: Option<String> = r.get(5)?;
            let evalue: Option<String> = r.get(6)?;
            let error = match (ename, evalue) {
                (None, None) => None,
                (n, v) => Some(format!(
                    "{}: {}",
                    n.unwrap_or_default(),
                    v.unwrap_or_default()
                )),
            };
            at.insert(id, execs.len());
            execs.push(Exec {
                seq: r.get(1)?,
                execution_count: r.get(2)?,
                sha256: r.get(3)?,
                code: r.get(4)?,
                error,
                outputs: Vec::new(),
                defines: Vec::new(),
                uses: Vec::new(),
            });
            last_output = None;
        }
        let Some(output_id) = r.get::<_, Option<i64>>(7)? else {
            continue;
        };
        let outputs = &mut execs.last_mut().expect("pushed above").outputs;
        if last_output != Some(output_id) {
            outputs.push(OutputEntry {
                output_type: r.get(8)?,
                name: r.get(9)?,
                mime_types: Vec::new(),
                text: None,
                sha256: Vec::new(),
                magic: None,
            });
            last_output = Some(output_id);
        }
        let out = outputs.last_mut().expect("pushed above");
        let Some(mime) = r.get::<_, Option<String>>(10)? else {
            continue;
        };
        let stored = match r.get_ref(12)? {
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        };
        if mime == MAGIC_ANSWER_MIME {
            out.magic = Some(stored.unwrap_or_default());
            continue;
        }
        if stored.is_some() {
            out.text = stored;
        }
        // A payload row without its blob would be damage: it compares as an empty hash.
        out.sha256
            .push(r.get::<_, Option<String>>(11)?.unwrap_or_default());
        out.mime_types.push(mime);
    }
    Ok(execs)
}

/// Calls `f(execution_id, name, role)` for every name the executions of `trial` touched.
fn read_names(
    conn: &Connection,
    trial: i64,
    mut f: impl FnMut(i64, &str, Role),
) -> rusqlite::Result<()> {
    // No ORDER BY: the rows are gathered per execution, and sorting costs more than the rest.
    let mut stmt = conn.prepare_cached(
        "SELECT n.execution_id, n.name, n.role FROM executions e
         JOIN execution_names n ON n.execution_id = e.id
         WHERE e.trial_id = ?1",
    )?;
    let mut rows = stmt.query(params![trial])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let name = r.get_ref(1)?.as_str().unwrap_or("");
        f(id, name, r.get(2)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only store of schema 4 cannot gain the column: its captures read without it.
    #[test]
    fn captures_of_a_schema_4_store_read_without_fingerprints() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE executions (id INTEGER PRIMARY KEY, trial_id INTEGER, seq INTEGER);
             CREATE TABLE captured_values (id INTEGER PRIMARY KEY, execution_id INTEGER,
                 name TEXT, type_name TEXT, value_json TEXT, summary_json TEXT);
             INSERT INTO executions VALUES (1, 7, 1);
             INSERT INTO captured_values VALUES (1, 1, 'x', 'numpy.ndarray', NULL, NULL);
             PRAGMA user_version = 4;",
        )
        .unwrap();
        let read = last_captures(&conn, 7).unwrap();
        assert_eq!(read["x"].1.type_name, "numpy.ndarray");
        assert_eq!(read["x"].1.fingerprint_json, None);
        conn.execute_batch(
            "ALTER TABLE captured_values ADD COLUMN fingerprint_json TEXT;
             UPDATE captured_values SET fingerprint_json = '{\"sha256\": \"aa\"}';
             PRAGMA user_version = 5;",
        )
        .unwrap();
        let read = last_captures(&conn, 7).unwrap();
        assert_eq!(
            read["x"].1.fingerprint_json.as_deref(),
            Some("{\"sha256\": \"aa\"}")
        );
    }
}
