//! The replay report (`provctl replay`): the counts in the title, a row per replayed
//! execution (its verdict on a tint, the code, what differs first), then the first divergence
//! with every difference and its likely cause, and how to see the whole diff. JSON: the report
//! as it is (the `provctl replay --json` contract).

use provstore::{Difference, ReplayReport, ReplayStatus};

use crate::doc::{Block, Doc};
use crate::table::{Cell, Table};
use crate::text::{in_label, preview};
use crate::{to_json, Rendered};

/// The report of one replay.
pub fn render_replay(report: &ReplayReport) -> Rendered {
    let mut doc = Doc::new();
    let replay = match &report.replay_name {
        Some(name) => format!("{} {name:?}", report.replay_trial),
        None => report.replay_trial.to_string(),
    };
    let s = report.summary;
    doc.title(format!(
        "replay of trial {} as trial {replay}: {} reproduced, {} differ, {} error",
        report.source_trial, s.reproduced, s.differs, s.error
    ));
    let mut table = Table::new(&["execution", "status", "replay", "code", "what differs"]);
    for e in &report.executions {
        table.push(vec![
            Cell::plain(in_label(e.execution_count)),
            Cell::status(e.status.as_str()),
            match e.replay_execution_count {
                Some(n) => Cell::plain(in_label(Some(n))),
                None => Cell::opt(None),
            },
            Cell::code(preview(&e.code, 40), &e.code),
            Cell::opt(e.differences.first().map(brief).as_deref()),
        ]);
    }
    doc.table(0, table);
    if !report.not_replayed.is_empty() {
        let cells: Vec<String> = report.not_replayed.iter().map(|n| in_label(*n)).collect();
        doc.note(
            0,
            format!(
                "not replayed (aborted in the source, never ran): {}",
                cells.join(", ")
            ),
        );
    }
    match &report.first_divergence {
        None => {
            doc.push(Block::Gap);
            doc.note(0, "every execution reproduced");
        }
        Some(first) => {
            doc.section("first divergence");
            let verdict = match first.status {
                ReplayStatus::Error => "error",
                _ => "warning",
            };
            doc.push(Block::Heading {
                status: verdict.into(),
                text: format!(
                    "{}  {}",
                    in_label(first.execution_count),
                    first.status.as_str()
                ),
            });
            for d in &first.differences {
                doc.note(2, full(d));
            }
            doc.note(
                2,
                format!(
                    "likely cause ({}): {}",
                    first.cause.kind, first.cause.message
                ),
            );
        }
    }
    doc.push(Block::Gap);
    let right = report
        .replay_name
        .clone()
        .unwrap_or_else(|| report.replay_trial.to_string());
    let floats = if report.tolerance > 0.0 {
        format!(
            "floats in text compared within a relative tolerance of {:e}",
            report.tolerance
        )
    } else {
        "text compared exactly (--tolerance 0)".to_string()
    };
    doc.note(
        0,
        format!(
            "{floats}; the whole diff: %trial_diff {} {right}",
            report.source_trial
        ),
    );
    doc.rendered(to_json(report))
}

/// A difference in a table cell: what, and the replay's side.
fn brief(d: &Difference) -> String {
    let side = |s: &Option<String>| {
        s.as_deref()
            .map(|t| preview(t, 30))
            .unwrap_or_else(|| "none".into())
    };
    match d.kind {
        "not-run" => format!("not run: {}", side(&d.got)),
        _ => format!("{}: {} → {}", d.what, side(&d.expected), side(&d.got)),
    }
}

/// A difference in full: what, the source's and the replay's.
fn full(d: &Difference) -> String {
    let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
    match d.kind {
        "not-run" => format!("not run: {}", side(&d.got)),
        _ => format!(
            "{} {}: expected {}, got {}",
            d.kind,
            d.what,
            side(&d.expected),
            side(&d.got)
        ),
    }
}

#[cfg(test)]
mod tests;
