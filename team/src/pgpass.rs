//! libpq's password file (`~/.pgpass`, or the file `$PGPASSFILE` names), read the way libpq
//! reads it, so one file serves psql and prov alike: lines `host:port:database:user:password`,
//! `#` comments, `*` matching anything in the first four fields, `\:` and `\\` escaping, the
//! first matching line wins; a file that is not a plain file, or that its group or others may
//! read, is ignored (libpq warns the same way).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket folder libpq (as Debian builds it) uses when no host is given; a connection
/// through it is looked up as host `localhost`, as libpq does.
pub(crate) const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// What a connection is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key<'a> {
    /// The host as given (a name, an address, or a socket folder).
    pub host: &'a str,
    /// The port.
    pub port: u16,
    /// The database.
    pub dbname: &'a str,
    /// The user.
    pub user: &'a str,
}

/// What looking up a password found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Found {
    /// The password of the first matching line.
    pub password: Option<String>,
    /// Why the file was not read although it exists (told when the connection then fails).
    pub ignored: Option<String>,
}

/// The password file: `$PGPASSFILE`, else `~/.pgpass` ($HOME, else the passwd entry's home).
pub(crate) fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    home_dir().map(|h| h.join(".pgpass"))
}

fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; its fields are read at
    // once, before any other call could overwrite them.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return None;
        }
        let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
        Some(PathBuf::from(
            std::ffi::OsStr::from_encoded_bytes_unchecked(dir.to_bytes()).to_os_string(),
        ))
    }
}

/// Looks `key` up in the password file at `path`. A missing file finds nothing; one that is not
/// a plain file or is readable by group or others is ignored, with the reason.
pub(crate) fn lookup(path: &Path, key: &Key<'_>) -> Found {
    let Ok(meta) = fs::metadata(path) else {
        return Found::default();
    };
    let ignored = |why: &str| Found {
        password: None,
        ignored: Some(format!("the password file {} {why}", path.display())),
    };
    if !meta.is_file() {
        return ignored("is not a plain file, so it was not read");
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return ignored(&format!(
            "was not read: its group or others may read it (mode {:o}; fix: chmod 0600 {})",
            meta.mode() & 0o777,
            path.display()
        ));
    }
    match fs::read(path) {
        Ok(bytes) => Found {
            password: find(&String::from_utf8_lossy(&bytes), key),
            ignored: None,
        },
        Err(e) => ignored(&format!("could not be read: {e}")),
    }
}

/// The password of the first line of `text` matching `key`, libpq's rules.
pub(crate) fn find(text: &str, key: &Key<'_>) -> Option<String> {
    let host = if key.host.is_empty() || key.host == DEFAULT_SOCKET_DIR {
        "localhost"
    } else {
        key.host
    };
    let port = key.port.to_string();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let rest = [host, port.as_str(), key.dbname, key.user]
            .iter()
            .try_fold(line, |rest, want| field_matches(rest, want));
        if let Some(rest) = rest {
            return Some(unescape_password(rest));
        }
    }
    None
}

/// Whether the field at the start of `line` matches `want` (`*` or the same text, `\` escaping
/// the next character); the rest of the line after the field's `:` when it does.
fn field_matches<'l>(line: &'l str, want: &str) -> Option<&'l str> {
    if let Some(rest) = line.strip_prefix("*:") {
        return Some(rest);
    }
    let mut want = want.chars();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        let (c, escaped) = if c == '\\' {
            match chars.next() {
                Some((_, next)) => (next, true),
                None => return None,
            }
        } else {
            (c, false)
        };
        if c == ':' && !escaped {
            // The field ends: a match only if all of `want` was consumed.
            return want.next().is_none().then(|| &line[i + 1..]);
        }
        if want.next() != Some(c) {
            return None;
        }
    }
    None
}

