//! What a copy of a trial is made of, table by table: the list `replicate` follows, and the check
//! that the store's schema has nothing the list misses.

use rusqlite::Connection;

/// One table's copy: its name, which rows belong to the original trial (`:base`), and what
/// each column of the copy is (an SQL expression over the original row; `:trial` is the new
/// trial, `:exec` and `:output` the id offsets, `:k` the copy's number).
pub(crate) struct Copy {
    pub(crate) table: &'static str,
    /// The table or view the rows are read from, when not `table` itself.
    pub(crate) from: Option<&'static str>,
    pub(crate) rows: &'static str,
    pub(crate) columns: &'static [(&'static str, &'static str)],
}

/// The columns of a version row, which `version_rows` and `current_versions` share (the
/// former adds whether the version is current), followed by EXTRA.
macro_rules! version_columns {
    ($($extra:expr),*) => {
        &[
            ("trial_id", ":trial"),
            ("version", "version"),
            ("name", "name"),
            ("symbol", "symbol"),
            ("execution_id", "execution_id + :exec"),
            ("statement", "statement"),
            ("kind", "kind"),
            $($extra),*
        ]
    };
}

/// The columns of a table that gives an execution one shared list (of names, of reads).
const SET_OF_EXECUTION: &[(&str, &str)] = &[
    ("execution_id", "execution_id + :exec"),
    ("set_id", "set_id"),
];

pub(crate) const OF_EXECUTIONS: &str =
    "execution_id IN (SELECT id FROM executions WHERE trial_id = :base)";

/// Every per-trial table, parents first. The tables not here hold what trials share (code,
/// payloads, the store's identity); `replicate` refuses a store with any other table or a
/// column not listed, so a schema change cannot leave copies silently incomplete.
pub(crate) const COPIES: &[Copy] = &[
    Copy {
        table: "executions",
        from: None,
        rows: "trial_id = :base",
        columns: &[
            ("id", "id + :exec"),
            ("trial_id", ":trial"),
            ("seq", "seq"),
            ("msg_id", "msg_id || '~' || :trial"),
            ("execution_count", "execution_count"),
            ("cell_id", "cell_id"),
            ("code_id", "code_id"),
            (
                "started_at",
                "strftime('%Y-%m-%dT%H:%M:%fZ', started_at, :shift)",
            ),
            (
                "ended_at",
                "strftime('%Y-%m-%dT%H:%M:%fZ', ended_at, :shift)",
            ),
            ("duration_ms", "duration_ms"),
            ("status", "status"),
            ("error_name", "error_name"),
            ("error_value", "error_value"),
            ("error_traceback", "error_traceback"),
            ("code_replaced", "code_replaced"),
        ],
    },
    Copy {
        table: "execution_dataflow",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("execution_id", "execution_id + :exec"),
            ("analysis", "analysis"),
            ("runtime", "runtime"),
            ("failed_line", "failed_line"),
        ],
    },
    Copy {
        table: "outputs",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("id", "id + :output"),
            ("execution_id", "execution_id + :exec"),
            ("seq", "seq"),
            ("output_type", "output_type"),
            ("stream_name", "stream_name"),
        ],
    },
    Copy {
        table: "output_data",
        from: None,
        rows: "output_id IN (SELECT o.id FROM outputs o JOIN executions e ON e.id = o.execution_id
                              WHERE e.trial_id = :base)",
        columns: &[
            ("output_id", "output_id + :output"),
            ("position", "position"),
            ("mime_type", "mime_type"),
            ("blob_id", "blob_id"),
        ],
    },
    Copy {
        table: "execution_names",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("id", "NULL"),
            ("execution_id", "execution_id + :exec"),
            ("name", "name"),
            ("role", "role"),
            ("statement_index", "statement_index"),
        ],
    },
    Copy {
        table: "dependencies",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("id", "NULL"),
            ("execution_id", "execution_id + :exec"),
            ("depends_on_id", "depends_on_id + :exec"),
            ("name", "name"),
            ("kind", "kind"),
        ],
    },
    Copy {
        table: "version_rows",
        from: None,
        rows: "trial_id = :base",
        columns: version_columns!(("current", "current")),
    },
    Copy {
        table: "execution_version_sets",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("execution_id", "execution_id + :exec"),
            ("trial_id", ":trial"),
            ("set_id", "set_id"),
            ("base", "base"),
        ],
    },
    Copy {
        table: "current_versions",
        from: None,
        rows: "trial_id = :base",
        columns: version_columns!(),
    },
    Copy {
        table: "dataflow_reads",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("execution_id", "execution_id + :exec"),
            ("statement", "statement"),
            ("dep_execution_id", "dep_execution_id + :exec"),
            ("dep_statement", "dep_statement"),
            ("symbol", "symbol"),
        ],
    },
    Copy {
        table: "dataflow_statements",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("execution_id", "execution_id + :exec"),
            ("statement", "statement"),
            ("line_start", "line_start"),
            ("line_end", "line_end"),
            ("byte_start", "byte_start"),
            ("byte_end", "byte_end"),
        ],
    },
    Copy {
        table: "execution_name_sets",
        from: None,
        rows: OF_EXECUTIONS,
        columns: SET_OF_EXECUTION,
    },
    Copy {
        table: "execution_read_sets",
        from: None,
        rows: OF_EXECUTIONS,
        columns: SET_OF_EXECUTION,
    },
    Copy {
        table: "dataflow_indexed",
        from: None,
        rows: "trial_id = :base",
        columns: &[("trial_id", ":trial"), ("through_id", "through_id + :exec")],
    },
    Copy {
        // Every value in a row of its own, each copy's ints shifted by its number, so the
        // trials' values differ (the originals' shared lists would make them all alike).
        table: "captured_value_rows",
        from: Some("captured_values"),
        rows: OF_EXECUTIONS,
        columns: &[
            ("id", "NULL"),
            ("execution_id", "execution_id + :exec"),
            ("name", "name"),
            ("type_name", "type_name"),
            (
                "value_json",
                "CASE WHEN type_name = 'int' AND value_json GLOB '[0-9]*'
                      THEN CAST(CAST(value_json AS INTEGER) + :k AS TEXT) ELSE value_json END",
            ),
            ("summary_json", "summary_json"),
            ("fingerprint_json", "fingerprint_json"),
        ],
    },
    Copy {
        table: "variable_tags",
        from: None,
        rows: "trial_id = :base",
        columns: &[
            ("id", "NULL"),
            ("trial_id", ":trial"),
            ("name", "name"),
            ("label", "label"),
            ("execution_id", "execution_id + :exec"),
            ("tagged_at", "tagged_at"),
        ],
    },
    Copy {
        table: "cell_stages",
        from: None,
        rows: "trial_id = :base",
        columns: &[
            ("id", "NULL"),
            ("trial_id", ":trial"),
            ("cell_id", "cell_id"),
            ("stage", "stage"),
            ("tagged_at", "tagged_at"),
        ],
    },
    Copy {
        table: "trial_packages",
        from: None,
        rows: "trial_id = :base",
        columns: &[
            ("trial_id", ":trial"),
            ("name", "name"),
            ("version", "version"),
        ],
    },
    Copy {
        table: "trial_replays",
        from: None,
        rows: "trial_id = :base",
        columns: &[("trial_id", ":trial"), ("replay_of", "replay_of")],
    },
    Copy {
        table: "file_accesses",
        from: None,
        rows: OF_EXECUTIONS,
        columns: &[
            ("execution_id", "execution_id + :exec"),
            ("seq", "seq"),
            ("path", "path"),
            ("resolved", "resolved"),
            ("access", "access"),
            ("line", "line"),
            ("statement", "statement"),
            ("size", "size"),
            ("mtime", "mtime"),
            ("sha256", "sha256"),
            ("sampled", "sampled"),
        ],
    },
];

