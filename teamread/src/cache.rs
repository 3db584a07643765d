//! A cache of scratch stores, so a second query on the same remote trials neither fetches nor
//! absorbs their bundles again: most of a remote diff's time is the absorbing.
//!
//! - Where: `$XDG_CACHE_HOME/prov/scratch` (else `~/.cache/prov/scratch`), folders 0700,
//!   files 0600; none when neither is known (every query is then cold).
//! - Key: a SHA-256 over this build's schema version and, in order, each trial's team number,
//!   UUID and `bundle_sha256` (the digest of its content, read in the same snapshot as its
//!   bytes): a re-pushed trial has another digest, so another key.
//! - Entry: the store's bytes, then a trailer (a magic, the key, a SHA-256 of the bytes and the
//!   key). Anything that does not check out is removed and built again.
//! - Writes: a temporary file in the folder, renamed into place, so a concurrent provctl or a
//!   kill -9 never leaves a half entry under a key. Bounded: the least recently used entries
//!   go past [`MAX_ENTRIES`] or [`MAX_BYTES`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// What ends every entry, before the key and the digest.
const MAGIC: &[u8; 8] = b"provscr1";
const TRAILER: usize = MAGIC.len() + 32 + 32;
/// At most this many entries…
pub(crate) const MAX_ENTRIES: usize = 32;
/// …and this many bytes of them (a pair of 5,000-execution trials takes about 20 MB).
pub(crate) const MAX_BYTES: u64 = 512 << 20;
/// A temporary file this old was left by a process that died.
const STALE: Duration = Duration::from_secs(3600);

/// One remote trial as the cache knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) team_id: i64,
    pub(crate) uuid: String,
    pub(crate) sha256: String,
    pub(crate) running: bool,
}

/// The key of the scratch store holding `trials`, in this order.
pub(crate) fn key(trials: &[Identity]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"prov scratch store\n");
    hash.update(provstore::SCHEMA_VERSION.to_be_bytes());
    for t in trials {
        hash.update(t.team_id.to_be_bytes());
        for text in [&t.uuid, &t.sha256] {
            hash.update((text.len() as u64).to_be_bytes());
            hash.update(text.as_bytes());
        }
    }
    hash.finalize().into()
}

/// The cache folder.
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The user's cache folder for scratch stores, made private; None when there is no home
    /// to put it in or it cannot be made.
    pub(crate) fn open() -> Option<Cache> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .map(|home| home.join(".cache"))
            })?;
        Cache::at(&base.join("prov").join("scratch"))
    }

    /// The cache in folder `dir` (made 0700 with its parent when missing).
    pub(crate) fn at(dir: &Path) -> Option<Cache> {
        private_dirs(dir).ok()?;
        Some(Cache {
            dir: dir.to_path_buf(),
        })
    }

    fn entry(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.db", hex(key)))
    }

    /// Writes the store kept under `key` to `dest` (a new file) and marks it used; false when
    /// there is none, or it is damaged (then it is removed).
    pub(crate) fn load(&self, key: &[u8; 32], dest: &Path) -> bool {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.entry(key);
        let Ok(bytes) = fs::read(&path) else {
            return false;
        };
        let Some(store) = checked(&bytes, key) else {
            let _ = fs::remove_file(&path);
            return false;
        };
        let written = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .and_then(|mut f| f.write_all(store));
        if written.is_err() {
            let _ = fs::remove_file(dest);
            return false;
        }
        // Used now: the last to go when the cache is full.
        let _ = fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()));
        true
    }

    /// Keeps the store file `store` (closed, no write-ahead log beside it) under `key`, then
    /// trims the cache. Best effort: a cache that cannot be written is only slower.
    pub(crate) fn save(&self, key: &[u8; 32], store: &Path) {
        let Ok(bytes) = fs::read(store) else { return };
        let Ok(mut temp) = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.dir)
        else {
            return;
        };
        // Not synced: an entry a power cut damaged fails its digest and is built again.
        let written = temp
            .write_all(&bytes)
            .and_then(|()| temp.write_all(&trailer(&bytes, key)));
        if written.is_ok() {
            let _ = temp.persist(self.entry(key));
        }
        self.trim();
    }

    /// Removes the least recently used entries past the bounds, and temporary files left by
    /// processes that died.
    fn trim(&self) {
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for item in listing.flatten() {
            let path = item.path();
            let Ok(meta) = item.metadata() else { continue };
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".partial-") {
                if now.duration_since(used).unwrap_or_default() > STALE {
                    let _ = fs::remove_file(&path);
                }
            } else if name.ends_with(".db") && meta.is_file() {
                entries.push((used, meta.len(), path));
            }
        }
        // Newest first: keep while within both bounds.
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut total = 0u64;
        for (i, (_, size, path)) in entries.iter().enumerate() {
            total += size;
            if i >= MAX_ENTRIES || total > MAX_BYTES {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// The store's bytes of an entry, if its trailer says they are whole and kept under `key`.
fn checked<'a>(bytes: &'a [u8], key: &[u8; 32]) -> Option<&'a [u8]> {
    let split = bytes.len().checked_sub(TRAILER)?;
    let (store, tail) = bytes.split_at(split);
    (tail == trailer(store, key).as_slice()).then_some(store)
}