/// The password field: up to the first unescaped `:` (or the end), backslashes removed.
fn unescape_password(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => out.push('\\'),
            },
            ':' => break,
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(host: &'a str, port: u16, dbname: &'a str, user: &'a str) -> Key<'a> {
        Key {
            host,
            port,
            dbname,
            user,
        }
    }

    #[test]
    fn the_first_matching_line_wins() {
        let file = "# team\n\
                    db.example:5432:prov:ann:first\n\
                    db.example:5432:prov:ann:second\n\
                    *:*:*:ann:fallback\n";
        let k = key("db.example", 5432, "prov", "ann");
        assert_eq!(find(file, &k).as_deref(), Some("first"));
        let other_db = key("db.example", 5432, "other", "ann");
        assert_eq!(find(file, &other_db).as_deref(), Some("fallback"));
        assert_eq!(find(file, &key("db.example", 5432, "prov", "bob")), None);
    }

    #[test]
    fn wildcards_match_any_field_but_only_whole() {
        let file = "*:5433:*:*:any-host\nh*:5432:*:*:literal-star\n";
        assert_eq!(
            find(file, &key("x", 5433, "d", "u")).as_deref(),
            Some("any-host")
        );
        // `h*` is not a pattern: only `*` alone is a wildcard.
        assert_eq!(find(file, &key("host", 5432, "d", "u")), None);
        assert_eq!(
            find(file, &key("h*", 5432, "d", "u")).as_deref(),
            Some("literal-star")
        );
    }

    #[test]
    fn escapes_and_the_end_of_the_password() {
        // A host with a colon (IPv6), a user with a backslash, a password with both.
        let file = "\\:\\:1:5432:prov:a\\\\b:p\\:w\\\\d:ignored\n";
        let k = key("::1", 5432, "prov", "a\\b");
        assert_eq!(find(file, &k).as_deref(), Some("p:w\\d"));
        // A prefix is no match, nor is a longer field.
        assert_eq!(find(file, &key(":", 5432, "prov", "a\\b")), None);
        assert_eq!(find("ab:5432:*:*:x\n", &key("abc", 5432, "p", "u")), None);
        assert_eq!(find("abc:5432:*:*:x\n", &key("ab", 5432, "p", "u")), None);
    }

    #[test]
    fn comments_blank_lines_crlf_and_short_lines() {
        let file = "\r\n#db:5432:*:*:commented\nshort:line\ndb:5432:*:*:pw\r\n";
        assert_eq!(
            find(file, &key("db", 5432, "x", "y")).as_deref(),
            Some("pw")
        );
        // A line missing its password field has an empty password.
        assert_eq!(
            find("db:5432:x:y:\n", &key("db", 5432, "x", "y")).as_deref(),
            Some("")
        );
        assert_eq!(find("db:5432:x:y\n", &key("db", 5432, "x", "y")), None);
    }

    #[test]
    fn the_default_socket_folder_is_localhost_others_literal() {
        let file = "localhost:5432:*:*:local\n/tmp/pg:5432:*:*:tmp\n";
        assert_eq!(
            find(file, &key(DEFAULT_SOCKET_DIR, 5432, "d", "u")).as_deref(),
            Some("local")
        );
        assert_eq!(
            find(file, &key("/tmp/pg", 5432, "d", "u")).as_deref(),
            Some("tmp")
        );
        assert_eq!(
            find(file, &key("", 5432, "d", "u")).as_deref(),
            Some("local")
        );
    }

    #[test]
    fn a_file_others_may_read_is_ignored_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        fs::write(&path, "*:*:*:*:secret\n").unwrap();
        let k = key("h", 5432, "d", "u");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let found = lookup(&path, &k);
        assert_eq!(found.password, None);
        let why = found.ignored.unwrap();
        assert!(why.contains("chmod 0600"), "{why}");
        assert!(!why.contains("secret"), "{why}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, &k).password.as_deref(), Some("secret"));
        // A folder is no password file; a missing file finds nothing, silently.
        let folder = lookup(dir.path(), &k);
        assert!(folder.ignored.unwrap().contains("not a plain file"));
        assert_eq!(lookup(&dir.path().join("none"), &k), Found::default());
    }
}
