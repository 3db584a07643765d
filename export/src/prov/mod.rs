//! W3C PROV: the trial's provenance as one PROV document (`document.rs`, plain data, built from
//! the store by `model.rs`), serialised as PROV-JSON (`json.rs`), PROV-N (`n.rs`) or PROV-O in Turtle
//! (`o.rs`).

use provstore::Store;

use crate::types::ExportError;

mod document;
mod json;
mod model;
mod n;
mod o;

/// The trial as PROV-JSON.
pub(crate) fn prov_json(store: &Store, trial: i64) -> Result<String, ExportError> {
    Ok(json::write(&model::build(store, trial)?))
}

/// The trial as PROV-N.
pub(crate) fn prov_n(store: &Store, trial: i64) -> Result<String, ExportError> {
    Ok(n::write(&model::build(store, trial)?))
}

/// The trial as PROV-O in Turtle.
pub(crate) fn prov_o(store: &Store, trial: i64) -> Result<String, ExportError> {
    Ok(o::write(&model::build(store, trial)?))
}

#[cfg(test)]
mod tests;
