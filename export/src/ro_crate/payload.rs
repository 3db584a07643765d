//! What a crate is made of before it is written: its files (bytes made here, or a file on disk
//! copied as it is) under their paths in the crate, and what the reader should be told about
//! it. `mod.rs` fills it, `sink.rs` writes it as a folder or a zip.

use std::path::PathBuf;

/// Where a file of the crate comes from.
pub(super) enum Source {
    /// Made by the export (the metadata, the notebook, the code, …).
    Bytes(Vec<u8>),
    /// A file the trial read, copied byte for byte.
    Copy(PathBuf),
}

/// One file of the crate.
pub(super) struct Payload {
    /// Its path in the crate, `/`-separated, relative to the crate's root.
    pub(super) path: String,
    pub(super) source: Source,
}

impl Payload {
    pub(super) fn bytes(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Payload {
        Payload {
            path: path.into(),
            source: Source::Bytes(bytes.into()),
        }
    }
}
