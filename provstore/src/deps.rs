//! Dataflow answers read from the store: which executions made a variable's
//! value (`provctl deps`, `%backwards_deps`, `%global_backwards_deps`), the
//! statements that rebuild it (`%slice`), and the whole trial's graph. The
//! field names are the JSON contract of `provctl deps --json`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::OptionalExtension;

use crate::role::Role;
use crate::shared_lists;
use crate::{Result, Store, StoreError, TrialSummary};

mod answers;
mod assumed;
mod catch_up;
mod files;

pub use answers::{
    DepEdge, DepExecution, DepStatement, DepValue, DepsAnswer, FileInput, FileVersion, GraphAnswer,
    SliceAnswer, SliceStatement,
};

use crate::dataflow_index;

/// A statement of the trial: (execution id, statement index).
type StmtKey = (i64, i64);

/// What a walk down the graph reached.
#[derive(Default)]
struct Walk {
    /// The statements reached (with, negative, the outside content of files: see `files.rs`).
    statements: BTreeSet<StmtKey>,
    /// (user execution, producer execution) → symbols, across executions.
    edges: BTreeMap<(i64, i64), BTreeSet<String>>,
    /// The file versions reached, each with the executions that read it.
    files: BTreeMap<files::VersionKey, BTreeSet<i64>>,
}

/// Where a question starts: the statements that made the versions asked about, and the file
/// asked about (its resolved path) when it is one.
struct Starts {
    statements: Vec<StmtKey>,
    file: Option<String>,
}

impl Store {
    /// Which executions made the current value of `var` (a name, or a
    /// symbol such as `d['a']` or `o.x`) in trial `trial`, and everything
    /// they transitively depend on, in execution order.
    /// [`StoreError::UnknownVariable`] when the trial has no such variable now.
    pub fn backwards_deps(&self, trial: i64, var: &str) -> Result<DepsAnswer> {
        let (summary, walk) = self.reach(trial, var, false)?;
        self.deps_answer(var, summary, walk)
    }

    /// Like [`Store::backwards_deps`], for every version `var` had in the
    /// trial (including deleted ones).
    pub fn global_backwards_deps(&self, trial: i64, var: &str) -> Result<DepsAnswer> {
        let (summary, walk) = self.reach(trial, var, true)?;
        self.deps_answer(var, summary, walk)
    }

    /// The minimal statements, in execution order, that rebuild the current
    /// value of `var`; each `text` is the statement's exact source.
    pub fn slice(&self, trial: i64, var: &str) -> Result<SliceAnswer> {
        let (summary, walk) = self.reach(trial, var, false)?;
        let executions = self.dep_executions(&walk.statements)?;
        let (_, inputs) = self.read(|conn| files::versions(conn, &walk.files))?;
        let statements = executions
            .into_iter()
            .flat_map(|e| {
                let (id, count) = (e.execution_id, e.execution_count);
                e.statements.into_iter().map(move |s| SliceStatement {
                    execution_id: id,
                    execution_count: count,
                    statement: s.index,
                    text: s.text,
                })
            })
            .collect();
        Ok(SliceAnswer {
            variable: var.to_string(),
            trial: summary,
            statements,
            inputs,
        })
    }

    /// The trial's dataflow rebuilt in memory from its stored facts (what the indexed graph
    /// is checked against; about 1.5 s per 100,000 executions).
    pub fn replay_dataflow(&self, trial: i64) -> Result<pyflow::Dataflow> {
        let rows = self.read(|conn| dataflow_index::stored_rows(conn, trial, i64::MIN))?;
        Ok(pyflow::Dataflow::replay(
            rows.iter().map(|r| r.input(false).input),
        ))
    }

