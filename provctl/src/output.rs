//! How provctl answers: text, JSON, files it writes, and why it stops without an answer
//! (`Failure`, turned into an exit code by `main.rs`). Its own file so the subcommands'
//! files (`diff.rs`, `plot.rs`, `values.rs`, `files.rs`) use it, not `main.rs`, which uses them.

use std::io::Write;
use std::path::Path;

use provstore::StoreError;

/// Why provctl stops without an answer.
pub(crate) enum Failure {
    /// Exit `code` after printing `message` as the error.
    Exit { code: u8, message: String },
    /// Writing the answer failed.
    Output(std::io::Error),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let code = match e {
            StoreError::Missing { .. }
            | StoreError::TrialNotFound { .. }
            | StoreError::UnknownVariable { .. }
            | StoreError::NoValues { .. } => 2,
            _ => 1,
        };
        Failure::Exit {
            code,
            message: e.to_string(),
        }
    }
}

impl From<provteam::TeamError> for Failure {
    fn from(e: provteam::TeamError) -> Failure {
        Failure::Exit {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Output(e)
    }
}

/// A picture as a PNG file's bytes, for `-o FILE.png`.
pub(crate) fn png(svg: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    provrender::svg_to_png(svg).ok_or_else(|| Failure::Exit {
        code: 1,
        message: format!(
            "cannot draw {}: the picture is too large for a PNG",
            path.display()
        ),
    })
}

/// The lowercase extension of `path`.
pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

pub(crate) fn bad_extension(path: &Path, wanted: &str) -> Failure {
    Failure::Exit {
        code: 2,
        message: format!(
            "cannot tell what to write to {}: name it {wanted}",
            path.display()
        ),
    }
}

/// Writes `contents` (`what` it is) to `path`; without `--json` says so,
/// which is then the whole answer (true), with it the JSON follows.
pub(crate) fn save(
    out: &mut impl Write,
    json: Option<Json>,
    path: &Path,
    contents: &[u8],
    what: &str,
) -> Result<bool, Failure> {
    std::fs::write(path, contents).map_err(|e| Failure::Exit {
        code: 1,
        message: format!("cannot write {}: {e}", path.display()),
    })?;
    if json.is_some() {
        return Ok(false);
    }
    text(out, &format!("Wrote {what} to {}\n", path.display()))?;
    Ok(true)
}

/// Prints an answer: `data` with `--json`, else the text `render` makes (only then).
pub(crate) fn answer<T: serde::Serialize>(
    out: &mut impl Write,
    json: Option<Json>,
    data: &T,
    render: impl FnOnce() -> String,
) -> Result<(), Failure> {
    match json {
        Some(j) => j.write(out, data),
        None => text(out, &render()),
    }
}

pub(crate) fn text(out: &mut impl Write, text: &str) -> Result<(), Failure> {
    Ok(out.write_all(text.as_bytes())?)
}

/// How `--json` prints: serialized straight from the query results (a
/// trial of 10,000 executions need not become a `serde_json::Value`
/// first), pretty on a terminal, one compact line for programs.
#[derive(Clone, Copy)]
pub(crate) struct Json {
    pub(crate) pretty: bool,
}

impl Json {
    pub(crate) fn write<T: serde::Serialize>(
        self,
        out: &mut impl Write,
        value: &T,
    ) -> Result<(), Failure> {
        let written = if self.pretty {
            serde_json::to_writer_pretty(&mut *out, value)
        } else {
            serde_json::to_writer(&mut *out, value)
        };
        written.map_err(|e| Failure::Output(e.into()))?;
        Ok(out.write_all(b"\n")?)
    }
}
