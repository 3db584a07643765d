//! The recorder: assembles each execution from copies of the frames the relay passes (the
//! request, its iopub outputs, its reply) and hands it to the store's writer thread once the
//! execution's iopub idle has arrived. It runs as its own task, so the relay only pays for a
//! channel send; the writer thread owns the disk, so the recorder never waits for it either.

use crate::messages::Author;
use crate::wire::RawMessage;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use provstore::{
    DataflowRecord, ErrorInfo, ExecStatus, ExecutionRecord, OutputRecord, WriterHandle,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the relay shows the recorder.
pub enum Tap {
    /// An `execute_request` as forwarded; `typed_code` is the cell as the user typed it when
    /// the proxy took magic lines out of the forwarded code.
    Request {
        raw: RawMessage,
        at: DateTime<Utc>,
        typed_code: Option<String>,
    },
    /// A message published on iopub (relayed from the child or made by the proxy).
    Iopub(RawMessage, DateTime<Utc>),
    /// An `execute_reply` on its way to the frontend, with the runtime probe's notes taken out
    /// of it (by request msg_id: a failed cell's notes come with the next success).
    Reply(RawMessage, Option<Map<String, Value>>),
    /// The store reported a problem; the user should see it once, in the running cell.
    Problem(String),
    /// The kernel is ending: record what is in flight as it stands, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Sends taps without ever blocking the relay.
#[derive(Clone)]
pub struct TapSender(mpsc::UnboundedSender<Tap>);

impl TapSender {
    /// Hands one tap to the recorder; if the recorder is gone, the relay carries on regardless.
    pub fn send(&self, tap: Tap) {
        let _ = self.0.send(tap);
    }
}

/// An execution between its request and its idle.
struct InFlight {
    /// The request's header frame: the parent of anything the recorder shows in the cell.
    header: Bytes,
    code: String,
    cell_id: Option<String>,
    /// Order of the request, so executions are recorded in the order they were asked for.
    seq: u64,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    idle_at: Option<DateTime<Utc>>,
    execution_count: Option<i64>,
    outputs: Vec<OutputRecord>,
    reply: Option<(ExecStatus, Option<ErrorInfo>)>,
    /// What the runtime probe saw this execution bind and delete.
    runtime: Option<Value>,
}

#[derive(Deserialize)]
struct RequestContent {
    #[serde(default)]
    code: String,
    #[serde(default)]
    silent: bool,
}

#[derive(Deserialize, Default)]
struct RequestMetadata {
    #[serde(rename = "cellId")]
    cell_id: Option<String>,
}

#[derive(Deserialize)]
struct ReplyContent {
    #[serde(default)]
    status: String,
    execution_count: Option<i64>,
    #[serde(flatten)]
    error: Option<ErrorFields>,
}

#[derive(Deserialize)]
struct ErrorFields {
    ename: String,
    #[serde(default)]
    evalue: String,
    #[serde(default)]
    traceback: Vec<String>,
}

impl From<ErrorFields> for ErrorInfo {
    fn from(e: ErrorFields) -> ErrorInfo {
        ErrorInfo {
            ename: e.ename,
            evalue: e.evalue,
            traceback: e.traceback,
        }
    }
}

/// The recorder's end of the tap.
pub struct TapReceiver(mpsc::UnboundedReceiver<Tap>);

/// Makes the tap; the sender can be handed out (to the relay, to the writer's problem report)
/// before the recorder starts.
pub fn tap() -> (TapSender, TapReceiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    (TapSender(tx), TapReceiver(rx))
}

/// Runs the recorder until every tap sender is gone. A store problem is shown once, as stderr
/// in the running cell (or the next one to start), through `publish`.
pub fn spawn(
    TapReceiver(mut rx): TapReceiver,
    writer: Arc<WriterHandle>,
    author: Author,
    publish: mpsc::UnboundedSender<RawMessage>,
) {
    tokio::spawn(async move {
        let mut recorder = Recorder {
            writer,
            in_flight: HashMap::new(),
            author,
            publish,
            unshown_problem: None,
            next_seq: 0,
        };
        while let Some(tap) = rx.recv().await {
            match tap {
                Tap::Problem(message) => recorder.problem(message),
                Tap::Flush(done) => {
                    recorder.finish_all();
                    let _ = done.send(());
                }
                other => recorder.take(other),
            }
        }
    });
}

struct Recorder {
    writer: Arc<WriterHandle>,
    in_flight: HashMap<String, InFlight>,
    author: Author,
    publish: mpsc::UnboundedSender<RawMessage>,
    /// A store problem reported while no cell was running: shown in the next cell to start.
    unshown_problem: Option<String>,
    next_seq: u64,
}

impl Recorder {
    /// Shows a store problem in the running cell, or keeps it for the next one.
    fn problem(&mut self, message: String) {
        crate::warn!("{message}");
        let running = self
            .in_flight
            .values()
            .find(|exec| exec.started_at.is_some())
            .map(|exec| exec.header.clone());
        match running {
            Some(header) => self.show_problem(&header, &message),
            None => self.unshown_problem = Some(message),
        }
    }

    fn show_problem(&self, header: &Bytes, message: &str) {
        let text = format!("{message}\n");
        let _ = self
            .publish
            .send(self.author.stream(header, "stderr", &text));
    }

    fn take(&mut self, tap: Tap) {
        match tap {
            Tap::Request {
                raw,
                at,
                typed_code,
            } => self.request(raw, at, typed_code),
            Tap::Iopub(raw, at) => self.iopub(raw, at),
            Tap::Reply(raw, notes) => {
                if let Some(notes) = notes {
                    self.runtime_notes(notes);
                }
                self.reply(raw)
            }
            Tap::Problem(_) | Tap::Flush(_) => {}
        }
    }

    fn request(&mut self, raw: RawMessage, at: DateTime<Utc>, typed_code: Option<String>) {
        let Ok(content) = serde_json::from_slice::<RequestContent>(&raw.content) else {
            return;
        };
        if content.silent {
            return; // inspectors and widgets run silent code; it is not the user's work
        }
        let metadata: RequestMetadata = serde_json::from_slice(&raw.metadata).unwrap_or_default();
        self.next_seq += 1;
        self.in_flight.insert(
            raw.header().msg_id,
            InFlight {
                header: raw.header.clone(),
                code: typed_code.unwrap_or(content.code),
                cell_id: metadata.cell_id,
                seq: self.next_seq,
                requested_at: at,
                started_at: None,
                idle_at: None,
                execution_count: None,
                outputs: Vec::new(),
                reply: None,
                runtime: None,
            },
        );
    }

    fn iopub(&mut self, raw: RawMessage, at: DateTime<Utc>) {
        if self.in_flight.is_empty() {
            return;
        }
        let parent = raw.parent().msg_id;
        let Some(exec) = self.in_flight.get_mut(&parent) else {
            return;
        };
        let msg_type = raw.header().msg_type;
        if msg_type == "status" && exec.started_at.is_none() {
            if let Some(message) = self.unshown_problem.take() {
                let header = exec.header.clone();
                self.show_problem(&header, &message);
            }
        }
        let Some(exec) = self.in_flight.get_mut(&parent) else {
            return;
        };
        let Ok(content) = serde_json::from_slice::<Value>(&raw.content) else {
            return;
        };
        match msg_type.as_str() {
            "status" => match content["execution_state"].as_str() {
                Some("busy") => exec.started_at = exec.started_at.or(Some(at)),
                Some("idle") => {
                    exec.idle_at = Some(at);
                    match exec.reply {
                        Some((ExecStatus::Aborted, _)) => self.release_aborted(),
                        Some(_) => self.finish(&parent),
                        None => {}
                    }
                }
                _ => {}
            },
            "execute_input" => exec.execution_count = content["execution_count"].as_i64(),
            "stream" => {
                let name = content["name"].as_str().unwrap_or("stdout").to_string();
                let text = content["text"].as_str().unwrap_or_default();
                append_stream(&mut exec.outputs, name, text);
            }
            "display_data" | "execute_result" | "update_display_data" => {
                let mut payloads = mime_payloads(&content["data"]);
                // prov's own magic answers are marked, so a trial diff can leave them out.
                if let Some(line) = content["metadata"]["prov"]["magic"].as_str() {
                    payloads.push((provstore::MAGIC_ANSWER_MIME.into(), line.into()));
                }
                exec.outputs.push(OutputRecord {
                    output_type: msg_type,
                    name: None,
                    payloads,
                });
            }
            "error" => exec.outputs.push(OutputRecord {
                output_type: msg_type,
                name: None,
                payloads: vec![(
                    "application/vnd.jupyter.error+json".into(),
                    raw.content.to_vec(),
                )],
            }),
            "clear_output" => exec.outputs.push(OutputRecord {
                output_type: msg_type,
                name: None,
                payloads: vec![],
            }),
            _ => {}
        }
    }

    /// Attaches the probe's notes to their executions; those already recorded are updated.
    fn runtime_notes(&mut self, notes: Map<String, Value>) {
        for (msg_id, facts) in notes {
            match self.in_flight.get_mut(&msg_id) {
                Some(exec) => exec.runtime = Some(facts),
                None => self.writer.set_runtime_facts(msg_id, facts.to_string()),
            }
        }
    }

    fn reply(&mut self, raw: RawMessage) {
        let parent = raw.parent().msg_id;
        let Some(exec) = self.in_flight.get_mut(&parent) else {
            return;
        };
        let Ok(content) = serde_json::from_slice::<ReplyContent>(&raw.content) else {
            return;
        };
        let status = match content.status.as_str() {
            "ok" => ExecStatus::Ok,
            "aborted" => ExecStatus::Aborted,
            _ => ExecStatus::Error,
        };
        exec.execution_count = content.execution_count.or(exec.execution_count);
        exec.reply = Some((status, content.error.map(ErrorInfo::from)));
        if exec.idle_at.is_some() {
            self.finish(&parent);
        } else {
            self.release_aborted();
        }
    }

    /// An aborted request may never go busy and idle, and its reply comes before the idle of
    /// the failed cell that caused it: it is recorded as soon as every request before it is.
    fn release_aborted(&mut self) {
        while let Some((id, exec)) = self.in_flight.iter().min_by_key(|(_, e)| e.seq) {
            let aborted = matches!(exec.reply, Some((ExecStatus::Aborted, _)));
            if !aborted {
                return;
            }
            let id = id.clone();
            self.record(&id);
        }
    }

    /// Records every execution still in flight, in request order; one that never got its reply
    /// counts as aborted.
    fn finish_all(&mut self) {
        let mut ids: Vec<(u64, String)> = self
            .in_flight
            .iter()
            .map(|(id, e)| (e.seq, id.clone()))
            .collect();
        ids.sort();
        for (_, id) in ids {
            self.record(&id);
        }
    }

    /// Records a finished execution, then any aborted ones that were waiting for it.
    fn finish(&mut self, msg_id: &str) {
        self.record(msg_id);
        self.release_aborted();
    }

    fn record(&mut self, msg_id: &str) {
        let Some(exec) = self.in_flight.remove(msg_id) else {
            return;
        };
        let (status, error) = exec.reply.unwrap_or((ExecStatus::Aborted, None));
        let ended_at = exec.idle_at.unwrap_or_else(Utc::now);
        let dataflow = dataflow_record(error.as_ref(), exec.runtime.as_ref());
        self.writer.record(ExecutionRecord {
            msg_id: msg_id.to_string(),
            execution_count: exec.execution_count,
            cell_id: exec.cell_id,
            code: exec.code,
            started_at: exec.started_at.unwrap_or(exec.requested_at),
            ended_at,
            status,
            error,
            outputs: exec.outputs,
            dataflow: Some(dataflow),
        });
    }
}

/// The dataflow facts of an execution: the probe's notes and the line it failed at. The static
/// analysis is left to the store's writer thread (an empty `analysis`), which runs at a lower
/// priority than the relay.
fn dataflow_record(error: Option<&ErrorInfo>, runtime: Option<&Value>) -> DataflowRecord {
    DataflowRecord {
        analysis: String::new(),
        runtime: runtime.map(Value::to_string),
        failed_line: error.and_then(|e| failed_line(&e.traceback)),
    }
}

/// The line of the cell where the error was raised, from IPython's traceback: the first frame
/// that is the cell itself (`Cell In[7], line 3`, coloured with ANSI escapes).
fn failed_line(traceback: &[String]) -> Option<i64> {
    traceback.iter().find_map(|entry| {
        let plain = strip_ansi(entry);
        let at = plain.find("Cell In[")?;
        let rest = &plain[at..];
        let line = rest[rest.find(", line ")? + 7..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?;
        line.parse().ok()
    })
}

/// Removes ANSI colour escapes (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Adds stream text to the outputs, merged with the previous output when it is the same stream
/// (as notebooks store it): a 100,000-line print is one output, not thousands.
fn append_stream(outputs: &mut Vec<OutputRecord>, name: String, text: &str) {
    if let Some(last) = outputs.last_mut() {
        if last.output_type == "stream" && last.name.as_deref() == Some(name.as_str()) {
            if let Some((_, bytes)) = last.payloads.first_mut() {
                bytes.extend_from_slice(text.as_bytes());
                return;
            }
        }
    }
    outputs.push(OutputRecord {
        output_type: "stream".into(),
        name: Some(name),
        payloads: vec![("text/plain".into(), text.as_bytes().to_vec())],
    });
}

/// A mime bundle as (mime, bytes): strings as their UTF-8 text (base64 for images, as sent),
/// JSON values as compact JSON.
fn mime_payloads(data: &Value) -> Vec<(String, Vec<u8>)> {
    let Some(bundle) = data.as_object() else {
        return vec![];
    };
    bundle
        .iter()
        .map(|(mime, value)| {
            let bytes = match value {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Array(lines) if lines.iter().all(Value::is_string) => lines
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<String>()
                    .into_bytes(),
                other => other.to_string().into_bytes(),
            };
            (mime.clone(), bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_line_comes_from_the_cell_frame() {
        let traceback = vec![
            "\u{1b}[0;31m----------\u{1b}[0m".to_string(),
            "\u{1b}[0;32mCell In[7], line 3\u{1b}[0m\n      1 x = 1\n----> 3 f()".to_string(),
            "\u{1b}[0;32mCell In[5], line 9\u{1b}[0m, in f()".to_string(),
        ];
        assert_eq!(failed_line(&traceback), Some(3));
        assert_eq!(failed_line(&["ValueError: x".to_string()]), None);
    }

    #[test]
    fn consecutive_stream_chunks_merge_per_stream() {
        let mut outputs = Vec::new();
        append_stream(&mut outputs, "stdout".into(), "a\n");
        append_stream(&mut outputs, "stdout".into(), "b\n");
        append_stream(&mut outputs, "stderr".into(), "oops\n");
        append_stream(&mut outputs, "stdout".into(), "c\n");
        assert_eq!(outputs.len(), 3);
        assert_eq!(outputs[0].payloads[0].1, b"a\nb\n");
        assert_eq!(outputs[2].payloads[0].1, b"c\n");
    }

    #[test]
    fn mime_bundles_keep_text_and_json() {
        let payloads = mime_payloads(&serde_json::json!({
            "text/plain": "1", "application/json": {"a": 1}, "text/html": ["<b>", "x</b>"]
        }));
        let get = |m: &str| payloads.iter().find(|(k, _)| k == m).unwrap().1.clone();
        assert_eq!(get("text/plain"), b"1");
        assert_eq!(get("application/json"), br#"{"a":1}"#);
        assert_eq!(get("text/html"), b"<b>x</b>");
    }
}
