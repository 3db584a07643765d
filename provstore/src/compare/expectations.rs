//! The diff's expectations: each assert either trial ran, with its last outcome in each, and,
//! where they differ, the changed values and input files upstream of it.

use std::collections::BTreeSet;

use super::model::{DiffStatus, ExpectationDiff, InputDiff, ValueDiff};
use crate::{Expectation, Result, Store, StoreError};

impl Store {
    /// The expectations of trials `left` and `right` (ids): the right's in its order, then
    /// those only the left ran. `values` and `inputs` are the diff's, which say what changed.
    pub(super) fn expectation_diffs(
        &self,
        left: i64,
        right: i64,
        values: &[ValueDiff],
        inputs: &[InputDiff],
    ) -> Result<Vec<ExpectationDiff>> {
        let among = Some([left, right]);
        let (l, r) = (
            self.expectations_among(left, among)?,
            self.expectations_among(right, among)?,
        );
        let same =
            |a: &Expectation, b: &Expectation| a.cell_id == b.cell_id && a.source == b.source;
        let mut out = Vec::new();
        let only_left = l.iter().filter(|a| !r.iter().any(|b| same(a, b)));
        for (e, trial) in r
            .iter()
            .map(|e| (e, right))
            .chain(only_left.map(|e| (e, left)))
        {
            let outcome = |t: i64| e.latest_in(t).map(|run| run.outcome);
            let (lo, ro) = (outcome(left), outcome(right));
            let explained_by = if lo != ro {
                self.upstream_changes(trial, &e.reads, values, inputs)?
            } else {
                Vec::new()
            };
            out.push(ExpectationDiff {
                source: e.source.clone(),
                cell_id: e.cell_id.clone(),
                left: lo,
                right: ro,
                explained_by,
            });
        }
        Ok(out)
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
