//! Comparing two trials (`%trial_diff`, `%trial_intersection_diff`, `provctl diff`): what code
//! ran in what order, which values, environment and outputs differ. Everything comes back as
//! plain data with a status per entry (`equal` included), so the renderer and `--all` decide
//! what to show; [`TrialDiff::only_differences`] is the default view.
//!
//! # Code
//!
//! The two trials' execution sequences are diffed as sequences of code hashes (Myers), so a
//! re-run cell, a skipped cell or a cell run in another order shows as such. Each op lists the
//! `In[n]` (and `seq`) of the executions on both sides, and non-equal ops carry a unified diff
//! of their code.
//!
//! Cells that held only prov's magics (`%tag_var x`, `%trials`: every line blank, a comment
//! or the line of one of the cell's magic answers) are left out of the code diff, like the
//! answers themselves, unless asked for (`--all`).
//!
//! # Inputs
//!
//! The files each trial read from outside (`file_accesses`), paired across the two trials by
//! the path the code gave, else by resolved path, each `changed` (by sha256 or size; equal
//! hashes of samples are not enough when the modification times differ), `added`, `removed`
//! or `equal`; a file the trial wrote itself and read back is not an input, and files it only
//! wrote are not listed (`inputs.rs` states the rules). Every statement that read an input
//! that is not equal seeds the values' walk below as a statement whose text changed.
//!
//! # Values
//!
//! Each name's final captured value in each trial is compared (the last `captured_values` row
//! by execution order; a name deleted after it counts as absent; a non-scalar defined or
//! mutated after its capture counts as known by type only). Scalars and summaries are judged
//! by [`CapturedValue::same_as`]. When that cannot judge (only the type is known: an untagged
//! model or frame), the dataflow decides, statement by statement, from the dependency index
//! (each producing top-level statement, the versions of names it made, and the versions it
//! read, earlier in its own cell or before):
//!
//! - Matching: the statements of executions the code diff calls equal are matched; within a
//!   replaced range the statement texts of both sides are diffed (Myers), so only the
//!   statements whose text changed are unmatched; those of executions only one side ran are
//!   unmatched.
//! - Walking each trial in order, a statement is *different* when it is unmatched (or it read
//!   an input file that differs, which counts the same) or it read a changed version. A
//!   version is changed when the statement that made it is different, except
//!   that the final value of a name judged by its captured value (its current versions) has
//!   that verdict, changed or not (and so do names only one trial has). So what a different
//!   statement defines or mutates becomes changed, a name remade by a same statement from same
//!   inputs is unchanged again, and an unchanged line beside a changed one in the same cell
//!   stays unchanged.
//! - Names bound by one statement may share state (`fig, ax = plt.subplots()`: the figure
//!   holds the axes), which the analysis cannot see: once a different statement changes one of
//!   them in place (`ax.set_title(C)`), what that statement bound counts as changed from then on.
//! - A type-only name is `changed` when, in either trial, one of its current versions is
//!   changed.
//!
//! Where statements cannot be trusted, the cell stands for itself, conservatively: a cell that
//! could not be analysed has one statement without text, matched only when the whole cell is;
//! a statement that may act out of the analysis' sight (a magic, `exec`, a star import: dynamic
//! in pyflow's analysis) is also different when anything its cell read was changed; a read the
//! index cannot place counts as changed. A trial whose dependencies are not indexed (a
//! read-only store holding an old trial) has no statements: its type-only names stay equal.
//!
//! # Expectations
//!
//! Each `assert` either trial ran (see [`Store::expectations`]) with its last outcome in each;
//! where they differ, `explained_by` names the changed values and input files upstream of it:
//! the names it reads and the variables and files their current values were computed from
//! (the dependency index's walk, in the right trial, else the left), as far as the diff found
//! them changed. Upstream is taken from each name's value at the trial's end, which is the
//! value the assert saw unless a later cell rebound it.
//!
//! # Outputs
//!
//! Executions are paired along the code diff (equal and replace ops by position; the rest are
//! added or removed) and their outputs compared by type and payload hashes (and the error, for
//! a failed execution). Outputs that differ only in what is volatile by nature (ipykernel's
//! temporary cell files in warnings, memory addresses, `%timeit`/`%%time` lines, widget model
//! ids: `volatile.rs`) are equal, and the diff names what it ignored. prov's own magic answers (marked by the recorder with
//! [`MAGIC_ANSWER_MIME`]) are left out unless asked for: they are prov's, not the user's.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Result, Store, TrialSummary};

