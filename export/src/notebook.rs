//! The whole trial's history as a notebook or a script, in execution order. NOT BUILT YET: the
//! engineer on the RO-Crate fills this module.

use provstore::Store;

use crate::types::ExportError;

/// The trial as a notebook (nbformat 4), one code cell per execution with its outputs.
pub(crate) fn ipynb(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(ExportError::Invalid("ipynb export is not built yet".into()))
}

/// The trial as a Python script, one `# In[n]` block per execution.
pub(crate) fn script(_store: &Store, _trial: i64) -> Result<String, ExportError> {
    Err(ExportError::Invalid("py export is not built yet".into()))
}
