//! Dataflow answers read from the store: which executions made a variable's
//! value (`provctl deps`, `%backwards_deps`, `%global_backwards_deps`), the
//! statements that rebuild it (`%slice`), and the whole trial's graph. The
//! field names are the JSON contract of `provctl deps --json`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rusqlite::OptionalExtension;

use crate::shared_lists;
use crate::{Result, Store, StoreError, TrialSummary};

mod answers;
mod assumed;
mod catch_up;
#[cfg(test)]
mod equivalence_tests;
mod executions;
mod files;
#[cfg(test)]
mod reference;

pub use answers::{
    DepEdge, DepExecution, DepStatement, DepValue, DepsAnswer, FileInput, FileVersion, GraphAnswer,
    SliceAnswer, SliceStatement,
};

use crate::dataflow_index;

use executions::{execution_row, value_from_row, StmtKey};

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

    /// Everything reachable from `starts` through what statements read, bounded by the answer.
    fn walk(&self, starts: &[StmtKey]) -> Result<Walk> {
        self.read(|conn| in_one_read(conn, |conn| walk_from(conn, starts)))
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
    /// used, the probe's values and these statements (`executions.rs`).
    fn dep_executions(&self, statements: &BTreeSet<StmtKey>) -> Result<Vec<DepExecution>> {
        self.read(|conn| in_one_read(conn, |conn| executions::dep_executions(conn, statements)))
    }
}

/// Runs `f` in one read transaction when none is open. Outside one, every statement takes and
/// releases the WAL's read lock (two `fcntl`s and an `fstat`), and a walk runs thousands.
fn in_one_read<T>(
    conn: &rusqlite::Connection,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    // Dropped at the end, so rolled back: nothing was written.
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Deferred)?;
    f(&tx)
}

/// [`Store::walk`]: from the statements `starts`, every statement their reads lead to. A
/// value's history is a chain through hundreds of executions, one or two statements each, so
/// the walk reads each execution's reads once, as it reaches it, and each shared list of
/// reads once (a recursive query looked each statement up twice: once to walk, once to list).
fn walk_from(conn: &rusqlite::Connection, starts: &[StmtKey]) -> rusqlite::Result<Walk> {
    let mut walk = Walk::default();
    let mut reads = ExecutionReads::new(conn)?;
    let mut queue: Vec<StmtKey> = Vec::new();
    for &start in starts {
        if walk.statements.insert(start) {
            queue.push(start);
        }
    }
    while let Some(at) = queue.pop() {
        reads.load(at.0)?;
        let (rows, list) = &reads.executions[&at.0];
        for (_, dep, dep_statement, symbol) in rows.iter().filter(|r| r.0 == at.1) {
            // A read within the execution (rows from before schema v6) only leads on.
            if *dep != at.0 || *dep_statement < 0 {
                walk.note(at, *dep, *dep_statement, symbol);
            }
            if walk.statements.insert((*dep, *dep_statement)) {
                queue.push((*dep, *dep_statement));
            }
        }
        let members = list.and_then(|l| reads.lists.get(&l)).into_iter().flatten();
        for (_, dep_statement, symbol) in members.filter(|m| m.0 == at.1) {
            if *dep_statement < 0 {
                walk.note(at, at.0, *dep_statement, symbol);
            }
            if walk.statements.insert((at.0, *dep_statement)) {
                queue.push((at.0, *dep_statement));
            }
        }
    }
    Ok(walk)
}

impl Walk {
    /// Statement `at` read `symbol` from statement `dep_statement` of execution `dep`.
    fn note(&mut self, at: StmtKey, dep: i64, dep_statement: i64, symbol: &str) {
        // A read of a file's version: written by another execution, or from outside.
        if dep_statement < 0 || pyflow::is_file_name(symbol) {
            let key = (dep, dep_statement, symbol.to_string());
            self.files.entry(key).or_default().insert(at.0);
        }
        if dep != at.0 && dep_statement >= 0 {
            self.edges
                .entry((at.0, dep))
                .or_default()
                .insert(symbol.to_string());
        }
    }
}

/// A read in a row of the reading execution's own: `(statement, dep_execution, dep_statement,
/// symbol)`.
type OwnRead = (i64, i64, i64, String);

/// The reads of the executions a walk reached, each read from the store once.
struct ExecutionReads<'c> {
    own: rusqlite::CachedStatement<'c>,
    link: rusqlite::CachedStatement<'c>,
    members: rusqlite::CachedStatement<'c>,
    /// Execution → its rows and its list.
    executions: HashMap<i64, (Vec<OwnRead>, Option<i64>)>,
    /// List → its members `(statement, dep_statement, symbol)`.
    lists: HashMap<i64, Vec<(i64, i64, String)>>,
}

impl<'c> ExecutionReads<'c> {
    fn new(conn: &'c rusqlite::Connection) -> rusqlite::Result<ExecutionReads<'c>> {
        Ok(ExecutionReads {
            own: conn.prepare_cached(
                "SELECT statement, dep_execution_id, dep_statement, symbol FROM dataflow_reads
                 WHERE execution_id = ?1",
            )?,
            link: conn
                .prepare_cached("SELECT set_id FROM execution_read_sets WHERE execution_id = ?1")?,
            members: conn.prepare_cached(
                "SELECT statement, dep_statement, symbol FROM read_set_members WHERE set_id = ?1",
            )?,
            executions: HashMap::new(),
            lists: HashMap::new(),
        })
    }

    /// Reads execution `e`'s reads and its list's members, unless read already.
    fn load(&mut self, e: i64) -> rusqlite::Result<()> {
        if self.executions.contains_key(&e) {
            return Ok(());
        }
        let rows = self
            .own
            .query_map([e], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let list: Option<i64> = self.link.query_row([e], |r| r.get(0)).optional()?;
        if let Some(list) = list.filter(|l| !self.lists.contains_key(l)) {
            let members = self
                .members
                .query_map([list], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            self.lists.insert(list, members);
        }
        self.executions.insert(e, (rows, list));
        Ok(())
    }
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
