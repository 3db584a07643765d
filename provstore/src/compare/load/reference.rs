//! The loader of a side's executions as it was before `load.rs` read each code once and the
//! outputs by a range of execution ids: one row per output payload, each with its execution's
//! code. Kept for the equivalence tests only.

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};

use super::super::algorithm::{Exec, Final};
use super::super::model::{OutputEntry, MAGIC_ANSWER_MIME};

/// The executions of `trial` in order, with their code and outputs, and (in `at`) the index
/// of each by its row id. One query, reading only what the diff uses (not the times, ids and
/// tracebacks `Store::executions` reads for `provctl show`).
pub(super) fn load_execs(
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
                id,
                seq: r.get(1)?,
                execution_count: r.get(2)?,
                sha256: r.get(3)?,
                code: r.get(4)?,
                error,
                outputs: Vec::new(),
                statements: Vec::new(),
                files: Vec::new(),
                dynamic_read: false,
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

/// Each name's last capture in `trial`, with the `seq` of its execution (and its fingerprint,
/// in a store that has them: a read-only store of schema 3 or 4 is read without).
pub(super) fn last_captures(
    conn: &Connection,
    trial: i64,
) -> rusqlite::Result<HashMap<String, (i64, Final)>> {
    let mut captured: HashMap<String, (i64, Final)> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.seq, v.name, v.type_name, v.value_json, v.summary_json, v.fingerprint_json
         FROM ({}) v JOIN executions e ON e.id = v.execution_id
         ORDER BY e.seq, v.id",
        crate::shared_lists::values_of("(SELECT id FROM executions WHERE trial_id = ?1) e")
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
