//! Writes a crate's files as a folder or a zip, all or nothing: everything goes to a temporary
//! sibling first and is moved into place last, so a crash or a kill mid-way leaves no
//! half-crate at the path asked for (at most a temporary `.prov-crate-*` beside it).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use super::payload::{Payload, Source};
use crate::types::ExportError;

/// What was written: files and bytes.
pub(super) struct Totals {
    pub(super) files: usize,
    pub(super) bytes: u64,
}

/// Writes `payloads` to `path`: a zip when it ends in `.zip`, else a folder (which must not
/// exist yet, or be empty).
pub(super) fn write(path: &Path, payloads: &[Payload]) -> Result<Totals, ExportError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        zip(path, &parent, payloads)
    } else {
        folder(path, &parent, payloads)
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    }
}

fn folder(path: &Path, parent: &Path, payloads: &[Payload]) -> Result<Totals, ExportError> {
    match fs::read_dir(path) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ExportError::Invalid(format!(
                    "{} exists and is not empty: give a new folder (or a path ending in .zip)",
                    path.display()
                )));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err(ExportError::Invalid(format!(
                "{} is a file: an RO-Crate is a folder, or a path ending in .zip",
                path.display()
            )))
        }
        Err(e) => return Err(io_error(path)(e)),
    }
    let tmp = tempfile::Builder::new()
        .prefix(".prov-crate-")
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let mut totals = Totals { files: 0, bytes: 0 };
    for p in payloads {
        let dest = tmp.path().join(&p.path);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        let bytes = match &p.source {
            Source::Bytes(b) => fs::write(&dest, b).map(|()| b.len() as u64),
            Source::Copy(from) => fs::copy(from, &dest),
        }
        .map_err(io_error(&dest))?;
        totals.files += 1;
        totals.bytes += bytes;
    }
    // An empty folder at `path` is replaced; anything else appeared meanwhile and wins.
    let _ = fs::remove_dir(path);
    let kept = tmp.keep();
    fs::rename(&kept, path).map_err(|e| {
        let _ = fs::remove_dir_all(&kept);
        io_error(path)(e)
    })?;
    Ok(totals)
}

fn zip(path: &Path, parent: &Path, payloads: &[Payload]) -> Result<Totals, ExportError> {
    let tmp = tempfile::Builder::new()
        .prefix(".prov-crate-")
        .suffix(".zip")
        .tempfile_in(parent)
        .map_err(io_error(parent))?;
    let mut zip = zip::ZipWriter::new(tmp);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut totals = Totals { files: 0, bytes: 0 };
    for p in payloads {
        zip.start_file(p.path.as_str(), options)
            .map_err(|e| zip_error(path, e))?;
        let bytes = match &p.source {
            Source::Bytes(b) => zip.write_all(b).map(|()| b.len() as u64),
            Source::Copy(from) => fs::File::open(from).and_then(|mut f| io::copy(&mut f, &mut zip)),
        }
        .map_err(io_error(path))?;
        totals.files += 1;
        totals.bytes += bytes;
    }
    let tmp = zip.finish().map_err(|e| zip_error(path, e))?;
    tmp.as_file().sync_all().map_err(io_error(path))?;
    tmp.persist(path).map_err(|e| io_error(path)(e.error))?;
    Ok(totals)
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> ExportError {
    io_error(path)(io::Error::other(e))
}
