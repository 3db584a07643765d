//! Loading one trial for comparing: its executions with their code and outputs, the names
//! each deleted, each execution's producing statements (what they read and made, from the
//! dependency index) and each name's last capture, in a fixed number of queries, into the
//! plain structs of [`super::algorithm`] and [`super::statements`].

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};

use super::algorithm::{Exec, Final, Names, Side};
use super::inputs::{Content, FileUse};
use super::model::{OutputEntry, MAGIC_ANSWER_MIME};
use super::statements::{Read, Stmt};
use crate::role::Role;
use crate::{Result, Store, StoreError, TrialSummary};

#[cfg(test)]
mod equivalence_tests;
#[cfg(test)]
mod reference;

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

/// How a side's queries find the rows of its executions in tables keyed by execution id.
#[derive(Clone, Copy, Debug)]
enum Among {
    /// By the trial's executions, one probe of the table's key each.
    Trial(i64),
    /// By one range of the key, from the trial's first execution id to its last, when its
    /// executions are most of that range: a 5,000-execution side's reads took a third of the
    /// time by probes. Rows of executions of other trials in the range are passed over.
    Range(i64, i64),
}

impl Among {
    fn of(trial: i64, at: &HashMap<i64, usize>) -> Among {
        match (at.keys().min(), at.keys().max()) {
            // Trials run at the same time interleave their ids: a range over a few times the
            // trial's executions costs less than probing for each.
            (Some(&first), Some(&last)) if last - first < 4 * at.len() as i64 + 256 => {
                Among::Range(first, last)
            }
            _ => Among::Trial(trial),
        }
    }

    /// Of the two forms of a query, the one this takes (`trial` reads the trial's id as `?1`,
    /// `range` the first and last ids as `?1` and `?2`), and its leading parameters.
    fn pick<'q>(self, trial: &'q str, range: &'q str) -> (&'q str, Vec<i64>) {
        match self {
            Among::Trial(t) => (trial, vec![t]),
            Among::Range(first, last) => (range, vec![first, last]),
        }
    }
}

/// Each name's last capture in `trial`, with the `seq` of its execution (and its fingerprint,
/// in a store that has them: a read-only store of schema 3 or 4 is read without). Each shared
/// list of values is read and decoded once, however many executions link to it, and walked
/// from the trial's end, so only each name's last capture is kept (reading every execution's
/// captures in order, sorted, was an eighth of loading a 5,000-execution side).
fn last_captures(
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

/// The executions of `trial` in order, with their code and outputs, and (in `at`) the index
/// of each by its row id, reading only what the diff uses (not the times, ids and tracebacks
/// `Store::executions` reads for `provctl show`). Each code once by its id, and the outputs by
/// a range of execution ids: one query joining all of them repeated each execution's code in
/// every row of its output payloads (a third of loading a 5,000-execution side).
fn load_execs(
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
    let (Some(first), Some(last)) = (at.keys().min(), at.keys().max()) else {
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
    let (Some(first), Some(last)) = (at.keys().min(), at.keys().max()) else {
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
