//! Hands a recorded trial over to other people and tools: W3C PROV in its three
//! serialisations (`prov/`), a Workflow Run RO-Crate (`ro_crate/`), and the trial's history as
//! a notebook or a script (`notebook.rs`). One module per format; this file only picks one.
//! `provctl export` and `%prov_export` call [`export`]; what they print about it is theirs.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use provstore::Store;

mod notebook;
mod prov;
mod ro_crate;
mod types;

pub use types::{ExportError, Options, Written};

/// What a trial can be exported as (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// W3C PROV-JSON.
    ProvJson,
    /// W3C PROV-N.
    ProvN,
    /// W3C PROV-O in Turtle.
    ProvO,
    /// A Workflow Run RO-Crate (Provenance Run Crate profile): a directory, or a zip.
    RoCrate,
    /// The trial's history as a notebook (nbformat 4), in execution order, with outputs.
    Ipynb,
    /// The trial's history as a Python script, in execution order.
    Py,
}

impl Format {
    /// Every format, in the order help lists them.
    pub const ALL: [Format; 6] = [
        Format::ProvJson,
        Format::ProvN,
        Format::ProvO,
        Format::RoCrate,
        Format::Ipynb,
        Format::Py,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::ProvJson => "prov-json",
            Format::ProvN => "prov-n",
            Format::ProvO => "prov-o",
            Format::RoCrate => "ro-crate",
            Format::Ipynb => "ipynb",
            Format::Py => "py",
        }
    }

    /// Whether the export is one text document that can go to stdout (RO-Crate cannot).
    pub fn is_text(self) -> bool {
        self != Format::RoCrate
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format `{s}`: use one of {}", names.join(", "))
            })
    }
}

/// A text export of `trial` (every format but RO-Crate): the document's contents.
pub fn export_text(store: &Store, trial: i64, format: Format) -> Result<String, ExportError> {
    match format {
        Format::ProvJson => prov::prov_json(store, trial),
        Format::ProvN => prov::prov_n(store, trial),
        Format::ProvO => prov::prov_o(store, trial),
        Format::Ipynb => notebook::ipynb(store, trial),
        Format::Py => notebook::script(store, trial),
        Format::RoCrate => Err(ExportError::Invalid(
            "an RO-Crate is a folder or a zip, not text: give -o DIR or -o FILE.zip".into(),
        )),
    }
}

/// Exports `trial` as `format` to `path` (an RO-Crate: a directory, or a zip when `path` ends
/// in `.zip`).
pub fn export(
    store: &Store,
    trial: i64,
    format: Format,
    path: &Path,
    options: &Options,
) -> Result<Written, ExportError> {
    if format == Format::RoCrate {
        return ro_crate::write(store, trial, path, options);
    }
    let contents = export_text(store, trial, format)?;
    std::fs::write(path, contents.as_bytes()).map_err(|error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(Written {
        path: path.to_path_buf(),
        files: 1,
        bytes: contents.len() as u64,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_its_name() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
        }
        let err = "prov-xml".parse::<Format>().unwrap_err();
        assert!(
            err.contains("prov-json") && err.contains("ro-crate"),
            "{err}"
        );
    }
}
