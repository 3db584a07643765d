//! `provctl export T --format F [-o PATH] [--include-data]`: hands a trial over as W3C PROV
//! (`prov-json`, `prov-n`, `prov-o` in Turtle), a Workflow Run RO-Crate (`ro-crate`: a
//! directory, or a zip when PATH ends in `.zip`), or its whole history as a notebook or script
//! (`ipynb`, `py`). The formats are `provexport`'s; this file only says what was written. A text
//! format without `-o` goes to stdout.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use provexport::{ExportError, Format, Options};
use provstore::Store;

use crate::output::{text, Failure, Json};

/// The arguments of `provctl export`.
#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// The trial: id, name or UUID (default: the latest).
    #[arg(value_name = "T")]
    pub(crate) trial: Option<String>,
    /// prov-json, prov-n, prov-o (Turtle), ro-crate, ipynb or py.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) format: Format,
    /// Where to write it (ro-crate: a directory, or FILE.zip); without it a text format is
    /// printed.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// ro-crate: copy the files the trial read into the crate, not only their hashes.
    #[arg(long)]
    pub(crate) include_data: bool,
}

/// Exports `trial` as `args` say.
pub(crate) fn run(
    store: &Store,
    trial: i64,
    args: &ExportArgs,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if args.include_data && args.format != Format::RoCrate {
        return Err(Failure::Exit {
            code: 2,
            message: format!(
                "--include-data copies input files into an RO-Crate: it needs --format ro-crate, \
                 not {}",
                args.format
            ),
        });
    }
    let Some(path) = &args.output else {
        let contents = provexport::export_text(store, trial, args.format).map_err(failure)?;
        return text(out, &contents);
    };
    let options = Options {
        include_data: args.include_data,
    };
    let written = provexport::export(store, trial, args.format, path, &options).map_err(failure)?;
    let rendered = provrender::render_export_written(
        trial,
        args.format.name(),
        &written.path.display().to_string(),
        (written.files, written.bytes),
        &written.notes,
    );
    match json {
        Some(j) => j.write(out, &rendered.json),
        None => text(out, &rendered.text),
    }
}

fn failure(e: ExportError) -> Failure {
    match e {
        ExportError::Store(e) => e.into(),
        ExportError::Invalid(message) => Failure::Exit { code: 2, message },
        other => Failure::Exit {
            code: 1,
            message: other.to_string(),
        },
    }
}