fn trailer(store: &[u8], key: &[u8; 32]) -> Vec<u8> {
    let digest = Sha256::new()
        .chain_update(store)
        .chain_update(key)
        .finalize();
    let mut tail = Vec::with_capacity(TRAILER);
    tail.extend_from_slice(MAGIC);
    tail.extend_from_slice(key);
    tail.extend_from_slice(&digest);
    tail
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes `dir` and its parent (`…/prov`) when missing, each 0700 (only the user reads what
/// their remote trials hold).
fn private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let parent = dir.parent().unwrap_or(dir);
    if let Some(base) = parent.parent() {
        fs::create_dir_all(base)?;
    }
    for d in [parent, dir] {
        match fs::DirBuilder::new().mode(0o700).create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a folder"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn identity(team_id: i64, sha: &str) -> Identity {
        Identity {
            team_id,
            uuid: format!("uuid-{team_id}"),
            sha256: sha.into(),
            running: false,
        }
    }

    #[test]
    fn the_key_follows_every_trial_s_number_uuid_and_digest() {
        let a = key(&[identity(1, "aa"), identity(2, "bb")]);
        assert_ne!(a, key(&[identity(1, "aa"), identity(2, "bc")]));
        assert_ne!(a, key(&[identity(2, "bb"), identity(1, "aa")]));
        assert_ne!(a, key(&[identity(1, "aa"), identity(3, "bb")]));
        assert_eq!(a, key(&[identity(1, "aa"), identity(2, "bb")]));
    }

    #[test]
    fn an_entry_comes_back_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(&dir.path().join("prov").join("scratch")).unwrap();
        for d in [&cache.dir, cache.dir.parent().unwrap()] {
            let mode = fs::metadata(d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
        let store = dir.path().join("store.db");
        fs::write(&store, b"the store's bytes").unwrap();
        let k = key(&[identity(1, "aa")]);
        let out = |n: &str| dir.path().join(n);
        assert!(!cache.load(&k, &out("none")), "nothing kept yet");
        cache.save(&k, &store);
        let entry = cache.entry(&k);
        assert_eq!(
            fs::metadata(&entry).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(cache.load(&k, &out("one")));
        assert_eq!(fs::read(out("one")).unwrap(), b"the store's bytes");
        let mode = fs::metadata(out("one")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the copy is as private as the entry");
        // Another key never reads it.
        let other = key(&[identity(1, "ab")]);
        fs::copy(&entry, cache.entry(&other)).unwrap();
        assert!(!cache.load(&other, &out("two")));
        assert!(!cache.entry(&other).exists(), "a misfiled entry is removed");
        // One flipped byte, or a cut: removed, not read.
        let mut bytes = fs::read(&entry).unwrap();
        bytes[3] ^= 1;
        fs::write(&entry, &bytes).unwrap();
        assert!(!cache.load(&k, &out("three")));
        assert!(!entry.exists() && !out("three").exists());
        cache.save(&k, &store);
        let bytes = fs::read(&entry).unwrap();
        fs::write(&entry, &bytes[..bytes.len() - 1]).unwrap();
        assert!(!cache.load(&k, &out("four")));
        assert!(!entry.exists());
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(&dir.path().join("scratch")).unwrap();
        let store = dir.path().join("store.db");
        fs::write(&store, b"x").unwrap();
        let keys: Vec<[u8; 32]> = (0..=MAX_ENTRIES as i64)
            .map(|i| key(&[identity(i, "aa")]))
            .collect();
        let old = SystemTime::now() - Duration::from_secs(600);
        for (i, k) in keys[..MAX_ENTRIES].iter().enumerate() {
            cache.save(k, &store);
            // Saved in order, each one a second after the one before.
            let at = old + Duration::from_secs(i as u64);
            let f = fs::File::options()
                .write(true)
                .open(cache.entry(k))
                .unwrap();
            f.set_modified(at).unwrap();
        }
        assert!(keys[..MAX_ENTRIES].iter().all(|k| cache.entry(k).exists()));
        // The first is used again, so the second is now the oldest; a dead process's
        // temporary file goes too.
        assert!(cache.load(&keys[0], &dir.path().join("used")));
        let partial = cache.dir.join(".partial-dead");
        fs::write(&partial, b"half").unwrap();
        fs::File::options()
            .write(true)
            .open(&partial)
            .unwrap()
            .set_modified(old - STALE)
            .unwrap();
        cache.save(&keys[MAX_ENTRIES], &store);
        assert!(cache.entry(&keys[0]).exists());
        assert!(!cache.entry(&keys[1]).exists());
        assert!(keys[2..].iter().all(|k| cache.entry(k).exists()));
        assert!(!partial.exists());
    }
}
