//! The notebook and script of a hand-recorded trial that has every kind of output: streams,
//! a rich result, a display cleared, a prov magic's answer, a payload over the store's cap, a
//! failure and an aborted execution.

use chrono::{Duration, TimeZone, Utc};
use provstore::{ErrorInfo, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store};
use serde_json::{json, Value};

/// An output `kind` whose bundle is `entries` (`(mime, text)`).
pub(crate) fn output(kind: &str, entries: &[(&str, &str)]) -> OutputRecord {
    OutputRecord {
        output_type: kind.into(),
        name: (kind == "stream").then(|| "stdout".to_string()),
        payloads: entries
            .iter()
            .map(|(mime, text)| (mime.to_string(), text.as_bytes().to_vec()))
            .collect(),
    }
}

/// Execution `seq` (its `In [n]` is `count`) of `code` that ran fine and showed `outputs`;
/// `runtime` is the probe's note (files opened, …).
pub(crate) fn ran(
    seq: i64,
    count: i64,
    code: &str,
    outputs: Vec<OutputRecord>,
    runtime: Option<Value>,
) -> ExecutionRecord {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::seconds(seq * 10);
    ExecutionRecord {
        msg_id: format!("request-{seq}"),
        execution_count: Some(count),
        cell_id: Some(format!("c{count}")),
        code: code.to_string(),
        code_replaced: false,
        started_at: at,
        ended_at: at + Duration::milliseconds(250),
        status: ExecStatus::Ok,
        error: None,
        outputs,
        dataflow: Some(provstore::DataflowRecord {
            analysis: String::new(),
            runtime: runtime.map(|r| r.to_string()),
            failed_line: None,
        }),
    }
}

/// A store (its payload cap 4 KiB) holding one trial of `records`, in a fresh folder.
pub(crate) fn store_with(records: &[ExecutionRecord]) -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("prov.db")).unwrap();
    store.set_payload_cap(4096);
    let trial = store
        .begin_trial(&NewTrial::for_this_process(dir.path()))
        .unwrap()
        .id;
    for r in records {
        store.record_execution(trial, r).unwrap();
    }
    (dir, store, trial)
}

fn failed(seq: i64, count: i64) -> ExecutionRecord {
    let traceback = vec!["\u{1b}[0;31mZeroDivisionError\u{1b}[0m: division by zero".to_string()];
    let content = json!({ "ename": "ZeroDivisionError", "evalue": "division by zero",
                          "traceback": traceback });
    ExecutionRecord {
        status: ExecStatus::Error,
        error: Some(ErrorInfo {
            ename: "ZeroDivisionError".into(),
            evalue: "division by zero".into(),
            traceback,
        }),
        ..ran(
            seq,
            count,
            "print('before')\n1/0",
            vec![
                output("stream", &[("text/plain", "before\n")]),
                output(
                    "error",
                    &[("application/vnd.jupyter.error+json", &content.to_string())],
                ),
            ],
            None,
        )
    }
}

/// Every kind of execution and output, in the order a user could have run them.
pub(crate) fn varied() -> Vec<ExecutionRecord> {
    let big = "x".repeat(10_000);
    vec![
        ran(
            1,
            1,
            "%trial_name demo\nimport json\nprint('hi')\n",
            vec![
                output("stream", &[("text/plain", "hi\n")]),
                output(
                    "display_data",
                    &[
                        ("text/plain", "Trial 1 is now named demo."),
                        ("text/html", "<b>demo</b>"),
                        (provstore::MAGIC_ANSWER_MIME, "%trial_name demo"),
                    ],
                ),
            ],
            None,
        ),
        ran(
            2,
            2,
            "{'a': 1}",
            vec![output(
                "execute_result",
                &[
                    ("text/plain", "{'a': 1}"),
                    ("application/json", "{\"a\":1}"),
                ],
            )],
            None,
        ),
        failed(3, 3),
        ExecutionRecord {
            status: ExecStatus::Aborted,
            execution_count: None,
            ..ran(4, 4, "never = 1", vec![], None)
        },
        ran(
            5,
            4,
            "def f():\n    !ls\n    %time g()\nbig = 'x' * 10_000\nbig",
            vec![
                output("display_data", &[("text/plain", "gone soon")]),
                output("clear_output", &[]),
                output("update_display_data", &[("text/plain", "updated")]),
                output("execute_result", &[("text/plain", big.as_str())]),
            ],
            None,
        ),
        ran(6, 5, "%%time\nz = 1", vec![], None),
    ]
}

