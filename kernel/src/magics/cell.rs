//! The three moments of a cell with magics, as the relay meets them: its request (take the magic
//! lines out), its reply (run the magics, turn the reply into an error when one failed), its
//! iopub traffic (show the typed code in `execute_input`; its idle waits for the magics'
//! outputs). What each moment changes in a message is a pure function over `RawMessage`,
//! tested below without sockets; [`CellMagics`] holds the state between the moments.
//!
//! Uses: `magics/mod.rs` (the spec table, running one call), `jobs.rs`, `parse.rs`, and below
//! them `edit.rs`, `messages.rs`, `wire.rs`. Nothing of the relay's channels.

use super::jobs::{MagicJobs, ReadyToRun};
use super::parse::{split_cell, MagicCall};
use super::{MagicContext, MagicResult};
use crate::edit::{ContentEdit, Opened};
use crate::messages::Author;
use crate::wire::RawMessage;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::oneshot;

/// The `ename` of a failed magic, as shown in the cell.
const MAGIC_ERROR: &str = "ProvMagicError";

/// A cell's prov magics, found in its request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MagicCell {
    /// The cell as typed, shown in `execute_input` and recorded.
    pub(crate) typed: String,
    pub(crate) calls: Vec<MagicCall>,
}

/// At the request: takes prov magic lines out of an `execute_request`'s content (the caller
/// re-signs). `None` when it has none.
pub(crate) fn take_out(content: &mut Map<String, Value>) -> Option<MagicCell> {
    let typed = content.get("code").and_then(Value::as_str)?;
    if !typed.contains('%') {
        return None;
    }
    let split = split_cell(typed, super::is_prov_magic)?;
    let typed = typed.to_owned();
    content.insert("code".into(), Value::String(split.code));
    Some(MagicCell {
        typed,
        calls: split.calls,
    })
}

/// A cell's reply once its magics ran.
pub(crate) struct Answered {
    pub(crate) reply: RawMessage,
    /// The magics' outputs, to publish before the cell's idle.
    pub(crate) outputs: Vec<RawMessage>,
    pub(crate) magic_failed: bool,
}

/// At the reply, once the magics ran (`results`, in order; empty when the cell's code failed):
/// their outputs for the cell (an error output ends them: like IPython, nothing after a
/// failing line is shown), and the reply, turned into an error when a magic failed.
pub(crate) fn assemble(
    author: &Author,
    reply: RawMessage,
    parent: &Bytes,
    results: Vec<(String, MagicResult)>,
) -> Answered {
    let mut outputs = Vec::new();
    let mut failure = None;
    for (line, result) in results {
        match result {
            Ok(rendered) => outputs.extend(display(author, parent, &line, rendered)),
            Err(message) => {
                let evalue = format!("{line}: {message}");
                outputs.push(author.error_output(parent, MAGIC_ERROR, &evalue));
                failure = Some(evalue);
                break;
            }
        }
    }
    let Some(evalue) = failure else {
        return Answered {
            reply,
            outputs,
            magic_failed: false,
        };
    };
    let reply = match ContentEdit::open(reply) {
        Opened::Edit(mut edit) => {
            let content = edit.content();
            content.insert("status".into(), json!("error"));
            content.insert("ename".into(), json!(MAGIC_ERROR));
            content.insert("evalue".into(), json!(evalue));
            content.insert(
                "traceback".into(),
                json!([format!("{MAGIC_ERROR}: {evalue}")]),
            );
            edit.seal(&author.signer)
        }
        Opened::AsItCame(reply) => reply,
    };
    Answered {
        reply,
        outputs,
        magic_failed: true,
    }
}

/// On iopub: an `execute_input` of a cell with magics shows the cell as typed.
pub(crate) fn show_typed(author: &Author, raw: RawMessage, typed: String) -> RawMessage {
    match ContentEdit::open(raw) {
        Opened::Edit(mut edit) => {
            edit.content().insert("code".into(), Value::String(typed));
            edit.seal(&author.signer)
        }
        Opened::AsItCame(raw) => raw,
    }
}

/// Whether a reply's content says the cell's code succeeded (only then do its magics run).
pub(crate) fn code_succeeded(reply: &RawMessage) -> bool {
    serde_json::from_slice::<Value>(&reply.content).is_ok_and(|c| c["status"] == "ok")
}

