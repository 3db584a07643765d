//! The executions a side loads (each code once, outputs by a range of execution ids) equal
//! those of the loader before (one row per output payload: `reference.rs`), on trials whose
//! executions share code, show several outputs of several payloads, fail, answer magics, and
//! run interleaved with another trial's (so the range of ids holds rows of both).

use std::collections::HashMap;

use super::super::test_support::recorded;
use super::super::MAGIC_ANSWER_MIME;
use super::{last_captures, load_execs, read_deleted, read_statements, reference, Among};
use crate::{ErrorInfo, ExecStatus, NewTrial, OutputRecord, Store};

/// An output of `kind` with these payloads.
fn output(kind: &str, name: Option<&str>, payloads: &[(&str, &str)]) -> OutputRecord {
    OutputRecord {
        output_type: kind.to_string(),
        name: name.map(String::from),
        payloads: payloads
            .iter()
            .map(|(m, b)| (m.to_string(), b.as_bytes().to_vec()))
            .collect(),
    }
}

/// The record of cell `n` of a trial (`t` tells trials apart), with outputs that vary by `n`.
fn cell(t: i64, n: i64) -> crate::ExecutionRecord {
    // Every third cell runs the same code as another: codes are shared.
    let code = if n % 3 == 0 {
        "print(x)".to_string()
    } else {
        format!("x = {n} * {t}\nx")
    };
    // Names bound again and again, some by a few cells only, some without a value.
    let (value, key) = (n.to_string(), format!("k{}", n % 4));
    let mut bound = vec![("x", Some(value.as_str())), (key.as_str(), Some("7"))];
    if n % 2 == 0 {
        bound.push(("m", None));
    }
    let mut record = recorded(n, None, &code, true, &bound);
    record.outputs = match n % 5 {
        0 => vec![],
        1 => vec![output("stream", Some("stdout"), &[("text/plain", "hi\n")])],
        2 => vec![
            output("stream", Some("stderr"), &[("text/plain", "warn\n")]),
            output(
                "execute_result",
                None,
                &[
                    ("text/plain", "<Fig>"),
                    ("image/png", "PNGDATA"),
                    ("text/html", "<b>"),
                ],
            ),
        ],
        3 => vec![output(
            "display_data",
            None,
            &[("text/plain", "[1]"), (MAGIC_ANSWER_MIME, "%trials")],
        )],
        _ => vec![
            output("display_data", None, &[]),
            output("execute_result", None, &[("application/json", "{}")]),
        ],
    };
    if n % 7 == 0 {
        record.status = ExecStatus::Error;
        record.error = Some(ErrorInfo {
            ename: "ValueError".into(),
            evalue: format!("bad {n}"),
            traceback: vec!["tb".into()],
        });
    }
    record
}

/// A store of two trials recorded interleaved and one empty; (store, trial ids).
fn interleaved(dir: &std::path::Path) -> (Store, Vec<i64>) {
    let mut store = Store::open(&dir.join("prov.db")).unwrap();
    let trials: Vec<i64> = (0..2)
        .map(|_| {
            store
                .begin_trial(&NewTrial::for_this_process(dir))
                .unwrap()
                .id
        })
        .collect();
    // Interleaved: each trial's range of execution ids holds the other's executions.
    for n in 1..=40 {
        for (t, &trial) in trials.iter().enumerate() {
            store.record_execution(trial, &cell(t as i64, n)).unwrap();
        }
    }
    let empty = store
        .begin_trial(&NewTrial::for_this_process(dir))
        .unwrap()
        .id;
    (store, trials.into_iter().chain([empty]).collect())
}

#[test]
fn executions_load_as_the_joined_loader_loaded_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, trials) = interleaved(tmp.path());
    let empty = trials[2];
    for trial in trials {
        let (new, old) = store
            .read(|conn| {
                let (mut at_new, mut at_old) = (HashMap::new(), HashMap::new());
                let new = load_execs(conn, trial, &mut at_new)?;
                let old = reference::load_execs(conn, trial, &mut at_old)?;
                assert_eq!(at_new, at_old);
                Ok((new, old))
            })
            .unwrap();
        assert_eq!(format!("{new:#?}"), format!("{old:#?}"));
        if trial != empty {
            assert_eq!(new.len(), 40);
            // What the trial holds is loaded: outputs, payload texts, magic lines, errors.
            assert!(new
                .iter()
                .any(|e| e.outputs.iter().any(|o| o.magic.is_some())));
            assert!(new
                .iter()
                .any(|e| e.outputs.iter().any(|o| o.mime_types.len() == 3)));
            assert!(new.iter().any(|e| e.error.is_some()));
            assert!(new.iter().filter(|e| e.code == "print(x)").count() > 1);
        }
    }
}

