//! The diff renderer on hand-made trials: what text and HTML show, what the JSON keeps.

use super::*;
use crate::tests::assert_shows;
use provstore::{CodeOp, CodeOpKind, Figure, InputDiff, InputSide, OutputEntry};
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
        sampled: false,
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

fn input(sha: &str, size: i64, read_by: i64) -> InputSide {
    InputSide {
        path: "data/houses.csv".into(),
        resolved: "/w/data/houses.csv".into(),
        sha256: Some(sha.repeat(32)),
        size: Some(size),
        sampled: false,
        mtime: Some(1765000000.5),
        read_by: vec![Some(read_by)],
        contents: 1,
    }
}

fn inputs() -> Vec<InputDiff> {
    vec![
        InputDiff {
            path: "data/houses.csv".into(),
            status: DiffStatus::Changed,
            left: Some(input("1a", 1_500_000, 2)),
            right: Some(input("2b", 1_500_001, 2)),
            sampled: false,
            note: None,
        },
        InputDiff {
            path: "params.json".into(),
            status: DiffStatus::Equal,
            left: Some(input("3c", 20, 1)),
            right: Some(input("3c", 20, 1)),
            sampled: false,
            note: None,
        },
    ]
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
        inputs: inputs(),
        values: vec![
            value("C", DiffStatus::Changed, Some(1.0), Some(0.001)),
            value("n", DiffStatus::Added, None, Some(3.0)),
            value("x", DiffStatus::Equal, Some(2.0), Some(2.0)),
        ],
        expectations: vec![],
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
            ignored: Vec::new(),
        }],
        volatile_ignored: Vec::new(),
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
    assert_shows(
        t,
        &[
            "replace In[2] → #2",
            "    -C = 1.0\n",
            "    +C = 0.001 # <b>\n",
            "C     changed  1.0",
            "0.001",
            "n     added    -",
            "The same environment.",
            "-0.9",
            "+0.5",
        ],
    );
    assert!(!t.contains("x     equal"), "{t}");
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
    same.inputs.retain(|i| i.status == DiffStatus::Equal);
    same.outputs.clear();
    let r = render_trial_diff(&same, false);
    assert!(
        r.text
            .contains("Trial 1 and trial 2 ran the same code in the same order"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("outputs. They read the same input file."),
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
        inputs: inputs(),
    };
    let r = render_intersection(&answer);
    assert!(r.text.contains("input files both read"), "{}", r.text);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 2);
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
fn ignored_volatile_output_parts_are_named() {
    let mut same = diff();
    same.code.truncate(1);
    same.values.retain(|v| v.status == DiffStatus::Equal);
    same.inputs.retain(|i| i.status == DiffStatus::Equal);
    same.outputs.clear();
    same.volatile_ignored = vec!["memory address", "timing"];
    let r = render_trial_diff(&same, false);
    assert!(
        r.text.contains(
            "and outputs (ignoring what differs from run to run by nature: memory address, timing)."
        ),
        "{}",
        r.text
    );
    assert_eq!(r.json["volatile_ignored"][0], "memory address");
    let mut changed = diff();
    changed.volatile_ignored = vec!["ipykernel temporary path"];
    let r = render_trial_diff(&changed, false);
    assert!(
        r.text
            .contains("Ignoring what differs from run to run by nature: ipykernel temporary path."),
        "{}",
        r.text
    );
}

