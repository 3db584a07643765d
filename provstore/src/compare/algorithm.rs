//! The comparison itself, over plain structs and no SQL (the module docs of `compare` state
//! the rules): the code diff, each name's final value judged by value or by the dataflow
//! (the statement-level taint of `statements.rs`), and the outputs paired along the code diff.
//! `load.rs` fills these structs from the store.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp, TextDiff};

use super::inputs::{unmatch_seeds, FileUse, Reads, Seeds};
use super::model::{
    CodeOp, CodeOpKind, DiffStatus, OutputDiff, OutputEntry, OutputSide, ValueDiff,
};
use super::statements::{changed_names_wanting, matched_statements, Cell, Stmt};
use super::volatile::{same_but_volatile, WIDGET_MODEL_ID, WIDGET_VIEW_MIME};
use crate::role::Role;
use crate::CapturedValue;

/// One execution of a trial, as the diff needs it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exec {
    /// Its row id.
    pub(crate) id: i64,
    pub(crate) seq: i64,
    pub(crate) execution_count: Option<i64>,
    pub(crate) code: String,
    pub(crate) sha256: String,
    pub(crate) error: Option<String>,
    pub(crate) outputs: Vec<OutputEntry>,
    /// Its producing statements in order, from the dependency index (empty when it made
    /// nothing, or the trial is not indexed).
    pub(crate) statements: Vec<Stmt>,
    /// The files it read and wrote, in the order it first did.
    pub(crate) files: Vec<FileUse>,
    /// Whether its statements' dynamic flags were read ([`super::Store::mark_dynamic`]);
    /// until then they are all false.
    pub(crate) dynamic_read: bool,
}

/// A name's final capture in a trial, before judging.
#[derive(Debug, Clone, Default)]
pub(crate) struct Final {
    pub(crate) type_name: String,
    pub(crate) value_json: Option<String>,
    pub(crate) summary_json: Option<String>,
    pub(crate) fingerprint_json: Option<String>,
    /// Defined or mutated after the capture: only the type is still known.
    pub(crate) stale: bool,
}

/// One trial as compared: its id (for the code diff's headers), executions in order and the
/// final capture of each name it ends with.
#[derive(Debug, Default)]
pub(crate) struct Side {
    pub(crate) id: i64,
    pub(crate) execs: Vec<Exec>,
    pub(crate) finals: HashMap<String, Final>,
}

/// `d['a']` and `o.x` belong to `d` and `o`; a file's name (its path) is whole.
pub(crate) fn base_name(symbol: &str) -> &str {
    if pyflow::is_file_name(symbol) {
        return symbol;
    }
    let end = symbol.find(['[', '.']).unwrap_or(symbol.len());
    &symbol[..end]
}

/// Gathers, name by name, the last execution that defined and deleted each, which decide the
/// final captures ([`Names::finals`]).
#[derive(Debug, Default)]
pub(crate) struct Names {
    last_def: HashMap<String, i64>,
    last_del: HashMap<String, i64>,
}

impl Names {
    /// Notes that the execution `seq` touched `name` (a symbol: `d['a']` counts for `d`) in
    /// `role`.
    pub(crate) fn note(&mut self, seq: i64, name: &str, role: Role) {
        let base = base_name(name);
        match role {
            Role::Defined | Role::Mutated => note_seq(&mut self.last_def, base, seq),
            Role::Used => {}
            // `del d['a']` deletes a key, not `d`.
            Role::Deleted => {
                if base == name {
                    note_seq(&mut self.last_del, name, seq);
                }
            }
        }
    }

    /// The names the trial ends with, from each name's last capture `(seq, capture)`: a name
    /// deleted after its capture is gone, and a non-scalar defined or mutated after it is
    /// known by type only.
    pub(crate) fn finals(&self, captured: HashMap<String, (i64, Final)>) -> HashMap<String, Final> {
        captured
            .into_iter()
            .filter_map(|(name, (seq, mut fin))| {
                let def = self.last_def.get(&name).copied().unwrap_or(i64::MIN);
                if self
                    .last_del
                    .get(&name)
                    .is_some_and(|&d| d > seq && d >= def)
                {
                    return None;
                }
                // Scalars are immutable: only a non-scalar can change after its capture.
                fin.stale = def > seq && fin.value_json.is_none();
                Some((name, fin))
            })
            .collect()
    }
}

