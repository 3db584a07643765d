//! The rules of a captured value: comparing, plotting, one-line forms.

use super::*;
use serde_json::json;

fn scalar(t: &str, v: Value) -> CapturedValue {
    CapturedValue {
        type_name: t.into(),
        value: Some(v),
        summary: None,
        fingerprint: None,
    }
}

fn summarised(t: &str, s: Value) -> CapturedValue {
    CapturedValue {
        type_name: t.into(),
        value: None,
        summary: Some(s),
        fingerprint: None,
    }
}

fn array(sha: &str, mean: f64) -> CapturedValue {
    summarised(
        "numpy.ndarray",
        json!({"kind": "ndarray", "shape": [3], "dtype": "float64", "min": 0.0,
               "max": 2.0, "mean": mean, "nan_count": 0, "sha256": sha, "sampled": false}),
    )
}

#[test]
fn scalars_compare_by_value_and_type() {
    assert_eq!(
        scalar("float", json!(0.1)).same_as(&scalar("float", json!(0.1))),
        Some(true)
    );
    assert_eq!(
        scalar("float", json!(0.1)).same_as(&scalar("float", json!(0.2))),
        Some(false)
    );
    assert_eq!(
        scalar("int", json!(1)).same_as(&scalar("float", json!(1.0))),
        Some(false)
    );
}

#[test]
fn summaries_compare_by_hash_and_unknowns_cannot_be_judged() {
    assert_eq!(array("aa", 1.0).same_as(&array("aa", 1.0)), Some(true));
    assert_eq!(array("aa", 1.0).same_as(&array("bb", 1.0)), Some(false));
    let bare = CapturedValue::from_columns("numpy.ndarray".into(), None, None);
    assert_eq!(bare.same_as(&array("aa", 1.0)), None);
    let failed = summarised("Foo", json!({"kind": "failed", "error": "ValueError: no"}));
    assert!(!failed.is_comparable());
    assert_eq!(failed.same_as(&failed.clone()), None);
}

fn fingerprinted(t: &str, sha: &str, sampled: bool) -> CapturedValue {
    CapturedValue::from_columns(t.into(), None, None)
        .with_fingerprint(Some(json!({"sha256": sha, "sampled": sampled}).to_string()))
}