/// A magic's rendered answer as `display_data` in the cell: the answer (`text/plain` and
/// `text/html`), then its picture, if any, as an output of its own (`image/svg+xml`,
/// `image/png`), so an untrusted notebook still shows it. The metadata names the magic line
/// (`{"prov": {"magic": "%trials"}}`), so a tool comparing a notebook's outputs with a plain
/// Python kernel's, or a trial diff, can tell prov's own outputs from the code's; the answer's
/// machine-readable JSON is `prov.json` there, the picture is marked `prov.picture`.
fn display(
    author: &Author,
    parent: &Bytes,
    line: &str,
    rendered: provrender::Rendered,
) -> Vec<RawMessage> {
    let mut outputs = vec![author.display_data(
        parent,
        Value::Object(rendered.mime_bundle()),
        json!({"prov": {"magic": line, "json": rendered.json}}),
    )];
    if let Some(picture) = rendered.picture() {
        let mut metadata = picture.metadata;
        metadata.insert("prov".into(), json!({"magic": line, "picture": true}));
        outputs.push(author.display_data(
            parent,
            Value::Object(picture.data),
            Value::Object(metadata),
        ));
    }
    outputs
}

/// The magics' state between a cell's request, reply and idle: what they may use (the store,
/// the tags) and the cells in flight.
pub(crate) struct CellMagics {
    pub(crate) context: Arc<MagicContext>,
    pub(crate) jobs: MagicJobs,
    author: Author,
}

impl CellMagics {
    pub(crate) fn new(context: Arc<MagicContext>, author: Author) -> CellMagics {
        CellMagics {
            context,
            jobs: MagicJobs::default(),
            author,
        }
    }

    /// At the request of a cell with magics: applies its tagging magics to the tags the probe
    /// is told about at once (see [`MagicContext::apply_tag_calls`]) and notes the job.
    pub(crate) fn at_request(&self, msg_id: &str, header: &Bytes, cell: &MagicCell) {
        self.context.apply_tag_calls(&cell.calls);
        self.jobs.register(
            msg_id.to_string(),
            cell.calls.clone(),
            cell.typed.clone(),
            header.clone(),
        );
    }

