//! `%files [T]`: every file this kernel's trial (or trial T) read or wrote, file by file, with
//! who opened it, size, content hash and whether the content changed between accesses: the
//! answer of `provctl files [--trial T]`, from the same renderer.

use super::args::{self, TrialArg};
use super::spec::{trial_query, MagicContext, MagicResult, MagicSpec};

/// The `%files` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "files",
    usage: "[T]",
    help: "the files this trial (or trial T) read and wrote: who, size, hash, changes",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: TrialArg) -> MagicResult {
    let unavailable = "the store is not available, so no files were recorded";
    let answer = trial_query(context, asked.trial, unavailable, |store, trial| {
        store.trial_files(trial)
    })?;
    if let Some(why) = provrender::files_not_recorded(&answer) {
        return Err(why);
    }
    Ok(provrender::render_files(&answer))
}

#[cfg(test)]
mod tests {
    use crate::magics::tests::run_line as run;

    /// `In[1]` writing `out.csv`, as the probe notes it.
    fn writing_cell() -> provstore::ExecutionRecord {
        let note = serde_json::json!({"bound": [], "deleted": [], "files": [{
            "path": "out.csv", "resolved": "/w/out.csv", "access": "write", "line": 1,
            "size": 12, "mtime": 1.0, "sha256": "ab".repeat(32), "sampled": false}]});
        let mut cell =
            crate::magics::tests::record(1, "open('out.csv', 'w').write('hello world\\n')");
        cell.cell_id = None;
        if let Some(dataflow) = cell.dataflow.as_mut() {
            dataflow.runtime = Some(note.to_string());
        }
        cell
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
