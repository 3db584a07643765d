//! What the proxy changes in `execute_request`s and their replies, parsed once each way:
//! prov's magic lines come out of the code, the runtime probe's expression goes in, and the
//! probe's answer comes out of the reply before any client sees it. Pure functions over
//! `RawMessage`, re-signed through `edit.rs`; tested below without sockets.

use crate::edit::{ContentEdit, Opened};
use crate::magics::cell::{self, MagicCell};
use crate::probe;
use crate::wire::{contains, RawMessage, Signer};
use serde_json::{Map, Value};

/// Rewrites a frontend's `execute_request` and re-signs it. `expression` is called once the
/// magic lines are out (with the cell's magics, if any) and gives the probe's expression: the
/// caller applies the cell's tagging magics first, so the expression already carries them.
/// Returns the cell's magics. Silent requests (inspectors, widgets) pass unchanged.
pub(crate) fn rewrite_request(
    raw: RawMessage,
    signer: &Signer,
    expression: impl FnOnce(Option<&MagicCell>) -> String,
) -> (RawMessage, Option<MagicCell>) {
    let mut edit = match ContentEdit::open(raw) {
        Opened::Edit(edit) => edit,
        Opened::AsItCame(raw) => return (raw, None),
    };
    if edit.content().get("silent") == Some(&Value::Bool(true)) {
        return (edit.abandon(), None);
    }
    let magic = cell::take_out(edit.content());
    probe::add_expression(edit.content(), expression(magic.as_ref()));
    (edit.seal(signer), magic)
}

/// Takes the probe's notes out of an `execute_reply` to the request `request` (its msg_id),
/// re-signing it when it had them.
pub(crate) fn rewrite_reply(
    raw: RawMessage,
    signer: &Signer,
    request: &str,
) -> (RawMessage, Option<Map<String, Value>>) {
    if !contains(&raw.content, probe::EXPRESSION_KEY.as_bytes()) {
        return (raw, None);
    }
    match ContentEdit::open(raw) {
        Opened::Edit(mut edit) => {
            let notes = probe::take_notes(edit.content(), request);
            (edit.seal(signer), notes)
        }
        Opened::AsItCame(raw) => (raw, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::tests::signed;
    use serde_json::json;

    fn request(signer: &Signer, content: &str) -> RawMessage {
        let header = r#"{"msg_id":"m1","msg_type":"execute_request"}"#;
        signed(
            signer,
            &["client"],
            [header, "{}", r#"{"cellId":"c"}"#, content],
        )
    }

    fn content(raw: &RawMessage) -> Value {
        serde_json::from_slice(&raw.content).unwrap()
    }

    #[test]
    fn a_request_loses_its_magic_lines_and_gains_the_probes_expression() {
        let signer = Signer::new(b"secret");
        let code = "x = 1\n%trials\ny = 2";
        let raw = request(&signer, &json!({"code": code, "silent": false}).to_string());
        let before = raw.clone();
        let (after, magic) = rewrite_request(raw, &signer, |magic| {
            assert_eq!(
                magic.map(|m| m.calls.len()),
                Some(1),
                "told before the expression"
            );
            "EXPR".into()
        });
        let magic = magic.unwrap();
        assert_eq!(magic.typed, code);
        assert_eq!(magic.calls[0].line, "%trials");
        let sent = content(&after);
        assert_eq!(sent["code"], "x = 1\n# %trials\ny = 2");
        assert_eq!(sent["user_expressions"][probe::EXPRESSION_KEY], "EXPR");
        assert!(signer.verify(&after).is_ok(), "re-signed");
        assert_eq!(
            (&after.header, &after.metadata, &after.identities),
            (&before.header, &before.metadata, &before.identities),
            "the other frames are the bytes received"
        );
    }

    #[test]
    fn a_plain_cell_has_no_magics_and_a_silent_one_is_not_touched() {
        let signer = Signer::new(b"secret");
        let raw = request(&signer, r#"{"code":"print('100%')"}"#);
        let (after, magic) = rewrite_request(raw, &signer, |magic| {
            assert!(magic.is_none());
            "EXPR".into()
        });
        assert!(magic.is_none());
        assert_eq!(
            content(&after)["user_expressions"][probe::EXPRESSION_KEY],
            "EXPR"
        );

        let silent = request(&signer, r#"{"code":"%trials", "silent": true}"#);
        let (after, magic) = rewrite_request(silent.clone(), &signer, |_| unreachable!());
        assert!(magic.is_none());
        assert_eq!(after.content, silent.content);
        assert_eq!(after.signature, silent.signature);

        let broken = request(&signer, "{not json");
        let (after, _) = rewrite_request(broken.clone(), &signer, |_| unreachable!());
        assert_eq!(after.content, broken.content);
    }

    #[test]
    fn a_reply_loses_the_probes_answer_and_only_then_is_re_signed() {
        let signer = Signer::new(b"secret");
        let parent = r#"{"msg_id":"m1","msg_type":"execute_request"}"#;
        let with_notes = json!({"status": "ok", "user_expressions": {
            probe::EXPRESSION_KEY: {"status": "ok", "data": {"application/json": {"m1": {}}}},
            "mine": {"status": "ok"},
        }});
        let raw = signed(
            &signer,
            &["client"],
            ["{}", parent, "{}", &with_notes.to_string()],
        );
        let (after, notes) = rewrite_reply(raw, &signer, "m1");
        assert!(notes.unwrap().contains_key("m1"));
        assert_eq!(
            content(&after)["user_expressions"],
            json!({"mine": {"status": "ok"}})
        );
        assert!(signer.verify(&after).is_ok());

        // A reply the probe did not answer (a failed cell) passes as the bytes received.
        let plain = signed(
            &signer,
            &["client"],
            ["{}", parent, "{}", r#"{"status": "error"}"#],
        );
        let (after, notes) = rewrite_reply(plain.clone(), &signer, "m1");
        assert!(notes.is_none());
        assert_eq!(
            after.clone().into_zmq().into_vec(),
            plain.into_zmq().into_vec()
        );
    }
}
