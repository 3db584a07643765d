//! `provctl values VAR`: every captured value of a variable across the trials of the store,
//! in order (trial by trial, versions within a trial); with `--json` the array of
//! `{"trial", "execution_count", "type", "value", …}` that scripts read.

use std::io::Write;

use provstore::Store;

use crate::output::{answer, Failure, Json};

/// Prints the values of `variable`. A name never captured is exit 2 with similar names.
pub(crate) fn run(
    store: &Store,
    variable: &str,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let entries = store.var_values(variable)?;
    answer(out, json, &entries, || {
        provrender::render_var_values(variable, &entries).text
    })
}