/// Notes `seq` as the latest for `name`, allocating only for a name not seen before.
fn note_seq(map: &mut HashMap<String, i64>, name: &str, seq: i64) {
    match map.get_mut(name) {
        Some(at) => *at = (*at).max(seq),
        None => {
            map.insert(name.to_string(), seq);
        }
    }
}

/// Whether an execution held only prov's magics: every line of its code is blank, a comment,
/// or the line of one of its magic answers (the recorder marks each answer with its line). Such
/// a cell is prov's, like its answers, not code of the experiment.
pub(crate) fn prov_magics_only(e: &Exec) -> bool {
    let lines: Vec<&str> = e
        .outputs
        .iter()
        .filter_map(|o| o.magic.as_deref())
        .collect();
    !lines.is_empty()
        && e.code.lines().all(|line| {
            let line = line.trim_end();
            let bare = line.trim_start();
            bare.is_empty() || bare.starts_with('#') || lines.contains(&line)
        })
}

/// Whether a MIME type is a picture the HTML can show.
pub(crate) fn is_picture(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/svg+xml"
    )
}

/// equal / changed / added / removed for two optional facts.
pub(crate) fn presence_status<T: PartialEq>(l: Option<T>, r: Option<T>) -> DiffStatus {
    match (l, r) {
        (Some(a), Some(b)) if a == b => DiffStatus::Equal,
        (Some(_), Some(_)) => DiffStatus::Changed,
        (None, Some(_)) => DiffStatus::Added,
        (Some(_), None) => DiffStatus::Removed,
        (None, None) => DiffStatus::Equal,
    }
}

/// The Myers diff of the two execution sequences by code hash.
pub(crate) fn code_ops(left: &[Exec], right: &[Exec]) -> Vec<DiffOp> {
    let l: Vec<&str> = left.iter().map(|e| e.sha256.as_str()).collect();
    let r: Vec<&str> = right.iter().map(|e| e.sha256.as_str()).collect();
    capture_diff_slices(Algorithm::Myers, &l, &r)
}

/// The kind and the index ranges of an op.
fn op_parts(op: &DiffOp) -> (CodeOpKind, std::ops::Range<usize>, std::ops::Range<usize>) {
    match *op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => (
            CodeOpKind::Equal,
            old_index..old_index + len,
            new_index..new_index + len,
        ),
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => (
            CodeOpKind::Delete,
            old_index..old_index + old_len,
            new_index..new_index,
        ),
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => (
            CodeOpKind::Insert,
            old_index..old_index,
            new_index..new_index + new_len,
        ),
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => (
            CodeOpKind::Replace,
            old_index..old_index + old_len,
            new_index..new_index + new_len,
        ),
    }
}

/// The executions (positions on each side) in the code diff's replace ops: those whose
/// statements are matched by text.
pub(crate) fn replaced(ops: &[DiffOp]) -> (Vec<usize>, Vec<usize>) {
    let (mut l, mut r) = (Vec::new(), Vec::new());
    for (kind, lr, rr) in ops.iter().map(op_parts) {
        if kind == CodeOpKind::Replace {
            l.extend(lr);
            r.extend(rr);
        }
    }
    (l, r)
}

/// A code op as shown: executions on both sides and, unless equal, the unified diff.
pub(crate) fn code_op(op: &DiffOp, l: &Side, r: &Side) -> CodeOp {
    let (kind, lr, rr) = op_parts(op);
    let (le, re) = (&l.execs[lr], &r.execs[rr]);
    let unified = (kind != CodeOpKind::Equal).then(|| {
        let (lt, rt) = (joined_code(le), joined_code(re));
        let header = |trial: i64, execs: &[Exec]| format!("trial {trial} {}", in_numbers(execs));
        TextDiff::from_lines(&lt, &rt)
            .unified_diff()
            .context_radius(3)
            .header(&header(l.id, le), &header(r.id, re))
            .to_string()
    });
    CodeOp {
        op: kind,
        left: le.iter().map(|e| e.execution_count).collect(),
        right: re.iter().map(|e| e.execution_count).collect(),
        left_seq: le.iter().map(|e| e.seq).collect(),
        right_seq: re.iter().map(|e| e.seq).collect(),
        unified,
    }
}

/// `In[3], In[4]` (`#7` for an execution without a count), `(none)` for no executions.
fn in_numbers(execs: &[Exec]) -> String {
    if execs.is_empty() {
        return "(none)".into();
    }
    let parts: Vec<String> = execs
        .iter()
        .map(|e| match e.execution_count {
            Some(n) => format!("In[{n}]"),
            None => format!("#{}", e.seq),
        })
        .collect();
    parts.join(", ")
}

