//! What the proxy changes in `execute_request`s and their replies, parsed once each way:
//! prov's magic lines come out of the code, the runtime probe's expression goes in, and the
//! probe's answer comes out of the reply before any client sees it.

use crate::magics;
use crate::probe;
use crate::proxy::Shared;
use crate::wire::RawMessage;
use bytes::Bytes;
use serde_json::{Map, Value};

/// Rewrites a frontend's `execute_request` and re-signs it. Returns it with the code as typed
/// when magic lines were taken out. Silent requests (inspectors, widgets) pass unchanged.
pub fn rewrite_request(
    shared: &Shared,
    mut raw: RawMessage,
    msg_id: &str,
) -> (RawMessage, Option<String>) {
    let Ok(mut content) = serde_json::from_slice::<Map<String, Value>>(&raw.content) else {
        return (raw, None);
    };
    if content.get("silent") == Some(&Value::Bool(true)) {
        return (raw, None);
    }
    let typed = magics::cell::take_out(shared, &mut content, msg_id, &raw.header);
    probe::add_expression(&mut content, shared.magic_context.collect_expression());
    raw.content = to_bytes(&content);
    shared.signer.resign(&mut raw);
    (raw, typed)
}

/// Takes the probe's notes out of an `execute_reply` (re-signing it when it had them).
pub fn rewrite_reply(
    shared: &Shared,
    mut raw: RawMessage,
) -> (RawMessage, Option<Map<String, Value>>) {
    if !contains(&raw.content, probe::EXPRESSION_KEY.as_bytes()) {
        return (raw, None);
    }
    let Ok(mut content) = serde_json::from_slice::<Map<String, Value>>(&raw.content) else {
        return (raw, None);
    };
    let notes = probe::take_notes(&mut content);
    raw.content = to_bytes(&content);
    shared.signer.resign(&mut raw);
    (raw, notes)
}

fn to_bytes(content: &Map<String, Value>) -> Bytes {
    Bytes::from(serde_json::to_vec(content).expect("JSON serialises"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
