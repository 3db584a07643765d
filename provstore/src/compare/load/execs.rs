//! A side's executions with their code and outputs: each code read once by its id, the outputs
//! by a range of execution ids, each distinct payload's hash and text once.

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::super::algorithm::Exec;
use super::super::model::{OutputEntry, MAGIC_ANSWER_MIME};
use super::among::id_span;

/// The executions of `trial` in order, with their code and outputs, and (in `at`) the index
/// of each by its row id, reading only what the diff uses (not the times, ids and tracebacks
/// `Store::executions` reads for `provctl show`). Each code once by its id, and the outputs by
/// a range of execution ids: one query joining all of them repeated each execution's code in
/// every row of its output payloads (a third of loading a 5,000-execution side).
pub(super) fn load_execs(
    conn: &Connection,
    trial: i64,
    at: &mut HashMap<i64, usize>,
) -> rusqlite::Result<Vec<Exec>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, seq, execution_count, code_id, error_name, error_value
         FROM executions WHERE trial_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([trial])?;
    let mut execs: Vec<Exec> = Vec::new();
    // Code id → the executions (positions) that ran it.
    let mut ran: HashMap<i64, Vec<usize>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let ename: Option<String> = r.get(4)?;
        let evalue: Option<String> = r.get(5)?;
        let error = match (ename, evalue) {
            (None, None) => None,
            (n, v) => Some(format!(
                "{}: {}",
                n.unwrap_or_default(),
                v.unwrap_or_default()
            )),
        };
        ran.entry(r.get(3)?).or_default().push(execs.len());
        execs.push(Exec {
            id: r.get(0)?,
            seq: r.get(1)?,
            execution_count: r.get(2)?,
            error,
            ..Exec::default()
        });
    }
    let found = read_code(conn, &ran, &mut execs)?;
    // An execution without its code row (damage the foreign key forbids) is left out, as the
    // join left it out.
    if found.contains(&false) {
        let mut kept = found.into_iter();
        execs.retain(|_| kept.next().unwrap_or(false));
    }
    at.extend(execs.iter().enumerate().map(|(i, e)| (e.id, i)));
    read_outputs(conn, at, &mut execs)?;
    Ok(execs)
}

/// Sets the code (text and hash) of the executions `ran` lists by code id, reading each code
/// once; whether each execution (by position) found its code.
fn read_code(
    conn: &Connection,
    ran: &HashMap<i64, Vec<usize>>,
    execs: &mut [Exec],
) -> rusqlite::Result<Vec<bool>> {
    let ids = serde_json::to_string(&ran.keys().collect::<Vec<_>>())
        .expect("a list of integers serialises");
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.sha256, c.text FROM json_each(?1) j CROSS JOIN code c ON c.id = j.value",
    )?;
    let mut rows = stmt.query([ids])?;
    let mut found = vec![false; execs.len()];
    while let Some(r) = rows.next()? {
        let Some(users) = ran.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let (sha256, text): (String, String) = (r.get(1)?, r.get(2)?);
        for &i in users {
            execs[i].sha256.clone_from(&sha256);
            execs[i].code.clone_from(&text);
            found[i] = true;
        }
    }
    Ok(found)
}

/// Fills the outputs of the executions `at` holds (by row id) from one range of the outputs'
/// key, from the first execution id to the last (rows of another trial's executions in that
/// range, run at the same time, are passed over). Each output's payloads in order; the
/// `text/plain` payload's text, and the magic line of prov's own answers. Each distinct blob's
/// hash (and text) is read once: a trial's outputs repeat a few hundred payloads thousands of
/// times.
fn read_outputs(
    conn: &Connection,
    at: &HashMap<i64, usize>,
    execs: &mut [Exec],
) -> rusqlite::Result<()> {
    let Some((first, last)) = id_span(at) else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT o.execution_id, o.id, o.output_type, o.stream_name, d.mime_type, d.blob_id
         FROM outputs o
         LEFT JOIN output_data d ON d.output_id = o.id
         WHERE o.execution_id BETWEEN ?1 AND ?2
         ORDER BY o.execution_id, o.seq, d.position",
    )?;
    let mut rows = stmt.query([first, last])?;
    // Each payload: (execution, output, blob, whether its text is kept, magic or text).
    let mut payloads: Vec<(usize, usize, i64, Option<bool>)> = Vec::new();
    let mut last_output: Option<i64> = None;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let output_id: i64 = r.get(1)?;
        let outputs = &mut execs[i].outputs;
        if last_output != Some(output_id) {
            outputs.push(OutputEntry {
                output_type: r.get(2)?,
                name: r.get(3)?,
                mime_types: Vec::new(),
                text: None,
                sha256: Vec::new(),
                magic: None,
            });
            last_output = Some(output_id);
        }
        let Some(mime) = r.get::<_, Option<String>>(4)? else {
            continue;
        };
        let blob: i64 = r.get(5)?;
        let kept = match mime.as_str() {
            MAGIC_ANSWER_MIME => Some(true),
            "text/plain" => Some(false),
            _ => None,
        };
        payloads.push((i, outputs.len() - 1, blob, kept));
        if kept != Some(true) {
            let out = outputs.last_mut().expect("pushed above");
            out.mime_types.push(mime);
        }
    }
    let (hashes, texts) = read_blobs(conn, &payloads)?;
    for (i, o, blob, kept) in payloads {
        let out = &mut execs[i].outputs[o];
        let text = || texts.get(&blob).cloned().flatten();
        match kept {
            Some(true) => out.magic = Some(text().unwrap_or_default()),
            Some(false) => {
                if let Some(text) = text() {
                    out.text = Some(text);
                }
            }
            None => {}
        }
        if kept != Some(true) {
            // A payload row without its blob would be damage: it compares as an empty hash.
            out.sha256
                .push(hashes.get(&blob).cloned().unwrap_or_default());
        }
    }
    Ok(())
}

/// The hash of each blob of `payloads`, and the stored text of those whose text is kept (none
/// for a payload stored by its hash alone), each read once.
#[allow(clippy::type_complexity)]
fn read_blobs(
    conn: &Connection,
    payloads: &[(usize, usize, i64, Option<bool>)],
) -> rusqlite::Result<(HashMap<i64, String>, HashMap<i64, Option<String>>)> {
    let mut all: Vec<i64> = payloads.iter().map(|p| p.2).collect();
    all.sort_unstable();
    all.dedup();
    let mut kept: Vec<i64> = payloads
        .iter()
        .filter(|p| p.3.is_some())
        .map(|p| p.2)
        .collect();
    kept.sort_unstable();
    kept.dedup();
    let list = |ids: &[i64]| serde_json::to_string(ids).expect("a list of integers serialises");
    let mut stmt = conn.prepare_cached(
        "SELECT b.id, b.sha256 FROM json_each(?1) j CROSS JOIN blobs b ON b.id = j.value",
    )?;
    let hashes = stmt
        .query_map([list(&all)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT b.id, b.data FROM json_each(?1) j CROSS JOIN blobs b ON b.id = j.value",
    )?;
    let mut texts = HashMap::new();
    let mut rows = stmt.query([list(&kept)])?;
    while let Some(r) = rows.next()? {
        let text = match r.get_ref(1)? {
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
            _ => None,
        };
        texts.insert(r.get(0)?, text);
    }
    Ok((hashes, texts))
}
