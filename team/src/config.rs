//! The store's remotes, in `config.toml` beside the store (`.prov/config.toml`):
//!
//! ```toml
//! [remotes.team]
//! url = "postgresql://ann@db.example:5432/prov"
//!
//! [push]
//! remote = "team"
//! ```
//!
//! A URL holding a password is refused (passwords live in `~/.pgpass` or `$PGPASSFILE`, as
//! for psql); the file is rewritten whole through a temporary sibling renamed over it, so a
//! crash leaves the old or the new file, and keys prov does not know survive.

use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::{Table, Value};

use crate::connect::{has_password, redact};
use crate::TeamError;

/// The file name of the config, beside the store's database.
pub const CONFIG_FILE: &str = "config.toml";

/// The environment variable naming the remote a kernel pushes to (wins over the config).
pub const ENV_PUSH: &str = "PROV_PUSH";

/// A configured team store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remote {
    /// Its name (`team`).
    pub name: String,
    /// Its URL or conninfo string, never holding a password.
    pub url: String,
}

/// The config file of the store at `store_db`: `config.toml` in the store's folder.
pub fn config_path(store_db: &Path) -> PathBuf {
    store_db
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(CONFIG_FILE)
}

fn read_table(path: &Path) -> Result<Table, TeamError> {
    let text = match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| TeamError::Config {
            path: path.to_path_buf(),
            problem: "it is not UTF-8 text".into(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
        Err(e) => {
            return Err(TeamError::Config {
                path: path.to_path_buf(),
                problem: e.to_string(),
            })
        }
    };
    text.parse::<Table>().map_err(|e| TeamError::Config {
        path: path.to_path_buf(),
        // toml's message quotes the offending line, which could hold a password.
        problem: format!(
            "it is not valid TOML ({})",
            e.message().lines().next().unwrap_or("syntax error")
        ),
    })
}

/// The remotes of the store at `store_db`, by name. No config file: none.
pub fn load_remotes(store_db: &Path) -> Result<Vec<Remote>, TeamError> {
    let path = config_path(store_db);
    let table = read_table(&path)?;
    let bad = |problem: String| TeamError::Config {
        path: path.clone(),
        problem,
    };
    let Some(remotes) = table.get("remotes") else {
        return Ok(Vec::new());
    };
    let remotes = remotes
        .as_table()
        .ok_or_else(|| bad("`remotes` is not a table".into()))?;
    let mut out = Vec::new();
    for (name, entry) in remotes {
        let url = entry
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("remote {name:?} has no `url` string")))?;
        // A password put in by hand is never used nor shown.
        if has_password(url).unwrap_or(false) {
            return Err(bad(format!(
                "remote {name:?} has a URL with a password ({}); remove the password and put \
                 it in ~/.pgpass or $PGPASSFILE",
                redact(url)
            )));
        }
        out.push(Remote {
            name: name.clone(),
            url: url.to_string(),
        });
    }
    Ok(out)
}

/// The remote `name` of the store at `store_db`.
pub fn find_remote(store_db: &Path, name: &str) -> Result<Remote, TeamError> {
    let remotes = load_remotes(store_db)?;
    let available = names(&remotes);
    remotes
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| TeamError::NoSuchRemote {
            name: name.to_string(),
            available,
        })
}

/// The remote to push to: `$PROV_PUSH`, else the config's `[push] remote`, else none.
pub fn push_remote_name(store_db: &Path) -> Result<Option<String>, TeamError> {
    if let Some(name) = std::env::var(ENV_PUSH)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(Some(name.trim().to_string()));
    }
    let path = config_path(store_db);
    let table = read_table(&path)?;
    match table.get("push").and_then(|p| p.get("remote")) {
        None => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(_) => Err(TeamError::Config {
            path,
            problem: "`[push] remote` is not a string".into(),
        }),
    }
}

/// The remote a command uses when none is named: the push remote, else the only one.
pub fn default_remote(store_db: &Path) -> Result<Remote, TeamError> {
    if let Some(name) = push_remote_name(store_db)? {
        return find_remote(store_db, &name);
    }
    let mut remotes = load_remotes(store_db)?;
    if remotes.len() == 1 {
        return Ok(remotes.remove(0));
    }
    Err(TeamError::NoDefaultRemote {
        available: names(&remotes),
    })
}

