//! What an execution's messages say, in the form the store records: the request's and reply's
//! fields, outputs (streams merged), MIME bundles, the failed line of a traceback, the dataflow
//! facts handed to the writer.

use crate::wire::HeaderFields;
use bytes::Bytes;
use provstore::{DataflowRecord, ErrorInfo, OutputRecord};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub(super) struct RequestContent {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub silent: bool,
}

#[derive(Deserialize, Default)]
pub(super) struct RequestMetadata {
    #[serde(rename = "cellId")]
    pub cell_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ReplyContent {
    #[serde(default)]
    pub status: String,
    pub execution_count: Option<i64>,
    #[serde(flatten)]
    pub error: Option<ErrorFields>,
}

#[derive(Deserialize)]
pub(super) struct ErrorFields {
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

/// What an execution that went idle without a reply is recorded with.
pub(super) fn no_reply() -> ErrorInfo {
    ErrorInfo {
        ename: "NoReply".into(),
        evalue: "the kernel went idle without replying to this request".into(),
        traceback: Vec::new(),
    }
}

/// A request's header, read with invalid UTF-8 replaced as Jupyter reads it, so the msg_id
/// matches the parent header the child sends back.
pub(super) fn lossy_header(header: &[u8]) -> HeaderFields {
    serde_json::from_slice(header)
        .or_else(|_| serde_json::from_str(&String::from_utf8_lossy(header)))
        .unwrap_or_default()
}

/// The dataflow facts of an execution: the probe's notes and the line it failed at. The static
/// analysis is left to the store's writer thread (an empty `analysis`), off the relay's tasks.
pub(super) fn dataflow_record(
    error: Option<&ErrorInfo>,
    runtime: Option<&Value>,
) -> DataflowRecord {
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

/// The record of an output message (`display_data`, `execute_result`, `update_display_data`,
/// `error`, `clear_output`); `None` for any other type. `raw_content` is the content frame.
pub(super) fn output_record(
    msg_type: String,
    content: &Value,
    raw_content: &Bytes,
) -> Option<OutputRecord> {
    let payloads = match msg_type.as_str() {
        "display_data" | "execute_result" | "update_display_data" => {
            let mut payloads = mime_payloads(&content["data"]);
            // prov's own magic answers are marked, so a trial diff can leave them out.
            if let Some(line) = content["metadata"]["prov"]["magic"].as_str() {
                payloads.push((provstore::MAGIC_ANSWER_MIME.into(), line.into()));
            }
            payloads
        }
        "error" => vec![(
            "application/vnd.jupyter.error+json".into(),
            raw_content.to_vec(),
        )],
        "clear_output" => vec![],
        _ => return None,
    };
    Some(OutputRecord {
        output_type: msg_type,
        name: None,
        payloads,
    })
}

/// Adds stream text to the outputs, merged with the previous output when it is the same stream
/// (as notebooks store it): a 100,000-line print is one output, not thousands.
pub(super) fn append_stream(outputs: &mut Vec<OutputRecord>, name: String, text: &str) {
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
pub(super) fn mime_payloads(data: &Value) -> Vec<(String, Vec<u8>)> {
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
