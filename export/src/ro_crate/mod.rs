//! A Workflow Run RO-Crate of a trial (`--format ro-crate`, Provenance Run Crate profile 0.5):
//! a folder, or a zip when the path ends in `.zip`, holding
//!
//! - `ro-crate-metadata.json`: the crate's JSON-LD graph (`metadata.rs`);
//! - `README.md`: the same for a person, with every file the trial used (`readme.rs`);
//! - `notebook.ipynb`: the trial's whole history with outputs (the workflow);
//! - `code/exec-NNNN.py`: the code of each execution, as it ran;
//! - `prov.json`: the trial in W3C PROV-JSON;
//! - `requirements.txt`: the packages it imported, at their versions (`requirements.rs`);
//! - with `--include-data`, `data/…`: the files it read from outside, when they still hold
//!   what it read (`files.rs`); without, or when they changed or are gone, only their
//!   recorded hashes, and the crate says which.
//!
//! This file gathers the parts from the store (`payload.rs` holds them) and hands them to
//! `sink.rs`, which writes them all or nothing.

use std::collections::HashMap;
use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use provstore::Store;

use crate::types::{ExportError, Options, Written};

mod files;
mod metadata;
mod payload;
mod readme;
mod requirements;
mod sink;
#[cfg(test)]
mod tests;

use files::{Now, TrialFile};
use metadata::{Facts, Listed};
use payload::{Payload, Source};

/// Characters a crate path keeps out of its `@id` (a URI path): what is not unreserved,
/// besides `/`.
const PATH_ID: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Writes the crate of `trial` to `path`: a directory, or a zip when it ends in `.zip`.
pub(crate) fn write(
    store: &Store,
    trial: i64,
    path: &Path,
    options: &Options,
) -> Result<Written, ExportError> {
    let (payloads, notes) = gather(store, trial, options)?;
    let totals = sink::write(path, &payloads)?;
    Ok(Written {
        path: path.to_path_buf(),
        files: totals.files,
        bytes: totals.bytes,
        notes,
    })
}

/// The crate's files, and what its reader should be told (files gone, changed, unreadable).
fn gather(
    store: &Store,
    trial: i64,
    options: &Options,
) -> Result<(Vec<Payload>, Vec<String>), ExportError> {
    let summary = store.trial(trial)?;
    let executions = store.executions(trial)?;
    let packages = store.trial_packages(trial)?;
    let order_of: HashMap<i64, i64> = executions.iter().map(|e| (e.id, e.order)).collect();
    let mut versions = files::file_versions(&store.file_accesses(trial)?, &order_of);
    for f in &mut versions {
        f.now = files::look(f, options.include_data && f.input);
    }

    let mut payloads = vec![
        Payload::bytes(metadata::NOTEBOOK, crate::notebook::ipynb(store, trial)?),
        Payload::bytes(metadata::PROV, crate::prov::prov_json(store, trial)?),
        Payload::bytes(
            metadata::REQUIREMENTS,
            requirements::requirements_txt(&summary, &packages),
        ),
    ];
    let code_paths: Vec<String> = executions
        .iter()
        .map(|e| format!("code/exec-{:04}.py", e.order))
        .collect();
    for (e, p) in executions.iter().zip(&code_paths) {
        payloads.push(Payload::bytes(p.as_str(), e.code.as_bytes()));
    }

    let mut taken = HashMap::new();
    let mut listed = Vec::with_capacity(versions.len());
    for (n, f) in versions.iter().enumerate() {
        let included = options.include_data && f.input && f.now == Now::Same;
        let id = if included {
            let path = files::crate_path(f, &mut taken);
            let id = utf8_percent_encode(&path, PATH_ID).to_string();
            payloads.push(Payload {
                path,
                source: Source::Copy(f.resolved.clone().into()),
            });
            id
        } else {
            format!("#file-{}", n + 1)
        };
        listed.push(Listed {
            file: f,
            id,
            included,
        });
    }
    let notes = notes(&versions, options.include_data);
    let shown: Vec<(&TrialFile, bool)> = listed.iter().map(|l| (l.file, l.included)).collect();
    payloads.push(Payload::bytes(
        metadata::README,
        readme::readme(&summary, executions.len(), &shown),
    ));

    let published = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let document = metadata::document(&Facts {
        trial: &summary,
        executions: &executions,
        code_paths: &code_paths,
        packages: &packages,
        files: &listed,
        published: &published,
    });
    let mut json = serde_json::to_string_pretty(&document).expect("the graph serialises");
    json.push('\n');
    payloads.insert(0, Payload::bytes("ro-crate-metadata.json", json));
    Ok((payloads, notes))
}

/// What the person exporting must hear: inputs that are gone, changed or unreadable.
fn notes(versions: &[TrialFile], include_data: bool) -> Vec<String> {
    let mut notes = Vec::new();
    for f in versions.iter().filter(|f| f.input) {
        let hash = f.sha256.as_deref().unwrap_or("unknown");
        match &f.now {
            Now::Gone => notes.push(format!(
                "{} is gone: the crate lists it with the sha256 recorded ({hash})",
                f.resolved
            )),
            Now::Changed if include_data => notes.push(format!(
                "{} changed since the trial read it: not included, listed with the sha256 \
                 recorded ({hash})",
                f.resolved
            )),
            Now::Unreadable(why) => notes.push(format!(
                "{} cannot be read ({why}): listed with the sha256 recorded ({hash})",
                f.resolved
            )),
            _ => {}
        }
    }
    notes
}
