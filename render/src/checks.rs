//! The checks' findings (`%prov_check`, `provctl check`): one entry per finding, its severity
//! on a tint, the rule, the executions involved and the message; "no findings" said plainly,
//! with the rules that ran. JSON: the array of findings (the `provctl check --json` contract).
//! Also the list of rules (`%prov_check --rules`, `provctl check --rules`), each with a line
//! of Python that triggers it. And whether the live warnings are on (`%prov_warn`).

use provstore::{CheckReport, Rule};
use serde_json::json;

use crate::doc::{Block, Doc};
use crate::table::{Cell, Table};
use crate::{plural, render_confirmation, to_json, trial_named, Rendered};

/// Whether the live warnings are on (`%prov_warn`; `changed`: the call just turned them so).
/// JSON: `{"live_warnings": on, "message": …}`.
pub fn render_live_warnings(on: bool, changed: bool) -> Rendered {
    let message = match (on, changed) {
        (true, true) => {
            "Live warnings are now on: a cell whose run makes another cell's result stale, or \
             that fits a model on test data, says so on stderr under it (%prov_warn off to stop)."
        }
        (true, false) => "Live warnings are on (%prov_warn off to turn them off).",
        (false, true) => "Live warnings are now off (%prov_warn on to turn them on).",
        (false, false) => {
            "Live warnings are off (%prov_warn on, or PROV_WARN=1 in the kernel's environment, \
             to turn them on)."
        }
    };
    render_confirmation(message, json!({ "live_warnings": on }))
}

/// The findings of one trial.
pub fn render_checks(report: &CheckReport) -> Rendered {
    let mut doc = Doc::new();
    let trial = trial_named(&report.trial);
    if report.findings.is_empty() {
        doc.title(format!("checks of trial {trial}: no findings"));
        doc.note(0, format!("rules that ran: {}", report.rules.join(", ")));
        return doc.rendered(to_json(&report.findings));
    }
    doc.title(format!(
        "checks of trial {trial}: {}",
        plural(report.findings.len(), "finding")
    ));
    for f in &report.findings {
        let executions: Vec<String> = f.executions.iter().map(|n| format!("In[{n}]")).collect();
        let head = if executions.is_empty() {
            format!("{}  {}", f.severity.name(), f.rule)
        } else {
            format!(
                "{}  {}  {}",
                f.severity.name(),
                f.rule,
                executions.join(" ")
            )
        };
        doc.push(Block::Heading {
            status: f.severity.name().into(),
            text: head,
        });
        doc.note(2, &f.message);
    }
    doc.push(Block::Gap);
    doc.note(0, format!("rules that ran: {}", report.rules.join(", ")));
    doc.rendered(to_json(&report.findings))
}

/// The rules: id, severity, what each finds and a line of Python that triggers it.
pub fn render_rules(rules: &[&Rule]) -> Rendered {
    let mut doc = Doc::new();
    doc.title(format!(
        "{} ({})",
        plural(rules.len(), "rule"),
        "prov check"
    ));
    // The examples go below the table, as sentences that wrap: a table cell does not.
    let mut table = Table::new(&["rule", "severity", "finds"]);
    for r in rules {
        table.push(vec![
            Cell::plain(r.id),
            Cell::status(r.severity.name()),
            Cell::plain(r.help),
        ]);
    }
    doc.table(0, table);
    doc.section("what triggers each");
    for r in rules {
        doc.note(1, format!("{}: {}", r.id, r.example));
    }
    let json: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            serde_json::json!({"rule": r.id, "severity": r.severity.name(), "help": r.help,
                               "example": r.example})
        })
        .collect();
    doc.rendered(serde_json::Value::Array(json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use provstore::{Finding, Severity};

    fn report(findings: Vec<Finding>) -> CheckReport {
        CheckReport {
            trial: crate::tests::trial(3, Some("lr")),
            rules: vec!["data-leakage", "stale-result"],
            findings,
        }
    }

    #[test]
    fn findings_show_severity_rule_executions_and_message() {
        let shown = render_checks(&report(vec![Finding {
            rule: "data-leakage",
            severity: Severity::Error,
            message: "In[4] line 2: `m.fit(X_test, y)` fits on <test> data".into(),
            executions: vec![2, 4],
        }]));
        let text = &shown.text;
        assert!(
            text.starts_with("checks of trial 3 \"lr\": 1 finding\n"),
            "{text}"
        );
        assert!(
            text.ends_with("rules that ran: data-leakage, stale-result\n"),
            "{text}"
        );
        for line in [
            "  error  data-leakage  In[2] In[4]\n",
            "    In[4] line 2: `m.fit(",
        ] {
            assert!(text.contains(line), "{line:?} in {text}");
        }
        // Escaped, and on an error's tint.
        for part in ["&lt;test&gt;", "rgba(229,83,75"] {
            assert!(shown.html.contains(part), "{part} in {}", shown.html);
        }
        assert_eq!(
            shown.json,
            serde_json::json!([{"rule": "data-leakage", "severity": "error",
                "message": "In[4] line 2: `m.fit(X_test, y)` fits on <test> data",
                "executions": [2, 4]}])
        );
    }

    #[test]
    fn no_findings_is_said_with_the_rules_that_ran() {
        let shown = render_checks(&report(vec![]));
        assert_eq!(
            shown.text,
            "checks of trial 3 \"lr\": no findings\nrules that ran: data-leakage, stale-result\n"
        );
        assert_eq!(shown.json, serde_json::json!([]));
        let rules = render_rules(provstore::RULES);
        assert!(rules.html.contains("<table"), "{}", rules.html);
        assert_eq!(rules.json.as_array().unwrap().len(), provstore::RULES.len());
        assert!(rules.text.contains("data-leakage"), "{}", rules.text);
    }
}