#[test]
fn fingerprints_compare_content_and_say_when_a_sample_decided() {
    let judge =
        |a: &CapturedValue, b: &CapturedValue| a.judge(b).map(|j| (j.same, j.by, j.sampled));
    let (a, b) = (
        fingerprinted("numpy.ndarray", "aa", false),
        fingerprinted("numpy.ndarray", "bb", false),
    );
    assert_eq!(judge(&a, &a), Some((true, "content", false)));
    assert_eq!(judge(&a, &b), Some((false, "content", false)));
    // A sampled hash that differs is a change; an equal one is flagged.
    let (sa, sb) = (
        fingerprinted("numpy.ndarray", "aa", true),
        fingerprinted("numpy.ndarray", "bb", true),
    );
    assert_eq!(judge(&sa, &sb), Some((false, "content", false)));
    assert_eq!(judge(&sa, &a), Some((true, "content", true)));
    // Other types, or a side without a fingerprint: not by content.
    let df = fingerprinted("pandas.DataFrame", "aa", false);
    assert_eq!(judge(&a, &df), Some((false, "type", false)));
    let bare = CapturedValue::from_columns("numpy.ndarray".into(), None, None);
    assert_eq!(judge(&a, &bare), None);
    // Summaries keep deciding when both sides have one.
    assert_eq!(
        judge(&array("s1", 1.0), &array("s1", 1.0)),
        Some((true, "summary", false))
    );
    let mut tagged = array("s1", 1.0);
    tagged.fingerprint = a.fingerprint.clone();
    assert_eq!(judge(&tagged, &a), Some((true, "content", false)));
    // Damaged fingerprint text is no fingerprint.
    let damaged = CapturedValue::from_columns("numpy.ndarray".into(), None, None)
        .with_fingerprint(Some(r#"{"sha256": 3}"#.into()));
    assert_eq!(damaged.fingerprint, None);
    assert_eq!(judge(&a, &damaged), None);
}

#[test]
fn a_fingerprinted_value_shows_its_hash_beside_a_same_looking_one() {
    let a = fingerprinted("numpy.ndarray", "0123456789", false);
    let b = fingerprinted("numpy.ndarray", "abcdef0123", true);
    assert_eq!(a.one_line_against(&b, 60), "<ndarray> #01234567");
    assert_eq!(b.one_line_against(&a, 60), "<ndarray> #abcdef01 (sampled)");
    assert_eq!(a.one_line(60), "<ndarray>");
    let other = fingerprinted("pandas.DataFrame", "ff", false);
    assert_eq!(a.one_line_against(&other, 60), "<ndarray>");
}

#[test]
fn damaged_columns_make_an_unknown_value() {
    let v = CapturedValue::from_columns("x".into(), Some("{not json".into()), Some("3".into()));
    assert_eq!(v.value, None);
    assert_eq!(v.summary, None);
    assert_eq!(v.shown(), Value::Null);
}

#[test]
fn numbers_for_plots() {
    assert_eq!(
        scalar("float", json!(0.93)).number(Statistic::Mean, None),
        Some(0.93)
    );
    assert_eq!(
        scalar("bool", json!(true)).number(Statistic::Mean, None),
        Some(1.0)
    );
    assert_eq!(
        scalar("str", json!("a")).number(Statistic::Mean, None),
        None
    );
    assert_eq!(array("aa", 1.5).number(Statistic::Mean, None), Some(1.5));
    assert_eq!(array("aa", 1.5).number(Statistic::Max, None), Some(2.0));
    assert_eq!(array("aa", 1.5).number(Statistic::Len, None), Some(3.0));
    let df = summarised(
        "pandas.core.frame.DataFrame",
        json!({"kind": "dataframe", "shape": [10, 2], "columns": [
            {"name": "s", "dtype": "object"},
            {"name": "x", "dtype": "float64", "min": 1.0, "max": 4.0, "mean": 2.5, "nan_count": 0}],
            "sha256": "cc", "sampled": false}),
    );
    assert_eq!(df.number(Statistic::Mean, None), Some(2.5));
    assert_eq!(df.number(Statistic::Len, None), Some(10.0));
    assert_eq!(df.number(Statistic::Mean, Some("s")), None);
    let nan = summarised("numpy.ndarray", json!({"kind": "ndarray", "mean": "nan"}));
    assert_eq!(nan.number(Statistic::Mean, None), None);
}

#[test]
fn one_line_reads_like_python() {
    assert_eq!(scalar("str", json!("adam")).one_line(40), "'adam'");
    assert_eq!(scalar("NoneType", Value::Null).one_line(40), "None");
    assert_eq!(scalar("tuple", json!([1, 2])).one_line(40), "(1, 2)");
    assert_eq!(
        array("aa", 1.0 / 3.0).one_line(60),
        "ndarray float64 (3,) mean 0.333333"
    );
    let model = summarised(
        "sklearn.linear_model._logistic.LogisticRegression",
        json!({"kind": "estimator", "class": "sklearn.linear_model.LogisticRegression",
               "params": {"C": 0.1}, "fitted_sha256": null}),
    );
    assert_eq!(model.one_line(60), "LogisticRegression(C=0.1)");
    assert_eq!(
        CapturedValue::from_columns("mod.Thing".into(), None, None).one_line(60),
        "<Thing>"
    );
    assert_eq!(scalar("str", json!("abcdefgh")).one_line(5), "'abc…");
}

#[test]
fn a_diff_line_points_at_what_differs() {
    let model = |c: f64, fitted: &str| {
        summarised(
            "sklearn.linear_model._logistic.LogisticRegression",
            json!({"kind": "estimator", "class": "sklearn.linear_model.LogisticRegression",
                   "params": {"C": c, "max_iter": 1000}, "fitted_sha256": fitted}),
        )
    };
    let (a, b) = (model(1.0, "aaaa1111"), model(0.01, "bbbb2222"));
    assert_eq!(a.one_line_against(&b, 60), "LogisticRegression(C=1.0)");
    assert_eq!(b.one_line_against(&a, 60), "LogisticRegression(C=0.01)");
    let (c, d) = (model(1.0, "aaaa1111"), model(1.0, "cccc3333"));
    assert_eq!(
        c.one_line_against(&d, 60),
        "LogisticRegression(…) #aaaa1111"
    );
    assert_eq!(
        array("0123456789", 1.0).one_line_against(&array("abcdef", 1.0), 60),
        "ndarray float64 (3,) mean 1 #01234567"
    );
    assert_eq!(
        array("01", 1.0).one_line_against(&array("ab", 2.0), 60),
        "ndarray float64 (3,) mean 1"
    );
    assert_eq!(scalar("float", json!(0.5)).one_line_against(&a, 60), "0.5");
}

#[test]
fn brief_rounds_floats_only() {
    assert_eq!(
        scalar("float", json!(0.7777777777777778)).brief(20),
        "0.7778"
    );
    assert_eq!(scalar("float", json!(0.8)).brief(20), "0.8");
    // Never a whole-looking float for a fraction (it would read as another exact value).
    assert_eq!(scalar("float", json!(1234.5678)).brief(20), "1234.6");
    assert_eq!(scalar("float", json!(34288.403)).brief(20), "34288.4");
    assert_eq!(scalar("float", json!(34288.03)).brief(20), "34288.03");
    assert_eq!(scalar("float", json!(-99999.9999)).brief(20), "-99999.9999");
    assert_eq!(scalar("float", json!(34288.0)).brief(20), "34288.0");
    assert_eq!(scalar("float", json!(2.0e20)).brief(20), "2.000e20");
    assert_eq!(scalar("float", json!(1.0)).brief(20), "1.0");
    assert_eq!(scalar("float", json!(0.0)).brief(20), "0.0");
    assert_eq!(scalar("float", json!(0.000012345)).brief(20), "1.234e-5");
    assert_eq!(scalar("int", json!(123456789)).brief(20), "123456789");
    assert_eq!(scalar("str", json!("adam")).brief(20), "'adam'");
}

#[test]
fn statistics_parse_by_name() {
    assert_eq!(Statistic::parse("max"), Ok(Statistic::Max));
    assert!(Statistic::parse("median")
        .unwrap_err()
        .contains("mean, min, max, len"));
    assert_eq!(Statistic::Len.name(), "len");
}