mod algorithm;
mod expectations;
mod inputs;
mod load;
mod model;
mod statements;
#[cfg(test)]
mod test_support;
mod versions;
mod volatile;

pub use model::{
    CodeOp, CodeOpKind, DiffStatus, EnvDiff, ExpectationDiff, Figure, InputDiff, InputSide,
    IntersectionDiff, OutputDiff, OutputEntry, OutputSide, TrialDiff, ValueDiff, MAGIC_ANSWER_MIME,
};

use algorithm::Side;
use algorithm::{
    code_op, code_ops, compare_outputs, compare_values_wanting, is_picture, presence_status,
    prov_magics_only, reads, replaced,
};
use expectations::may_assert;
use inputs::compare_inputs;
pub use volatile::WIDGET_VIEW_MIME;

/// `text` with what differs from run to run by nature (a cell's temporary file, memory
/// addresses, timings) replaced by placeholders, as the diff compares outputs; `provctl replay`
/// compares the same way.
pub fn without_volatile(text: &str) -> std::borrow::Cow<'_, str> {
    volatile::normalise(text, &mut Vec::new())
}

impl Store {
    /// Compares trial `left` with trial `right` (ids): code, input files, values, environment,
    /// outputs, every entry with its status. The outputs are what the code showed: prov's own
    /// magic answers are left out (see [`Store::trial_diff_with`]).
    pub fn trial_diff(&self, left: i64, right: i64) -> Result<TrialDiff> {
        self.trial_diff_with(left, right, false)
    }

    /// [`Store::trial_diff`], with prov's magic answers among the outputs when `magic_answers`
    /// (`--all`). Without them an execution that showed nothing else has no outputs, and one
    /// on a single side with nothing to show is not listed among the outputs (the code diff
    /// has it), so a trial that ran `%trial_diff` does not bring that diff into this one; a
    /// cell that held only prov's magics (`%tag_var x`, `%trials`) is not in the code diff
    /// either.
    pub fn trial_diff_with(&self, left: i64, right: i64, magic_answers: bool) -> Result<TrialDiff> {
        let ((left, mut l), (right, mut r)) = (self.diff_side(left)?, self.diff_side(right)?);
        // Before prov's magics are set aside: an expectation's history counts every execution.
        let [la, ra] = [&l, &r].map(|side| {
            let execs = side.execs.iter().filter(|e| may_assert(&e.code));
            execs.map(|e| e.seq).collect::<Vec<i64>>()
        });
        if !magic_answers {
            for side in [&mut l, &mut r] {
                side.execs.retain(|e| !prov_magics_only(e));
                for e in &mut side.execs {
                    e.outputs.retain(|o| o.magic.is_none());
                }
            }
        }
        let ops = self.code_ops_with_texts(&mut l, &mut r)?;
        let (inputs, seeds) = compare_inputs(&reads(&l), &reads(&r));
        let values = self.judged_values(&mut l, &mut r, &ops, &seeds)?;
        let expectations =
            self.expectation_diffs([left.id, right.id], [&la, &ra], &values, &inputs)?;
        let environment = self.environment_diff(&left, &right)?;
        let code = ops.iter().map(|op| code_op(op, &l, &r)).collect();
        let outputs = compare_outputs(&mut l.execs, &mut r.execs, &ops);
        let mut volatile_ignored: Vec<&'static str> = Vec::new();
        for kind in outputs.iter().flat_map(|o| &o.ignored) {
            if !volatile_ignored.contains(kind) {
                volatile_ignored.push(kind);
            }
        }
        volatile_ignored.sort_unstable();
        Ok(TrialDiff {
            left,
            right,
            code,
            inputs,
            values,
            expectations,
            environment,
            outputs,
            volatile_ignored,
        })
    }