    /// At the reply: runs the cell's magics on a blocking thread (if its code succeeded) and
    /// hands their outputs to the iopub relay; returns the reply (an error when a magic
    /// failed) and those outputs (for the recorder).
    pub(crate) async fn answer(&self, reply: RawMessage, ready: ReadyToRun) -> Answered {
        let code_ok = code_succeeded(&reply);
        let results = if code_ok {
            let context = Arc::clone(&self.context);
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
        let answered = assemble(&self.author, reply, &ready.header, results);
        let _ = ready.outputs.send(answered.outputs.clone());

        // The tags were applied at the request; if the tagging magics did not all run, the
        // store says which tags hold.
        let all_ran = code_ok && !answered.magic_failed;
        if !all_ran && ready.calls.iter().any(|c| super::changes_tags(c).is_some()) {
            let context = Arc::clone(&self.context);
            let _ = tokio::task::spawn_blocking(move || context.resync_tags()).await;
        }
        answered
    }

    /// On iopub: the `execute_input` of a cell with magics shows it as typed.
    pub(crate) fn on_execute_input(&self, raw: RawMessage, parent: &str) -> RawMessage {
        match self.jobs.typed_code(parent) {
            Some(typed) => show_typed(&self.author, raw, typed),
            None => raw,
        }
    }

    /// At a cell's idle: the receiver of its magics' outputs, when it has magics.
    pub(crate) fn outputs_at_idle(
        &self,
        parent: &str,
    ) -> Option<oneshot::Receiver<Vec<RawMessage>>> {
        if self.jobs.is_empty() {
            return None;
        }
        self.jobs.finish(parent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::tests::signed;
    use crate::wire::Signer;

    const REQUEST: &str = r#"{"msg_id":"m1","msg_type":"execute_request"}"#;

    fn author() -> Author {
        Author::new(Signer::new(b"secret"))
    }

    fn reply(author: &Author, content: &str) -> RawMessage {
        signed(&author.signer, &["client"], ["{}", REQUEST, "{}", content])
    }

    fn rendered(text: &str) -> provrender::Rendered {
        provrender::Rendered {
            text: text.into(),
            html: format!("<p>{text}</p>"),
            json: json!({"answer": text}),
            svg: None,
        }
    }

    fn json_of(raw: &RawMessage) -> (String, Value) {
        let content = serde_json::from_slice(&raw.content).unwrap();
        (raw.header().msg_type, content)
    }

    /// A reply saying ok, and what `assemble` makes of it with these magics' results.
    fn assembled(author: &Author, results: Vec<(&str, MagicResult)>) -> (RawMessage, Answered) {
        let ok = reply(author, r#"{"status":"ok","execution_count":3}"#);
        let parent = Bytes::from_static(REQUEST.as_bytes());
        let results = results.into_iter().map(|(l, r)| (l.to_string(), r));
        let answered = assemble(author, ok.clone(), &parent, results.collect());
        (ok, answered)
    }

    #[test]
    fn answers_are_display_data_in_the_cell_marked_as_the_magics() {
        let author = author();
        let (ok, answered) = assembled(&author, vec![("%trials", Ok(rendered("two trials")))]);
        assert!(!answered.magic_failed);
        assert_eq!(
            answered.reply.content, ok.content,
            "a reply that stays ok is untouched"
        );
        assert_eq!(answered.reply.signature, ok.signature);
        let [output] = &answered.outputs[..] else {
            panic!("one output: {}", answered.outputs.len())
        };
        assert_eq!(
            output.parent_header,
            Bytes::from_static(REQUEST.as_bytes()),
            "the request's header, byte for byte"
        );
        let (msg_type, content) = json_of(output);
        assert_eq!(msg_type, "display_data");
        assert_eq!(content["data"]["text/plain"], "two trials");
        assert_eq!(content["metadata"]["prov"]["magic"], "%trials");
        assert_eq!(
            content["metadata"]["prov"]["json"],
            json!({"answer": "two trials"})
        );
        assert!(author.signer.verify(output).is_ok());
    }

    #[test]
    fn a_failing_magic_ends_the_answers_and_turns_the_reply_into_an_error() {
        let author = author();
        let (ok, answered) = assembled(
            &author,
            vec![
                ("%trials", Ok(rendered("first"))),
                ("%slice", Err("needs a variable".into())),
                ("%tags", Ok(rendered("never shown"))),
            ],
        );
        assert!(answered.magic_failed);
        let types: Vec<String> = answered.outputs.iter().map(|o| json_of(o).0).collect();
        assert_eq!(types, ["display_data", "error"]);
        let (_, error) = json_of(&answered.outputs[1]);
        assert_eq!(error["ename"], MAGIC_ERROR);
        assert_eq!(error["evalue"], "%slice: needs a variable");
        let (_, content) = json_of(&answered.reply);
        assert_eq!(content["status"], "error");
        assert_eq!(content["ename"], MAGIC_ERROR);
        assert_eq!(
            content["execution_count"], 3,
            "the rest of the reply is kept"
        );
        assert_eq!(
            content["traceback"],
            json!(["ProvMagicError: %slice: needs a variable"])
        );
        assert!(author.signer.verify(&answered.reply).is_ok(), "re-signed");
        assert_eq!(answered.reply.identities, ok.identities);
        assert_eq!(answered.reply.parent_header, ok.parent_header);
    }

    #[test]
    fn magic_lines_come_out_and_execute_input_shows_the_cell_as_typed() {
        let mut content = serde_json::Map::new();
        content.insert("code".into(), json!("%tag_var acc\nacc = 1"));
        let cell = take_out(&mut content).unwrap();
        assert_eq!(cell.typed, "%tag_var acc\nacc = 1");
        assert_eq!(content["code"], "# %tag_var acc\nacc = 1");
        let mut plain = serde_json::Map::new();
        plain.insert("code".into(), json!("x = '%d' % 1"));
        assert!(take_out(&mut plain).is_none());

        let author = author();
        let input = signed(
            &author.signer,
            &["kernel.execute_input"],
            [
                r#"{"msg_type":"execute_input"}"#,
                REQUEST,
                "{}",
                r##"{"code":"# %tag_var acc\nacc = 1","execution_count":4}"##,
            ],
        );
        let shown = show_typed(&author, input, cell.typed);
        let (_, content) = json_of(&shown);
        assert_eq!(content["code"], "%tag_var acc\nacc = 1");
        assert_eq!(content["execution_count"], 4);
        assert!(author.signer.verify(&shown).is_ok());
    }

    #[test]
    fn only_a_reply_saying_ok_runs_the_magics() {
        let author = author();
        assert!(code_succeeded(&reply(&author, r#"{"status":"ok"}"#)));
        assert!(!code_succeeded(&reply(&author, r#"{"status":"error"}"#)));
        assert!(!code_succeeded(&reply(&author, "not json")));
    }
}