#[test]
fn inputs_show_path_status_short_hashes_sizes_and_readers() {
    let r = render_trial_diff(&diff(), false);
    let t = &r.text;
    let section = &t[t.find("inputs").unwrap()..t.find("values").unwrap()];
    let row = section
        .lines()
        .find(|l| l.contains("data/houses.csv"))
        .unwrap_or_else(|| panic!("no row in {section}"));
    assert_shows(
        row,
        &[
            "changed",
            "1a1a1a1a, 1.4 MiB, read by In[2]",
            "2b2b2b2b, 1.4 MiB",
        ],
    );
    // Short hashes only, and no equal entry without --all.
    assert!(!section.contains(&"1a".repeat(8)), "{section}");
    assert!(!section.contains("params.json"), "{section}");
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["inputs"][0]["left"]["sha256"], "1a".repeat(32));
    assert!(r.html.contains("data/houses.csv"), "{}", r.html);
    let mut many = diff();
    many.inputs[0].left.as_mut().unwrap().read_by = (2..12).map(Some).collect();
    let text = render_trial_diff(&many, false).text;
    assert!(
        text.contains("read by In[2] … In[11] (10 executions)"),
        "{text}"
    );
    let all = render_trial_diff(&diff(), true);
    assert!(all.text.contains("params.json"), "{}", all.text);
    assert_eq!(all.json["inputs"].as_array().unwrap().len(), 2);
}

#[test]
fn inputs_say_when_a_verdict_rests_on_samples() {
    let mut d = diff();
    d.inputs[0].note = Some("sampled hashes are equal but the modification time differs");
    d.inputs[1].status = DiffStatus::Equal;
    d.inputs[1].sampled = true;
    d.inputs[0].right.as_mut().unwrap().sampled = true;
    d.inputs[0].right.as_mut().unwrap().sha256 = None;
    let r = render_trial_diff(&d, true);
    assert_shows(
        &r.text,
        &[
            "data/houses.csv: changed, though not by hash: sampled hashes are equal but the \
             modification time differs.",
            "params.json: equal by hashes of samples",
            "no hash, 1.4 MiB, sampled, read by In[2]",
        ],
    );
}

#[test]
fn no_input_files_is_said_in_a_sentence() {
    let mut d = diff();
    d.inputs.clear();
    let r = render_trial_diff(&d, false);
    assert!(
        r.text.contains("Neither trial read a file from outside."),
        "{}",
        r.text
    );
    d.inputs = inputs();
    d.inputs.truncate(2);
    d.inputs[0].status = DiffStatus::Equal;
    let r = render_trial_diff(&d, false);
    assert!(r.text.contains("The same 2 input files."), "{}", r.text);
}

#[test]
fn expectations_show_changed_outcomes_with_their_explanation() {
    let mut d = diff();
    let expectation = |source: &str, l, r, by: &[&str]| ExpectationDiff {
        source: source.into(),
        cell_id: Some("c".into()),
        left: l,
        right: r,
        explained_by: by.iter().map(|s| s.to_string()).collect(),
    };
    d.expectations = vec![
        expectation(
            "assert acc > 0.9, 'low'",
            Some(Outcome::Passed),
            Some(Outcome::Failed),
            &["C"],
        ),
        expectation(
            "assert x",
            Some(Outcome::Passed),
            Some(Outcome::Passed),
            &[],
        ),
        expectation("assert new", None, Some(Outcome::NotReached), &[]),
    ];
    let shown = render_trial_diff(&d, false);
    assert_shows(
        &shown.text,
        &[
            "expectations",
            "assert acc > 0.9, 'low'",
            "passed",
            "failed",
            "C",
            "did not run",
        ],
    );
    assert!(!shown.text.contains("assert x"), "{}", shown.text);
    assert_eq!(
        shown.json["expectations"],
        json!([
            {"source": "assert acc > 0.9, 'low'", "left": "passed", "right": "failed",
             "explained_by": ["C"]},
            {"source": "assert new", "left": null, "right": "not reached", "explained_by": []}
        ])
    );
    let all = render_trial_diff(&d, true);
    assert_eq!(all.json["expectations"].as_array().unwrap().len(), 3);
    assert!(all.text.contains("assert x"), "{}", all.text);
    d.expectations.retain(|e| !e.differs());
    let same = render_trial_diff(&d, false);
    assert!(
        same.text.contains("The one assert had the same outcome."),
        "{}",
        same.text
    );
}