    /// Every execution of the trial and the dependencies between them.
    pub fn dataflow_graph(&self, trial: i64) -> Result<GraphAnswer> {
        let summary = self.trial(trial)?;
        self.prepare_dataflow(&summary)?;
        self.read(|conn| {
            let mut executions = Vec::new();
            let mut at: HashMap<i64, usize> = HashMap::new();
            {
                let mut stmt = conn.prepare_cached(
                    "SELECT e.id, e.execution_count, e.cell_id, c.text, e.status
                     FROM executions e JOIN code c ON c.id = e.code_id
                     WHERE e.trial_id = ?1 ORDER BY e.seq",
                )?;
                let mut rows = stmt.query([trial])?;
                while let Some(r) = rows.next()? {
                    at.insert(r.get(0)?, executions.len());
                    executions.push(execution_row(r)?);
                }
            }
            {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT execution_id, name, role FROM ({})
                     ORDER BY execution_id, position",
                    shared_lists::names_of("(SELECT id FROM executions WHERE trial_id = ?1) e")
                ))?;
                let mut rows = stmt.query([trial])?;
                while let Some(r) = rows.next()? {
                    let id: i64 = r.get(0)?;
                    let Some(&i) = at.get(&id) else { continue };
                    executions[i].note(r.get(1)?, r.get(2)?);
                }
            }
            let mut edges: BTreeMap<(i64, i64), BTreeSet<String>> = BTreeMap::new();
            {
                let mut stmt = conn.prepare_cached(
                    "SELECT p.execution_id, p.depends_on_id, p.name FROM executions e
                     JOIN dependencies p ON p.execution_id = e.id
                     WHERE e.trial_id = ?1",
                )?;
                let mut rows = stmt.query([trial])?;
                while let Some(r) = rows.next()? {
                    edges
                        .entry((r.get(0)?, r.get(1)?))
                        .or_default()
                        .insert(r.get(2)?);
                }
            }
            {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT execution_id, name, type_name, value_json FROM ({})
                         ORDER BY execution_id, id",
                    crate::shared_lists::values_of(
                        "(SELECT id FROM executions WHERE trial_id = ?1) e"
                    )
                ))?;
                let mut rows = stmt.query([trial])?;
                while let Some(r) = rows.next()? {
                    let Some(&i) = at.get(&r.get(0)?) else {
                        continue;
                    };
                    executions[i].values.push(value_from_row(r)?);
                }
            }
            // A cell that only asked prov something (`%trials`, `%backwards_deps acc`) took
            // no part in the dataflow: it would be a lone box in the picture.
            let linked: HashSet<i64> = edges.keys().flat_map(|&(a, b)| [a, b]).collect();
            executions.retain(|e| {
                !(e.defines.is_empty()
                    && e.uses.is_empty()
                    && !linked.contains(&e.execution_id)
                    && only_magics(&e.code))
            });
            let (files, _) = files::versions(conn, &files::trial_versions(conn, trial)?)?;
            Ok(GraphAnswer {
                trial: summary.clone(),
                executions,
                edges: edge_list(edges),
                files,
            })
        })
    }

    /// The trial and everything the versions of `var` were made from: its current versions,
    /// or `every` version it had.
    fn reach(&self, trial: i64, var: &str, every: bool) -> Result<(TrialSummary, Walk)> {
        let summary = self.trial(trial)?;
        self.prepare_dataflow(&summary)?;
        let starts = self.starts(&summary, var, every)?;
        let mut walk = self.walk(&starts.statements)?;
        // The file asked about is on its own path, read by no one there.
        if let Some(file) = starts.file {
            for (e, s) in starts.statements {
                walk.files.entry((e, s, file.clone())).or_default();
            }
        }
        Ok((summary, walk))
    }

    /// Where a question about `var` starts: a variable of that name, else the file it names
    /// (`files::file_name`), else [`StoreError::UnknownVariable`]. A name with a dot or a key
    /// (`out.csv`) is a file first when the trial has one so named, since an attribute called
    /// `csv` is the unlikely reading.
    fn starts(&self, trial: &TrialSummary, var: &str, every: bool) -> Result<Starts> {
        let symbol = pyflow::Symbol::parse(var.trim());
        let bare = symbol.as_ref().is_some_and(|s| s.path.is_empty());
        let variable = || -> Result<Option<Starts>> {
            let statements = self.start_statements(trial.id, symbol.as_ref(), every)?;
            Ok((!statements.is_empty()).then_some(Starts {
                statements,
                file: None,
            }))
        };
        if bare {
            if let Some(starts) = variable()? {
                return Ok(starts);
            }
        }
        let file = self.read(|conn| files::file_name(conn, trial.id, &trial.cwd, var))?;
        if let Some(file) = file {
            let statements = self.file_start_statements(trial.id, &file, every)?;
            if !statements.is_empty() {
                return Ok(Starts {
                    statements,
                    file: Some(file),
                });
            }
        }
        if !bare {
            if let Some(starts) = variable()? {
                return Ok(starts);
            }
        }
        Err(self.unknown_variable(trial.id, var, symbol.map(|s| s.base)))
    }

    /// The statements that made the versions of file `file` (its resolved path): its current
    /// one, or `every` one (a negative statement: content from outside).
    fn file_start_statements(&self, trial: i64, file: &str, every: bool) -> Result<Vec<StmtKey>> {
        let every_sql;
        let sql = if every {
            every_sql = format!(
                "SELECT execution_id, statement FROM ({})",
                crate::shared_lists::VERSIONS_NAMED
            );
            &every_sql
        } else {
            "SELECT execution_id, statement FROM current_versions
             WHERE trial_id = ?1 AND name = ?2"
        };
        self.rows(sql, (trial, file), |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// The statements that produced the versions of `symbol` the question is about.
    fn start_statements(
        &self,
        trial: i64,
        symbol: Option<&pyflow::Symbol>,
        every: bool,
    ) -> Result<Vec<StmtKey>> {
        self.read(|conn| {
            let Some(symbol) = symbol else {
                return Ok(Vec::new());
            };
            let sql = if every {
                crate::shared_lists::VERSIONS_NAMED
            } else {
                "SELECT symbol, execution_id, statement FROM current_versions
                 WHERE trial_id = ?1 AND name = ?2"
            };
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query((trial, &symbol.base))?;
            let mut starts = BTreeSet::new();
            while let Some(r) = rows.next()? {
                let text = r.get_ref(0)?.as_str().unwrap_or("");
                let overlaps = pyflow::Symbol::parse(text).is_some_and(|s| s.overlaps(symbol));
                if overlaps {
                    starts.insert((r.get(1)?, r.get(2)?));
                }
            }
            Ok(starts.into_iter().collect::<Vec<StmtKey>>())
        })
    }

    /// The error for a variable the trial does not have (now).
    fn unknown_variable(&self, trial: i64, var: &str, base: Option<String>) -> StoreError {
        let lookup = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT DISTINCT name FROM current_versions WHERE trial_id = ?1")?;
            // Files are not variables: no suggestion names one.
            let names = stmt
                .query_map([trial], |r| r.get::<_, String>(0))?
                .filter(|n| !n.as_ref().is_ok_and(|n| pyflow::is_file_name(n)))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let probe = base.as_deref().unwrap_or(var);
            let similar = similar_names(probe, &names);
            let live = names.iter().any(|n| n == probe);
            let deleted_by = match &base {
                Some(b) if !live => conn
                    .prepare_cached(
                        "SELECT e.execution_count, e.id FROM execution_names n
                         JOIN executions e ON e.id = n.execution_id
                         WHERE n.name = ?1 AND n.role = 'deleted' AND e.trial_id = ?2
                         UNION ALL
                         SELECT e.execution_count, e.id FROM name_set_members m
                         JOIN execution_name_sets x ON x.set_id = m.set_id
                         JOIN executions e ON e.id = x.execution_id
                         WHERE m.name = ?1 AND m.role = 'deleted' AND e.trial_id = ?2
                         ORDER BY 2 DESC LIMIT 1",
                    )?
                    .query_row((b, trial), |r| {
                        Ok(r.get::<_, Option<i64>>(0)?.unwrap_or(r.get(1)?))
                    })
                    .optional()?,
                _ => None,
            };
            Ok((similar, deleted_by))
        });
        match lookup {
            Ok((similar, deleted_by)) => StoreError::UnknownVariable {
                name: var.to_string(),
                trial,
                similar,
                deleted_by,
            },
            Err(e) => e,
        }
    }

    /// Everything reachable from `starts` through what statements read: one recursive query,
    /// bounded by the answer (each step is a range of `dataflow_reads`, clustered by statement).
    fn walk(&self, starts: &[StmtKey]) -> Result<Walk> {
        let starts = serde_json::to_string(starts).expect("pairs of integers serialise");
        self.read(|conn| walk_from(conn, &starts))
    }

    fn deps_answer(&self, var: &str, trial: TrialSummary, walk: Walk) -> Result<DepsAnswer> {
        let executions = self.dep_executions(&walk.statements)?;
        let (files, inputs) = self.read(|conn| files::versions(conn, &walk.files))?;
        Ok(DepsAnswer {
            variable: var.to_string(),
            trial,
            executions,
            edges: edge_list(walk.edges),
            files,
            inputs,
        })
    }

    /// The executions of these statements, in execution order, with what they defined and
    /// used, the probe's values and these statements: three queries for the whole answer.
    fn dep_executions(&self, statements: &BTreeSet<StmtKey>) -> Result<Vec<DepExecution>> {
        self.read(|conn| dep_executions(conn, statements))
    }
}

