//! What a trial's bundle is made of, table by table: every table of the schema is either the
//! trial's own (its rows found from the trial, their ids remapped when taken in) or shared
//! content (found by what the trial's rows refer to, deduplicated by its natural key), and
//! [`check_schema`] refuses a schema with a table or column this list does not name, so a
//! later feature's table cannot be left behind.

use rusqlite::Connection;

/// What one column holds, and so how it is carried into another store.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Col {
    /// Carried as it is.
    Keep,
    /// The trial's id.
    Trial,
    /// A row id of the named per-trial table (its own, or a reference to one): shifted by
    /// that table's offset, so ids stay in order and never meet the target's.
    Id(&'static str),
    /// The id of a row of the named shared table: looked up in its map (the target's row of
    /// the same key, or the one added for it).
    Content(&'static str),
}

/// How a table's rows relate to a trial.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Rows of one trial: `rows` selects them (`{db}` is the schema read, `:trial` the trial).
    PerTrial { rows: &'static str },
    /// Content shared by trials, one row per distinct `key`, with an `id` the trials' rows
    /// refer to (found from those references). Its parts are added for a parent the target
    /// did not have, or, when `parts_unless` names a table, for a parent that has no row
    /// there yet in the target (so a code's analysis and its statements come from one store).
    Shared {
        key: &'static str,
        parts_unless: Option<&'static str>,
    },
    /// Rows that belong to a row of a shared table (through the column of kind `Content`),
    /// carried with their parent.
    Part,
    /// Not carried: the store's own identity.
    Local,
}

/// One table of the schema.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) columns: &'static [(&'static str, Col)],
}

/// Rows that belong to the trial's executions.
const OF_EXECUTIONS: &str =
    "execution_id IN (SELECT id FROM {db}.executions WHERE trial_id = :trial)";

/// Content addressed by its SHA-256, whose parts come with it.
const SHA256: Kind = Kind::Shared {
    key: "sha256",
    parts_unless: None,
};

const fn per_trial(rows: &'static str) -> Kind {
    Kind::PerTrial { rows }
}