/// The code of consecutive executions, each ending with a newline.
fn joined_code(execs: &[Exec]) -> String {
    let mut text = String::new();
    for e in execs {
        text.push_str(&e.code);
        if !e.code.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// A final capture as a value, with its content forgotten when stale.
fn captured(fin: &Final) -> CapturedValue {
    if fin.stale {
        return CapturedValue::from_columns(fin.type_name.clone(), None, None);
    }
    CapturedValue::from_columns(
        fin.type_name.clone(),
        fin.value_json.clone(),
        fin.summary_json.clone(),
    )
    .with_fingerprint(fin.fingerprint_json.clone())
}

/// Each execution's file accesses, for comparing the inputs.
pub(crate) fn reads(side: &Side) -> Vec<Reads<'_>> {
    side.execs
        .iter()
        .map(|e| Reads {
            execution_count: e.execution_count,
            files: &e.files,
        })
        .collect()
}

/// Judges every name either trial ends with (see the module docs); `seeds` are the statements
/// of each trial that read an input file that differs (`inputs.rs`). Files are not variables:
/// a name that is a path is never listed.
#[cfg(test)]
pub(crate) fn compare_values(
    l: &Side,
    r: &Side,
    ops: &[DiffOp],
    seeds: &[Seeds; 2],
) -> Vec<ValueDiff> {
    compare_values_wanting(l, r, ops, seeds).0
}

/// [`compare_values`], with the executions of each side (positions) whose statements' dynamic
/// flags the walk consulted before they were read: the answer holds once there are none.
pub(crate) fn compare_values_wanting(
    l: &Side,
    r: &Side,
    ops: &[DiffOp],
    seeds: &[Seeds; 2],
) -> (Vec<ValueDiff>, [Vec<usize>; 2]) {
    let mut wanted: [Vec<usize>; 2] = Default::default();
    let names: BTreeSet<&String> = l
        .finals
        .keys()
        .chain(r.finals.keys())
        .filter(|n| !pyflow::is_file_name(n))
        .collect();
    let mut entries: Vec<ValueDiff> = Vec::with_capacity(names.len());
    // Names whose status the values (or presence) decide: whether they differ.
    let mut judged: HashMap<&str, bool> = HashMap::new();
    let mut undecided: Vec<usize> = Vec::new();
    for name in names {
        let lv = l.finals.get(name).map(captured);
        let rv = r.finals.get(name).map(captured);
        let mut sampled = false;
        let (status, compared_by) = match (&lv, &rv) {
            (Some(a), Some(b)) => match a.judge(b) {
                Some(j) => {
                    judged.insert(name, !j.same);
                    sampled = j.sampled;
                    let status = if j.same {
                        DiffStatus::Equal
                    } else {
                        DiffStatus::Changed
                    };
                    (status, j.by)
                }
                None => {
                    undecided.push(entries.len());
                    (DiffStatus::Equal, "dependencies")
                }
            },
            (None, Some(_)) => {
                judged.insert(name, true);
                (DiffStatus::Added, "presence")
            }
            (Some(_), None) => {
                judged.insert(name, true);
                (DiffStatus::Removed, "presence")
            }
            (None, None) => continue,
        };
        entries.push(ValueDiff {
            name: name.clone(),
            status,
            left: lv.as_ref().map(CapturedValue::shown).unwrap_or(Value::Null),
            right: rv.as_ref().map(CapturedValue::shown).unwrap_or(Value::Null),
            left_type: lv.as_ref().map(|v| v.type_name.clone()),
            right_type: rv.as_ref().map(|v| v.type_name.clone()),
            compared_by,
            sampled,
            left_value: lv,
            right_value: rv,
        });
    }
    if !undecided.is_empty() {
        let parts: Vec<_> = ops.iter().map(op_parts).collect();
        let (lc, rc) = (cells(l), cells(r));
        let (mut lm, mut rm) = matched_statements(&parts, &lc, &rc);
        unmatch_seeds(&seeds[0], &lc, &mut lm);
        unmatch_seeds(&seeds[1], &rc, &mut rm);
        let [wl, wr] = &mut wanted;
        let mut tainted = changed_names_wanting(&lc, &lm, &judged, wl);
        tainted.extend(changed_names_wanting(&rc, &rm, &judged, wr));
        for i in undecided {
            if tainted.contains(entries[i].name.as_str()) {
                entries[i].status = DiffStatus::Changed;
            }
        }
    }
    entries.sort_by(|a, b| (a.status, &a.name).cmp(&(b.status, &b.name)));
    (entries, wanted)
}

/// Each execution's producing statements, in order.
fn cells(side: &Side) -> Vec<Cell<'_>> {
    side.execs
        .iter()
        .map(|e| Cell {
            seq: e.seq,
            statements: &e.statements,
            dynamic_read: e.dynamic_read,
        })
        .collect()
}