/// [`Store::walk`]'s one recursive query, from the statements `starts` (JSON pairs).
fn walk_from(conn: &rusqlite::Connection, starts: &str) -> rusqlite::Result<Walk> {
    let mut walk = Walk::default();
    {
        let mut stmt = conn.prepare_cached(
            "WITH RECURSIVE reach (e, s) AS (
                 SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?1) j
                 UNION
                 SELECT r.dep_execution_id, r.dep_statement
                 FROM reach JOIN dataflow_reads r ON r.execution_id = reach.e AND r.statement = reach.s
                 UNION
                 SELECT reach.e, m.dep_statement
                 FROM reach JOIN execution_read_sets x ON x.execution_id = reach.e
                 JOIN read_set_members m ON m.set_id = x.set_id AND m.statement = reach.s
             )
             SELECT reach.e, reach.s, r.dep_execution_id, r.dep_statement, r.symbol
             FROM reach LEFT JOIN dataflow_reads r
                 ON r.execution_id = reach.e AND r.statement = reach.s
                 AND (r.dep_execution_id <> reach.e OR r.dep_statement < 0)
             UNION ALL
             SELECT reach.e, reach.s, reach.e, m.dep_statement, m.symbol
             FROM reach JOIN execution_read_sets x ON x.execution_id = reach.e
             JOIN read_set_members m ON m.set_id = x.set_id AND m.statement = reach.s
             WHERE m.dep_statement < 0",
        )?;
        let mut rows = stmt.query([starts])?;
        while let Some(r) = rows.next()? {
            let at: StmtKey = (r.get(0)?, r.get(1)?);
            walk.statements.insert(at);
            let Some(dep) = r.get::<_, Option<i64>>(2)? else {
                continue;
            };
            let (dep_statement, symbol): (i64, String) = (r.get(3)?, r.get(4)?);
            // A read of a file's version: written by another execution, or from outside.
            if dep_statement < 0 || pyflow::is_file_name(&symbol) {
                let key = (dep, dep_statement, symbol.clone());
                walk.files.entry(key).or_default().insert(at.0);
            }
            if dep != at.0 && dep_statement >= 0 {
                walk.edges.entry((at.0, dep)).or_default().insert(symbol);
            }
        }
    }
    Ok(walk)
}

