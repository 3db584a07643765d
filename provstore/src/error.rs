//! Errors of the store, worded for the person who has to act on them: what
//! happened, to which file, and what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use rusqlite::ErrorCode;

/// Everything that can go wrong with a store. The `Display` text is meant to
/// be shown to the user as is.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A folder or file of the store could not be created or opened.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done, e.g. "create the folder".
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// SQLite refused an operation on the store.
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A reader was pointed at a store that does not exist (readers never
    /// create stores).
    Missing {
        /// The path that has no file.
        path: PathBuf,
    },
    /// The store was written by a newer prov with a schema this one does not
    /// know.
    TooNew {
        /// The store file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build understands.
        supported: i64,
    },
    /// No trial has the id or name asked for.
    TrialNotFound {
        /// What was asked for.
        query: String,
        /// What the store has, ready to print ("trials 1–4; named: a (2)").
        available: String,
    },
    /// The name is already used by another trial of this store.
    NameTaken {
        /// The name asked for.
        name: String,
        /// The trial that has it.
        trial: i64,
    },
    /// The name cannot be a trial name.
    InvalidName {
        /// The name asked for.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// No variable of that name (now) in the trial asked about.
    UnknownVariable {
        /// What was asked for.
        name: String,
        /// The trial asked about.
        trial: i64,
        /// Variables of the trial with a similar name, best first.
        similar: Vec<String>,
        /// `In[n]` (execution_count) of the execution that deleted it, if it
        /// existed and was deleted.
        deleted_by: Option<i64>,
    },
    /// A variable name, label or stage given to a tag magic that cannot be one.
    InvalidTag {
        /// What it was meant to be: "variable", "label" or "stage".
        what: &'static str,
        /// What was given.
        text: String,
        /// Why not.
        reason: &'static str,
    },
    /// `%untag_var` on a variable that is not tagged in the trial.
    NotTagged {
        /// The variable asked for.
        name: String,
        /// The trial asked about.
        trial: i64,
        /// The variables that are tagged in the trial.
        tagged: Vec<String>,
    },
    /// No value of the variable was captured in any trial of the store (`%var_values`,
    /// `provctl values`).
    NoValues {
        /// What was asked for.
        name: String,
        /// Captured variables with a similar name, best first.
        similar: Vec<String>,
    },
    /// A trial's bundle cannot be made or taken in (not a prov bundle, damaged, more than one
    /// trial, a trial this store is recording): nothing was written.
    Bundle {
        /// The bundle file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        reason: String,
    },
    /// The store cannot be reached right now (the writer is in trouble or
    /// gone); the reason was already reported once.
    Unavailable {
        /// The store file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl StoreError {
    /// What went wrong and what to do, as two phrases: the writer builds its
    /// one-time warning from them ("cannot write …: {reason}; … — {fix}").
    pub fn reason_and_fix(&self) -> (String, String) {
        match self {
            StoreError::Io { source, .. } => io_reason(source),
            StoreError::Sqlite { source, .. } => sqlite_reason(source),
            StoreError::Missing { .. } => (
                "the store does not exist".into(),
                "run a notebook with the \"Python (prov)\" kernel first, or check the path".into(),
            ),
            StoreError::TooNew {
                found, supported, ..
            } => (
                format!("the store has schema version {found}, this prov knows up to {supported}"),
                "upgrade prov (prov-kernel and provctl)".into(),
            ),
            StoreError::Unavailable { reason, .. } => (
                reason.clone(),
                "see the first warning, or set PROV_DB to a writable path".into(),
            ),
            other => (other.to_string(), String::new()),
        }
    }

    /// Whether this is a problem of the store itself (disk, permissions,
    /// damage) rather than of the request (a taken name, an unknown trial).
    pub fn is_store_problem(&self) -> bool {
        !matches!(
            self,
            StoreError::TrialNotFound { .. }
                | StoreError::NameTaken { .. }
                | StoreError::InvalidName { .. }
                | StoreError::UnknownVariable { .. }
                | StoreError::InvalidTag { .. }
                | StoreError::NotTagged { .. }
                | StoreError::NoValues { .. }
                | StoreError::Bundle { .. }
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_fix = |f: &mut fmt::Formatter<'_>, what: String| {
            let (reason, fix) = self.reason_and_fix();
            write!(f, "{what}: {reason}")?;
            if !fix.is_empty() {
                write!(f, " (fix: {fix})")?;
            }
            Ok(())
        };
        match self {
            StoreError::Io { path, action, .. } => {
                with_fix(f, format!("cannot {action} {}", path.display()))
            }
            StoreError::Sqlite { path, .. } => {
                with_fix(f, format!("provenance store {}", path.display()))
            }
            StoreError::Missing { path } => with_fix(
                f,
                format!("no provenance store at {}", path.display()),
            ),
            StoreError::TooNew { path, .. } => {
                with_fix(f, format!("cannot read {}", path.display()))
            }
            StoreError::Unavailable { path, .. } => with_fix(
                f,
                format!("provenance store {} unavailable", path.display()),
            ),
            StoreError::TrialNotFound { query, available } => write!(
                f,
                "no trial with id or name {query:?}; {available} (list them with `provctl trials` or %trials)"
            ),
            StoreError::NameTaken { name, trial } => write!(
                f,
                "the name {name:?} is already used by trial {trial} in this store; \
                 pick another name (trial names are unique per store)"
            ),
            StoreError::InvalidName { name, reason } => {
                write!(f, "{name:?} cannot be a trial name: {reason}")
            }
            StoreError::InvalidTag { what, text, reason } => {
                write!(f, "{text:?} cannot be a {what}: {reason}")
            }
            StoreError::NotTagged {
                name,
                trial,
                tagged,
            } => {
                write!(f, "`{name}` is not tagged in trial {trial}")?;
                if tagged.is_empty() {
                    write!(f, "; no variable is (tag one with %tag_var VAR [LABEL])")
                } else {
                    write!(f, "; tagged: {}", tagged.join(", "))
                }
            }
            StoreError::Bundle { path, reason } => {
                write!(f, "trial bundle {}: {reason}", path.display())
            }
            StoreError::NoValues { name, similar } => {
                write!(f, "no value of `{name}` was recorded in any trial of this store")?;
                if similar.is_empty() {
                    write!(
                        f,
                        " (values are recorded for the variables a cell assigns; check the name)"
                    )
                } else {
                    write!(f, "; similar: {}", similar.join(", "))
                }
            }
            StoreError::UnknownVariable {
                name,
                trial,
                similar,
                deleted_by,
            } => {
                match deleted_by {
                    Some(n) => write!(f, "`{name}` was deleted by In[{n}] in trial {trial}")?,
                    None => write!(f, "no variable `{name}` in trial {trial}")?,
                }
                if !similar.is_empty() {
                    write!(f, "; similar: {}", similar.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Sqlite { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reason and fix for an operating-system error on the store's files.
fn io_reason(e: &io::Error) -> (String, String) {
    use io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied | K::ReadOnlyFilesystem => (
            format!("not writable ({e})"),
            "make the folder writable, or set PROV_DB to a writable path".into(),
        ),
        K::StorageFull => (
            "disk full".into(),
            "free some space, or set PROV_DB to a store on another disk".into(),
        ),
        K::NotADirectory => (
            format!("a part of the path is a file, not a folder ({e})"),
            "set PROV_DB to a path inside a folder".into(),
        ),
        _ => (e.to_string(), "check the path, or set PROV_DB".into()),
    }
}

/// Reason and fix for an SQLite error.
fn sqlite_reason(e: &rusqlite::Error) -> (String, String) {
    let Some(code) = e.sqlite_error_code() else {
        return (e.to_string(), String::new());
    };
    match code {
        ErrorCode::DiskFull => (
            "disk full".into(),
            "free some space, or set PROV_DB to a store on another disk".into(),
        ),
        ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied => (
            format!("the store or its folder is not writable ({e})"),
            "make it writable, or set PROV_DB to a writable path".into(),
        ),
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (
            "the store stayed locked by another process for too long".into(),
            "try again; if it keeps happening, look for a stuck process using the store".into(),
        ),
        ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => (
            format!("the file is not a prov store or is damaged ({e})"),
            "move the file away (a new store is created in its place), or set PROV_DB".into(),
        ),
        ErrorCode::SystemIoFailure => (
            format!("input/output error ({e})"),
            "check the disk, or set PROV_DB to a store on another disk".into(),
        ),
        _ => (e.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let full = StoreError::Sqlite {
            path: "/x/prov.db".into(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            ),
        };
        let text = full.to_string();
        assert!(text.contains("/x/prov.db"), "{text}");
        assert!(text.contains("disk full"), "{text}");
        assert!(text.contains("free some space"), "{text}");

        let taken = StoreError::NameTaken {
            name: "base".into(),
            trial: 3,
        };
        assert!(taken.to_string().contains("trial 3"));
        assert!(!taken.is_store_problem());
        assert!(full.is_store_problem());
    }
}