/// One side of an output comparison, taking the execution's outputs (each execution is in
/// exactly one op, so nothing is cloned).
fn output_side(e: &mut Exec) -> OutputSide {
    OutputSide {
        seq: e.seq,
        execution_count: e.execution_count,
        error: e.error.take(),
        outputs: std::mem::take(&mut e.outputs),
        figures: Vec::new(),
    }
}

/// Whether two executions showed the same: output types, stream names, payload hashes, error.
fn same_outputs(a: &Exec, b: &Exec) -> bool {
    a.error == b.error
        && a.outputs.len() == b.outputs.len()
        && a.outputs.iter().zip(&b.outputs).all(|(x, y)| {
            x.output_type == y.output_type
                && x.name == y.name
                && x.mime_types == y.mime_types
                && x.sha256 == y.sha256
        })
}

/// Whether two executions showed the same once what is volatile by nature is ignored (see
/// `volatile.rs`): the same outputs, whose differing payloads are `text/plain` texts equal
/// after normalising, or widget views; the error likewise. The kinds ignored go to `found`
/// only when they are the same.
fn same_but_volatile_outputs(a: &Exec, b: &Exec, found: &mut Vec<&'static str>) -> bool {
    let mut kinds = Vec::new();
    let errors = match (&a.error, &b.error) {
        (Some(x), Some(y)) => x == y || same_but_volatile(x, y, &mut kinds),
        (x, y) => x == y,
    };
    let same = errors
        && a.outputs.len() == b.outputs.len()
        && a.outputs.iter().zip(&b.outputs).all(|(x, y)| {
            x.output_type == y.output_type
                && x.name == y.name
                && x.mime_types == y.mime_types
                && x.sha256.len() == y.sha256.len()
                && x.mime_types.iter().zip(x.sha256.iter().zip(&y.sha256)).all(
                    |(mime, (hx, hy))| {
                        hx == hy
                            || match mime.as_str() {
                                "text/plain" => match (&x.text, &y.text) {
                                    (Some(tx), Some(ty)) => same_but_volatile(tx, ty, &mut kinds),
                                    _ => false,
                                },
                                WIDGET_VIEW_MIME => {
                                    if !kinds.contains(&WIDGET_MODEL_ID) {
                                        kinds.push(WIDGET_MODEL_ID);
                                    }
                                    true
                                }
                                _ => false,
                            }
                    },
                )
        });
    if same {
        *found = kinds;
    }
    same
}

/// Pairs executions along the code diff and compares their outputs (which it takes out of
/// the executions).
pub(crate) fn compare_outputs(
    left: &mut [Exec],
    right: &mut [Exec],
    ops: &[DiffOp],
) -> Vec<OutputDiff> {
    let mut out = Vec::with_capacity(right.len().max(left.len()));
    for op in ops {
        let (_, lr, rr) = op_parts(op);
        let (le, re) = (&mut left[lr], &mut right[rr]);
        let paired = le.len().min(re.len());
        for (a, b) in le.iter_mut().zip(re.iter_mut()) {
            let mut ignored = Vec::new();
            let status = if same_outputs(a, b) || same_but_volatile_outputs(a, b, &mut ignored) {
                DiffStatus::Equal
            } else {
                DiffStatus::Changed
            };
            out.push(OutputDiff {
                status,
                left: Some(output_side(a)),
                right: Some(output_side(b)),
                ignored,
            });
        }
        // An execution on one side only that showed nothing is the code diff's business.
        let showed = |e: &Exec| !e.outputs.is_empty() || e.error.is_some();
        for a in le[paired..].iter_mut().filter(|e| showed(e)) {
            out.push(OutputDiff {
                status: DiffStatus::Removed,
                left: Some(output_side(a)),
                right: None,
                ignored: Vec::new(),
            });
        }
        for b in re[paired..].iter_mut().filter(|e| showed(e)) {
            out.push(OutputDiff {
                status: DiffStatus::Added,
                left: None,
                right: Some(output_side(b)),
                ignored: Vec::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
