//! The statement-level taint of the trial diff: which producing statements of a trial differ
//! from the other trial's, and so which names end up changed "by dependencies" (the rule is in
//! the `compare` module docs). Plain data, no SQL: `load.rs` fills [`Stmt`] from the dependency
//! index (`dataflow_statements`, `dataflow_versions`, `dataflow_reads`), `algorithm.rs` says
//! which executions the code diff matched.
//!
//! Why statements and versions, not cells and names: an unchanged line beside a changed one in
//! the same cell (a seeded split next to `max_depth = 6`) makes the same value, and the stored
//! reads say exactly which version of a name each statement read, in the same cell or before.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use similar::{capture_diff_slices, Algorithm, DiffTag};

use super::model::CodeOpKind;

/// One producing statement of an execution (it made at least one version of a name).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Stmt {
    /// Its position among the cell's top-level statements.
    pub(crate) index: i64,
    /// Its exact source, read only for executions the code diff replaced (the others are
    /// matched whole or not at all); None there when the cell could not be analysed and stands
    /// for itself.
    pub(crate) text: Option<String>,
    /// It may read and bind what the analysis cannot see (a magic, `exec`, a star import), so
    /// it is judged by the reads of its whole cell, as a cell was before statements.
    pub(crate) dynamic: bool,
    /// The versions it read (of earlier executions, or made earlier in its own cell).
    pub(crate) reads: Vec<Read>,
    /// The versions it made.
    pub(crate) makes: Vec<Made>,
}

/// A version a statement read: which statement made it, and which of its versions it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Read {
    /// The `seq` of the execution that made it (None: the store does not know it, which counts
    /// as changed).
    pub(crate) seq: Option<i64>,
    /// The statement of that execution that made it.
    pub(crate) statement: i64,
    /// Its position in that statement's [`Stmt::makes`] (None: not found by its symbol).
    pub(crate) made: Option<usize>,
}

/// A version a statement made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Made {
    /// Its symbol (`d['a']`).
    pub(crate) symbol: String,
    /// The name it belongs to (`d`).
    pub(crate) name: String,
    /// Whether it is part of the name's value at the end of the trial.
    pub(crate) current: bool,
    /// Made by changing the name's object in place (`d['a'] = 1`, `model.fit(X)`), not by
    /// binding it.
    pub(crate) mutation: bool,
}

/// One execution as the walk sees it: its `seq` and its producing statements in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell<'a> {
    pub(crate) seq: i64,
    pub(crate) statements: &'a [Stmt],
    /// Whether its statements' dynamic flags were read (else they are all false for now).
    pub(crate) dynamic_read: bool,
}

/// Which statements (by position in each execution's list) have a counterpart with the same
/// text on the other side, for both sides. `ops` are the code diff's ops as (kind, left range,
/// right range) of executions; within a replaced range the statement texts are diffed, so only
/// the statements whose text changed are unmatched. A statement without text (an unanalysed
/// cell) is matched only when its whole execution is.
pub(crate) fn matched_statements(
    ops: &[(CodeOpKind, Range<usize>, Range<usize>)],
    left: &[Cell],
    right: &[Cell],
) -> (Vec<Vec<bool>>, Vec<Vec<bool>>) {
    let unmatched = |cells: &[Cell]| -> Vec<Vec<bool>> {
        cells
            .iter()
            .map(|c| vec![false; c.statements.len()])
            .collect()
    };
    let (mut lm, mut rm) = (unmatched(left), unmatched(right));
    for (kind, lr, rr) in ops {
        match kind {
            CodeOpKind::Equal => {
                for row in lm[lr.clone()].iter_mut().chain(rm[rr.clone()].iter_mut()) {
                    row.fill(true);
                }
            }
            CodeOpKind::Replace => {
                let (lt, rt) = (texts(left, lr.clone()), texts(right, rr.clone()));
                let l: Vec<&str> = lt.iter().map(|(_, _, t)| *t).collect();
                let r: Vec<&str> = rt.iter().map(|(_, _, t)| *t).collect();
                for op in capture_diff_slices(Algorithm::Myers, &l, &r) {
                    if op.tag() != DiffTag::Equal {
                        continue;
                    }
                    for &(e, s, _) in &lt[op.old_range()] {
                        lm[e][s] = true;
                    }
                    for &(e, s, _) in &rt[op.new_range()] {
                        rm[e][s] = true;
                    }
                }
            }
            CodeOpKind::Insert | CodeOpKind::Delete => {}
        }
    }
    (lm, rm)
}

/// The statements with text of the executions in `range`, in order: (execution, position, text).
fn texts<'a>(cells: &[Cell<'a>], range: Range<usize>) -> Vec<(usize, usize, &'a str)> {
    let mut out = Vec::new();
    for e in range {
        for (s, stmt) in cells[e].statements.iter().enumerate() {
            if let Some(text) = stmt.text.as_deref() {
                out.push((e, s, text));
            }
        }
    }
    out
}

/// One side's walk: which statements differ, in order.
struct Walk<'a> {
    cells: &'a [Cell<'a>],
    /// Each execution's position in `cells`, by `seq`.
    at: HashMap<i64, usize>,
    judged: &'a HashMap<&'a str, bool>,
    /// Per execution, per statement position: whether it differs (filled as the walk goes).
    different: Vec<Vec<bool>>,
    /// The statement that last bound each name (execution, position).
    born: HashMap<&'a str, (usize, usize)>,
    /// Statements that bound several names whose objects were since changed in place by a
    /// statement that differs: what they bound may share state (a figure and its axes from
    /// `fig, ax = plt.subplots()`), so all of it counts as changed from then on.
    shared: HashSet<(usize, usize)>,
}

