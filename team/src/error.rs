//! Errors of the team store, worded for the person who has to act: what happened, to which
//! remote or file, and what to do. No message ever holds a password: URLs are shown through
//! `connect::redact`, and PostgreSQL's own errors never echo one.

use std::fmt;
use std::io;
use std::path::PathBuf;

use provstore::StoreError;

/// Everything that can go wrong with a team store. The `Display` text is meant to be shown as
/// is (its first line says what, a `fix:` line what to do).
#[derive(Debug)]
#[non_exhaustive]
pub enum TeamError {
    /// `.prov/config.toml` could not be read, parsed or written.
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A URL holds a password, which prov never stores.
    PasswordInUrl {
        /// The URL with its password hidden.
        url: String,
    },
    /// A URL or conninfo string that cannot be parsed.
    BadUrl {
        /// The URL with any password hidden.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// A remote name that is not allowed, or already taken.
    BadRemoteName {
        /// The name.
        name: String,
        /// Why.
        problem: String,
    },
    /// No remote of that name in the config.
    NoSuchRemote {
        /// The name asked for.
        name: String,
        /// The names configured, comma-separated ("" when none).
        available: String,
    },
    /// No remote named and none to default to.
    NoDefaultRemote {
        /// The names configured, comma-separated ("" when none).
        available: String,
    },
    /// The server could not be reached or refused us.
    Connect {
        /// The URL with any password hidden.
        url: String,
        /// PostgreSQL's or the OS's message.
        detail: String,
        /// What to check.
        hint: String,
    },
    /// `sslmode=require` asks for TLS, which this build does not speak.
    TlsRequired {
        /// The URL with any password hidden.
        url: String,
    },
    /// The team store's schema is newer than this build.
    TooNew {
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A query on the team store failed.
    Postgres {
        /// What was being done ("push trial 3").
        action: String,
        /// PostgreSQL's error.
        source: postgres::Error,
    },
    /// The team store has no trial of that id, UUID or name.
    NoSuchTrial {
        /// What was asked for.
        query: String,
    },
    /// The local store failed.
    Store(StoreError),
    /// A local file (a bundle in a temporary folder) failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS's error.
        source: io::Error,
    },
    /// The team store holds something this build cannot read (a schema version that is not
    /// a number).
    BadTeamStore {
        /// What is wrong.
        problem: String,
    },
    /// A bundle in the team store is damaged (does not inflate).
    BadBundle {
        /// The team id of its trial.
        team_id: i64,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for TeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TeamError::Config { path, problem } => write!(
                f,
                "cannot use the config file {}: {problem}\n  fix: correct or remove the file \
                 (`provctl remote add NAME URL` writes it)",
                path.display()
            ),
            TeamError::PasswordInUrl { url } => write!(
                f,
                "the URL {url} holds a password, which prov never stores\n  fix: give the URL \
                 without the password and put the password in ~/.pgpass (or the file \
                 $PGPASSFILE names), one line `host:port:database:user:password`, mode 0600"
            ),
            TeamError::BadUrl { url, problem } => write!(
                f,
                "cannot read the PostgreSQL URL {url}: {problem}\n  fix: give \
                 postgresql://USER@HOST:PORT/DATABASE or a conninfo string \
                 `host=… port=… dbname=… user=…`"
            ),
            TeamError::BadRemoteName { name, problem } => {
                write!(f, "cannot use the remote name {name:?}: {problem}")
            }
            TeamError::NoSuchRemote { name, available } => {
                write!(f, "no remote named {name:?}")?;
                if available.is_empty() {
                    write!(f, " (none configured)")?;
                } else {
                    write!(f, " (remotes: {available})")?;
                }
                write!(
                    f,
                    "\n  fix: `provctl remote add {name} postgresql://USER@HOST/DATABASE`"
                )
            }
            TeamError::NoDefaultRemote { available } if available.is_empty() => write!(
                f,
                "no remote configured\n  fix: `provctl remote add NAME \
                 postgresql://USER@HOST/DATABASE`"
            ),
            TeamError::NoDefaultRemote { available } => write!(
                f,
                "which remote? several are configured ({available}) and no push remote is set\n  \
                 fix: name one, or set `[push] remote = \"NAME\"` in .prov/config.toml (or \
                 $PROV_PUSH)"
            ),
            TeamError::Connect { url, detail, hint } => {
                write!(
                    f,
                    "cannot connect to the team store {url}: {detail}\n  fix: {hint}"
                )
            }
            TeamError::TlsRequired { url } => write!(
                f,
                "the team store {url} asks for sslmode=require, and this build of prov connects \
                 without TLS\n  fix: use sslmode=prefer or sslmode=disable on a trusted network, \
                 or reach the server through an SSH tunnel"
            ),
            TeamError::TooNew { found, supported } => write!(
                f,
                "the team store has schema version {found}, newer than this prov understands \
                 (up to {supported})\n  fix: upgrade prov"
            ),
            TeamError::Postgres { action, source } => {
                write!(
                    f,
                    "cannot {action} on the team store: {}",
                    pg_detail(source)
                )
            }
            TeamError::NoSuchTrial { query } => write!(
                f,
                "no trial {query:?} in the team store\n  fix: give its team number, UUID or \
                 name (`provctl trials --remote NAME` lists them)"
            ),
            TeamError::Store(e) => write!(f, "{e}"),
            TeamError::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            TeamError::BadTeamStore { problem } => write!(
                f,
                "the team store is damaged: {problem}\n  fix: ask whoever runs the database"
            ),
            TeamError::BadBundle { team_id, problem } => write!(
                f,
                "the bundle of team trial {team_id} is damaged: {problem}\n  fix: push that \
                 trial again from the store that recorded it"
            ),
        }
    }
}

impl TeamError {
    /// The exit status a command line gives it: 2 for what the user named wrong (a remote,
    /// a trial, a URL, a name), 1 for what failed (the server, the network, a file).
    pub fn exit_code(&self) -> u8 {
        match self {
            TeamError::PasswordInUrl { .. }
            | TeamError::BadUrl { .. }
            | TeamError::BadRemoteName { .. }
            | TeamError::NoSuchRemote { .. }
            | TeamError::NoDefaultRemote { .. }
            | TeamError::NoSuchTrial { .. } => 2,
            _ => 1,
        }
    }
}

impl std::error::Error for TeamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TeamError::Postgres { source, .. } => Some(source),
            TeamError::Store(e) => Some(e),
            TeamError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<StoreError> for TeamError {
    fn from(e: StoreError) -> Self {
        TeamError::Store(e)
    }
}

/// PostgreSQL's message of an error: the server's own text (with its detail) when it sent one,
/// else the client's.
pub(crate) fn pg_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                source = s.source();
            }
            text
        }
    }
}

/// A closure mapping a PostgreSQL error to [`TeamError::Postgres`] for `action`.
pub(crate) fn pg(action: impl Into<String>) -> impl FnOnce(postgres::Error) -> TeamError {
    let action = action.into();
    move |source| TeamError::Postgres { action, source }
}
