//! `provctl expectations [T | --trial T]`: every `assert` the trial ran, with its latest outcome
//! there and its outcome in every trial that ran its cell; with `--json` the array of
//! `{"source", "cell_id", "history": [{"trial", "execution_count", "outcome", "message"}]}`
//! (outcome `passed`, `failed` or `not reached`) that scripts and checks read.

use std::io::Write;

use provstore::Store;

use crate::output::{answer, Failure, Json};

/// Prints the expectations of `trial`.
pub(crate) fn run(
    store: &Store,
    trial: i64,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let expectations = store.expectations(trial)?;
    let summary = store.trial(trial)?;
    answer(out, json, &expectations, || {
        provrender::render_expectations(&summary, &expectations).text
    })
}