/// Tables no trial owns: never copied (facts stored once per code, lists stored once per
/// distinct content, which copies refer to as their originals do).
pub(crate) const SHARED: [&str; 15] = [
    "store_info",
    "version_sets",
    "version_set_members",
    "value_sets",
    "value_set_members",
    // Copied through the view `captured_values` into `captured_value_rows`.
    "execution_value_sets",
    "trials",
    "code",
    "blobs",
    "code_analysis",
    "code_statements",
    "name_sets",
    "name_set_members",
    "read_sets",
    "read_set_members",
];

/// Refuses a schema [`COPIES`] does not describe exactly (a table or a column it would miss).
pub(crate) fn check_schema(conn: &Connection) -> Result<(), String> {
    let tables = names(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?;
    for table in &tables {
        if SHARED.contains(&table.as_str()) {
            continue;
        }
        let Some(copy) = COPIES.iter().find(|c| c.table == table) else {
            return Err(format!(
                "replicate() does not know table {table}: add it to COPIES"
            ));
        };
        let found = names(
            conn,
            &format!("SELECT name FROM pragma_table_info('{table}')"),
        )?;
        let listed: Vec<&str> = copy.columns.iter().map(|(c, _)| *c).collect();
        if found != listed {
            return Err(format!(
                "table {table} has columns {found:?}, COPIES lists {listed:?}"
            ));
        }
    }
    Ok(())
}

/// The first column of every row `sql` gives.
fn names(conn: &Connection, sql: &str) -> Result<Vec<String>, String> {
    conn.prepare(sql)
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())
}
