//! A Workflow Run RO-Crate (Provenance Run Crate profile) of a trial. NOT BUILT YET: the
//! engineer on the RO-Crate fills this module.

use std::path::Path;

use provstore::Store;

use crate::types::{ExportError, Options, Written};

/// Writes the crate of `trial` to `path`: a directory, or a zip when it ends in `.zip`.
pub(crate) fn write(
    _store: &Store,
    _trial: i64,
    _path: &Path,
    _options: &Options,
) -> Result<Written, ExportError> {
    Err(ExportError::Invalid(
        "ro-crate export is not built yet".into(),
    ))
}
