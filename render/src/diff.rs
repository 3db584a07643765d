//! Two trials compared (`%trial_diff`, `%trial_intersection_diff`, `provctl diff`): the code as
//! unified diffs, the input files as a table (short hash, size, who read them), values as a
//! table (left → right), the asserts whose outcome changed with what upstream changed, environment, and outputs, with changed figures side by side in HTML.
//! The answer is built once as a [`Doc`] and written as text and HTML from it. The JSON is the
//! [`TrialDiff`] itself (without `equal` entries unless `all`), exactly what `provctl diff
//! --json` prints.

use provstore::{
    CapturedValue, DiffStatus, EnvDiff, ExpectationDiff, InputDiff, InputSide, IntersectionDiff,
    Outcome, OutputDiff, OutputSide, TrialDiff, TrialSummary, ValueDiff,
};
use similar::TextDiff;

use crate::doc::{Block, Doc};
use crate::rendered::Rendered;
use crate::table::{Cell, Table};
use crate::text::strip_ansi;
use crate::to_json;

/// How wide a value is in the values table.
const VALUE_WIDTH: usize = 40;

/// At most this many code ops and output entries are shown as text and HTML (two unrelated
/// trials of thousands of executions would make a page nobody reads); the JSON has them all.
const SHOWN: usize = 100;

/// The diff as shown: without `equal` entries unless `all`. This is the `provctl diff --json`
/// document.
pub fn trial_diff_view(diff: &TrialDiff, all: bool) -> TrialDiff {
    if all {
        diff.clone()
    } else {
        diff.only_differences()
    }
}

/// Two trials compared, every section (see the module docs). Figures appear in the HTML when
/// they were loaded ([`provstore::Store::load_diff_figures`]).
pub fn render_trial_diff(diff: &TrialDiff, all: bool) -> Rendered {
    let view = trial_diff_view(diff, all);
    let json = to_json(&view);
    let (l, r) = (side_label(&view.left), side_label(&view.right));
    let title = format!("Diff of {l} → {r}");
    if diff.is_same() {
        let message = format!(
            "{} and {} ran the same code in the same order, with the same values, environment \
             and outputs{}.{}",
            capitalised(&l),
            r,
            volatile_note(diff)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            match diff.inputs.len() {
                0 => String::new(),
                1 => " They read the same input file.".into(),
                n => format!(" They read the same {n} input files."),
            }
        );
        if !all {
            return crate::titled_notice(&title, &message, json);
        }
    }
    let mut doc = Doc::new();
    doc.title(title);

    doc.section("code");
    if view.code.is_empty() {
        doc.note(1, "The same code ran in the same order.");
    }
    for op in view.code.iter().take(SHOWN) {
        doc.push(Block::Heading {
            status: op.op.as_str().into(),
            text: format!(
                "{} {} → {}",
                op.op.as_str(),
                counts(&op.left, &op.left_seq),
                counts(&op.right, &op.right_seq)
            ),
        });
        if let Some(unified) = &op.unified {
            doc.push(Block::Diff(unified.clone()));
        }
    }
    more(&mut doc, view.code.len(), "code differences");

    doc.section("inputs");
    if view.inputs.is_empty() {
        doc.note(1, same_inputs_note(diff.inputs.len()));
    } else {
        inputs_block(&mut doc, &view.inputs, &view.left, &view.right);
    }

    doc.section("values");
    if view.values.is_empty() {
        doc.note(1, "The same values.");
    } else {
        doc.table(1, values_table(&view.values, &view.left, &view.right));
    }

    doc.section("expectations");
    if view.expectations.is_empty() {
        doc.note(1, same_expectations_note(diff.expectations.len()));
    } else {
        let table = expectations_table(&view.expectations, &view.left, &view.right);
        doc.table(1, table);
    }

    doc.section("environment");
    if view.environment.is_empty() {
        doc.note(1, "The same environment.");
    } else {
        let table = environment_table(&view.environment, &view.left, &view.right);
        doc.table(1, table);
    }

    doc.section("outputs");
    if view.outputs.is_empty() {
        doc.note(1, "The same outputs.");
    }
    if let Some(note) = volatile_note(diff) {
        doc.note(1, format!("{}.", capitalised(&note)));
    }
    for o in view.outputs.iter().take(SHOWN) {
        output_entry(&mut doc, o, &view.left, &view.right);
    }
    more(&mut doc, view.outputs.len(), "output entries");
    doc.rendered(json)
}

