//! An execution's recorded outputs as nbformat outputs, as the frontend ended up showing them:
//! streams as text, bundles with their payloads from the store (JSON types as JSON), errors
//! with their traceback, a `clear_output` clearing what came before it. What a notebook cannot
//! hold (an `update_display_data`, whose target the store does not keep; a payload too large
//! to have been stored) is named in the cell's metadata instead of silently missing.

use provstore::{ExecutionDetail, OutputSummary, PayloadInfo, Store, MAGIC_ANSWER_MIME};
use serde_json::{json, Map, Value};

use crate::types::ExportError;

/// A cell's outputs, and notes on the recorded outputs it could not show.
pub(super) struct CellOutputs {
    pub(super) outputs: Vec<Value>,
    pub(super) notes: Vec<Value>,
}

/// The outputs of `e` for its notebook cell.
pub(super) fn cell_outputs(store: &Store, e: &ExecutionDetail) -> Result<CellOutputs, ExportError> {
    let mut cell = CellOutputs {
        outputs: Vec::new(),
        notes: Vec::new(),
    };
    for out in &e.outputs {
        match out.output_type.as_str() {
            "clear_output" => cell.outputs.clear(),
            "stream" => cell.outputs.push(stream(out)),
            "display_data" | "execute_result" => {
                let (data, metadata) = bundle(store, out, &mut cell.notes)?;
                let mut o = json!({
                    "output_type": out.output_type,
                    "data": data,
                    "metadata": metadata,
                });
                if out.output_type == "execute_result" {
                    o["execution_count"] = json!(e.execution_count);
                }
                cell.outputs.push(o);
            }
            "error" => cell.outputs.push(error(store, out, e)?),
            other => cell.notes.push(json!({
                "output_type": other,
                "why": "a notebook has no place for it (it changed an earlier display)",
            })),
        }
    }
    Ok(cell)
}

/// A stream output; its text, or a line saying it was too large to be stored.
fn stream(out: &OutputSummary) -> Value {
    let text = match (&out.text, out.payloads.first()) {
        (Some(text), _) => text.clone(),
        (None, Some(p)) => format!("[{}: not stored]\n", described(p)),
        (None, None) => String::new(),
    };
    json!({
        "output_type": "stream",
        "name": out.name.as_deref().unwrap_or("stdout"),
        "text": text,
    })
}

/// `1048576 bytes of text/plain, sha256 ab12…`.
fn described(p: &PayloadInfo) -> String {
    format!("{} bytes of {}, sha256 {}", p.size, p.mime_type, p.sha256)
}

/// A display's MIME bundle and metadata: each stored payload (JSON types parsed, others as
/// text), a prov magic's answer marked as the kernel marked it.
fn bundle(
    store: &Store,
    out: &OutputSummary,
    notes: &mut Vec<Value>,
) -> Result<(Map<String, Value>, Value), ExportError> {
    let mut data = Map::new();
    let mut metadata = json!({});
    for p in &out.payloads {
        let Some(bytes) = stored(store, out, p)? else {
            notes.push(json!({
                "output_type": out.output_type,
                "mime_type": p.mime_type,
                "sha256": p.sha256,
                "size": p.size,
                "why": "larger than the store's payload cap: recorded by hash and size only",
            }));
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if p.mime_type == MAGIC_ANSWER_MIME {
            metadata = json!({ "prov": { "magic": text } });
            continue;
        }
        let value = if is_json(&p.mime_type) {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        data.insert(p.mime_type.clone(), value);
    }
    if data.is_empty() {
        let what: Vec<String> = out.payloads.iter().map(described).collect();
        data.insert(
            "text/plain".into(),
            json!(format!("[output not stored: {}]", what.join("; "))),
        );
    }
    Ok((data, metadata))
}

/// The bytes of a payload: the `text/plain` the query already read, else the store's blob.
fn stored(
    store: &Store,
    out: &OutputSummary,
    p: &PayloadInfo,
) -> Result<Option<Vec<u8>>, ExportError> {
    if !p.stored {
        return Ok(None);
    }
    if p.mime_type == "text/plain" {
        if let Some(text) = &out.text {
            return Ok(Some(text.clone().into_bytes()));
        }
    }
    Ok(store.payload(&p.sha256)?)
}

/// Whether a MIME type's payload is JSON (`application/json`, `…+json`), which nbformat keeps
/// as JSON rather than text.
fn is_json(mime: &str) -> bool {
    mime == "application/json" || mime.ends_with("+json")
}

/// An error output: the recorded message's `ename`, `evalue`, `traceback`, else the
/// execution's error.
fn error(store: &Store, out: &OutputSummary, e: &ExecutionDetail) -> Result<Value, ExportError> {
    let recorded = match out.payloads.first() {
        Some(p) => stored(store, out, p)?
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .filter(|v| v["ename"].is_string()),
        None => None,
    };
    let (ename, evalue, traceback) = match (recorded, &e.error) {
        (Some(v), _) => (
            v["ename"].clone(),
            v["evalue"].clone(),
            v["traceback"].clone(),
        ),
        (None, Some(err)) => (json!(err.ename), json!(err.evalue), json!(err.traceback)),
        (None, None) => (json!("Error"), json!(""), json!([])),
    };
    Ok(json!({
        "output_type": "error",
        "ename": ename,
        "evalue": if evalue.is_string() { evalue } else { json!("") },
        "traceback": if traceback.is_array() { traceback } else { json!([]) },
    }))
}
