//! Messages the proxy creates itself: its own requests to the child, the welcome for new iopub
//! subscribers, and the replies it owes when the child dies. Content types come from
//! `jupyter-protocol`; relayed messages never pass through them (they drop fields).

use crate::wire::{RawMessage, Signer};
use bytes::Bytes;
use jupyter_protocol::Header;
use serde::Serialize;
use serde_json::json;

/// The proxy's own session, for the headers of messages it creates.
#[derive(Clone)]
pub struct Author {
    pub session: String,
    pub signer: Signer,
}

impl Author {
    /// A new author with a fresh session id.
    pub fn new(signer: Signer) -> Author {
        Author {
            session: uuid::Uuid::new_v4().to_string(),
            signer,
        }
    }

    /// Builds a signed message. `parent` is the raw header frame of the request it answers,
    /// copied byte for byte so clients match it exactly.
    pub fn message(
        &self,
        msg_type: &str,
        parent: Option<&Bytes>,
        content: &impl Serialize,
        identities: Vec<Bytes>,
    ) -> RawMessage {
        let header = Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            username: "prov-kernel".into(),
            session: self.session.clone(),
            date: chrono::Utc::now(),
            msg_type: msg_type.into(),
            version: "5.3".into(),
        };
        let header = Bytes::from(serde_json::to_vec(&header).expect("a header serialises"));
        let parent_header = parent.cloned().unwrap_or_else(|| Bytes::from_static(b"{}"));
        let metadata = Bytes::from_static(b"{}");
        let content = Bytes::from(serde_json::to_vec(content).expect("content serialises"));
        let mut msg = RawMessage::from_parts(
            identities,
            Bytes::new(),
            [header, parent_header, metadata, content],
            Vec::new(),
        );
        self.signer.resign(&mut msg);
        msg
    }

    /// The `iopub_welcome` for a new subscriber (JEP 65); the topic frame is the subscription.
    pub fn welcome(&self, subscription: &[u8]) -> RawMessage {
        let topic = String::from_utf8_lossy(subscription).into_owned();
        let content = jupyter_protocol::IoPubWelcome::new(topic);
        let identities = if subscription.is_empty() {
            vec![]
        } else {
            vec![Bytes::copy_from_slice(subscription)]
        };
        self.message("iopub_welcome", None, &content, identities)
    }

    /// The error reply a request gets when the child died before answering it.
    pub fn death_reply(&self, request: &crate::pending::Pending, why: &str) -> RawMessage {
        let reply_type = request
            .msg_type
            .strip_suffix("_request")
            .map(|base| format!("{base}_reply"))
            .unwrap_or_else(|| format!("{}_reply", request.msg_type));
        let content = json!({
            "status": "error",
            "ename": "KernelDied",
            "evalue": why,
            "traceback": [format!("KernelDied: {why}")],
            "execution_count": null,
            "user_expressions": {},
            "payload": [],
        });
        self.message(
            &reply_type,
            Some(&request.header),
            &content,
            request.identities.clone(),
        )
    }

    /// An iopub `error` output, shown in the cell of the request `parent`.
    pub fn error_output(&self, parent: &Bytes, ename: &str, evalue: &str) -> RawMessage {
        let content = jupyter_protocol::ErrorOutput {
            ename: ename.into(),
            evalue: evalue.into(),
            traceback: vec![format!("{ename}: {evalue}")],
        };
        self.message("error", Some(parent), &content, vec![topic("error")])
    }

    /// An iopub `display_data` with the mime bundle `data` and its `metadata`, in the cell of
    /// the request `parent`.
    pub fn display_data(
        &self,
        parent: &Bytes,
        data: serde_json::Value,
        metadata: serde_json::Value,
    ) -> RawMessage {
        let content = json!({"data": data, "metadata": metadata, "transient": {}});
        self.message(
            "display_data",
            Some(parent),
            &content,
            vec![topic("display_data")],
        )
    }

    /// An iopub `stream` message (stdout or stderr) in the cell of the request `parent`.
    pub fn stream(&self, parent: &Bytes, name: &str, text: &str) -> RawMessage {
        let content = match name {
            "stderr" => jupyter_protocol::StreamContent::stderr(text),
            _ => jupyter_protocol::StreamContent::stdout(text),
        };
        self.message("stream", Some(parent), &content, vec![topic("stream")])
    }

    /// An iopub `status` message for the request `parent`.
    pub fn status(&self, parent: &Bytes, state: jupyter_protocol::Status) -> RawMessage {
        self.message("status", Some(parent), &state, vec![topic("status")])
    }
}

/// The iopub topic frame for messages the proxy publishes (ipykernel uses `kernel.<id>.<type>`).
fn topic(msg_type: &str) -> Bytes {
    Bytes::from(format!("kernel.prov.{msg_type}"))
}
