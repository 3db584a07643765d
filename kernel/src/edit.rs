//! The one way the relay changes a message it passes on: open its content as a JSON object,
//! change it, and seal it, which writes the content frame anew and re-signs the message
//! (HMAC-SHA256 over header, parent_header, metadata, content). Every other frame (identities,
//! header, parent_header, metadata, buffers) stays the exact bytes received; a message nobody
//! opens is never touched at all.

use crate::wire::{RawMessage, Signer};
use bytes::Bytes;
use serde_json::{Map, Value};

/// A message opened for an edit, or given back as it came.
pub(crate) enum Opened {
    /// Its content is a JSON object, open for changes.
    Edit(ContentEdit),
    /// Its content is not a JSON object: the relay passes it as it came.
    AsItCame(RawMessage),
}

/// A relayed message whose content is being changed.
pub(crate) struct ContentEdit {
    raw: RawMessage,
    content: Map<String, Value>,
}

impl ContentEdit {
    /// Opens a message's content; gives the message back unchanged when the content is not a
    /// JSON object.
    pub(crate) fn open(raw: RawMessage) -> Opened {
        match serde_json::from_slice::<Map<String, Value>>(&raw.content) {
            Ok(content) => Opened::Edit(ContentEdit { raw, content }),
            Err(_) => Opened::AsItCame(raw),
        }
    }

    /// The content, to read or change.
    pub(crate) fn content(&mut self) -> &mut Map<String, Value> {
        &mut self.content
    }

    /// Writes the changed content and re-signs the message.
    pub(crate) fn seal(self, signer: &Signer) -> RawMessage {
        let ContentEdit { mut raw, content } = self;
        raw.content = Bytes::from(serde_json::to_vec(&content).expect("JSON serialises"));
        signer.resign(&mut raw);
        raw
    }

    /// Leaves the message as it came (nothing needed changing after all).
    pub(crate) fn abandon(self) -> RawMessage {
        self.raw
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::DELIMITER;

    /// A signed message with these four dict frames, as a frontend or the child would send it.
    pub(crate) fn signed(signer: &Signer, identities: &[&str], dicts: [&str; 4]) -> RawMessage {
        let mut frames: Vec<Bytes> = identities
            .iter()
            .map(|i| Bytes::from(i.to_string()))
            .collect();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(signer.sign(dicts.map(str::as_bytes)));
        frames.extend(dicts.map(|d| Bytes::from(d.to_string())));
        frames.push(Bytes::from_static(b"\x00binary buffer"));
        RawMessage::parse_frames(frames).unwrap()
    }

    #[test]
    fn an_edit_changes_only_the_content_and_signature() {
        let signer = Signer::new(b"secret");
        // Odd spacing: these frames must survive byte for byte, not re-serialised.
        let header = r#"{"msg_id": "m1",  "msg_type":"execute_request"}"#;
        let raw = signed(
            &signer,
            &["client"],
            [header, "{ }", r#"{"x": 1}"#, r#"{"code":"1"}"#],
        );
        let before = raw.clone();
        let Opened::Edit(mut edit) = ContentEdit::open(raw) else {
            panic!("an object")
        };
        edit.content().insert("code".into(), Value::from("2"));
        let after = edit.seal(&signer);
        assert_eq!(after.identities, before.identities);
        assert_eq!(after.header, before.header);
        assert_eq!(after.parent_header, before.parent_header);
        assert_eq!(after.metadata, before.metadata);
        assert_eq!(after.buffers, before.buffers);
        assert_eq!(after.content, Bytes::from_static(br#"{"code":"2"}"#));
        assert_ne!(after.signature, before.signature);
        assert!(signer.verify(&after).is_ok());
    }

    #[test]
    fn a_content_that_is_no_object_is_given_back_as_it_came() {
        let signer = Signer::new(b"secret");
        let raw = signed(&signer, &[], ["{}", "{}", "{}", "[1, 2]"]);
        let Opened::AsItCame(back) = ContentEdit::open(raw.clone()) else {
            panic!("not an object")
        };
        assert_eq!(back.content, raw.content);
        assert_eq!(back.signature, raw.signature);
    }
}
