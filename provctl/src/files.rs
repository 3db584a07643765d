//! `provctl files [--trial T]`: every file the trial's code read or wrote, by execution, with
//! size and content hash; with `--json` the array of `{"path", "resolved", "access",
//! "execution_count", "sha256", "size", "sampled", …}` that scripts read. A store read at a
//! schema from before files were recorded is an error (exit 1), not an empty list.

use std::io::Write;

use provstore::Store;

use crate::output::{answer, Failure, Json};

/// Prints the files of `trial`.
pub(crate) fn run(
    store: &Store,
    trial: i64,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let files = store.trial_files(trial)?;
    if let Some(message) = provrender::files_not_recorded(&files) {
        return Err(Failure::Exit { code: 1, message });
    }
    answer(out, json, &files.accesses, || {
        provrender::render_files(&files).text
    })
}
