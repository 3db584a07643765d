//! Live warnings (`%prov_warn on`, `PROV_WARN=1`; off by default): once an execution is
//! committed, the checks that can judge one execution alone (stale results, data leakage) run
//! for it on the writer thread, and what they find is one stderr line per finding in that
//! cell, published just before its idle (the idle waits for the commit anyway, so the warning
//! costs the cell one small read and nothing else). Off, the recorder commits exactly as
//! before and nothing of this runs.

use super::Hold;
use crate::debug;
use crate::messages::Author;
use crate::wire::RawMessage;
use bytes::Bytes;
use provstore::{Finding, WriterHandle};

/// The environment variable that turns the warnings on from the kernel's start.
pub(crate) const ENV_WARN: &str = "PROV_WARN";

/// Whether `PROV_WARN`'s value turns the warnings on: `1`, `on`, `true`, `yes` (any case);
/// anything else (unset, empty, `0`) leaves them off.
pub(crate) fn on_from_env(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        ["1", "on", "true", "yes"]
            .iter()
            .any(|on| v.trim().eq_ignore_ascii_case(on))
    })
}

/// The text shown under the cell: one line per finding, or None when there is none.
pub(crate) fn warning_text(findings: &[Finding]) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let lines: Vec<String> = findings
        .iter()
        .map(|f| {
            let message: Vec<&str> = f.message.split_whitespace().collect();
            format!(
                "prov {} ({}): {}\n",
                f.severity.name(),
                f.rule,
                message.join(" ")
            )
        })
        .collect();
    Some(lines.concat())
}

/// Releases the idles waiting for an execution: the first publishes `shown` before itself.
pub(crate) fn release(holds: Vec<Hold>, shown: Option<RawMessage>) {
    let mut shown = shown.into_iter().collect::<Vec<_>>();
    for hold in holds {
        let _ = hold.send(std::mem::take(&mut shown));
    }
}

/// After the execution of request `msg_id` (already handed to the writer) is committed, runs
/// the live checks for it and releases `holds` with their warning, a stderr stream in the
/// cell of the request whose header frame is `header`. A store that cannot answer releases
/// them with nothing.
pub(crate) fn check_then_release(
    writer: &WriterHandle,
    author: Author,
    header: Bytes,
    msg_id: String,
    holds: Vec<Hold>,
) {
    writer.then_read(move |store| {
        let found = store.and_then(|(store, trial)| store.live_findings(trial, &msg_id));
        let shown = match found {
            Ok(findings) => warning_text(&findings),
            Err(e) => {
                debug!("no live warnings for {msg_id:?}: {e}");
                None
            }
        };
        release(
            holds,
            shown.map(|text| author.stream(&header, "stderr", &text)),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Signer;
    use tokio::sync::oneshot;

    fn finding(rule: &'static str, message: &str) -> Finding {
        Finding {
            rule,
            severity: provstore::Severity::Warning,
            message: message.into(),
            executions: vec![1, 2],
        }
    }

    #[test]
    fn only_the_words_that_say_on_turn_the_warnings_on() {
        for on in ["1", "on", "TRUE", " yes "] {
            assert!(on_from_env(Some(on)), "{on}");
        }
        for off in [
            None,
            Some(""),
            Some("0"),
            Some("off"),
            Some("no"),
            Some("2"),
        ] {
            assert!(!on_from_env(off), "{off:?}");
        }
    }

    #[test]
    fn each_finding_is_one_line() {
        assert_eq!(warning_text(&[]), None);
        let text = warning_text(&[
            finding("stale-result", "In[2] used `x`\nfrom In[1]"),
            finding("data-leakage", "fit on  X_test"),
        ])
        .unwrap();
        assert_eq!(
            text,
            "prov warning (stale-result): In[2] used `x` from In[1]\n\
             prov warning (data-leakage): fit on X_test\n"
        );
    }

    #[test]
    fn the_warning_goes_to_the_first_idle_only() {
        let author = Author::new(Signer::new(b"k"));
        let shown = author.stream(&Bytes::from_static(b"{\"msg_id\":\"r\"}"), "stderr", "w\n");
        let (first, first_rx) = oneshot::channel();
        let (second, second_rx) = oneshot::channel();
        release(vec![first, second], Some(shown));
        let first = first_rx.blocking_recv().unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].header().msg_type, "stream");
        assert_eq!(first[0].parent().msg_id, "r");
        assert!(second_rx.blocking_recv().unwrap().is_empty());
    }
}
