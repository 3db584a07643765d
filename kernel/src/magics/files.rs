//! `%files [T]`: every file this kernel's trial (or trial T) read or wrote, file by file, with
//! who opened it, size, content hash and whether the content changed between accesses: the
//! answer of `provctl files [--trial T]`, from the same renderer.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%files` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "files",
    usage: "[T]",
    help: "the files this trial (or trial T) read and wrote: who, size, hash, changes",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%files [T]`.
#[derive(Args, Debug)]
struct FilesArgs {
    /// The trial: id, name or UUID (default: this kernel's trial).
    #[arg(value_name = "T")]
    trial: Option<String>,
}

/// The trial asked about.
enum Trial {
    /// As typed: an id, name or UUID.
    Named(String),
    /// This kernel's.
    Current(i64),
}

fn run(context: &MagicContext, asked: FilesArgs) -> MagicResult {
    let trial = match asked.trial {
        Some(typed) => Trial::Named(typed),
        None => Trial::Current(
            context
                .writer
                .trial()
                .ok_or("the store is not available, so no files were recorded")?
                .id,
        ),
    };
    let answer = context
        .writer
        .query(move |store| {
            let id = match &trial {
                Trial::Named(typed) => store.resolve_trial(typed)?.id,
                Trial::Current(id) => *id,
            };
            store.trial_files(id)
        })
        .map_err(store_error)?;
    if let Some(why) = provrender::files_not_recorded(&answer) {
        return Err(why);
    }
    Ok(provrender::render_files(&answer))
}

#[cfg(test)]
mod tests {
    use crate::magics::parse;

    fn run(context: &super::MagicContext, line: &str) -> super::MagicResult {
        let call = parse::split_cell(line, crate::magics::is_prov_magic)
            .unwrap()
            .calls
            .remove(0);
        crate::magics::run(context, &call)
    }

    /// `In[1]` writing `out.csv`, as the probe notes it.
    fn writing_cell() -> provstore::ExecutionRecord {
        let at = chrono::Utc::now();
        let note = serde_json::json!({"bound": [], "deleted": [], "files": [{
            "path": "out.csv", "resolved": "/w/out.csv", "access": "write", "line": 1,
            "size": 12, "mtime": 1.0, "sha256": "ab".repeat(32), "sampled": false}]});
        provstore::ExecutionRecord {
            code_replaced: false,
            msg_id: "m1".into(),
            execution_count: Some(1),
            cell_id: None,
            code: "open('out.csv', 'w').write('hello world\\n')".into(),
            started_at: at,
            ended_at: at,
            status: provstore::ExecStatus::Ok,
            error: None,
            outputs: vec![],
            dataflow: Some(provstore::DataflowRecord {
                analysis: String::new(),
                runtime: Some(note.to_string()),
                failed_line: None,
            }),
        }
    }

    #[test]
    fn files_answers_for_this_trial_or_the_one_named() {
        let (_dir, context) = crate::magics::tests::context();
        let empty = run(&context, "%files").unwrap();
        assert!(empty.text.contains("none recorded"), "{}", empty.text);
        context.writer.record(writing_cell());
        let answer = run(&context, "%files").unwrap();
        assert!(
            answer.text.contains("out.csv → /w/out.csv"),
            "{}",
            answer.text
        );
        assert!(answer.text.contains("In[1]"), "{}", answer.text);
        assert_eq!(answer.json[0]["access"], "write");
        assert_eq!(answer.json[0]["execution_count"], 1);
        let bundle = answer.mime_bundle();
        let keys: Vec<&String> = bundle.keys().collect();
        assert_eq!(keys, ["text/html", "text/plain"]);
        assert_eq!(run(&context, "%files 1").unwrap().json, answer.json);
        let unknown = run(&context, "%files nope").unwrap_err();
        assert!(unknown.contains("nope"), "{unknown}");
        let two = run(&context, "%files 1 2").unwrap_err();
        assert!(two.contains("usage: %files [T]"), "{two}");
    }
}
