//! Which rows of a table keyed by execution id are a side's: by the trial, or by a range of ids.

use std::collections::HashMap;

/// How a side's queries find the rows of its executions in tables keyed by execution id.
#[derive(Clone, Copy, Debug)]
pub(super) enum Among {
    /// By the trial's executions, one probe of the table's key each.
    Trial(i64),
    /// By one range of the key, from the trial's first execution id to its last, when its
    /// executions are most of that range: a 5,000-execution side's reads took three times as
    /// long by probes. Rows of executions of other trials in the range are passed over.
    Range(i64, i64),
}

/// The first and last execution ids `at` holds (by row id), if it holds any.
pub(super) fn id_span(at: &HashMap<i64, usize>) -> Option<(i64, i64)> {
    Some((*at.keys().min()?, *at.keys().max()?))
}

impl Among {
    pub(super) fn of(trial: i64, at: &HashMap<i64, usize>) -> Among {
        match id_span(at) {
            // Trials run at the same time interleave their ids: a range over a few times the
            // trial's executions costs less than probing for each.
            Some((first, last)) if last - first < 4 * at.len() as i64 + 256 => {
                Among::Range(first, last)
            }
            _ => Among::Trial(trial),
        }
    }

    /// Of the two forms of a query, the one this takes (`trial` reads the trial's id as `?1`,
    /// `range` the first and last ids as `?1` and `?2`), and its leading parameters.
    pub(super) fn pick<'q>(self, trial: &'q str, range: &'q str) -> (&'q str, Vec<i64>) {
        match self {
            Among::Trial(t) => (trial, vec![t]),
            Among::Range(first, last) => (range, vec![first, last]),
        }
    }
}