/// What the output comparison ignored as volatile, in words, if anything.
fn volatile_note(diff: &TrialDiff) -> Option<String> {
    (!diff.volatile_ignored.is_empty()).then(|| {
        format!(
            "ignoring what differs from run to run by nature: {}",
            diff.volatile_ignored.join(", ")
        )
    })
}

/// The names both trials end with: changed first, then equal. JSON: the
/// [`IntersectionDiff`].
pub fn render_intersection(answer: &IntersectionDiff) -> Rendered {
    let json = to_json(answer);
    let (l, r) = (side_label(&answer.left), side_label(&answer.right));
    let title = format!("Variables in both {l} and {r}");
    if answer.values.is_empty() {
        let message = format!("{} and {r} have no variable in common.", capitalised(&l));
        return crate::titled_notice(&title, &message, json);
    }
    let changed = answer
        .values
        .iter()
        .filter(|v| v.status != DiffStatus::Equal)
        .count();
    let mut doc = Doc::new();
    doc.title(title);
    doc.note(0, format!("{changed} of {} changed.", answer.values.len()));
    doc.table(0, values_table(&answer.values, &answer.left, &answer.right));
    if !answer.inputs.is_empty() {
        doc.section("input files both read");
        inputs_block(&mut doc, &answer.inputs, &answer.left, &answer.right);
    }
    doc.rendered(json)
}

/// What the inputs section says when no input differs: `known` files both read alike, or none.
fn same_inputs_note(known: usize) -> String {
    match known {
        0 => "Neither trial read a file from outside.".into(),
        1 => "The same input file.".into(),
        n => format!("The same {n} input files."),
    }
}

/// The input files as a table (status, each side's short hash, size and readers) and, under
/// it, why a file whose hashes do not differ is `changed`, or is `equal` only very likely.
fn inputs_block(doc: &mut Doc, inputs: &[InputDiff], left: &TrialSummary, right: &TrialSummary) {
    let (l, r) = (column(left), column(right));
    let mut table = Table::new(&["path", "status", &l, &r]);
    for i in inputs.iter().take(SHOWN) {
        table.push(vec![
            Cell::plain(i.path.clone()),
            Cell::status(i.status.as_str()),
            Cell::opt(i.left.as_ref().map(input_side).as_deref()),
            Cell::opt(i.right.as_ref().map(input_side).as_deref()),
        ]);
    }
    doc.table(1, table);
    more(doc, inputs.len(), "input files");
    for i in inputs.iter().take(SHOWN) {
        if let Some(note) = i.note {
            doc.note(
                1,
                format!("{}: changed, though not by hash: {note}.", i.path),
            );
        } else if i.sampled {
            doc.note(
                1,
                format!(
                    "{}: equal by hashes of samples (the file is over PROV_FILE_HASH_LIMIT): \
                     very likely, not surely, the same.",
                    i.path
                ),
            );
        }
    }
}

/// A file as one trial saw it: `1a2b3c4d, 1.2 KiB, read by In[2]` (hash and size as far as
/// known; `sampled` when the hash covers samples; how many contents when it changed between
/// reads).
fn input_side(side: &InputSide) -> String {
    let mut parts: Vec<String> = Vec::new();
    match &side.sha256 {
        Some(sha) => parts.push(sha.chars().take(8).collect()),
        None => parts.push("no hash".into()),
    }
    if let Some(size) = side.size.and_then(|s| u64::try_from(s).ok()) {
        parts.push(bytesize::ByteSize::b(size).to_string());
    }
    if side.sampled {
        parts.push("sampled".into());
    }
    let mut text = parts.join(", ");
    if side.contents > 1 {
        text.push_str(&format!(" ({} contents)", side.contents));
    }
    if !side.read_by.is_empty() {
        // A cell re-run many times reads as a range.
        text.push_str(&format!(", read by {}", counts(&side.read_by, &[])));
    }
    text
}

