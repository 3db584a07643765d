//! The files a trial read and wrote (`file_accesses`), as the crate lists them: one entry per
//! file version (resolved path and content hash), whether its content came from outside the
//! trial (an input: what the crate's `--include-data` copies), which executions read and
//! wrote it, and what is at its path now. A file that is gone, or whose content changed since,
//! is still listed with its recorded hash, and says so.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use provstore::FileAccessRow;
use sha2::{Digest, Sha256};

/// What is at a file's recorded path when the crate is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Now {
    /// A file is there (its content not compared: the crate holds only the hash).
    There,
    /// The same content as the trial saw: copied into the crate.
    Same,
    /// A file is there with another content (or size and time, for a sampled hash).
    Changed,
    /// Nothing is there any more.
    Gone,
    /// Something is there that could not be read (`why`).
    Unreadable(String),
}

/// One version of one file the trial touched.
#[derive(Debug, Clone)]
pub(super) struct TrialFile {
    /// The path as the code first gave it.
    pub(super) path: String,
    /// Absolute, links resolved.
    pub(super) resolved: String,
    /// The content's sha256 as recorded (None: gone or unreadable when the trial looked).
    pub(super) sha256: Option<String>,
    pub(super) sampled: bool,
    pub(super) size: Option<i64>,
    pub(super) mtime: Option<f64>,
    /// Its content came from outside the trial: the trial read it and had not written it so.
    pub(super) input: bool,
    /// Execution orders (`seq`) that read this version, and that wrote it.
    pub(super) read_by: Vec<i64>,
    pub(super) written_by: Vec<i64>,
    pub(super) now: Now,
}

/// The file versions of a trial from its accesses in order; `order_of` maps an execution's
/// store id to its order in the trial.
pub(super) fn file_versions(
    accesses: &[FileAccessRow],
    order_of: &HashMap<i64, i64>,
) -> Vec<TrialFile> {
    let mut files: Vec<TrialFile> = Vec::new();
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    // What the trial last wrote to each path, so a read of that content is not an input.
    let mut written: HashMap<&str, Option<&str>> = HashMap::new();
    for a in accesses {
        let order = order_of.get(&a.execution_id).copied().unwrap_or_default();
        let key = (a.resolved.clone(), a.sha256.clone());
        let i = *index.entry(key).or_insert_with(|| {
            files.push(TrialFile {
                path: a.path.clone(),
                resolved: a.resolved.clone(),
                sha256: a.sha256.clone(),
                sampled: a.sampled,
                size: a.size,
                mtime: a.mtime,
                input: false,
                read_by: Vec::new(),
                written_by: Vec::new(),
                now: Now::There,
            });
            files.len() - 1
        });
        let f = &mut files[i];
        if a.access == "write" {
            push_once(&mut f.written_by, order);
            written.insert(&a.resolved, a.sha256.as_deref());
        } else {
            push_once(&mut f.read_by, order);
            if written.get(a.resolved.as_str()) != Some(&a.sha256.as_deref()) {
                f.input = true;
            }
        }
    }
    files
}

fn push_once(list: &mut Vec<i64>, order: i64) {
    if list.last() != Some(&order) {
        list.push(order);
    }
}

/// What is at `f`'s path now; with `compare`, whether it still holds the content the trial
/// saw (a full hash, or size and modification time when the recorded hash was sampled).
pub(super) fn look(f: &TrialFile, compare: bool) -> Now {
    let path = Path::new(&f.resolved);
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return Now::Unreadable("not a regular file".into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Now::Gone,
        Err(e) => return Now::Unreadable(e.to_string()),
    };
    if !compare {
        return Now::There;
    }
    let Some(recorded) = &f.sha256 else {
        return Now::Changed;
    };
    if f.sampled {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64());
        let same_time = matches!((mtime, f.mtime), (Some(a), Some(b)) if (a - b).abs() < 1e-3);
        let same_size = i64::try_from(meta.len()).ok() == f.size;
        return if same_time && same_size {
            Now::Same
        } else {
            Now::Changed
        };
    }
    match sha256_of(path) {
        Ok(hash) if &hash == recorded => Now::Same,
        Ok(_) => Now::Changed,
        Err(e) => Now::Unreadable(e.to_string()),
    }
}

/// The lowercase hex sha256 of a file's content, read in chunks.
fn sha256_of(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Where an included file goes in the crate: `data/` and the path as the code gave it, without
/// what would leave the folder (`..`, a root); a second version of the same path goes under
/// `data/v2/`, and so on.
pub(super) fn crate_path(f: &TrialFile, taken: &mut HashMap<String, usize>) -> String {
    let given: Vec<&str> = Path::new(&f.path)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let relative = if given.is_empty() {
        Path::new(&f.resolved)
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("file")
            .to_string()
    } else {
        given.join("/")
    };
    let n = taken.entry(relative.clone()).or_insert(0);
    *n += 1;
    match *n {
        1 => format!("data/{relative}"),
        n => format!("data/v{n}/{relative}"),
    }
}
