//! W3C PROV: the trial's provenance as one PROV document (`model.rs`, built from the store as
//! plain data), serialised as PROV-JSON (`json.rs`), PROV-N (`n.rs`) or PROV-O in Turtle
//! (`o.rs`).

use provstore::Store;

use crate::types::ExportError;

mod json;
mod model;

/// The trial as PROV-JSON.
pub(crate) fn prov_json(store: &Store, trial: i64) -> Result<String, ExportError> {
    Ok(json::write(&model::build(store, trial)?))
}

/// The trial as PROV-N.
pub(crate) fn prov_n(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(ExportError::Invalid(
        "prov-n export is not built yet".into(),
    ))
}

/// The trial as PROV-O in Turtle.
pub(crate) fn prov_o(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(ExportError::Invalid(
        "prov-o export is not built yet".into(),
    ))
}

#[cfg(test)]
mod tests;