fn names(remotes: &[Remote]) -> String {
    remotes
        .iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds remote `name` at `url` to the store's config. Refused: a URL with a password, one that
/// does not parse, a name taken or not made of letters, digits, `-`, `_`, `.`.
pub fn add_remote(store_db: &Path, name: &str, url: &str) -> Result<Remote, TeamError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(['-', '.']);
    if !valid {
        return Err(TeamError::BadRemoteName {
            name: name.to_string(),
            problem: "use letters, digits, `-`, `_` and `.` (at most 64, not starting with `-` \
                      or `.`)"
                .into(),
        });
    }
    if has_password(url)? {
        return Err(TeamError::PasswordInUrl { url: redact(url) });
    }
    let path = config_path(store_db);
    let mut table = read_table(&path)?;
    let remotes = table
        .entry("remotes")
        .or_insert_with(|| Value::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| TeamError::Config {
            path: path.clone(),
            problem: "`remotes` is not a table".into(),
        })?;
    if remotes.contains_key(name) {
        return Err(TeamError::BadRemoteName {
            name: name.to_string(),
            problem: format!("a remote of that name exists (edit {})", path.display()),
        });
    }
    let mut entry = Table::new();
    entry.insert("url".into(), Value::String(url.to_string()));
    remotes.insert(name.to_string(), Value::Table(entry));
    write_atomically(&path, &table.to_string())?;
    Ok(Remote {
        name: name.to_string(),
        url: url.to_string(),
    })
}

/// Writes `text` to `path` through a temporary sibling (0600), synced, renamed over it.
fn write_atomically(path: &Path, text: &str) -> Result<(), TeamError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let err = |e: std::io::Error| TeamError::Config {
        path: path.to_path_buf(),
        problem: format!("cannot write it: {e}"),
    };
    // The store's folder is private (0700); made here first, it is made the same way.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".config.toml.")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_round_trip_and_other_keys_survive() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(".prov").join("prov.db");
        assert!(load_remotes(&db).unwrap().is_empty());
        fs::create_dir_all(db.parent().unwrap()).unwrap();
        fs::write(config_path(&db), "[other]\nkeep = 1\n").unwrap();
        add_remote(&db, "team", "postgresql://ann@db.example:5432/prov").unwrap();
        add_remote(&db, "lab", "host=/tmp/pg port=5433 user=ann").unwrap();
        let remotes = load_remotes(&db).unwrap();
        assert_eq!(
            remotes.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["lab", "team"]
        );
        assert_eq!(
            find_remote(&db, "team").unwrap().url,
            "postgresql://ann@db.example:5432/prov"
        );
        let text = fs::read_to_string(config_path(&db)).unwrap();
        assert!(text.contains("keep = 1"), "{text}");
        let err = find_remote(&db, "nope").unwrap_err().to_string();
        assert!(err.contains("lab, team"), "{err}");
        let taken = add_remote(&db, "team", "postgresql://x@y/z").unwrap_err();
        assert!(taken.to_string().contains("exists"), "{taken}");
    }

    #[test]
    fn a_password_is_refused_and_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("prov.db");
        for url in [
            "postgresql://ann:hunter2@db/prov",
            "postgresql://ann@db/prov?password=hunter2",
            "host=db user=ann password=hunter2",
        ] {
            let err = add_remote(&db, "team", url).unwrap_err().to_string();
            assert!(err.contains("pgpass"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert!(!config_path(&db).exists(), "nothing written");
        // One put in by hand is refused on reading, not shown either.
        fs::write(
            config_path(&db),
            "[remotes.team]\nurl = \"postgresql://ann:hunter2@db/prov\"\n",
        )
        .unwrap();
        let err = load_remotes(&db).unwrap_err().to_string();
        assert!(!err.contains("hunter2") && err.contains("pgpass"), "{err}");
    }

    #[test]
    fn bad_names_urls_and_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("prov.db");
        for name in ["", "a b", "-x", "x/y", "é"] {
            assert!(
                add_remote(&db, name, "postgresql://a@b/c").is_err(),
                "{name}"
            );
        }
        assert!(matches!(
            add_remote(&db, "t", "postgresql://a@b:port/c"),
            Err(TeamError::BadUrl { .. })
        ));
        fs::write(config_path(&db), "[remotes\nurl=").unwrap();
        assert!(matches!(load_remotes(&db), Err(TeamError::Config { .. })));
        fs::write(config_path(&db), b"\xff\xfe").unwrap();
        assert!(load_remotes(&db).unwrap_err().to_string().contains("UTF-8"));
    }

    #[test]
    fn the_default_remote_is_the_push_remote_else_the_only_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("prov.db");
        assert!(matches!(
            default_remote(&db),
            Err(TeamError::NoDefaultRemote { .. })
        ));
        add_remote(&db, "a", "postgresql://u@h/d").unwrap();
        assert_eq!(default_remote(&db).unwrap().name, "a");
        add_remote(&db, "b", "postgresql://u@h/e").unwrap();
        if std::env::var_os(ENV_PUSH).is_none() {
            assert!(default_remote(&db).is_err());
            let mut text = fs::read_to_string(config_path(&db)).unwrap();
            text.push_str("\n[push]\nremote = \"b\"\n");
            fs::write(config_path(&db), text).unwrap();
            assert_eq!(push_remote_name(&db).unwrap().as_deref(), Some("b"));
            assert_eq!(default_remote(&db).unwrap().name, "b");
        }
    }
}
