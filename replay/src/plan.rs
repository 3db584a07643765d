//! What a replay runs, decided before any kernel starts: the source's executions in recorded
//! order up to `--until In[n]` (an aborted one never ran, so it is left out), and the files
//! the source read from outside that are gone now (the replay then does not start).

use std::collections::HashSet;

use provstore::{FileAccessRow, ReplayedExecution};

use crate::cause::cell;

/// The executions to run, and those left out.
pub(crate) struct Plan<'a> {
    pub(crate) run: Vec<&'a ReplayedExecution>,
    /// `In[n]` of the aborted executions left out.
    pub(crate) not_replayed: Vec<Option<i64>>,
}

/// `In[n]`, `In [n]` or `n` as `n`.
pub(crate) fn parse_cell(text: &str) -> Option<i64> {
    let t = text.trim();
    let inner = t
        .strip_prefix("In")
        .map(|r| {
            r.trim_start()
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
        })
        .unwrap_or(Some(t))?;
    inner.trim().parse().ok().filter(|n| *n >= 0)
}

/// The plan for `source`'s executions, stopping after `In[until]`.
pub(crate) fn plan(source: &[ReplayedExecution], until: Option<i64>) -> Result<Plan<'_>, String> {
    let end = match until {
        None => source.len(),
        Some(n) => match source.iter().position(|e| e.execution_count == Some(n)) {
            Some(i) => i + 1,
            None => {
                let counts: Vec<String> = source.iter().map(|e| cell(e.execution_count)).collect();
                let had = if counts.is_empty() {
                    "none".to_string()
                } else {
                    counts.join(", ")
                };
                return Err(format!("the trial has no In[{n}] (its executions: {had})"));
            }
        },
    };
    let (run, aborted): (Vec<_>, Vec<_>) =
        source[..end].iter().partition(|e| e.status != "aborted");
    if run.is_empty() {
        return Err("the trial has no executions to replay".into());
    }
    Ok(Plan {
        run,
        not_replayed: aborted.iter().map(|e| e.execution_count).collect(),
    })
}

/// The files the planned executions read from outside the trial (not written by it before)
/// that `exists` says are gone, each as `(path as the code gave it, In[n] of its first
/// reader)`, once per file.
pub(crate) fn gone_inputs(
    accesses: &[FileAccessRow],
    plan: &Plan<'_>,
    exists: impl Fn(&str) -> bool,
) -> Vec<(String, Option<i64>)> {
    let planned: HashSet<i64> = plan.run.iter().map(|e| e.id).collect();
    let mut written = HashSet::new();
    let mut gone = Vec::new();
    let mut seen = HashSet::new();
    for a in accesses
        .iter()
        .filter(|a| planned.contains(&a.execution_id))
    {
        if a.access == "write" {
            written.insert(a.resolved.as_str());
        } else if !written.contains(a.resolved.as_str())
            && seen.insert(a.resolved.as_str())
            && !exists(&a.resolved)
        {
            gone.push((a.path.clone(), a.execution_count));
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(id: i64, n: i64, status: &str) -> ReplayedExecution {
        ReplayedExecution {
            id,
            order: id,
            execution_count: Some(n),
            cell_id: None,
            code: String::new(),
            status: status.into(),
            error: None,
            outputs: Vec::new(),
            values: Vec::new(),
        }
    }

    fn access(id: i64, path: &str, access: &str) -> FileAccessRow {
        FileAccessRow {
            path: path.into(),
            resolved: format!("/d/{path}"),
            access: access.into(),
            execution_count: Some(id),
            execution_id: id,
            line: Some(1),
            statement: Some(0),
            sha256: None,
            size: None,
            mtime: None,
            sampled: false,
        }
    }

    #[test]
    fn cells_parse_in_every_spelling() {
        assert_eq!(parse_cell("In[3]"), Some(3));
        assert_eq!(parse_cell(" In [12] "), Some(12));
        assert_eq!(parse_cell("7"), Some(7));
        assert_eq!(parse_cell("In[x]"), None);
        assert_eq!(parse_cell("-1"), None);
    }

    #[test]
    fn until_stops_after_that_cell_and_aborted_ones_are_left_out() {
        let source = [
            exec(1, 1, "ok"),
            exec(2, 2, "error"),
            exec(3, 3, "aborted"),
            exec(4, 4, "ok"),
        ];
        let p = plan(&source, Some(3)).unwrap();
        assert_eq!(p.run.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(p.not_replayed, [Some(3)]);
        assert_eq!(plan(&source, None).unwrap().run.len(), 3);
        let e = plan(&source, Some(9)).err().unwrap();
        assert_eq!(
            e,
            "the trial has no In[9] (its executions: In[1], In[2], In[3], In[4])"
        );
        assert!(plan(&[], None).is_err());
    }

    #[test]
    fn only_files_from_outside_that_are_gone_stop_a_replay() {
        let source = [exec(1, 1, "ok"), exec(2, 2, "ok"), exec(3, 3, "ok")];
        let p = plan(&source, Some(2)).unwrap();
        let accesses = [
            access(1, "made.csv", "write"),
            access(2, "made.csv", "read"),
            access(2, "gone.csv", "read"),
            access(2, "gone.csv", "read"),
            access(2, "here.csv", "read"),
            access(3, "later.csv", "read"),
        ];
        let gone = gone_inputs(&accesses, &p, |path| path.ends_with("here.csv"));
        assert_eq!(gone, [("gone.csv".to_string(), Some(2))]);
    }
}
