//! Whether one execution reproduced: the source's and the replay's status, error, outputs and
//! captured values, compared as pure functions over what the store holds for each. Outputs:
//! text (any `text/*` or JSON payload) exactly but for what differs from run to run by nature
//! (`provstore::without_volatile`) and floats within the tolerance; images and other binary
//! payloads by content hash; a widget view (a model id new every run) not at all; prov's own
//! magic answers (they name trials) not at all. Values: by [`CapturedValue::judge`], scalar
//! floats within the tolerance.

use provstore::{
    without_volatile, CapturedValue, Difference, ReplayOutput, ReplayStatus, ReplayedExecution,
    WIDGET_VIEW_MIME,
};

use crate::numbers::{same_number, same_text};

/// How long an expected or found text may be in a difference.
const SHOWN: usize = 160;

/// The verdict on `replay` as a re-execution of `source`, and what differs.
pub(crate) fn compare(
    source: &ReplayedExecution,
    replay: &ReplayedExecution,
    tolerance: f64,
) -> (ReplayStatus, Vec<Difference>) {
    let mut differences = Vec::new();
    let mut status = ReplayStatus::Reproduced;
    match (source.status.as_str(), replay.status.as_str()) {
        (a, b) if a == b => {
            if let (Some(x), Some(y)) = (&source.error, &replay.error) {
                if !same(x, y, tolerance) {
                    differences.push(diff("error", "the exception", Some(x), Some(y)));
                }
            }
        }
        ("ok", _) => {
            status = ReplayStatus::Error;
            let got = replay
                .error
                .clone()
                .unwrap_or_else(|| replay.status.clone());
            differences.push(diff("error", "the execution failed", None, Some(&got)));
        }
        (a, b) => differences.push(diff(
            "status",
            "status",
            Some(&source.error.clone().unwrap_or_else(|| a.to_string())),
            Some(&replay.error.clone().unwrap_or_else(|| b.to_string())),
        )),
    }
    differences.extend(compare_outputs(&source.outputs, &replay.outputs, tolerance));
    differences.extend(compare_values(&source.values, &replay.values, tolerance));
    if status == ReplayStatus::Reproduced && !differences.is_empty() {
        status = ReplayStatus::Differs;
    }
    (status, differences)
}

/// The user's outputs of an execution: not prov's magic answers, not the error (compared as
/// the status and exception: its traceback holds the cell's temporary file).
fn shown(outputs: &[ReplayOutput]) -> Vec<&ReplayOutput> {
    outputs
        .iter()
        .filter(|o| !o.magic && o.output_type != "error")
        .collect()
}

fn compare_outputs(source: &[ReplayOutput], replay: &[ReplayOutput], tol: f64) -> Vec<Difference> {
    let (a, b) = (shown(source), shown(replay));
    let mut out = Vec::new();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let what = output_name(i, x);
        if x.output_type != y.output_type || x.name != y.name {
            out.push(diff(
                "output",
                &what,
                Some(&output_name(i, x)),
                Some(&output_name(i, y)),
            ));
            continue;
        }
        for (mime, sha, text) in &x.parts {
            if mime == WIDGET_VIEW_MIME {
                continue;
            }
            let what = if x.output_type == "stream" {
                what.clone()
            } else {
                format!("{what} ({mime})")
            };
            let Some((_, other_sha, other_text)) = y.parts.iter().find(|(m, ..)| m == mime) else {
                out.push(diff("output", &what, Some("present"), Some("missing")));
                continue;
            };
            let same_content = match (text, other_text) {
                (Some(t), Some(u)) => same(t, u, tol),
                _ => sha == other_sha,
            };
            if !same_content {
                let side = |t: &Option<String>, s: &str| match t {
                    Some(t) => t.clone(),
                    None => format!("content sha256 {}", &s[..s.len().min(12)]),
                };
                out.push(diff(
                    "output",
                    &what,
                    Some(&side(text, sha)),
                    Some(&side(other_text, other_sha)),
                ));
            }
        }
        for (mime, ..) in &y.parts {
            if !x.parts.iter().any(|(m, ..)| m == mime) {
                out.push(diff(
                    "output",
                    &format!("{what} ({mime})"),
                    Some("missing"),
                    Some("present"),
                ));
            }
        }
    }
    for (i, x) in a.iter().enumerate().skip(b.len()) {
        out.push(diff(
            "output",
            &output_name(i, x),
            Some(&brief_output(x)),
            None,
        ));
    }
    for (i, y) in b.iter().enumerate().skip(a.len()) {
        out.push(diff(
            "output",
            &output_name(i, y),
            None,
            Some(&brief_output(y)),
        ));
    }
    out
}

/// `stdout`, `output 2 (execute_result)`.
fn output_name(i: usize, o: &ReplayOutput) -> String {
    match (&o.output_type[..], &o.name) {
        ("stream", Some(name)) => name.clone(),
        (kind, _) => format!("output {} ({kind})", i + 1),
    }
}

/// An output in a few words: its text, else its MIME types.
fn brief_output(o: &ReplayOutput) -> String {
    o.parts
        .iter()
        .find_map(|(_, _, t)| t.clone())
        .unwrap_or_else(|| {
            let mimes: Vec<&str> = o.parts.iter().map(|(m, ..)| m.as_str()).collect();
            mimes.join(", ")
        })
}

fn compare_values(
    source: &[(String, CapturedValue)],
    replay: &[(String, CapturedValue)],
    tol: f64,
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (name, a) in source {
        let what = format!("`{name}`");
        let Some((_, b)) = replay.iter().rev().find(|(n, _)| n == name) else {
            out.push(diff(
                "value",
                &what,
                Some(&a.one_line(60)),
                Some("not captured"),
            ));
            continue;
        };
        let floats = match (&a.value, &b.value) {
            (Some(x), Some(y)) if x.is_f64() || y.is_f64() => x.as_f64().zip(y.as_f64()),
            _ => None,
        };
        let same_value = match floats {
            Some((x, y)) if a.type_name == b.type_name => Some(same_number(x, y, tol)),
            _ => a.same_as(b),
        };
        if same_value == Some(false) {
            out.push(diff(
                "value",
                &what,
                Some(&a.one_line(60)),
                Some(&b.one_line(60)),
            ));
        }
    }
    out
}

/// Two texts the same once their volatile parts are replaced, floats within the tolerance.
fn same(a: &str, b: &str, tol: f64) -> bool {
    a == b || same_text(&without_volatile(a), &without_volatile(b), tol)
}

fn diff(kind: &'static str, what: &str, expected: Option<&str>, got: Option<&str>) -> Difference {
    let short = |t: &str| {
        let t = t.trim_end();
        if t.chars().count() <= SHOWN {
            t.to_string()
        } else {
            let cut: String = t.chars().take(SHOWN).collect();
            format!("{cut}…")
        }
    };
    Difference {
        kind,
        what: what.to_string(),
        expected: expected.map(short),
        got: got.map(short),
    }
}

#[cfg(test)]
mod tests;
