//! `%prov_export [T] --format F [-o PATH] [--include-data]`: hands this kernel's trial (or
//! trial T) over as `provctl export` does (W3C PROV as prov-json, prov-n or prov-o, an
//! RO-Crate, a notebook or a script, all `provexport`'s); says where it wrote, or shows the
//! document when no `-o` is given.

use std::path::PathBuf;

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;
use provexport::{Format, Options};

/// The `%prov_export` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "prov_export",
    usage: "[T] --format F [-o PATH] [--include-data]",
    help: "export this trial (or trial T) as prov-json, prov-n, prov-o, ro-crate, ipynb or py",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%prov_export [T] --format F [-o PATH] [--include-data]`.
#[derive(Args, Debug)]
struct ExportArgs {
    /// The trial: id, name or UUID (default: this kernel's trial).
    #[arg(value_name = "T")]
    trial: Option<String>,
    /// prov-json, prov-n, prov-o (Turtle), ro-crate, ipynb or py.
    #[arg(long, value_name = "F")]
    format: Format,
    /// Where to write it (ro-crate: a directory, or FILE.zip); without it the document is shown.
    #[arg(short = 'o', value_name = "PATH")]
    output: Option<PathBuf>,
    /// ro-crate: copy the files the trial read into the crate, not only their hashes.
    #[arg(long)]
    include_data: bool,
}

/// What the writer thread hands back: the trial exported, and the document or what was written.
enum Done {
    Text(i64, String),
    Written(i64, provexport::Written),
}

fn run(context: &MagicContext, asked: ExportArgs) -> MagicResult {
    let current = context.writer.trial().map(|t| t.id);
    let ExportArgs {
        trial,
        format,
        output,
        include_data,
    } = asked;
    let done = context
        .writer
        .query(move |store| {
            let id = match (&trial, current) {
                (Some(typed), _) => store.resolve_trial(typed)?.id,
                (None, Some(id)) => id,
                (None, None) => return Ok(Err("the store is not available".to_string())),
            };
            Ok(match &output {
                None => provexport::export_text(store, id, format).map(|t| Done::Text(id, t)),
                Some(path) => {
                    provexport::export(store, id, format, path, &Options { include_data })
                        .map(|w| Done::Written(id, w))
                }
            }
            .map_err(|e| e.to_string()))
        })
        .map_err(store_error)??;
    Ok(match done {
        Done::Text(id, text) => provrender::render_export_text(id, format.name(), &text),
        Done::Written(id, w) => provrender::render_export_written(
            id,
            format.name(),
            &w.path.display().to_string(),
            (w.files, w.bytes),
            &w.notes,
        ),
    })
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

    #[test]
    fn shows_the_document_or_says_where_it_wrote() {
        let (dir, context) = crate::magics::tests::context();
        context
            .writer
            .record(crate::magics::tests::record(1, "x = 1"));
        context
            .writer
            .record(crate::magics::tests::record(2, "y = x + 1"));
        let shown = run(&context, "%prov_export --format prov-n").unwrap();
        assert!(shown.text.starts_with("document\n"), "{}", shown.text);
        assert!(
            shown
                .text
                .contains("wasInformedBy(trial:execution-2, trial:execution-1)"),
            "{}",
            shown.text
        );
        let keys: Vec<String> = shown.mime_bundle().keys().cloned().collect();
        assert_eq!(keys, ["text/html", "text/plain"]);
        let path = dir.path().join("t.json");
        let line = format!("%prov_export 1 --format prov-json -o '{}'", path.display());
        let written = run(&context, &line).unwrap();
        assert!(written.text.starts_with("Wrote trial 1 as prov-json to "));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(doc["activity"]["trial:execution-2"].is_object());
        assert_eq!(
            written.json["bytes"],
            std::fs::metadata(&path).unwrap().len()
        );
        let crate_text = run(&context, "%prov_export --format ro-crate").unwrap_err();
        assert!(crate_text.contains("-o DIR"), "{crate_text}");
        let wrong = run(&context, "%prov_export --format prov-xml").unwrap_err();
        assert!(wrong.contains("prov-json"), "{wrong}");
        let missing = run(&context, "%prov_export 9 --format prov-n").unwrap_err();
        assert!(missing.contains('9'), "{missing}");
    }
}