/// Every table, parents before the rows that refer to them: shared content first (it refers
/// to nothing of a trial), then the trial and its rows.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "store_info",
        kind: Kind::Local,
        columns: &[("key", Col::Keep), ("value", Col::Keep)],
    },
    Table {
        name: "code",
        kind: Kind::Shared {
            key: "sha256",
            parts_unless: Some("code_analysis"),
        },
        columns: &[
            ("id", Col::Content("code")),
            ("sha256", Col::Keep),
            ("text", Col::Keep),
        ],
    },
    Table {
        name: "code_analysis",
        kind: Kind::Part,
        columns: &[
            ("code_id", Col::Content("code")),
            ("analysis_version", Col::Keep),
            ("analysis", Col::Keep),
        ],
    },
    Table {
        name: "code_statements",
        kind: Kind::Part,
        columns: &[
            ("code_id", Col::Content("code")),
            ("statement", Col::Keep),
            ("line_start", Col::Keep),
            ("line_end", Col::Keep),
            ("byte_start", Col::Keep),
            ("byte_end", Col::Keep),
        ],
    },
    Table {
        name: "blobs",
        kind: SHA256,
        columns: &[
            ("id", Col::Content("blobs")),
            ("sha256", Col::Keep),
            ("size", Col::Keep),
            ("data", Col::Keep),
        ],
    },
    Table {
        name: "name_sets",
        kind: SHA256,
        columns: &[("id", Col::Content("name_sets")), ("sha256", Col::Keep)],
    },
    Table {
        name: "name_set_members",
        kind: Kind::Part,
        columns: &[
            ("set_id", Col::Content("name_sets")),
            ("position", Col::Keep),
            ("name", Col::Keep),
            ("role", Col::Keep),
        ],
    },
    Table {
        name: "read_sets",
        kind: SHA256,
        columns: &[("id", Col::Content("read_sets")), ("sha256", Col::Keep)],
    },
    Table {
        name: "read_set_members",
        kind: Kind::Part,
        columns: &[
            ("set_id", Col::Content("read_sets")),
            ("statement", Col::Keep),
            ("dep_statement", Col::Keep),
            ("symbol", Col::Keep),
        ],
    },
    Table {
        name: "version_sets",
        kind: SHA256,
        columns: &[("id", Col::Content("version_sets")), ("sha256", Col::Keep)],
    },
    Table {
        name: "version_set_members",
        kind: Kind::Part,
        columns: &[
            ("set_id", Col::Content("version_sets")),
            ("position", Col::Keep),
            ("name", Col::Keep),
            ("symbol", Col::Keep),
            ("statement", Col::Keep),
            ("kind", Col::Keep),
        ],
    },
    Table {
        name: "value_sets",
        kind: SHA256,
        columns: &[("id", Col::Content("value_sets")), ("sha256", Col::Keep)],
    },
    Table {
        name: "value_set_members",
        kind: Kind::Part,
        columns: &[
            ("set_id", Col::Content("value_sets")),
            ("position", Col::Keep),
            ("name", Col::Keep),
            ("type_name", Col::Keep),
            ("value_json", Col::Keep),
            ("summary_json", Col::Keep),
            ("fingerprint_json", Col::Keep),
        ],
    },
    Table {
        name: "trials",
        kind: per_trial("id = :trial"),
        columns: &[
            ("id", Col::Trial),
            ("uuid", Col::Keep),
            // Unique per store: `absorb` gives another name when the target has it.
            ("name", Col::Keep),
            ("status", Col::Keep),
            ("started_at", Col::Keep),
            ("ended_at", Col::Keep),
            ("notebook", Col::Keep),
            ("cwd", Col::Keep),
            ("python_version", Col::Keep),
            ("ipykernel_version", Col::Keep),
            ("platform", Col::Keep),
            ("hostname", Col::Keep),
            ("pid", Col::Keep),
            ("pid_start", Col::Keep),
            ("user_name", Col::Keep),
        ],
    },
    Table {
        name: "executions",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("id", Col::Id("executions")),
            ("trial_id", Col::Trial),
            ("seq", Col::Keep),
            ("msg_id", Col::Keep),
            ("execution_count", Col::Keep),
            ("cell_id", Col::Keep),
            ("code_id", Col::Content("code")),
            ("started_at", Col::Keep),
            ("ended_at", Col::Keep),
            ("duration_ms", Col::Keep),
            ("status", Col::Keep),
            ("error_name", Col::Keep),
            ("error_value", Col::Keep),
            ("error_traceback", Col::Keep),
            ("code_replaced", Col::Keep),
        ],
    },
    Table {
        name: "execution_dataflow",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("analysis", Col::Keep),
            ("runtime", Col::Keep),
            ("failed_line", Col::Keep),
        ],
    },
    Table {
        name: "outputs",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("id", Col::Id("outputs")),
            ("execution_id", Col::Id("executions")),
            ("seq", Col::Keep),
            ("output_type", Col::Keep),
            ("stream_name", Col::Keep),
        ],
    },
    Table {
        name: "output_data",
        kind: per_trial(
            "output_id IN (SELECT o.id FROM {db}.outputs o JOIN {db}.executions e
                           ON e.id = o.execution_id WHERE e.trial_id = :trial)",
        ),
        columns: &[
            ("output_id", Col::Id("outputs")),
            ("position", Col::Keep),
            ("mime_type", Col::Keep),
            ("blob_id", Col::Content("blobs")),
        ],
    },
    Table {
        name: "execution_names",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("id", Col::Id("execution_names")),
            ("execution_id", Col::Id("executions")),
            ("name", Col::Keep),
            ("role", Col::Keep),
            ("statement_index", Col::Keep),
        ],
    },
    Table {
        name: "dependencies",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("id", Col::Id("dependencies")),
            ("execution_id", Col::Id("executions")),
            ("depends_on_id", Col::Id("executions")),
            ("name", Col::Keep),
            ("kind", Col::Keep),
        ],
    },
    Table {
        name: "variable_tags",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("id", Col::Id("variable_tags")),
            ("trial_id", Col::Trial),
            ("name", Col::Keep),
            ("label", Col::Keep),
            ("execution_id", Col::Id("executions")),
            ("tagged_at", Col::Keep),
        ],
    },
    Table {
        name: "cell_stages",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("id", Col::Id("cell_stages")),
            ("trial_id", Col::Trial),
            ("cell_id", Col::Keep),
            ("stage", Col::Keep),
            ("tagged_at", Col::Keep),
        ],
    },
    Table {
        name: "captured_value_rows",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("id", Col::Id("captured_value_rows")),
            ("execution_id", Col::Id("executions")),
            ("name", Col::Keep),
            ("type_name", Col::Keep),
            ("value_json", Col::Keep),
            ("summary_json", Col::Keep),
            ("fingerprint_json", Col::Keep),
        ],
    },
    Table {
        name: "trial_packages",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("trial_id", Col::Trial),
            ("name", Col::Keep),
            ("version", Col::Keep),
        ],
    },
    Table {
        name: "trial_replays",
        kind: per_trial("trial_id = :trial"),
        columns: &[("trial_id", Col::Trial), ("replay_of", Col::Keep)],
    },
    Table {
        name: "version_rows",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("trial_id", Col::Trial),
            ("version", Col::Keep),
            ("name", Col::Keep),
            ("symbol", Col::Keep),
            ("execution_id", Col::Id("executions")),
            ("statement", Col::Keep),
            ("kind", Col::Keep),
            ("current", Col::Keep),
        ],
    },
    Table {
        name: "current_versions",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("trial_id", Col::Trial),
            ("version", Col::Keep),
            ("name", Col::Keep),
            ("symbol", Col::Keep),
            ("execution_id", Col::Id("executions")),
            ("statement", Col::Keep),
            ("kind", Col::Keep),
        ],
    },
    Table {
        name: "dataflow_reads",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("statement", Col::Keep),
            ("dep_execution_id", Col::Id("executions")),
            ("dep_statement", Col::Keep),
            ("symbol", Col::Keep),
        ],
    },
    Table {
        name: "dataflow_statements",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("statement", Col::Keep),
            ("line_start", Col::Keep),
            ("line_end", Col::Keep),
            ("byte_start", Col::Keep),
            ("byte_end", Col::Keep),
        ],
    },
    Table {
        // `through_id`: executions with a larger id are not indexed yet. The shift keeps
        // that order (and a trial with no executions keeps its 0).
        name: "dataflow_indexed",
        kind: per_trial("trial_id = :trial"),
        columns: &[
            ("trial_id", Col::Trial),
            ("through_id", Col::Id("executions")),
        ],
    },
    Table {
        name: "execution_name_sets",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("set_id", Col::Content("name_sets")),
        ],
    },
    Table {
        name: "execution_read_sets",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("set_id", Col::Content("read_sets")),
        ],
    },
    Table {
        name: "execution_version_sets",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("trial_id", Col::Trial),
            ("set_id", Col::Content("version_sets")),
            ("base", Col::Keep),
        ],
    },
    Table {
        name: "execution_value_sets",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("set_id", Col::Content("value_sets")),
        ],
    },
    Table {
        name: "file_accesses",
        kind: per_trial(OF_EXECUTIONS),
        columns: &[
            ("execution_id", Col::Id("executions")),
            ("seq", Col::Keep),
            ("path", Col::Keep),
            ("resolved", Col::Keep),
            ("access", Col::Keep),
            ("line", Col::Keep),
            ("statement", Col::Keep),
            ("size", Col::Keep),
            ("mtime", Col::Keep),
            ("sha256", Col::Keep),
            ("sampled", Col::Keep),
        ],
    },
];