    /// The names both trials end with, changed first, then equal (by name within), and the
    /// input files both read, the same way.
    pub fn intersection_diff(&self, left: i64, right: i64) -> Result<IntersectionDiff> {
        let ((left, mut l), (right, mut r)) = (self.diff_side(left)?, self.diff_side(right)?);
        let ops = self.code_ops_with_texts(&mut l, &mut r)?;
        let (inputs, seeds) = compare_inputs(&reads(&l), &reads(&r));
        let values = self
            .judged_values(&mut l, &mut r, &ops, &seeds)?
            .into_iter()
            .filter(|v| v.left_type.is_some() && v.right_type.is_some())
            .collect();
        let inputs = inputs
            .into_iter()
            .filter(|i| i.left.is_some() && i.right.is_some())
            .collect();
        Ok(IntersectionDiff {
            left,
            right,
            values,
            inputs,
        })
    }

    /// Each name's final value judged ([`compare_values_wanting`]), the statements'
    /// dynamic flags read for the cells the walk asks about, until it asks for none it lacks.
    /// A walk that asked only for flags that turn out unset (an unread flag is unset) needs
    /// no second run: it would walk the same way and ask for the same, now read, cells.
    fn judged_values(
        &self,
        l: &mut Side,
        r: &mut Side,
        ops: &[similar::DiffOp],
        seeds: &[inputs::Seeds; 2],
    ) -> Result<Vec<ValueDiff>> {
        loop {
            let (values, [wl, wr]) = compare_values_wanting(l, r, ops, seeds);
            if wl.is_empty() && wr.is_empty() {
                return Ok(values);
            }
            // Each round reads some cells' flags not read before, so the rounds end.
            let marked_left = self.mark_dynamic(l, &wl)?;
            let marked_right = self.mark_dynamic(r, &wr)?;
            if !marked_left && !marked_right {
                return Ok(values);
            }
        }
    }

    /// The code diff of two sides, with the statement texts of the executions it replaced
    /// read, which the values' comparison matches.
    fn code_ops_with_texts(&self, l: &mut Side, r: &mut Side) -> Result<Vec<similar::DiffOp>> {
        let ops = code_ops(&l.execs, &r.execs);
        let (lr, rr) = replaced(&ops);
        self.fill_statement_texts(l, &lr)?;
        self.fill_statement_texts(r, &rr)?;
        Ok(ops)
    }

    /// Fills in the pictures (PNG, JPEG, GIF, SVG) of the changed output entries of `diff`,
    /// for showing them side by side. At most `budget` bytes are loaded in all; the rest keep
    /// their hashes only.
    pub fn load_diff_figures(&self, diff: &mut TrialDiff, budget: usize) -> Result<()> {
        let mut left = budget;
        for entry in diff
            .outputs
            .iter_mut()
            .filter(|o| o.status != DiffStatus::Equal)
        {
            for side in [entry.left.as_mut(), entry.right.as_mut()]
                .into_iter()
                .flatten()
            {
                for output in &side.outputs {
                    for (mime, sha) in output.mime_types.iter().zip(&output.sha256) {
                        if !is_picture(mime) {
                            continue;
                        }
                        let bytes = self.payload(sha)?;
                        let bytes = match bytes {
                            Some(b) if b.len() <= left => {
                                left -= b.len();
                                Some(b)
                            }
                            _ => None,
                        };
                        side.figures.push(Figure {
                            mime_type: mime.clone(),
                            sha256: sha.clone(),
                            bytes,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Python, ipykernel, platform, then the packages of either trial.
    fn environment_diff(&self, left: &TrialSummary, right: &TrialSummary) -> Result<Vec<EnvDiff>> {
        let entry = |name: &str, l: Option<&str>, r: Option<&str>| EnvDiff {
            name: name.to_string(),
            status: presence_status(l, r),
            left: l.map(String::from),
            right: r.map(String::from),
        };
        let mut out = vec![
            entry(
                "python",
                left.python_version.as_deref(),
                right.python_version.as_deref(),
            ),
            entry(
                "ipykernel",
                left.ipykernel_version.as_deref(),
                right.ipykernel_version.as_deref(),
            ),
            entry("platform", Some(&left.platform), Some(&right.platform)),
        ];
        let by_name = |trial: i64| -> Result<BTreeMap<String, String>> {
            Ok(self.trial_packages(trial)?.into_iter().collect())
        };
        let (lp, rp) = (by_name(left.id)?, by_name(right.id)?);
        let names: BTreeSet<&String> = lp.keys().chain(rp.keys()).collect();
        for name in names {
            out.push(entry(
                name,
                lp.get(name).map(String::as_str),
                rp.get(name).map(String::as_str),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod lazy_tests;