impl Walk<'_> {
    /// Whether the version `read` names is changed; None when the walk has not decided its
    /// statement yet or does not know it. The final value of a name judged by its captured
    /// value (its current versions) has that verdict; any other version is changed when the
    /// statement that made it differs, or bound it beside a name changed in place since.
    fn version_changed(&self, read: &Read) -> Option<bool> {
        let e = *self.at.get(&read.seq?)?;
        let cell = self.cells[e].statements;
        let at = cell
            .binary_search_by_key(&read.statement, |s| s.index)
            .ok()?;
        let made = read.made.and_then(|m| cell[at].makes.get(m));
        if let Some(m) = made.filter(|m| m.current) {
            if let Some(&differs) = self.judged.get(m.name.as_str()) {
                return Some(differs);
            }
        }
        let differs = *self.different.get(e)?.get(at)?;
        Some(differs || made.is_some_and(|m| self.shares(e, at, m)))
    }

    /// Whether `made`, of statement `at` of execution `e`, was bound beside a name that a
    /// different statement has changed in place since.
    fn shares(&self, e: usize, at: usize, made: &Made) -> bool {
        !made.mutation && self.shared.contains(&(e, at))
    }

    /// After statement `at` of execution `e` is decided: the names it binds are born there,
    /// and if it differs, what it changes in place taints what was bound with it.
    fn note_births(&mut self, e: usize, at: usize) {
        let cells = self.cells;
        let stmt = &cells[e].statements[at];
        if self.different[e][at] {
            for m in stmt.makes.iter().filter(|m| m.mutation) {
                if let Some(&birth) = self.born.get(m.name.as_str()) {
                    if birth != (e, at) && binds_several(&cells[birth.0].statements[birth.1]) {
                        self.shared.insert(birth);
                    }
                }
            }
        }
        for m in stmt
            .makes
            .iter()
            .filter(|m| !m.mutation && m.symbol == m.name)
        {
            self.born.insert(&m.name, (e, at));
        }
    }

    /// Whether statement `stmt` of execution `e` differs: its text has no counterpart, or it
    /// read a changed version (one the walk cannot place counts as changed), or, for a dynamic
    /// statement, anything its cell read was changed.
    /// The flag is consulted only where its cell read a changed version; a cell whose flags
    /// were not read yet goes to `wanted`.
    fn differs(&self, e: usize, stmt: &Stmt, matched: bool, wanted: &mut Vec<usize>) -> bool {
        let differs = !matched
            || stmt
                .reads
                .iter()
                .any(|r| self.version_changed(r).unwrap_or(true));
        if differs
            || !self.cells[e]
                .statements
                .iter()
                .flat_map(|s| &s.reads)
                .any(|r| self.version_changed(r) == Some(true))
        {
            return differs;
        }
        if !self.cells[e].dynamic_read && wanted.last() != Some(&e) {
            wanted.push(e);
        }
        stmt.dynamic
    }
}

/// The names a trial ends with changed by its dependencies: those with a current version made
/// by a statement that differs. `cells` are the trial's executions in order (each its producing
/// statements in order), `matched` what [`matched_statements`] said of them; names `judged` by
/// their captured values carry that verdict to whatever reads their final value.
#[cfg(test)]
pub(crate) fn changed_names<'a>(
    cells: &'a [Cell<'a>],
    matched: &[Vec<bool>],
    judged: &'a HashMap<&'a str, bool>,
) -> HashSet<&'a str> {
    changed_names_wanting(cells, matched, judged, &mut Vec::new())
}

/// [`changed_names`], adding to `wanted` the cells (positions) whose dynamic flags the walk
/// consulted before they were read: the answer holds once there are none.
pub(crate) fn changed_names_wanting<'a>(
    cells: &'a [Cell<'a>],
    matched: &[Vec<bool>],
    judged: &'a HashMap<&'a str, bool>,
    wanted: &mut Vec<usize>,
) -> HashSet<&'a str> {
    let mut walk = Walk {
        cells,
        at: cells.iter().enumerate().map(|(i, c)| (c.seq, i)).collect(),
        judged,
        different: Vec::with_capacity(cells.len()),
        born: HashMap::new(),
        shared: HashSet::new(),
    };
    for (e, cell) in cells.iter().enumerate() {
        walk.different
            .push(Vec::with_capacity(cell.statements.len()));
        for (s, stmt) in cell.statements.iter().enumerate() {
            let is_matched = matched.get(e).and_then(|m| m.get(s)).copied();
            let differs = walk.differs(e, stmt, is_matched.unwrap_or(false), wanted);
            walk.different[e].push(differs);
            walk.note_births(e, s);
        }
    }
    let mut changed = HashSet::new();
    for (e, cell) in cells.iter().enumerate() {
        for (s, stmt) in cell.statements.iter().enumerate() {
            let differs = walk.different[e][s];
            let current = stmt.makes.iter().filter(|m| m.current);
            let current = current.filter(|m| differs || walk.shares(e, s, m));
            changed.extend(current.map(|m| m.name.as_str()));
        }
    }
    changed
}

/// Whether a statement bound more than one name (`fig, ax = plt.subplots()`).
fn binds_several(stmt: &Stmt) -> bool {
    let mut bound = stmt
        .makes
        .iter()
        .filter(|m| !m.mutation && m.symbol == m.name);
    bound
        .next()
        .is_some_and(|first| bound.any(|m| m.name != first.name))
}

#[cfg(test)]
mod tests;
