//! The three moments of a cell with magics, as the relay meets them: its request (take the magic
//! lines out), its reply (run the magics, fix the status), its iopub traffic (show the typed code
//! in `execute_input`, publish the magics' outputs before the idle).

use super::jobs::ReadyToRun;
use super::parse::split_cell;
use crate::proxy::Shared;
use crate::warn;
use crate::wire::RawMessage;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// How long the iopub relay holds a cell's idle for its magics' outputs.
const MAGIC_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The `ename` of a failed magic, as shown in the cell.
const MAGIC_ERROR: &str = "ProvMagicError";

/// At the request: takes prov magic lines out of an `execute_request`'s content and notes the
/// job (the caller re-signs), applying its tagging magics to the tags the probe is told about.
/// Returns the code as typed when it changed it.
pub fn take_out(
    shared: &Shared,
    content: &mut Map<String, Value>,
    msg_id: &str,
    header: &Bytes,
) -> Option<String> {
    let typed = content.get("code").and_then(Value::as_str)?;
    if !typed.contains('%') {
        return None;
    }
    let split = split_cell(typed, super::is_prov_magic)?;
    let typed = typed.to_owned();
    content.insert("code".into(), Value::String(split.code));
    shared.magic_context.apply_tag_calls(&split.calls);
    shared.magic_jobs.register(
        msg_id.to_string(),
        split.calls,
        typed.clone(),
        header.clone(),
    );
    Some(typed)
}

/// At the reply: runs the cell's magics (if its code succeeded), hands their outputs to the
/// iopub relay, and turns the reply into an error when a magic failed.
pub async fn answer(shared: &Shared, mut reply: RawMessage, ready: ReadyToRun) -> RawMessage {
    let code_ok =
        serde_json::from_slice::<Value>(&reply.content).is_ok_and(|c| c["status"] == "ok");
    let results = if code_ok {
        let context = shared.magic_context.clone();
        let calls = ready.calls.clone();
        tokio::task::spawn_blocking(move || {
            calls
                .iter()
                .map(|call| (call.line.clone(), super::run(&context, call)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_else(|e| vec![(String::new(), Err(format!("the magic failed: {e}")))])
    } else {
        Vec::new()
    };

    let mut outputs = Vec::new();
    let mut failure = None;
    for (line, result) in results {
        match result {
            Ok(rendered) => outputs.extend(display(shared, &ready.header, &line, rendered)),
            Err(message) => {
                let evalue = format!("{line}: {message}");
                outputs.push(
                    shared
                        .author
                        .error_output(&ready.header, MAGIC_ERROR, &evalue),
                );
                failure = Some(evalue);
                break; // like IPython: the lines after a failing one do not run
            }
        }
    }
    let _ = ready.outputs.send(outputs);

    // The tags were applied at the request; if the tagging magics did not all run, the store
    // says which tags hold.
    if (!code_ok || failure.is_some())
        && ready.calls.iter().any(|c| super::changes_tags(c).is_some())
    {
        let context = shared.magic_context.clone();
        let _ = tokio::task::spawn_blocking(move || context.resync_tags()).await;
    }

    if let Some(evalue) = failure {
        if let Ok(mut content) = serde_json::from_slice::<Map<String, Value>>(&reply.content) {
            content.insert("status".into(), json!("error"));
            content.insert("ename".into(), json!(MAGIC_ERROR));
            content.insert("evalue".into(), json!(evalue));
            content.insert(
                "traceback".into(),
                json!([format!("{MAGIC_ERROR}: {evalue}")]),
            );
            reply.content = Bytes::from(serde_json::to_vec(&content).expect("JSON serialises"));
            shared.signer.resign(&mut reply);
        }
    }
    reply
}

/// On iopub, while cells with magics are in flight: shows the typed cell in `execute_input`,
/// and before a magic cell's idle, publishes its magics' outputs (returned first).
pub async fn on_iopub(shared: &Shared, mut raw: RawMessage) -> Vec<RawMessage> {
    let header = raw.header();
    let parent = raw.parent().msg_id;
    match header.msg_type.as_str() {
        "execute_input" => {
            if let Some(typed) = shared.magic_jobs.typed_code(&parent) {
                if let Ok(mut content) = serde_json::from_slice::<Map<String, Value>>(&raw.content)
                {
                    content.insert("code".into(), Value::String(typed));
                    raw.content =
                        Bytes::from(serde_json::to_vec(&content).expect("JSON serialises"));
                    shared.signer.resign(&mut raw);
                }
            }
            vec![raw]
        }
        "status" if raw.content.windows(6).any(|w| w == b"\"idle\"") => {
            let Some(outputs) = shared.magic_jobs.finish(&parent) else {
                return vec![raw];
            };
            let mut all = match tokio::time::timeout(MAGIC_TIME_LIMIT, outputs).await {
                Ok(Ok(outputs)) => outputs,
                Ok(Err(_)) => Vec::new(), // the cell failed before its magics could run
                Err(_) => {
                    warn!(
                        "magics took longer than {}s; their output is lost",
                        MAGIC_TIME_LIMIT.as_secs()
                    );
                    Vec::new()
                }
            };
            all.push(raw);
            all
        }
        _ => vec![raw],
    }
}

/// A magic's rendered answer as `display_data` in the cell: the answer (`text/plain` and
/// `text/html`), then its picture, if any, as an output of its own (`image/svg+xml`,
/// `image/png`), so an untrusted notebook still shows it. The metadata names the magic line
/// (`{"prov": {"magic": "%trials"}}`), so a tool comparing a notebook's outputs with a plain
/// Python kernel's, or a trial diff, can tell prov's own outputs from the code's; the answer's
/// machine-readable JSON is `prov.json` there, the picture is marked `prov.picture`.
fn display(
    shared: &Shared,
    parent: &Bytes,
    line: &str,
    rendered: provrender::Rendered,
) -> Vec<RawMessage> {
    let mut outputs = vec![shared.author.display_data(
        parent,
        Value::Object(rendered.mime_bundle()),
        json!({"prov": {"magic": line, "json": rendered.json}}),
    )];
    if let Some(picture) = rendered.picture() {
        let mut metadata = picture.metadata;
        metadata.insert("prov".into(), json!({"magic": line, "picture": true}));
        outputs.push(shared.author.display_data(
            parent,
            Value::Object(picture.data),
            Value::Object(metadata),
        ));
    }
    outputs
}
