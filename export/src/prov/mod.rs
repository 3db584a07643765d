//! W3C PROV: the trial's provenance as one PROV document, serialised as PROV-JSON, PROV-N or
//! PROV-O (Turtle). NOT BUILT YET: the engineer on the PROV export fills this module.

use provstore::Store;

use crate::types::ExportError;

fn not_built(what: &str) -> ExportError {
    ExportError::Invalid(format!("{what} export is not built yet"))
}

/// The trial as PROV-JSON.
pub(crate) fn prov_json(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(not_built("prov-json"))
}

/// The trial as PROV-N.
pub(crate) fn prov_n(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(not_built("prov-n"))
}

/// The trial as PROV-O in Turtle.
pub(crate) fn prov_o(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(not_built("prov-o"))
}
