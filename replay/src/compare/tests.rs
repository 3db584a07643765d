use serde_json::json;

use super::*;

fn exec(status: &str, outputs: Vec<ReplayOutput>) -> ReplayedExecution {
    ReplayedExecution {
        id: 1,
        order: 1,
        execution_count: Some(1),
        cell_id: None,
        code: "x = 1".into(),
        status: status.into(),
        error: (status == "error").then(|| "ValueError: bad".to_string()),
        outputs,
        values: Vec::new(),
    }
}

fn stdout(text: &str) -> ReplayOutput {
    ReplayOutput {
        output_type: "stream".into(),
        name: Some("stdout".into()),
        magic: false,
        parts: vec![(
            "text/plain".into(),
            format!("sha-{text}"),
            Some(text.into()),
        )],
    }
}

fn image(sha: &str) -> ReplayOutput {
    ReplayOutput {
        output_type: "display_data".into(),
        name: None,
        magic: false,
        parts: vec![
            ("image/png".into(), sha.into(), None),
            (
                "text/plain".into(),
                "t".into(),
                Some("<Figure size 500x300 with 1 Axes>".into()),
            ),
        ],
    }
}

fn value(v: serde_json::Value) -> CapturedValue {
    CapturedValue::from_columns("float".into(), Some(v.to_string()), None)
}

#[test]
fn the_same_outputs_reproduce() {
    let a = exec("ok", vec![stdout("0.5\n"), image("abc")]);
    assert_eq!(
        compare(&a, &a.clone(), 0.0),
        (ReplayStatus::Reproduced, vec![])
    );
}

#[test]
fn a_different_printed_number_differs_and_says_both() {
    let (a, b) = (
        exec("ok", vec![stdout("0.1\n")]),
        exec("ok", vec![stdout("0.7\n")]),
    );
    let (status, d) = compare(&a, &b, 1e-9);
    assert_eq!(status, ReplayStatus::Differs);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].kind, d[0].what.as_str()), ("output", "stdout"));
    assert_eq!(d[0].expected.as_deref(), Some("0.1"));
    assert_eq!(d[0].got.as_deref(), Some("0.7"));
}

#[test]
fn floats_within_the_tolerance_and_volatile_parts_reproduce() {
    let a = exec(
        "ok",
        vec![stdout("loss 0.30000000000000004 <A at 0x7f00aa>\n")],
    );
    let b = exec("ok", vec![stdout("loss 0.3 <A at 0x7f11bb>\n")]);
    assert_eq!(compare(&a, &b, 1e-9).0, ReplayStatus::Reproduced);
    assert_eq!(compare(&a, &b, 0.0).0, ReplayStatus::Differs);
}

#[test]
fn images_compare_by_content_hash() {
    let (a, b) = (
        exec("ok", vec![image("abc")]),
        exec("ok", vec![image("def")]),
    );
    let (status, d) = compare(&a, &b, 1.0);
    assert_eq!(status, ReplayStatus::Differs);
    assert_eq!(d[0].what, "output 1 (display_data) (image/png)");
}

#[test]
fn a_failure_the_source_did_not_have_is_an_error() {
    let (a, b) = (exec("ok", vec![]), exec("error", vec![]));
    let (status, d) = compare(&a, &b, 0.0);
    assert_eq!(status, ReplayStatus::Error);
    assert_eq!(d[0].got.as_deref(), Some("ValueError: bad"));
    // The same failure in both is reproduced; a fixed one differs.
    assert_eq!(compare(&b, &b.clone(), 0.0).0, ReplayStatus::Reproduced);
    assert_eq!(compare(&b, &a, 0.0).0, ReplayStatus::Differs);
}

#[test]
fn missing_and_extra_outputs_differ() {
    let a = exec("ok", vec![stdout("a\n"), stdout("b\n")]);
    let b = exec("ok", vec![stdout("a\n")]);
    let (_, d) = compare(&a, &b, 0.0);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].expected.as_deref(), d[0].got.as_deref()),
        (Some("b"), None)
    );
    let (_, d) = compare(&b, &a, 0.0);
    assert_eq!(
        (d[0].expected.as_deref(), d[0].got.as_deref()),
        (None, Some("b"))
    );
}

#[test]
fn magic_answers_and_widget_views_are_not_compared() {
    let mut magic = stdout("trial 3");
    magic.magic = true;
    let widget = |id: &str| ReplayOutput {
        output_type: "display_data".into(),
        name: None,
        magic: false,
        parts: vec![(
            WIDGET_VIEW_MIME.into(),
            id.into(),
            Some(format!("{{\"model_id\": \"{id}\"}}")),
        )],
    };
    let a = exec("ok", vec![magic, widget("m1")]);
    let b = exec("ok", vec![widget("m2")]);
    assert_eq!(compare(&a, &b, 0.0), (ReplayStatus::Reproduced, vec![]));
}

#[test]
fn values_compare_floats_within_the_tolerance() {
    let mut a = exec("ok", vec![]);
    let mut b = a.clone();
    a.values = vec![("acc".into(), value(json!(0.8333333333333334)))];
    b.values = vec![("acc".into(), value(json!(0.8333333333333335)))];
    assert_eq!(compare(&a, &b, 1e-9).0, ReplayStatus::Reproduced);
    let (status, d) = compare(&a, &b, 0.0);
    assert_eq!(status, ReplayStatus::Differs);
    assert_eq!((d[0].kind, d[0].what.as_str()), ("value", "`acc`"));
    b.values.clear();
    assert_eq!(
        compare(&a, &b, 1.0).1[0].got.as_deref(),
        Some("not captured")
    );
}
