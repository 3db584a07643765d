//! Which statements of a dependency answer changed a value by assumption
//! rather than knowledge: pyflow counts a value passed to a callee on no list
//! (`clean(df)`) as possibly changed, and the writer marks those versions
//! `assumed`; the answer says so (`clean(df) may change df`) so a reader can
//! judge it.

use std::collections::{BTreeSet, HashMap};

use crate::dataflow_index::ASSUMED_KIND;
use crate::store::ANALYSIS_SQL;

/// A statement: (execution id, statement index), as the deps query keys them.
type StmtKey = (i64, i64);

/// The notes of the answer's statements (`statements`, of the executions in
/// the JSON list `list`) whose changes include an assumed one. Only cells
/// whose analysis holds a call on no list are read.
pub(super) fn notes(
    conn: &rusqlite::Connection,
    list: &str,
    statements: &BTreeSet<StmtKey>,
) -> rusqlite::Result<HashMap<StmtKey, Vec<String>>> {
    let mut notes: HashMap<StmtKey, Vec<String>> = HashMap::new();
    let mut cells = conn.prepare_cached(&format!(
        "SELECT execution_id, trial_id, analysis FROM (
             SELECT d.execution_id, e.trial_id, {ANALYSIS_SQL} AS analysis
             FROM json_each(?1) j
             JOIN execution_dataflow d ON d.execution_id = j.value
             JOIN executions e ON e.id = d.execution_id)
         WHERE instr(analysis, '\"unknown\":true') > 0"
    ))?;
    let mut assumed = conn.prepare_cached(
        "SELECT 1 FROM dataflow_versions
             WHERE trial_id = ?1 AND name = ?2 AND execution_id = ?3 AND statement = ?4
                 AND kind = ?5
             LIMIT 1",
    )?;
    let mut rows = cells.query([list])?;
    while let Some(r) = rows.next()? {
        let (execution, trial, analysis): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let Ok(analysis) = serde_json::from_str::<pyflow::CellAnalysis>(&analysis) else {
            continue;
        };
        for (index, facts) in analysis.statements.iter().enumerate() {
            let key: StmtKey = (execution, index as i64);
            if !statements.contains(&key) {
                continue;
            }
            for call in facts.arg_calls.iter().filter(|c| c.unknown) {
                let passed = call.args.iter().flatten();
                for symbol in passed.chain(call.keywords.iter().map(|(_, s)| s)) {
                    let params = (trial, &symbol.base, execution, key.1, ASSUMED_KIND);
                    if assumed.exists(params)? {
                        let note = format!("{}({symbol}) may change {symbol}", call.callee);
                        let list = notes.entry(key).or_default();
                        if !list.contains(&note) {
                            list.push(note);
                        }
                    }
                }
            }
        }
    }
    Ok(notes)
}

/// The executions among `trials` (each trial with its executions of the JSON list `list`)
/// that may have a note: those with an assumed version. The lean store keeps an execution's
/// versions in a shared list, read once per list; a trial with versions in rows of their own
/// (indexed before the lean store) has no index to find them by execution, so all of its
/// executions are read as before.
pub(super) fn candidates(
    conn: &rusqlite::Connection,
    list: &str,
    trials: &[(i64, Vec<i64>)],
) -> rusqlite::Result<Vec<i64>> {
    let mut found: BTreeSet<i64> = BTreeSet::new();
    let mut rows = conn.prepare_cached("SELECT 1 FROM version_rows WHERE trial_id = ?1 LIMIT 1")?;
    for (trial, ids) in trials {
        if rows.exists([trial])? {
            found.extend(ids);
        }
    }
    let links = list_links(conn, "execution_version_sets", list)?;
    let sets: BTreeSet<i64> = links.iter().map(|l| l.1).collect();
    let sets = serde_json::to_string(&sets).expect("a list of integers serialises");
    let assumed: BTreeSet<i64> = conn
        .prepare_cached(
            "SELECT DISTINCT m.set_id FROM json_each(?1) j
             JOIN version_set_members m ON m.set_id = j.value
             WHERE m.kind = ?2",
        )?
        .query_map((&sets, ASSUMED_KIND), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    found.extend(
        links
            .iter()
            .filter(|(_, set)| assumed.contains(set))
            .map(|l| l.0),
    );
    Ok(found.into_iter().collect())
}

/// `(execution, list)` of each execution of the JSON list `list` that has a shared list in
/// `links` (`execution_version_sets`, `execution_name_sets`).
pub(super) fn list_links(
    conn: &rusqlite::Connection,
    links: &str,
    list: &str,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT x.execution_id, x.set_id
         FROM json_each(?1) j JOIN {links} x ON x.execution_id = j.value"
    ))?
    .query_map([list], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}
