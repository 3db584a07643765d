//! The diff's expectations: each assert either trial ran, with its last outcome in each, and,
//! where they differ, the changed values and input files upstream of it.
//!
//! Only the executions whose code holds the word `assert` are read: an analysis finds an
//! assert only in code that spells it, so the others name no expectation and add no outcome.
//! The side loader has every execution's code already, so a diff of trials without asserts
//! costs no query here (it read each execution of both trials twice, with its analysis).

use std::collections::{BTreeSet, HashMap};

use pyflow::CellAnalysis;
use rusqlite::params;

use super::model::{DiffStatus, ExpectationDiff, InputDiff, ValueDiff};
use crate::expectations::{keyed, outcome, run_facts, Key, RunFacts};
use crate::{Outcome, Result, Store, StoreError};

/// The word an assert is spelt with: code without it has none.
const ASSERT: &str = "assert";

/// Whether an execution's code may hold an assert.
pub(super) fn may_assert(code: &str) -> bool {
    code.contains(ASSERT)
}

/// One execution of either trial whose code may hold an assert, with what its asserts'
/// outcomes need.
struct Run {
    id: i64,
    trial: i64,
    cell_id: Option<String>,
    code_id: i64,
    facts: RunFacts,
}

/// An expectation as one trial names it: its key, in the order the trial first ran it.
struct Named {
    key: Key,
    /// What its last run in that trial read.
    reads: Vec<String>,
}

impl Store {
    /// The expectations of trials `left` and `right` (ids): the right's in its order, then
    /// those only the left ran. `asserting` are the `seq`s of each trial's executions whose
    /// code [may assert](may_assert), in order; `values` and `inputs` are the diff's, which say
    /// what changed.
    pub(super) fn expectation_diffs(
        &self,
        [left, right]: [i64; 2],
        asserting: [&[i64]; 2],
        values: &[ValueDiff],
        inputs: &[InputDiff],
    ) -> Result<Vec<ExpectationDiff>> {
        let runs = self.assert_runs([left, right], asserting)?;
        // Each code's analysis, read and parsed once, from its first execution (by trial id,
        // then order): a trial re-runs its cells.
        let mut analyses: HashMap<i64, CellAnalysis> = HashMap::new();
        for run in &runs {
            if let std::collections::hash_map::Entry::Vacant(slot) = analyses.entry(run.code_id) {
                slot.insert(self.analysis_with(run.id, None)?);
            }
        }
        // Each trial's expectations in order, and each key's last outcome in each trial.
        let mut named: HashMap<i64, (Vec<Named>, HashMap<Key, usize>)> = HashMap::new();
        let mut last: HashMap<(i64, Key), Outcome> = HashMap::new();
        for run in &runs {
            let analysis = &analyses[&run.code_id];
            let (order, at) = named.entry(run.trial).or_default();
            for (key, a) in keyed(&run.cell_id, analysis) {
                match at.get(&key) {
                    Some(&i) => order[i].reads = a.reads.clone(),
                    None => {
                        at.insert(key.clone(), order.len());
                        order.push(Named {
                            key: key.clone(),
                            reads: a.reads.clone(),
                        });
                    }
                }
                last.insert((run.trial, key), outcome(analysis, a, &run.facts).0);
            }
        }
        let of = |trial: i64| named.get(&trial).map_or(&[][..], |(order, _)| &order[..]);
        let (l, r) = (of(left), of(right));
        let same = |a: &Named, b: &Named| a.key.0 == b.key.0 && a.key.1 == b.key.1;
        let only_left = l.iter().filter(|a| !r.iter().any(|b| same(a, b)));
        let mut out = Vec::new();
        for (e, trial) in r
            .iter()
            .map(|e| (e, right))
            .chain(only_left.map(|e| (e, left)))
        {
            let outcome = |t: i64| last.get(&(t, e.key.clone())).copied();
            let (lo, ro) = (outcome(left), outcome(right));
            let explained_by = if lo != ro {
                self.upstream_changes(trial, &e.reads, values, inputs)?
            } else {
                Vec::new()
            };
            out.push(ExpectationDiff {
                source: e.key.1.clone(),
                cell_id: e.key.0.clone(),
                left: lo,
                right: ro,
                explained_by,
            });
        }
        Ok(out)
    }

    /// The executions `asserting` of trials `trials`, by trial id, then order: one query per
    /// trial, through the trial's key for the few executions asked for.
    fn assert_runs(&self, trials: [i64; 2], asserting: [&[i64]; 2]) -> Result<Vec<Run>> {
        let mut sides: Vec<(i64, &[i64])> = trials.into_iter().zip(asserting).collect();
        sides.sort_by_key(|s| s.0);
        sides.dedup_by_key(|s| s.0);
        let mut runs = Vec::new();
        for (trial, seqs) in sides.into_iter().filter(|s| !s.1.is_empty()) {
            let seqs = serde_json::to_string(seqs).expect("a list of integers serialises");
            let rows = self.rows(
                "SELECT e.id, e.cell_id, e.code_id, e.status, e.error_name, e.error_value,
                        CASE WHEN e.status = 'error' THEN e.error_traceback END, d.failed_line
                 FROM json_each(?2) j
                 CROSS JOIN executions e ON e.trial_id = ?1 AND e.seq = j.value
                 LEFT JOIN execution_dataflow d ON d.execution_id = e.id
                 ORDER BY e.seq",
                params![trial, seqs],
                |r| {
                    Ok(Run {
                        id: r.get(0)?,
                        trial,
                        cell_id: r.get(1)?,
                        code_id: r.get(2)?,
                        facts: run_facts(r, 3)?,
                    })
                },
            )?;
            runs.extend(rows);
        }
        Ok(runs)
    }

    /// The changed values and input files among `reads` and what their current values in
    /// `trial` were computed from.
    fn upstream_changes(
        &self,
        trial: i64,
        reads: &[String],
        values: &[ValueDiff],
        inputs: &[InputDiff],
    ) -> Result<Vec<String>> {
        let mut names: BTreeSet<String> = reads.iter().cloned().collect();
        let mut files: BTreeSet<String> = BTreeSet::new();
        for name in reads {
            let answer = match self.backwards_deps(trial, name) {
                Ok(answer) => answer,
                // A builtin (`len`), a module, a name bound only inside the assert.
                Err(StoreError::UnknownVariable { .. }) => continue,
                Err(e) => return Err(e),
            };
            // A symbol is a name (`d['a']`, `cfg.lr`: its base name counts) or a file (its
            // resolved path).
            for symbol in answer.edges.iter().flat_map(|e| &e.symbols) {
                if pyflow::is_file_name(symbol) {
                    files.insert(symbol.clone());
                } else {
                    let base = symbol.split(['[', '.']).next().unwrap_or(symbol);
                    names.insert(base.to_string());
                }
            }
            for file in &answer.inputs {
                files.insert(file.path.clone());
                files.insert(file.resolved.clone());
            }
            for file in &answer.files {
                files.insert(file.path.clone());
                files.insert(file.resolved.clone());
            }
        }
        let changed_values = values
            .iter()
            .filter(|v| v.status != DiffStatus::Equal && names.contains(&v.name))
            .map(|v| v.name.clone());
        let changed_inputs = inputs
            .iter()
            .filter(|i| i.status != DiffStatus::Equal)
            .filter(|i| {
                i.left
                    .iter()
                    .chain(&i.right)
                    .any(|s| files.contains(&s.path) || files.contains(&s.resolved))
            })
            .map(|i| i.path.clone());
        Ok(changed_values.chain(changed_inputs).collect())
    }
}

#[cfg(test)]
mod tests;
