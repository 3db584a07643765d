//! Where a store lives, and creating its folder and file with private
//! permissions (a provenance record holds code and outputs: it is nobody
//! else's business).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// The folder holding a store, below the working directory or a parent.
pub const DB_DIR: &str = ".prov";
/// The store's file name inside [`DB_DIR`].
pub const DB_FILE: &str = "prov.db";
/// The environment variable that points the kernel and provctl at a store.
pub const ENV_DB: &str = "PROV_DB";

/// The store the kernel writes to: `$PROV_DB` if set (relative to `cwd` when
/// relative), else `cwd/.prov/prov.db`. provctl has its own order (`--db`,
/// `$PROV_DB`, then [`discover_db`]).
pub fn default_db_path(cwd: &Path) -> PathBuf {
    db_path_from(std::env::var_os(ENV_DB), cwd)
}

/// [`default_db_path`] with the value of `$PROV_DB` given, so it can be
/// tested without touching the environment.
fn db_path_from(env: Option<OsString>, cwd: &Path) -> PathBuf {
    match env {
        Some(p) if !p.is_empty() => cwd.join(p),
        _ => cwd.join(DB_DIR).join(DB_FILE),
    }
}

/// The first `.prov/prov.db` found in `start` or one of its parents, as git
/// finds `.git`: lets provctl be run from anywhere inside a project.
pub fn discover_db(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(DB_DIR).join(DB_FILE))
        .find(|p| p.is_file())
}

/// Creates the store's missing folders (0700) and the file itself (0600),
/// before SQLite opens it, so it never exists with looser permissions.
/// SQLite gives the `-wal` and `-shm` files the database file's mode.
pub(crate) fn create_private(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            private_dir_builder()
                .create(dir)
                .map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    action: "create the folder",
                    source,
                })?;
        }
    }
    match private_file_options().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            action: "create the store",
            source,
        }),
    }
}

fn private_dir_builder() -> fs::DirBuilder {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b
}

fn private_file_options() -> fs::OpenOptions {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prov_db_wins_and_is_relative_to_cwd() {
        let cwd = Path::new("/home/me/project");
        assert_eq!(
            db_path_from(None, cwd),
            PathBuf::from("/home/me/project/.prov/prov.db")
        );
        assert_eq!(
            db_path_from(Some("".into()), cwd),
            PathBuf::from("/home/me/project/.prov/prov.db")
        );
        assert_eq!(
            db_path_from(Some("/data/p.db".into()), cwd),
            PathBuf::from("/data/p.db")
        );
        assert_eq!(
            db_path_from(Some("sub/p.db".into()), cwd),
            PathBuf::from("/home/me/project/sub/p.db")
        );
    }

    #[test]
    fn discovery_walks_up() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        fs::create_dir_all(&deep).unwrap();
        // Nothing inside the temporary folder yet (a store above it, in /tmp
        // or /, is not ours to judge).
        assert!(discover_db(&deep).is_none_or(|p| !p.starts_with(tmp.path())));
        let db = tmp.path().join("a").join(DB_DIR).join(DB_FILE);
        create_private(&db).unwrap();
        assert_eq!(discover_db(&deep), Some(db.clone()));
        let nearer = tmp.path().join("a/b").join(DB_DIR).join(DB_FILE);
        create_private(&nearer).unwrap();
        assert_eq!(discover_db(&deep), Some(nearer));
    }
}