/// `trial 3 "baseline"`.
fn side_label(t: &TrialSummary) -> String {
    match &t.name {
        Some(name) => format!("trial {} {name:?}", t.id),
        None => format!("trial {}", t.id),
    }
}

/// `trial 3` as the first word of a sentence.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `trial 3` as a column header: short, and the same in every table.
fn column(t: &TrialSummary) -> String {
    format!("trial {}", t.id)
}

/// Says how many of `total` entries were left out (beyond [`SHOWN`]), and where they all are.
fn more(doc: &mut Doc, total: usize, what: &str) {
    if total > SHOWN {
        doc.note(
            1,
            format!(
                "… and {} more {what} ({total} in all: the JSON, e.g. provctl diff --json, lists \
                 them all)",
                total - SHOWN
            ),
        );
    }
}

/// `In[3], In[4]` for a list of counts (a silent execution by its `#seq`), `nothing` for none.
fn counts(counts: &[Option<i64>], seqs: &[i64]) -> String {
    if counts.is_empty() {
        return "nothing".into();
    }
    // A long equal run (with --all) reads as a range.
    if counts.len() > 4 {
        return format!(
            "{} … {} ({} executions)",
            one_count(counts[0], seqs.first().copied()),
            one_count(counts[counts.len() - 1], seqs.last().copied()),
            counts.len()
        );
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, c)| one_count(*c, seqs.get(i).copied()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `In[n]`, or `#seq` for an execution without a count.
fn one_count(count: Option<i64>, seq: Option<i64>) -> String {
    match (count, seq) {
        (Some(n), _) => format!("In[{n}]"),
        (None, Some(s)) => format!("#{s}"),
        (None, None) => "?".into(),
    }
}

/// A value in one line, pointing at what differs from the other side's; `-` when absent.
fn value_cell(v: Option<&CapturedValue>, other: Option<&CapturedValue>) -> Cell {
    let line = match (v, other) {
        (Some(v), Some(other)) => Some(v.one_line_against(other, VALUE_WIDTH)),
        (Some(v), None) => Some(v.one_line(VALUE_WIDTH)),
        (None, _) => None,
    };
    Cell::opt(line.as_deref())
}

/// Values by name: status, both sides in one line each, and what decided the status.
fn values_table(values: &[ValueDiff], left: &TrialSummary, right: &TrialSummary) -> Table {
    let (l, r) = (column(left), column(right));
    let mut table = Table::new(&["name", "status", &l, &r, "compared by"]);
    for v in values {
        table.push(vec![
            Cell::plain(v.name.clone()),
            Cell::status(v.status.as_str()),
            value_cell(v.left_value.as_ref(), v.right_value.as_ref()),
            value_cell(v.right_value.as_ref(), v.left_value.as_ref()),
            Cell::plain(if v.sampled {
                format!("{} (sampled)", v.compared_by)
            } else {
                v.compared_by.to_string()
            }),
        ]);
    }
    table
}

/// What the expectations section says when no outcome differs.
fn same_expectations_note(known: usize) -> String {
    match known {
        0 => "No assert ran.".into(),
        1 => "The one assert had the same outcome.".into(),
        n => format!("The {n} asserts had the same outcomes."),
    }
}

/// Asserts with each trial's last outcome and the upstream changes that can explain a change.
fn expectations_table(
    expectations: &[ExpectationDiff],
    left: &TrialSummary,
    right: &TrialSummary,
) -> Table {
    let (l, r) = (column(left), column(right));
    let mut table = Table::new(&["expectation", &l, &r, "explained by"]);
    let outcome = |o: Option<Outcome>| match o {
        Some(o) => Cell::status(o.as_str()),
        None => Cell::opt(Some("did not run")),
    };
    for e in expectations.iter().take(SHOWN) {
        table.push(vec![
            Cell::code(e.source.chars().take(VALUE_WIDTH * 2).collect(), &e.source),
            outcome(e.left),
            outcome(e.right),
            Cell::plain(e.explained_by.join(", ")),
        ]);
    }
    table
}

/// Environment facts: status and both sides.
fn environment_table(env: &[EnvDiff], left: &TrialSummary, right: &TrialSummary) -> Table {
    let (l, r) = (column(left), column(right));
    let mut table = Table::new(&["name", "status", &l, &r]);
    for e in env {
        table.push(vec![
            Cell::plain(e.name.clone()),
            Cell::status(e.status.as_str()),
            Cell::opt(e.left.as_deref()),
            Cell::opt(e.right.as_deref()),
        ]);
    }
    table
}

/// What one execution showed, as lines to diff: each output's text (a stream's, or the
/// `text/plain` of a rich output), a `[picture]` or `[text/html]` line for a rich output with
/// no text, `[%magic line]` for one of prov's answers (shown only with `--all`; its content
/// would nest one diff in another), the error last. Never payload hashes: they say nothing
/// to a reader.
fn shown_lines(side: &OutputSide) -> String {
    let mut text = String::new();
    for o in &side.outputs {
        if o.output_type == "error" {
            continue; // the execution's error, below
        }
        match (&o.magic, &o.text) {
            (Some(line), _) => text.push_str(&format!("[prov's answer to {line}]")),
            (None, Some(t)) => text.push_str(&strip_ansi(t)),
            (None, None) => match o.mime_types.iter().find(|m| is_picture(m)) {
                Some(_) => text.push_str("[picture]"),
                None => text.push_str(&format!(
                    "[{}]",
                    o.mime_types.first().map_or("empty output", String::as_str)
                )),
            },
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    if let Some(e) = &side.error {
        text.push_str(&format!("error: {e}\n"));
    }
    text
}

/// Pictures the diff can show side by side.
fn is_picture(mime: &str) -> bool {
    mime.starts_with("image/")
}

/// When the text of two outputs is the same but their rich parts differ: what differs.
fn same_text_note(o: &OutputDiff) -> String {
    let pictures = [o.left.as_ref(), o.right.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|s| &s.outputs)
        .any(|out| out.mime_types.iter().any(|m| is_picture(m)));
    if pictures {
        "the same text, a different picture (side by side in the notebook)".into()
    } else {
        "the same text, a different rich output (e.g. its HTML)".into()
    }
}

/// An output entry's side as its `In[n]`, `nothing` when the execution has no counterpart.
fn side_heading(side: Option<&OutputSide>) -> String {
    match side {
        Some(s) => one_count(s.execution_count, Some(s.seq)),
        None => "nothing".into(),
    }
}

/// One compared pair of executions: heading, a diff of what they showed, and (HTML) their
/// figures side by side.
fn output_entry(doc: &mut Doc, o: &OutputDiff, left: &TrialSummary, right: &TrialSummary) {
    doc.push(Block::Heading {
        status: o.status.as_str().into(),
        text: format!(
            "{} {} → {}",
            o.status.as_str(),
            side_heading(o.left.as_ref()),
            side_heading(o.right.as_ref())
        ),
    });
    if o.status == DiffStatus::Equal {
        return;
    }
    let lt = o.left.as_ref().map(shown_lines).unwrap_or_default();
    let rt = o.right.as_ref().map(shown_lines).unwrap_or_default();
    if lt != rt {
        let unified = TextDiff::from_lines(&lt, &rt)
            .unified_diff()
            .context_radius(2)
            .header(&column(left), &column(right))
            .to_string();
        doc.push(Block::Diff(unified));
    } else if o.left.is_some() && o.right.is_some() {
        doc.note(2, same_text_note(o));
    }
    let figures = |s: Option<&OutputSide>| s.map(|s| s.figures.clone()).unwrap_or_default();
    let figures = [figures(o.left.as_ref()), figures(o.right.as_ref())];
    if figures.iter().all(Vec::is_empty) {
        return;
    }
    doc.push(Block::Pictures {
        columns: [column(left), column(right)],
        figures,
    });
}

#[cfg(test)]
mod tests;