fn cells(nb: &Value) -> &Vec<Value> {
    nb["cells"].as_array().unwrap()
}

#[test]
fn the_notebook_has_every_execution_in_order_with_its_outputs() {
    let (_dir, store, trial) = store_with(&varied());
    let text = super::ipynb(&store, trial).unwrap();
    let nb: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(nb["nbformat"], 4);
    assert_eq!(
        nb["metadata"]["kernelspec"]["display_name"],
        "Python (prov)"
    );
    let cells = cells(&nb);
    assert_eq!(cells.len(), 6);
    let counts: Vec<Value> = cells.iter().map(|c| c["execution_count"].clone()).collect();
    assert_eq!(
        counts,
        [
            json!(1),
            json!(2),
            json!(3),
            Value::Null,
            json!(4),
            json!(5)
        ]
    );
    let ids: std::collections::HashSet<&str> =
        cells.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 6, "cell ids are unique");

    // A stream, then a magic's answer: its marker moved to the output's metadata.
    let first = &cells[0]["outputs"];
    assert_eq!(
        first[0],
        json!({"output_type": "stream", "name": "stdout", "text": "hi\n"})
    );
    assert_eq!(first[1]["data"]["text/html"], "<b>demo</b>");
    assert!(first[1]["data"].get(provstore::MAGIC_ANSWER_MIME).is_none());
    assert_eq!(first[1]["metadata"]["prov"]["magic"], "%trial_name demo");
    assert_eq!(cells[0]["source"][0], "%trial_name demo\n");

    // JSON stays JSON; a result carries its count.
    let result = &cells[1]["outputs"][0];
    assert_eq!(result["data"]["application/json"], json!({"a": 1}));
    assert_eq!(result["execution_count"], 2);

    // The failure: what it printed, then its error as recorded.
    let error = &cells[2]["outputs"][1];
    assert_eq!(error["output_type"], "error");
    assert_eq!(error["ename"], "ZeroDivisionError");
    assert_eq!(error["traceback"].as_array().unwrap().len(), 1);
    assert_eq!(cells[2]["metadata"]["prov"]["status"], "error");

    assert_eq!(cells[3]["metadata"]["prov"]["status"], "aborted");
    assert_eq!(cells[3]["outputs"], json!([]));

    // Cleared, updated, too large: the display is gone, the rest is named.
    let outputs = cells[4]["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let shown = outputs[0]["data"]["text/plain"].as_str().unwrap();
    assert!(
        shown.starts_with("[output not stored: 10000 bytes of text/plain, sha256 "),
        "{shown}"
    );
    let notes = cells[4]["metadata"]["prov"]["outputs_not_shown"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0]["output_type"], "update_display_data");
    assert_eq!(notes[1]["size"], 10_000);
}

#[test]
fn the_script_runs_under_plain_python() {
    let (_dir, store, trial) = store_with(&varied());
    let script = super::script(&store, trial).unwrap();
    assert!(script.starts_with("# The history of trial "), "{script}");
    let body = script.split_once("\n\n").unwrap().1;
    assert_eq!(
        body,
        "# In[1]\n# %trial_name demo\nimport json\nprint('hi')\n\
         \n# In[2]\n{'a': 1}\n\
         \n# In[3]  (failed: ZeroDivisionError: division by zero)\nprint('before')\n1/0\n\
         \n# In[ ]  (aborted: it never ran)\n# never = 1\n\
         \n# In[4]\ndef f():\n    pass  # !ls\n    pass  # %time g()\nbig = 'x' * 10_000\nbig\n\
         \n# In[5]\n# (an IPython cell magic: the cell runs only under IPython)\n# %%time\n# z = 1\n"
    );
}

#[test]
fn a_magic_line_inside_a_string_stays_code() {
    let (_dir, store, trial) =
        store_with(&[ran(1, 1, "s = '''\n%not_a_magic\n'''\n", vec![], None)]);
    let script = super::script(&store, trial).unwrap();
    assert!(
        script.ends_with("# In[1]\ns = '''\n%not_a_magic\n'''\n"),
        "{script}"
    );
}

#[test]
fn an_unknown_trial_is_a_store_error() {
    let (_dir, store, _) = store_with(&[]);
    assert!(matches!(
        super::ipynb(&store, 99),
        Err(crate::types::ExportError::Store(_))
    ));
    assert!(super::script(&store, 99).is_err());
}