/// [`Store::dep_executions`]' queries.
fn dep_executions(
    conn: &rusqlite::Connection,
    statements: &BTreeSet<StmtKey>,
) -> rusqlite::Result<Vec<DepExecution>> {
    // A negative statement is a file's content from outside, no execution's code.
    let statements: BTreeSet<StmtKey> = statements.iter().filter(|s| s.1 >= 0).copied().collect();
    let statements = &statements;
    let mut ids: Vec<i64> = statements.iter().map(|s| s.0).collect();
    ids.dedup();
    let list = serde_json::to_string(&ids).expect("a list of integers serialises");
    let mut executions: Vec<DepExecution> = Vec::with_capacity(ids.len());
    let mut at: HashMap<i64, usize> = HashMap::with_capacity(ids.len());
    {
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, e.execution_count, e.cell_id, c.text, e.status
                 FROM json_each(?1) j
                 JOIN executions e ON e.id = j.value
                 JOIN code c ON c.id = e.code_id
                 ORDER BY e.id",
        )?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            at.insert(r.get(0)?, executions.len());
            executions.push(execution_row(r)?);
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT execution_id, name, role FROM ({})
             WHERE role IN ('defined', 'mutated', 'used')
             ORDER BY execution_id, position",
            shared_lists::names_of("(SELECT j.value AS id FROM json_each(?1) j) e")
        ))?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get(0)?) else {
                continue;
            };
            executions[i].note(r.get(1)?, r.get(2)?);
        }
    }
    let mut spans: HashMap<StmtKey, Span> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            // An execution without statement rows of its own has its code's (schema v6).
            "SELECT s.execution_id, s.statement, s.line_start, s.line_end, s.byte_start,
                        s.byte_end
                 FROM json_each(?1) j
                 JOIN dataflow_statements s ON s.execution_id = j.value
             UNION ALL
             SELECT e.id, s.statement, s.line_start, s.line_end, s.byte_start, s.byte_end
                 FROM json_each(?1) j
                 JOIN executions e ON e.id = j.value
                 JOIN code_statements s ON s.code_id = e.code_id
                 WHERE NOT EXISTS
                     (SELECT 1 FROM dataflow_statements o WHERE o.execution_id = e.id)",
        )?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let key: StmtKey = (r.get(0)?, r.get(1)?);
            if statements.contains(&key) {
                spans.insert(key, (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
            }
        }
    }
    let mut notes = assumed::notes(conn, &list, statements)?;
    for &(e, s) in statements {
        if let Some(&i) = at.get(&e) {
            let exec = &mut executions[i];
            let mut st = statement_text(s, spans.get(&(e, s)).copied(), &exec.code);
            st.assumed = notes.remove(&(e, s)).unwrap_or_default();
            exec.statements.push(st);
        }
    }
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT execution_id, name, type_name, value_json FROM ({})
                 ORDER BY execution_id, id",
            crate::shared_lists::values_of("(SELECT value AS id FROM json_each(?1)) e")
        ))?;
        let mut rows = stmt.query([&list])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get(0)?) else {
                continue;
            };
            let value: Option<String> = r.get(3)?;
            executions[i].values.push(DepValue {
                name: r.get(1)?,
                type_name: r.get(2)?,
                value: value.and_then(|v| serde_json::from_str(&v).ok()),
            });
        }
    }
    Ok(executions)
}