/// The table of that name in [`TABLES`].
pub(crate) fn table(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} is not in TABLES"))
}

/// The names of a table's columns, comma-separated.
pub(crate) fn column_list(t: &Table) -> String {
    t.columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` of a per-trial table with its schema named (`main`, `src`, `b`).
pub(crate) fn rows_in(rows: &str, db: &str) -> String {
    rows.replace("{db}", db)
}

/// Checks that schema `db` of `conn` has exactly the tables and columns of [`TABLES`] (views
/// aside), saying what differs: a table or column the list misses would not travel.
pub(crate) fn check_schema(conn: &Connection, db: &str) -> Result<(), String> {
    let found = schema_of(conn, db).map_err(|e| e.to_string())?;
    for (name, mut columns) in found.iter().cloned() {
        let Some(t) = TABLES.iter().find(|t| t.name == name) else {
            return Err(format!(
                "table {name} is not in the bundle's table list (provstore/src/bundle/tables.rs)"
            ));
        };
        let mut listed: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        columns.sort();
        listed.sort_unstable();
        if columns != listed {
            return Err(format!(
                "table {name} has columns {columns:?}, the bundle's table list has {listed:?}"
            ));
        }
    }
    if let Some(t) = TABLES
        .iter()
        .find(|t| !found.iter().any(|(name, _)| name == t.name))
    {
        return Err(format!("table {} is missing", t.name));
    }
    Ok(())
}

/// Every table of schema `db` with its columns (SQLite's own tables aside).
fn schema_of(conn: &Connection, db: &str) -> rusqlite::Result<Vec<(String, Vec<String>)>> {
    let mut tables = conn.prepare(&format!(
        "SELECT name FROM {db}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name"
    ))?;
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|name| {
            let mut cols = conn.prepare(&format!(
                "SELECT name FROM pragma_table_info(?1, '{db}') ORDER BY cid"
            ))?;
            let columns = cols
                .query_map([&name], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((name, columns))
        })
        .collect()
}

/// The per-trial tables with their row conditions, in [`TABLES`] order.
pub(crate) fn per_trial_tables() -> impl DoubleEndedIterator<Item = (&'static Table, &'static str)>
{
    TABLES.iter().filter_map(|t| match t.kind {
        Kind::PerTrial { rows } => Some((t, rows)),
        _ => None,
    })
}

/// A query of the ids of shared table `parent` the trial's rows in schema `db` refer to.
pub(crate) fn referenced(parent: &str, db: &str) -> String {
    let mut parts = Vec::new();
    for (t, rows) in per_trial_tables() {
        for (column, col) in t.columns {
            if matches!(col, Col::Content(p) if *p == parent) {
                parts.push(format!(
                    "SELECT {column} FROM {db}.{} WHERE {}",
                    t.name,
                    rows_in(rows, db)
                ));
            }
        }
    }
    assert!(!parts.is_empty(), "nothing refers to {parent}");
    parts.join(" UNION ")
}

/// The column of a part that names its parent, and the parent table.
pub(crate) fn parent_of(t: &Table) -> (&'static str, &'static str) {
    t.columns
        .iter()
        .find_map(|(column, col)| match col {
            Col::Content(parent) => Some((*column, *parent)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("part {} names no parent", t.name))
}
