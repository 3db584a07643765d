//! What an export takes and gives back, shared by `lib.rs` and every format's module (its own
//! file, so no module imports the crate root that imports it).

use std::fmt;
use std::path::PathBuf;

use provstore::StoreError;

/// Choices beyond the format.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// RO-Crate: copy the input files themselves into the crate, not only their hashes.
    pub include_data: bool,
}

/// Why an export failed.
#[derive(Debug)]
pub enum ExportError {
    /// The store could not answer (no such trial, damaged store, …).
    Store(StoreError),
    /// Writing the export failed.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The request cannot be met as given (e.g. an RO-Crate with no output path).
    Invalid(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Store(e) => write!(f, "{e}"),
            ExportError::Io { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
            ExportError::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> ExportError {
        ExportError::Store(e)
    }
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file or directory written.
    pub path: PathBuf,
    /// How many files it holds (1 for a single document).
    pub files: usize,
    /// Bytes written in all.
    pub bytes: u64,
    /// What the person exporting should know about it (an RO-Crate's input file that is gone
    /// or changed, listed by its recorded hash only), one sentence each.
    pub notes: Vec<String>,
}