#[test]
fn last_captures_are_those_of_every_capture_read_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, trials) = interleaved(tmp.path());
    // Captures in rows of their own too, as a store recorded before the shared lists keeps
    // them: after an execution's list (`x` again), before it (a tie in id with its first
    // member), and in an execution without a list.
    store
        .read(|conn| {
            conn.execute_batch(&format!(
                "INSERT INTO captured_value_rows (id, execution_id, name, type_name, value_json)
                 SELECT 1000 + e.id, e.id, 'x', 'int', '-1' FROM executions e
                 WHERE e.trial_id = {t} AND e.seq % 6 = 1;
                 INSERT INTO captured_value_rows (id, execution_id, name, type_name, value_json)
                 SELECT 1, e.id, 'k1', 'str', '\"row\"' FROM executions e
                 WHERE e.trial_id = {t} AND e.seq = 37;
                 INSERT INTO captured_value_rows (id, execution_id, name, type_name, value_json)
                 SELECT 5, e.id, 'late', 'int', '3' FROM executions e
                 WHERE e.trial_id = {t} AND e.seq = 39;
                 DELETE FROM execution_value_sets WHERE execution_id =
                     (SELECT id FROM executions WHERE trial_id = {t} AND seq = 40);",
                t = trials[0]
            ))
        })
        .unwrap();
    for &trial in &trials {
        let (new, by_trial, old) = store
            .read(|conn| {
                let mut at = HashMap::new();
                let execs = load_execs(conn, trial, &mut at)?;
                Ok((
                    last_captures(conn, Among::of(trial, &at), &at, &execs)?,
                    last_captures(conn, Among::Trial(trial), &at, &execs)?,
                    reference::last_captures(conn, trial)?,
                ))
            })
            .unwrap();
        let sorted = |m: HashMap<String, (i64, crate::compare::algorithm::Final)>| {
            let mut v: Vec<String> = m.into_iter().map(|e| format!("{e:?}")).collect();
            v.sort();
            v
        };
        let (new, by_trial, old) = (sorted(new), sorted(by_trial), sorted(old));
        assert_eq!(new, old);
        assert_eq!(by_trial, old);
        if trial == trials[0] {
            assert!(new.iter().any(|e| e.contains("\"late\"")), "{new:?}");
            assert!(new.len() >= 6, "{new:?}");
        }
    }
}

#[test]
fn statements_and_deletions_read_by_range_as_by_trial() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, trials) = interleaved(tmp.path());
    // Deletions in rows of their own, as a store recorded before the shared lists keeps them.
    store
        .read(|conn| {
            conn.execute_batch(
                "INSERT INTO execution_names (execution_id, name, role)
                 SELECT id, 'm', 'deleted' FROM executions WHERE seq % 9 = 4;",
            )
        })
        .unwrap();
    for &trial in &trials {
        let (by_range, by_trial, deleted) = store
            .read(|conn| {
                let mut at = HashMap::new();
                let execs = load_execs(conn, trial, &mut at)?;
                let range = Among::of(trial, &at);
                let mut deleted: [Vec<(i64, String)>; 2] = Default::default();
                let mut sides = Vec::new();
                for (k, among) in [range, Among::Trial(trial)].into_iter().enumerate() {
                    let mut side = execs.clone();
                    read_statements(conn, trial, among, &at, &mut side)?;
                    sides.push(format!("{side:#?}"));
                    read_deleted(conn, among, |id, name| {
                        if at.contains_key(&id) {
                            deleted[k].push((id, name.to_string()));
                        }
                    })?;
                    deleted[k].sort();
                }
                if trial != trials[2] {
                    assert!(matches!(range, Among::Range(..)));
                }
                Ok((sides.remove(0), sides.remove(0), deleted))
            })
            .unwrap();
        assert_eq!(by_range, by_trial);
        assert_eq!(deleted[0], deleted[1]);
        if trial != trials[2] {
            assert!(
                by_range.contains("reads: [\n"),
                "some statement read something"
            );
            assert_eq!(deleted[0].len(), 5);
        }
    }
}
