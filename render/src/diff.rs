//! Two trials compared (`%trial_diff`, `%trial_intersection_diff`, `provctl diff`): the code as
//! unified diffs, values as a table (left → right), environment, and outputs, with changed
//! figures side by side in HTML. The JSON is the [`TrialDiff`] itself (without `equal` entries
//! unless `all`), exactly what `provctl diff --json` prints.

use provstore::{
    CapturedValue, DiffStatus, EnvDiff, Figure, IntersectionDiff, OutputDiff, OutputSide,
    TrialDiff, TrialSummary, ValueDiff,
};
use similar::TextDiff;

use crate::html::{self, esc, Html};
use crate::table::{Cell, Table};
use crate::text::strip_ansi;
use crate::{to_json, Rendered};

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
             and outputs.",
            capitalised(&l),
            r
        );
        if !all {
            return crate::titled_notice(&title, &message, json);
        }
    }
    let mut text = format!("{title}\n");
    let mut h = Html::new();
    h.title(&title);

    section(&mut text, &mut h, "code");
    if view.code.is_empty() {
        line(&mut text, &mut h, "The same code ran in the same order.");
    }
    for op in view.code.iter().take(SHOWN) {
        let heading = format!(
            "{} {} → {}",
            op.op.as_str(),
            counts(&op.left, &op.left_seq),
            counts(&op.right, &op.right_seq)
        );
        text.push_str(&format!("  {heading}\n"));
        h.raw(&format!(
            "<div style=\"margin:4px 0 0;\">{}</div>",
            tinted(op.op.as_str(), &heading)
        ));
        if let Some(unified) = &op.unified {
            text.push_str(&indent(unified, "    "));
            h.raw(&diff_pre(unified));
        }
    }

    more(&mut text, &mut h, view.code.len(), "code differences");

    section(&mut text, &mut h, "values");
    table_or_line(
        &mut text,
        &mut h,
        (!view.values.is_empty()).then(|| values_table(&view.values, &view.left, &view.right)),
        "The same values.",
    );

    section(&mut text, &mut h, "environment");
    table_or_line(
        &mut text,
        &mut h,
        (!view.environment.is_empty())
            .then(|| environment_table(&view.environment, &view.left, &view.right)),
        "The same environment.",
    );

    section(&mut text, &mut h, "outputs");
    if view.outputs.is_empty() {
        line(&mut text, &mut h, "The same outputs.");
    }
    for o in view.outputs.iter().take(SHOWN) {
        output_entry(&mut text, &mut h, o, &view.left, &view.right);
    }
    more(&mut text, &mut h, view.outputs.len(), "output entries");
    Rendered {
        text,
        html: h.finish(),
        json,
        svg: None,
    }
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
    let mut h = Html::new();
    h.title(&title);
    let changed = answer
        .values
        .iter()
        .filter(|v| v.status != DiffStatus::Equal)
        .count();
    let summary = format!("{changed} of {} changed.", answer.values.len());
    let table = values_table(&answer.values, &answer.left, &answer.right);
    h.note(&summary);
    h.raw(&table.html());
    Rendered {
        text: format!("{title}\n{summary}\n{}", table.text()),
        html: h.finish(),
        json,
        svg: None,
    }
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

/// Starts a section (`code`, `values`, …) in both forms.
fn section(text: &mut String, h: &mut Html, name: &str) {
    text.push('\n');
    text.push_str(name);
    text.push('\n');
    h.raw(&format!(
        "<div style=\"font-weight:600;margin:10px 0 2px;border-bottom:1px solid \
         rgba(128,128,128,0.35);\">{}</div>",
        esc(name)
    ));
}

/// A sentence in place of an empty section, in both forms.
fn line(text: &mut String, h: &mut Html, sentence: &str) {
    text.push_str(&format!("  {sentence}\n"));
    h.note(sentence);
}

/// A section's table, indented under its heading, or the sentence saying there is nothing.
fn table_or_line(text: &mut String, h: &mut Html, table: Option<Table>, nothing: &str) {
    match table {
        Some(table) => {
            text.push_str(&indent(&table.text(), "  "));
            h.raw(&table.html());
        }
        None => line(text, h, nothing),
    }
}