impl DepExecution {
    /// Notes a name the execution touched in `role` (once each); a deletion is not listed, nor
    /// a file (not a variable: the answers' `files` show them).
    fn note(&mut self, name: String, role: Role) {
        if pyflow::is_file_name(&name) {
            return;
        }
        let list = match role {
            Role::Defined | Role::Mutated => &mut self.defines,
            Role::Used => &mut self.uses,
            Role::Deleted => return,
        };
        if !list.contains(&name) {
            list.push(name);
        }
    }
}

/// A statement's recorded position: lines and bytes (NULL for a cell that could not be
/// analysed).
type Span = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// A statement's position and exact text; with no recorded position (a cell that could not
/// be analysed) the whole cell stands for it.
fn statement_text(index: i64, span: Option<Span>, code: &str) -> DepStatement {
    let whole = || DepStatement {
        index: index as usize,
        line_start: 1,
        line_end: code.lines().count().max(1),
        text: code.to_string(),
        assumed: Vec::new(),
    };
    match span {
        Some((Some(ls), Some(le), Some(bs), Some(be))) => {
            match code.get(bs as usize..be as usize) {
                Some(text) => DepStatement {
                    index: index as usize,
                    line_start: ls as usize,
                    line_end: le as usize,
                    text: text.to_string(),
                    assumed: Vec::new(),
                },
                None => whole(),
            }
        }
        _ => whole(),
    }
}

/// A [`DepValue`] from `(execution_id, name, type_name, value_json)` of `captured_values`.
fn value_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DepValue> {
    let value: Option<String> = r.get(3)?;
    Ok(DepValue {
        name: r.get(1)?,
        type_name: r.get(2)?,
        value: value.and_then(|v| serde_json::from_str(&v).ok()),
    })
}

/// An execution from a row of `id, execution_count, cell_id, code, status`; its names,
/// statements and values are filled in afterwards.
fn execution_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DepExecution> {
    Ok(DepExecution {
        execution_id: r.get(0)?,
        execution_count: r.get(1)?,
        cell_id: r.get(2)?,
        code: r.get(3)?,
        status: r.get(4)?,
        defines: Vec::new(),
        uses: Vec::new(),
        statements: Vec::new(),
        values: Vec::new(),
    })
}

fn edge_list(edges: BTreeMap<(i64, i64), BTreeSet<String>>) -> Vec<DepEdge> {
    edges
        .into_iter()
        .map(|((from, to), symbols)| DepEdge {
            from,
            to,
            symbols: symbols.into_iter().collect(),
        })
        .collect()
}

/// Names close to `var`, best first (pyflow's rule, so the engine and the store suggest alike).
fn similar_names(var: &str, names: &[String]) -> Vec<String> {
    pyflow::similar_names(var, names.iter().map(String::as_str))
}

/// Whether a cell holds nothing but line magics (and blank lines or comments).
fn only_magics(code: &str) -> bool {
    let mut lines = code
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    lines.peek().is_some() && lines.all(|l| l.starts_with('%') && !l.starts_with("%%"))
}
