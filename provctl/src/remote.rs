//! `provctl remote add NAME URL` and `provctl remote list`: the team stores (PostgreSQL) this
//! store pushes to and pulls from, kept in `config.toml` beside it. A URL with a password is
//! refused (it belongs in ~/.pgpass), and no URL printed ever holds one.

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{answer, Failure, Json};

/// `provctl remote …`.
#[derive(Args, Debug)]
pub(crate) struct RemoteArgs {
    #[command(subcommand)]
    pub(crate) command: RemoteCommand,
}

#[derive(Subcommand, Debug)]
pub(crate) enum RemoteCommand {
    /// Add a team store: NAME and its PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE or
    /// a conninfo string); the password goes in ~/.pgpass or $PGPASSFILE, never in the URL.
    Add {
        /// The remote's name (`team`).
        name: String,
        /// Its URL, without a password.
        url: String,
    },
    /// List the remotes: name and URL (--json: [{"name", "url", "push"}]).
    List,
}

/// One remote as `remote list` shows it.
#[derive(Serialize)]
struct Listed<'a> {
    name: &'a str,
    url: &'a str,
    /// Whether it is the push remote (the config's `[push] remote`, or $PROV_PUSH).
    push: bool,
}

/// Runs `remote add` or `remote list` for the store at `store_db` (which need not exist yet).
pub(crate) fn run(
    args: &RemoteArgs,
    store_db: &Path,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    match &args.command {
        RemoteCommand::Add { name, url } => {
            let remote = provteam::add_remote(store_db, name, url)?;
            let listed = Listed {
                name: &remote.name,
                url: &remote.url,
                push: provteam::push_remote_name(store_db)?.as_deref() == Some(name),
            };
            answer(out, json, &listed, || {
                format!(
                    "Added remote {} at {} (in {})\n",
                    remote.name,
                    provteam::redact(&remote.url),
                    provteam::config_path(store_db).display()
                )
            })
        }
        RemoteCommand::List => {
            let remotes = provteam::load_remotes(store_db)?;
            let push = provteam::push_remote_name(store_db)?;
            let listed: Vec<Listed> = remotes
                .iter()
                .map(|r| Listed {
                    name: &r.name,
                    url: &r.url,
                    push: push.as_deref() == Some(r.name.as_str()),
                })
                .collect();
            answer(out, json, &listed, || {
                if listed.is_empty() {
                    return "No remotes. Add one: provctl remote add NAME \
                            postgresql://USER@HOST:PORT/DATABASE\n"
                        .into();
                }
                let width = listed.iter().map(|r| r.name.len()).max().unwrap_or(0);
                listed
                    .iter()
                    .map(|r| {
                        format!(
                            "{:width$}  {}{}\n",
                            r.name,
                            provteam::redact(r.url),
                            if r.push { "  (push)" } else { "" }
                        )
                    })
                    .collect()
            })
        }
    }
}