/// Says how many of `total` entries were left out (beyond [`SHOWN`]), and where they all are.
fn more(text: &mut String, h: &mut Html, total: usize, what: &str) {
    if total > SHOWN {
        line(
            text,
            h,
            &format!(
                "… and {} more {what} ({total} in all: the JSON, e.g. provctl diff --json, lists \
                 them all)",
                total - SHOWN
            ),
        );
    }
}

/// Every line of `s` indented (blank lines stay blank), ending with a newline.
fn indent(s: &str, pad: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for l in s.lines() {
        if !l.is_empty() {
            out.push_str(pad);
            out.push_str(l);
        }
        out.push('\n');
    }
    out
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

/// `text` on a tint that says what happened (`changed`, `added`, `replace`, …), readable in
/// light and dark themes.
fn tinted(status: &str, text: &str) -> String {
    let tint = match status {
        "added" | "insert" => "rgba(46,160,67,0.22)",
        "removed" | "delete" => "rgba(229,83,75,0.25)",
        "changed" | "replace" => "rgba(210,153,34,0.28)",
        _ => "rgba(128,128,128,0.18)",
    };
    format!(
        "<span style=\"background:{tint};border-radius:3px;padding:0 5px;\">{}</span>",
        esc(text)
    )
}

/// A unified diff as coloured lines: additions and removals on translucent tints.
fn diff_pre(unified: &str) -> String {
    let mut body = String::new();
    for l in unified.lines() {
        let tint = if l.starts_with("+++") || l.starts_with("---") {
            "opacity:0.7;"
        } else if l.starts_with('+') {
            "background:rgba(46,160,67,0.22);"
        } else if l.starts_with('-') {
            "background:rgba(229,83,75,0.22);"
        } else if l.starts_with("@@") {
            "opacity:0.6;"
        } else {
            ""
        };
        body.push_str(&format!(
            "<div style=\"{tint}\">{}</div>",
            if l.is_empty() {
                " ".to_string()
            } else {
                esc(l)
            }
        ));
    }
    format!(
        "<div style=\"{}margin:2px 0 6px 12px;display:block;\">{body}</div>",
        html::CODE
    )
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
            Cell::plain(v.compared_by),
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
fn output_entry(
    text: &mut String,
    h: &mut Html,
    o: &OutputDiff,
    left: &TrialSummary,
    right: &TrialSummary,
) {
    let heading = format!(
        "{} {} → {}",
        o.status.as_str(),
        side_heading(o.left.as_ref()),
        side_heading(o.right.as_ref())
    );
    text.push_str(&format!("  {heading}\n"));
    h.raw(&format!(
        "<div style=\"margin:4px 0 0;\">{}</div>",
        tinted(o.status.as_str(), &heading)
    ));
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
        text.push_str(&indent(&unified, "    "));
        h.raw(&diff_pre(&unified));
    } else if o.left.is_some() && o.right.is_some() {
        let note = same_text_note(o);
        text.push_str(&format!("    {note}\n"));
        h.raw(&format!(
            "<div style=\"margin:2px 0;opacity:0.8;\">{}</div>",
            esc(&note)
        ));
    }
    let figures = |s: Option<&OutputSide>| s.map(|s| s.figures.clone()).unwrap_or_default();
    let (lf, rf) = (figures(o.left.as_ref()), figures(o.right.as_ref()));
    if lf.is_empty() && rf.is_empty() {
        return;
    }
    h.raw(&format!(
        "<table style=\"{}\"><thead><tr><th style=\"{}\">{}</th><th style=\"{}\">{}</th></tr>\
         </thead><tbody><tr><td style=\"{}\">{}</td><td style=\"{}\">{}</td></tr></tbody></table>",
        html::TABLE,
        html::TH,
        esc(&column(left)),
        html::TH,
        esc(&column(right)),
        html::TD,
        figures_html(&lf),
        html::TD,
        figures_html(&rf),
    ));
}

/// Pictures as `<img>` with data URIs (SVG too: an inline SVG could clash with the page's ids
/// or carry scripts); a note for one the store kept by hash only.
fn figures_html(figures: &[Figure]) -> String {
    if figures.is_empty() {
        return format!("<span style=\"{}\">no figure</span>", html::MUTED);
    }
    let mut out = String::new();
    for f in figures {
        match &f.bytes {
            Some(bytes) => out.push_str(&format!(
                "<div><img style=\"max-width:420px;height:auto;\" alt=\"{}\" \
                 src=\"data:{};base64,{}\"></div>",
                esc(&f.mime_type),
                esc(&f.mime_type),
                data_uri_base64(&f.mime_type, bytes)
            )),
            None => out.push_str(&format!(
                "<div style=\"{}\">{} {} (not stored: over the payload cap)</div>",
                html::MUTED,
                esc(&f.mime_type),
                esc(f.sha256.get(..12).unwrap_or(&f.sha256))
            )),
        }
    }
    out
}

/// The base64 of a data URI for a stored picture. Jupyter sends PNG, JPEG and GIF as base64
/// text in the message's JSON, and the store keeps that text: it goes in as it is (without line
/// breaks). SVG is text, and so is a picture some other kernel sent as raw bytes: encoded here.
fn data_uri_base64(mime_type: &str, stored: &[u8]) -> String {
    let is_base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let text: Vec<u8> = stored
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if mime_type != "image/svg+xml" && !text.is_empty() && text.iter().all(is_base64) {
        String::from_utf8(text).unwrap_or_default()
    } else {
        base64(stored)
    }
}

/// Standard base64 with padding, for data URIs.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use provstore::{CodeOp, CodeOpKind, OutputEntry};
    use serde_json::json;

    fn trial(id: i64) -> TrialSummary {
        crate::tests::trial(id, None)
    }

    fn scalar(x: f64) -> CapturedValue {
        CapturedValue::from_columns("float".into(), Some(format!("{x:?}")), None)
    }

    fn value(name: &str, status: DiffStatus, l: Option<f64>, r: Option<f64>) -> ValueDiff {
        let (lv, rv) = (l.map(scalar), r.map(scalar));
        ValueDiff {
            name: name.into(),
            status,
            left: lv.as_ref().map(CapturedValue::shown).unwrap_or_default(),
            right: rv.as_ref().map(CapturedValue::shown).unwrap_or_default(),
            left_type: lv.as_ref().map(|v| v.type_name.clone()),
            right_type: rv.as_ref().map(|v| v.type_name.clone()),
            compared_by: "value",
            left_value: lv,
            right_value: rv,
        }
    }

    fn side(seq: i64, text: &str, figure: Option<&[u8]>) -> OutputSide {
        let mut outputs = vec![OutputEntry {
            output_type: "stream".into(),
            name: Some("stdout".into()),
            mime_types: vec!["text/plain".into()],
            text: Some(text.into()),
            sha256: vec![format!("{seq:0>64}")],
            magic: None,
        }];
        let mut figures = Vec::new();
        if let Some(bytes) = figure {
            outputs.push(OutputEntry {
                output_type: "display_data".into(),
                name: None,
                mime_types: vec!["image/png".into()],
                text: None,
                sha256: vec!["ab".repeat(32)],
                magic: None,
            });
            figures.push(Figure {
                mime_type: "image/png".into(),
                sha256: "ab".repeat(32),
                bytes: Some(bytes.to_vec()),
            });
        }
        OutputSide {
            seq,
            execution_count: Some(seq),
            error: None,
            outputs,
            figures,
        }
    }

    fn diff() -> TrialDiff {
        TrialDiff {
            left: trial(1),
            right: trial(2),
            code: vec![
                CodeOp {
                    op: CodeOpKind::Equal,
                    left: vec![Some(1)],
                    right: vec![Some(1)],
                    left_seq: vec![1],
                    right_seq: vec![1],
                    unified: None,
                },
                CodeOp {
                    op: CodeOpKind::Replace,
                    left: vec![Some(2)],
                    right: vec![None],
                    left_seq: vec![2],
                    right_seq: vec![2],
                    unified: Some(
                        "--- trial 1 In[2]\n+++ trial 2 #2\n@@ -1 +1 @@\n-C = 1.0\n+C = 0.001 # <b>\n"
                            .into(),
                    ),
                },
            ],
            values: vec![
                value("C", DiffStatus::Changed, Some(1.0), Some(0.001)),
                value("n", DiffStatus::Added, None, Some(3.0)),
                value("x", DiffStatus::Equal, Some(2.0), Some(2.0)),
            ],
            environment: vec![EnvDiff {
                name: "python".into(),
                status: DiffStatus::Equal,
                left: Some("3.12.1".into()),
                right: Some("3.12.1".into()),
            }],
            outputs: vec![OutputDiff {
                status: DiffStatus::Changed,
                // As the store keeps them: the base64 text Jupyter sent.
                left: Some(side(3, "0.9\n", Some(b"iVBORw0KGgpsZWZ0\n"))),
                right: Some(side(3, "0.5\n", Some(b"iVBORw0KGgpyaWdodA=="))),
            }],
        }
    }

    /// A matplotlib-like output: the same `text/plain`, a PNG that differs by hash.
    fn figure_output(png_sha: &str) -> OutputEntry {
        OutputEntry {
            output_type: "display_data".into(),
            name: None,
            mime_types: vec!["text/plain".into(), "image/png".into()],
            text: Some("<Figure size 640x480 with 1 Axes>".into()),
            sha256: vec!["11".repeat(32), png_sha.repeat(32)],
            magic: None,
        }
    }

    #[test]
    fn a_changed_output_shows_its_content_never_hashes() {
        let mut d = diff();
        d.outputs[0].left.as_mut().unwrap().outputs = vec![figure_output("aa")];
        d.outputs[0].right.as_mut().unwrap().outputs = vec![figure_output("bb")];
        let answer = render_trial_diff(&d, false);
        for shown in [&answer.text, &answer.html] {
            assert!(
                !shown.contains("aaaaaaaa") && !shown.contains("bbbbbbbb"),
                "{shown}"
            );
            assert!(!shown.contains("[image/png"), "{shown}");
            assert!(shown.contains("a different picture"), "{shown}");
        }
        // The pictures themselves, side by side.
        assert_eq!(answer.html.matches("data:image/png;base64,").count(), 2);

        // An output with no text at all reads as what it is.
        let l = d.outputs[0].left.as_mut().unwrap();
        l.outputs[0].mime_types = vec!["image/png".into()];
        l.outputs[0].sha256.truncate(1);
        l.outputs[0].text = None;
        let answer = render_trial_diff(&d, false);
        assert!(answer.text.contains("-[picture]"), "{}", answer.text);
        assert!(!answer.text.contains("aaaaaaaa"), "{}", answer.text);
    }

    #[test]
    fn a_magic_answer_is_one_line_not_a_nested_diff() {
        let mut d = diff();
        let answer = OutputEntry {
            output_type: "display_data".into(),
            name: None,
            mime_types: vec!["text/plain".into(), "text/html".into()],
            text: Some("Diff of trial 1 → trial 2\ncode\n  -C = 1.0\n".into()),
            sha256: vec!["22".repeat(32), "33".repeat(32)],
            magic: Some("%trial_diff 1".into()),
        };
        d.outputs[0].right.as_mut().unwrap().outputs.push(answer);
        let r = render_trial_diff(&d, true);
        assert!(
            r.text.contains("+[prov's answer to %trial_diff 1]"),
            "{}",
            r.text
        );
        assert_eq!(r.text.matches("Diff of").count(), 1, "{}", r.text);
        assert_eq!(
            r.json["outputs"][0]["right"]["outputs"][2]["magic"],
            "%trial_diff 1"
        );
        assert!(r.json["outputs"][0]["left"]["outputs"][0]
            .get("magic")
            .is_none());
    }

    #[test]
    fn text_shows_the_code_diff_values_and_outputs() {
        let r = render_trial_diff(&diff(), false);
        let t = &r.text;
        assert!(t.starts_with("Diff of trial 1 → trial 2\n"), "{t}");
        assert!(t.contains("replace In[2] → #2"), "{t}");
        assert!(t.contains("    -C = 1.0\n"), "{t}");
        assert!(t.contains("    +C = 0.001 # <b>\n"), "{t}");
        assert!(t.contains("C     changed  1.0"), "{t}");
        assert!(t.contains("0.001"), "{t}");
        assert!(t.contains("n     added    -"), "{t}");
        assert!(!t.contains("x     equal"), "{t}");
        assert!(t.contains("The same environment."), "{t}");
        assert!(t.contains("-0.9"), "{t}");
        assert!(t.contains("+0.5"), "{t}");
        // Without --all, no equal entries in the JSON either.
        assert_eq!(r.json["code"].as_array().unwrap().len(), 1);
        assert_eq!(r.json["code"][0]["op"], "replace");
        assert_eq!(r.json["code"][0]["right"], json!([null]));
        assert_eq!(r.json["values"].as_array().unwrap().len(), 2);
        assert!(r.json["environment"].as_array().unwrap().is_empty());
        assert_eq!(r.json, to_json(&diff().only_differences()));
        assert!(r.json["outputs"][0]["left"].get("figures").is_none());

        let all = render_trial_diff(&diff(), true);
        assert!(all.text.contains("x     equal"), "{}", all.text);
        assert!(all.text.contains("python"), "{}", all.text);
        assert_eq!(all.json["code"].as_array().unwrap().len(), 2);
        assert_eq!(all.json, to_json(&diff()));
    }

    #[test]
    fn html_is_escaped_and_figures_sit_side_by_side() {
        let r = render_trial_diff(&diff(), false);
        assert!(r.html.contains("# &lt;b&gt;"), "{}", r.html);
        assert!(!r.html.contains("<b>"), "{}", r.html);
        // Jupyter's base64 goes in as it is (not encoded twice), without its line break.
        let left = "data:image/png;base64,iVBORw0KGgpsZWZ0\"";
        let right = "data:image/png;base64,iVBORw0KGgpyaWdodA==\"";
        let (l, r2) = (r.html.find(left).unwrap(), r.html.find(right).unwrap());
        assert!(l < r2);
        // Both pictures are cells of one row.
        let row = &r.html[r.html[..l].rfind("<tr>").unwrap()..];
        assert!(row.find(right).unwrap() < row.find("</tr>").unwrap());
    }

    #[test]
    fn the_same_trials_say_so_in_a_sentence() {
        let mut same = diff();
        same.code.truncate(1);
        same.values.retain(|v| v.status == DiffStatus::Equal);
        same.outputs.clear();
        let r = render_trial_diff(&same, false);
        assert!(
            r.text
                .contains("Trial 1 and trial 2 ran the same code in the same order"),
            "{}",
            r.text
        );
        assert!(r.json["values"].as_array().unwrap().is_empty());
    }

    #[test]
    fn intersection_lists_changed_first() {
        let answer = IntersectionDiff {
            left: trial(1),
            right: trial(2),
            values: vec![
                value("C", DiffStatus::Changed, Some(1.0), Some(0.001)),
                value("x", DiffStatus::Equal, Some(2.0), Some(2.0)),
            ],
        };
        let r = render_intersection(&answer);
        assert!(r.text.contains("1 of 2 changed."), "{}", r.text);
        assert!(r.text.find("C ").unwrap() < r.text.find("x ").unwrap());
        assert_eq!(r.json["values"][0]["name"], "C");
        let none = render_intersection(&IntersectionDiff {
            values: vec![],
            ..answer
        });
        assert!(none.text.contains("no variable in common"), "{}", none.text);
    }

    #[test]
    fn long_diffs_are_cut_in_text_but_not_in_json() {
        let mut long = diff();
        let op = long.code[1].clone();
        long.code = vec![op; SHOWN + 5];
        let r = render_trial_diff(&long, false);
        assert_eq!(r.text.matches("replace In[2]").count(), SHOWN);
        assert!(
            r.text.contains("… and 5 more code differences (105 in all"),
            "{}",
            r.text
        );
        assert_eq!(r.json["code"].as_array().unwrap().len(), SHOWN + 5);
    }

    #[test]
    fn svg_and_raw_bytes_are_encoded_for_the_data_uri() {
        assert_eq!(
            data_uri_base64("image/svg+xml", b"<svg/>"),
            base64(b"<svg/>")
        );
        assert_eq!(
            data_uri_base64("image/png", b"\x89PNG\r\n"),
            base64(b"\x89PNG\r\n")
        );
        assert_eq!(data_uri_base64("image/png", b"iVBO\nRw0K\n"), "iVBORw0K");
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
