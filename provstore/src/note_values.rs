//! The values, files and packages a probe note holds, written as rows of the execution it
//! came after: what `provctl values`, the diff and the export read. Written when the execution
//! is indexed, and again when a failed cell's notes come late.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use pyflow::CellAnalysis;
use rusqlite::{Connection, OptionalExtension};

/// Removes the values and files written for execution `id`, before they are written again.
pub(crate) fn forget_values(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    crate::files::forget_files(conn, id)?;
    crate::shared_lists::forget_values(conn, id)
}

/// The names an execution defined or mutated, by its dataflow index: only those get a value
/// row from the `bound` entries of its note.
pub(crate) enum Defined<'a> {
    /// As the index just wrote them (the writer indexing the execution).
    Known(HashSet<&'a str>),
    /// To be read from the store (late notes of an execution indexed before).
    Stored,
}

/// Writes `captured_values` and `file_accesses` of execution `id`, which has none, from its
/// probe's `note`, and adds the packages it names to `trial_packages` of its trial (`defined`:
/// see [`Defined`]; `analysis` gives the execution's analysis, to place a file's access in its
/// statement).
///
/// One row per name: the names the execution defined or mutated (from `bound`, by the
/// analysis; and from `fingerprints`, values changed in place), the tagged names the probe summarised after it (`summaries`: the probe only
/// sends those that were rebound or changed), and the names tagged during it (`tagged`: their
/// value at tagging time). Each entry's info is `{"type", "value"?, "summary"?, "fingerprint"?}`:
/// the type goes to `type_name`, a scalar's value to `value_json`, the summary object to
/// `summary_json`, the fingerprint (a bound entry's, also when a summary replaced its info) to
/// `fingerprint_json`.
/// Anything malformed in the notes is skipped.
pub(crate) fn write_note_values(
    conn: &Connection,
    id: i64,
    note: Option<&serde_json::Value>,
    defined: Defined<'_>,
    analysis: impl FnOnce() -> rusqlite::Result<Option<CellAnalysis>>,
) -> rusqlite::Result<()> {
    crate::files::write_files(conn, id, note, analysis)?;
    let Some(v) = note else {
        return Ok(());
    };
    let mut rows: BTreeMap<&str, &serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    // Each bound name's fingerprint, kept for its row when a summary replaces its info.
    let mut fingerprints: BTreeMap<&str, &serde_json::Value> = BTreeMap::new();
    let has = |key: &str| match v.get(key) {
        Some(serde_json::Value::Array(items)) => !items.is_empty(),
        Some(serde_json::Value::Object(items)) => !items.is_empty(),
        Some(_) => true,
        None => false,
    };
    // A cell that bound nothing (a `pass`) has nothing to look up.
    let stored: HashSet<String>;
    let defined: HashSet<&str> = match defined {
        Defined::Known(names) => names,
        Defined::Stored if has("bound") || has("fingerprints") => {
            stored = conn
                .prepare_cached(&format!(
                    "SELECT name FROM ({}) WHERE role IN ('defined', 'mutated')",
                    crate::shared_lists::names_of("(SELECT ?1 AS id) e")
                ))?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            stored.iter().map(String::as_str).collect()
        }
        Defined::Stored => HashSet::new(),
    };
    if let Some(bound) = v.get("bound").and_then(|b| b.as_array()) {
        for entry in bound {
            let entry = entry.as_array();
            let name = entry.and_then(|e| e.first()).and_then(|n| n.as_str());
            let info = entry.and_then(|e| e.get(2)).and_then(|i| i.as_object());
            if let (Some(name), Some(info)) = (name, info) {
                if defined.contains(name) {
                    rows.insert(name, info);
                    if let Some(f) = info.get("fingerprint").filter(|f| f.is_object()) {
                        fingerprints.insert(name, f);
                    }
                }
            }
        }
    }
    // Values the cell changed in place (`model.fit(X)`): their new fingerprint, in a row of
    // their own when the analysis says the execution mutated them.
    if let Some(changed) = v.get("fingerprints").and_then(|f| f.as_object()) {
        for (name, info) in changed {
            let Some(info) = info.as_object() else {
                continue;
            };
            if let Some(f) = info.get("fingerprint").filter(|f| f.is_object()) {
                fingerprints.insert(name, f);
            }
            // `X[0] = 1` mutates the symbol `X[…]`, whose base is `X`.
            let base = |d: &str| d.split(['[', '.']).next().unwrap_or("").to_string();
            if defined.iter().any(|d| base(d) == *name) {
                rows.entry(name).or_insert(info);
            }
        }
    }
    // Names whose only entry is the snapshot taken when they were tagged.
    let mut snapshots: BTreeSet<&str> = BTreeSet::new();
    if let Some(tagged) = v.get("tagged").and_then(|t| t.as_object()) {
        for (name, entry) in tagged {
            if let Some(info) = entry.get(1).and_then(|i| i.as_object()) {
                if rows.insert(name, info).is_none() {
                    snapshots.insert(name);
                }
            }
        }
    }
    if let Some(summaries) = v.get("summaries").and_then(|s| s.as_object()) {
        for (name, info) in summaries {
            if let Some(info) = info.as_object() {
                rows.insert(name, info);
                snapshots.remove(name.as_str());
            }
        }
    }
    let mut values: Vec<crate::shared_lists::NewValue> = Vec::with_capacity(rows.len());
    for (name, info) in rows {
        let type_name = info.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let value = info.get("value").map(|v| v.to_string());
        let summary = info
            .get("summary")
            .filter(|s| s.is_object())
            .map(|s| s.to_string());
        let row: ValueColumns = (type_name.to_string(), value, summary);
        // Tagging a scalar that is already recorded must not add a second, identical version.
        if snapshots.contains(name) && previous_value(conn, id, name)?.as_ref() == Some(&row) {
            continue;
        }
        let fingerprint = info
            .get("fingerprint")
            .filter(|f| f.is_object())
            .or_else(|| fingerprints.get(name).copied())
            .map(|f| f.to_string());
        values.push((name.to_string(), row.0, row.1, row.2, fingerprint));
    }
    crate::shared_lists::write_values(conn, id, &values)?;
    if let Some(packages) = v.get("packages").and_then(|p| p.as_object()) {
        let mut insert = conn.prepare_cached(
            "INSERT OR REPLACE INTO trial_packages (trial_id, name, version)
             SELECT trial_id, ?2, ?3 FROM executions WHERE id = ?1",
        )?;
        for (name, version) in packages {
            if let Some(version) = version.as_str() {
                insert.execute((id, name, version))?;
            }
        }
    }
    Ok(())
}

/// A `captured_values` row's content: `(type_name, value_json, summary_json)`.
type ValueColumns = (String, Option<String>, Option<String>);

/// The value of `name` last captured in the trial of execution `id` before it.
fn previous_value(
    conn: &Connection,
    id: i64,
    name: &str,
) -> rusqlite::Result<Option<ValueColumns>> {
    conn.prepare_cached(
        "SELECT v.type_name, v.value_json, v.summary_json
         FROM executions x
         JOIN executions e ON e.trial_id = x.trial_id AND e.seq < x.seq
         JOIN captured_values v ON v.execution_id = e.id AND v.name = ?2
         WHERE x.id = ?1
         ORDER BY e.seq DESC LIMIT 1",
    )?
    .query_row((id, name), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}
