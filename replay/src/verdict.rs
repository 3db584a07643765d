//! The report from what ran: each planned execution paired with what the replay trial
//! recorded for it (in order: the kernel records the replay's requests as it runs them),
//! compared, counted, and the first divergence explained.

use provstore::{
    Difference, EnvDiff, FirstDivergence, InputDiff, ReplayExecution, ReplayReport, ReplayStatus,
    ReplaySummary, ReplayedExecution,
};

use crate::cause::{cell, likely_cause, Evidence};
use crate::client::Outcome;
use crate::compare::compare;

/// Everything a report is made of.
pub(crate) struct Material<'a> {
    pub(crate) source_trial: i64,
    pub(crate) replay_trial: i64,
    pub(crate) replay_name: Option<String>,
    pub(crate) tolerance: f64,
    /// The planned executions of the source.
    pub(crate) planned: &'a [&'a ReplayedExecution],
    /// The outcome of each execution the session tried, in order.
    pub(crate) outcomes: &'a [Outcome],
    /// What the replay trial recorded, in order.
    pub(crate) recorded: &'a [ReplayedExecution],
    pub(crate) not_replayed: Vec<Option<i64>>,
    pub(crate) inputs: &'a [InputDiff],
    pub(crate) environment: &'a [EnvDiff],
}

/// The report.
pub(crate) fn report(m: &Material<'_>) -> ReplayReport {
    let mut recorded = m.recorded.iter();
    let mut executions = Vec::new();
    let mut why_not = Vec::new();
    let mut errors = Vec::new();
    let mut stopped: Option<String> = None;
    for (i, source) in m.planned.iter().enumerate() {
        let outcome = m.outcomes.get(i);
        let stopped_before = stopped.clone();
        let (status, differences, replayed, why) = match (outcome, stopped_before.as_deref()) {
            (Some(Outcome::Ran), _) => match recorded.next() {
                Some(r) => {
                    let (status, d) = compare(source, r, m.tolerance);
                    errors.push(r.error.clone());
                    (status, d, r.execution_count, None)
                }
                None => {
                    errors.push(None);
                    not_run("the replay trial did not record it")
                }
            },
            (Some(Outcome::TimedOut(after)), _) => {
                let why = format!(
                    "no answer within {} s (the kernel was stopped)",
                    after.as_secs()
                );
                stopped = Some(format!(
                    "the replay stopped at {}",
                    cell(source.execution_count)
                ));
                not_run(&why)
            }
            (Some(Outcome::Died(why)), _) => {
                stopped = Some(format!(
                    "the kernel died at {}",
                    cell(source.execution_count)
                ));
                not_run(why)
            }
            (None, Some(s)) => not_run(s),
            (None, None) => not_run("the replay stopped before it"),
        };
        if errors.len() <= i {
            errors.push(None);
        }
        why_not.push(why);
        executions.push(ReplayExecution {
            execution_count: source.execution_count,
            replay_execution_count: replayed,
            status,
            differences,
            code: source.code.clone(),
        });
    }
    let mut summary = ReplaySummary::default();
    for e in &executions {
        match e.status {
            ReplayStatus::Reproduced => summary.reproduced += 1,
            ReplayStatus::Differs => summary.differs += 1,
            ReplayStatus::Error => summary.error += 1,
        }
    }
    let first_divergence = executions
        .iter()
        .position(|e| e.status != ReplayStatus::Reproduced)
        .map(|at| {
            let first = &executions[at];
            let code: Vec<(Option<i64>, &str)> = m.planned[..=at]
                .iter()
                .map(|e| (e.execution_count, e.code.as_str()))
                .collect();
            let cause = likely_cause(&Evidence {
                first,
                not_run: why_not[at].as_deref(),
                replay_error: errors[at].as_deref(),
                code: &code,
                inputs: m.inputs,
                environment: m.environment,
            });
            FirstDivergence {
                execution_count: first.execution_count,
                status: first.status,
                differences: first.differences.clone(),
                cause,
            }
        });
    ReplayReport {
        source_trial: m.source_trial,
        replay_trial: m.replay_trial,
        replay_name: m.replay_name.clone(),
        tolerance: m.tolerance,
        summary,
        executions,
        first_divergence,
        not_replayed: m.not_replayed.clone(),
    }
}

/// The verdict on an execution the replay could not run.
fn not_run(why: &str) -> (ReplayStatus, Vec<Difference>, Option<i64>, Option<String>) {
    let d = Difference {
        kind: "not-run",
        what: "the execution".into(),
        expected: None,
        got: Some(why.to_string()),
    };
    (ReplayStatus::Error, vec![d], None, Some(why.to_string()))
}
