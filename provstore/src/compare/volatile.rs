//! What differs in an output from run to run by nature, so two runs of the same code whose
//! outputs differ only there are not reported as changed: ipykernel's temporary file of a
//! cell in warnings (`/tmp/ipykernel_<pid>/<n>.py`), memory addresses (`at 0x7f…`), the lines
//! of `%timeit` and `%%time`, and a widget view's model id. Each is replaced by a placeholder
//! before two texts are compared, and the diff names the kinds it ignored.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// A widget view's payload: `{"version_major", "version_minor", "model_id"}` only, a reference
/// to the widget's model by an id that is new every run (the model's state travels on comms,
/// not in the output); its hash is not compared.
pub const WIDGET_VIEW_MIME: &str = "application/vnd.jupyter.widget-view+json";

/// The kind a widget view's differing payload counts as.
pub(crate) const WIDGET_MODEL_ID: &str = "widget model id";

/// Each kind of volatile text: its name in the diff, its pattern, its placeholder.
static KINDS: LazyLock<[(&str, Regex, &str); 4]> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("a valid pattern");
    // IPython writes microseconds with the Greek mu (U+03BC) where the terminal can show it,
    // "us" where not; the micro sign (U+00B5) looks the same.
    let unit = r"(?:ns|\x{3bc}s|\x{b5}s|us|ms|s|min|h)";
    [
        (
            "ipykernel temporary path",
            re(r#"[^\s"'(),:]*ipykernel_\d+[/\\]\d+\.py"#),
            "<ipykernel cell file>",
        ),
        ("memory address", re(r"\bat 0x[0-9a-fA-F]+\b"), "at 0x…"),
        (
            "timing",
            re(&format!(
                r"(?m)^[ \t]*(?:[\d.]+ {unit}(?: (?:±|\+-) [\d.]+ {unit})? per loop \(mean (?:(?:±|\+-) std\. dev\. )?of [\d,]+ runs?, [\d,]+ loops? each\)|CPU times: .*|Wall time: .*)[ \t]*$"
            )),
            "<timing>",
        ),
        // %timeit's warning comes in some runs only: the whole line goes.
        (
            "timing",
            re(r"(?m)^The slowest run took [\d.]+ times longer than the fastest\..*(?:\r?\n)?"),
            "",
        ),
    ]
});

/// `text` with its volatile parts replaced, and the kinds found (added to `found`).
pub(crate) fn normalise<'a>(text: &'a str, found: &mut Vec<&'static str>) -> Cow<'a, str> {
    let mut text = Cow::Borrowed(text);
    for (kind, pattern, placeholder) in KINDS.iter() {
        if let Cow::Owned(replaced) = pattern.replace_all(&text, *placeholder) {
            if !found.contains(kind) {
                found.push(kind);
            }
            text = Cow::Owned(replaced);
        }
    }
    text
}

/// Whether two texts are equal once their volatile parts are replaced; the kinds replaced go
/// to `found` only when they are.
pub(crate) fn same_but_volatile(a: &str, b: &str, found: &mut Vec<&'static str>) -> bool {
    let mut kinds = Vec::new();
    let same = normalise(a, &mut kinds) == normalise(b, &mut kinds);
    if same {
        for k in kinds {
            if !found.contains(&k) {
                found.push(k);
            }
        }
    }
    same
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> Option<Vec<&'static str>> {
        let mut found = Vec::new();
        same_but_volatile(a, b, &mut found).then_some(found)
    }

    #[test]
    fn ipykernel_cell_files_in_warnings() {
        let a = "/tmp/ipykernel_4242/1234567.py:3: UserWarning: careful\n  x = f()\n";
        let b = "/tmp/ipykernel_977/1234567.py:3: UserWarning: careful\n  x = f()\n";
        assert_eq!(same(a, b), Some(vec!["ipykernel temporary path"]));
        let c = "/var/folders/x1/T/ipykernel_977/88.py:3: UserWarning: careful\n  x = f()\n";
        assert_eq!(same(a, c), Some(vec!["ipykernel temporary path"]));
        // The line and the message still count.
        let d = "/tmp/ipykernel_977/1234567.py:4: UserWarning: careful\n  x = f()\n";
        assert_eq!(same(a, d), None);
        assert_eq!(same(a, &a.replace("careful", "beware")), None);
    }

    #[test]
    fn memory_addresses() {
        assert_eq!(
            same(
                "<__main__.Thing object at 0x7f3a2c1b9d90>",
                "<__main__.Thing object at 0x7fe01122aa10>"
            ),
            Some(vec!["memory address"])
        );
        assert_eq!(
            same(
                "<Thing object at 0x7f3a2c1b9d90>",
                "<Other object at 0x7f3a2c1b9d90>"
            ),
            None
        );
        // A hexadecimal number that is not an address is content.
        assert_eq!(same("value 0x7f3a", "value 0x7f3b"), None);
    }

    #[test]
    fn timeit_and_time_lines() {
        let a = "1.23 ms ± 45.6 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)\n";
        let b = "987 µs ± 12.1 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)\n";
        assert_eq!(same(a, b), Some(vec!["timing"]));
        // IPython's own mu (U+03BC), as the kernel printed it, against nanoseconds.
        let mu = "1.09 \u{3bc}s \u{b1} 73.9 ns per loop (mean \u{b1} std. dev. of 2 runs, 20 loops each)\n";
        let ns =
            "718 ns \u{b1} 59.3 ns per loop (mean \u{b1} std. dev. of 2 runs, 20 loops each)\n";
        assert_eq!(same(mu, ns), Some(vec!["timing"]));
        let one = "15.2 ns per loop (mean of 1 run, 10,000,000 loops each)";
        assert_eq!(
            same(one, "9 ns per loop (mean of 1 run, 1 loop each)"),
            Some(vec!["timing"])
        );
        let t1 = "CPU times: user 1.2 s, sys: 30 ms, total: 1.23 s\nWall time: 1.25 s\n42\n";
        let slow = "The slowest run took 5.12 times longer than the fastest. This could mean that an intermediate result is being cached.\n";
        assert_eq!(same(&format!("{slow}{a}"), b), Some(vec!["timing"]));
        let t2 = "CPU times: user 980 ms, sys: 12 ms, total: 992 ms\nWall time: 1 s\n42\n";
        assert_eq!(same(t1, t2), Some(vec!["timing"]));
        assert_eq!(same(t1, &t2.replace("42", "43")), None);
        // Not a whole line of timing: content.
        assert_eq!(same("took 1.2 s per loop", "took 1.3 s per loop"), None);
    }

    #[test]
    fn equal_texts_report_nothing_they_did_not_need() {
        let mut found = Vec::new();
        assert!(!same_but_volatile("at 0x1f a", "at 0x2f b", &mut found));
        assert!(found.is_empty(), "kinds only for texts found equal");
    }
}
