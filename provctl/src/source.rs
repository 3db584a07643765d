//! Where a command reads from. The local store (`--db PATH`, `$PROV_DB`, or the `.prov/prov.db`
//! found here or above), a team store (`--remote NAME`, or `--db postgresql://…`), and remote
//! trials named anywhere as `NAME:ID` (`team:412`). Cross-trial commands ask [`Sources::team`]
//! for the team store's connection; per-trial ones get their trials' ids in a store from
//! [`Sources::open`]: the local store itself when every trial is local, else a scratch store
//! holding only the named trials' bundles (deleted after), so the same code answers; when all
//! are remote, that store may come from the user's cache (`provteamread::Scratch::of_remotes`).

use std::path::{Path, PathBuf};

use provstore::{Store, StoreError, ENV_DB};
use provteam::{postgres::Client, Remote, TeamError};
use provteamread::{looks_remote, split_ref, Scratch, Teams};

use crate::output::Failure;

/// Where one trial of a command lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the local store, with this id.
    Local(i64),
    /// In a team store, with this team number.
    Team { remote: Remote, id: i64 },
}

/// The stores a command may read.
pub(crate) struct Sources {
    /// The local store's file, or why there is none (exit code and message).
    local_db: Result<PathBuf, (u8, String)>,
    /// Whether that file came from `--db` (for the message when it is missing).
    from_flag: bool,
    local: Option<Store>,
    /// The team store of `--remote` or `--db postgresql://…`.
    team: Option<Remote>,
    teams: Teams,
    /// The remotes of the local store's config, once read.
    remotes: Option<Vec<Remote>>,
}

/// Whether `--db` names a team store.
pub(crate) fn is_team_url(db: &Path) -> bool {
    db.to_str()
        .is_some_and(|s| s.starts_with("postgresql://") || s.starts_with("postgres://"))
}

impl Sources {
    /// The stores named by `--db` (a path or a PostgreSQL URL), `--remote NAME`, `$PROV_DB`.
    pub(crate) fn new(
        db: Option<&Path>,
        remote: Option<&str>,
        env_db: Option<&Path>,
        cwd: &Path,
    ) -> Result<Sources, Failure> {
        let url = db.filter(|d| is_team_url(d));
        let path = db.filter(|d| !is_team_url(d));
        let local_db = resolve_db(path, env_db, cwd).map_err(|e| match e {
            Failure::Exit { code, message } => (code, message),
            Failure::Output(e) => (1, e.to_string()),
        });
        let mut sources = Sources {
            local_db,
            from_flag: path.is_some(),
            local: None,
            team: None,
            teams: Teams::default(),
            remotes: None,
        };
        if let Some(url) = url.and_then(Path::to_str) {
            sources.team = Some(Remote {
                name: provteam::redact(url),
                url: url.to_string(),
            });
        } else if let Some(name) = remote {
            sources.team = Some(sources.remote(name)?);
        }
        Ok(sources)
    }

    /// Whether the command reads a team store (`--remote`, `--db postgresql://…`).
    pub(crate) fn is_team(&self) -> bool {
        self.team.is_some()
    }

    /// The team store's connection, for a cross-trial query; None when reading a local store.
    pub(crate) fn team(&mut self) -> Result<Option<&mut Client>, Failure> {
        match &self.team {
            None => Ok(None),
            Some(remote) => Ok(Some(self.teams.get(remote).map_err(team_failure)?.client())),
        }
    }

    /// The local store, opened on first use.
    pub(crate) fn local(&mut self) -> Result<&Store, Failure> {
        if self.local.is_none() {
            let db = self
                .local_db
                .clone()
                .map_err(|(code, message)| Failure::Exit { code, message })?;
            let store = Store::open_existing(&db).map_err(|e| match e {
                StoreError::Missing { path } => Failure::Exit {
                    code: 2,
                    message: format!(
                        "no provenance store at {} ({})\n  fix: check the path, or run a \
                         notebook with the \"Python (prov)\" kernel first",
                        path.display(),
                        if self.from_flag {
                            "from --db"
                        } else {
                            "from $PROV_DB"
                        }
                    ),
                },
                other => other.into(),
            })?;
            self.local = Some(store);
        }
        Ok(self.local.as_ref().expect("opened above"))
    }

    /// The remotes configured beside the local store (none without a store or config).
    fn remotes(&mut self) -> Result<&[Remote], Failure> {
        if self.remotes.is_none() {
            let remotes = match &self.local_db {
                Ok(db) => provteam::load_remotes(db).map_err(team_failure)?,
                Err(_) => Vec::new(),
            };
            self.remotes = Some(remotes);
        }
        Ok(self.remotes.as_deref().unwrap_or_default())
    }

    /// The configured remote called `name`; an unknown one lists those there are (none
    /// without a store: the config is beside it).
    fn remote(&self, name: &str) -> Result<Remote, Failure> {
        let db = self.local_db.clone().unwrap_or_default();
        provteam::find_remote(&db, name).map_err(team_failure)
    }

    /// Where the trial typed as `query` lives (None: the latest of the store read).
    pub(crate) fn place(&mut self, query: Option<&str>) -> Result<Place, Failure> {
        let Some(query) = query else {
            return self.latest();
        };
        let remotes = self.remotes()?.to_vec();
        if let Some((remote, rest)) = split_ref(query, &remotes) {
            let remote = remote.clone();
            return self.team_place(remote, rest);
        }
        if let Some(remote) = self.team.clone() {
            return self.team_place(remote, query);
        }
        let store = self.local()?;
        match store.resolve_trial(query) {
            Ok(t) => Ok(Place::Local(t.id)),
            // `taem:412`: a remote's name mistyped, not a local trial's.
            Err(StoreError::TrialNotFound { .. }) if looks_remote(query).is_some() => {
                let name = looks_remote(query).unwrap_or_default().to_string();
                Err(self.remote(&name).err().unwrap_or_else(|| {
                    Failure::from(StoreError::TrialNotFound {
                        query: query.into(),
                        available: String::new(),
                    })
                }))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn team_place(&mut self, remote: Remote, query: &str) -> Result<Place, Failure> {
        let team = self.teams.get(&remote).map_err(team_failure)?;
        let id = team.resolve(query).map_err(team_failure)?;
        Ok(Place::Team { remote, id })
    }

    /// The latest trial of the store read.
    fn latest(&mut self) -> Result<Place, Failure> {
        if let Some(remote) = self.team.clone() {
            let team = self.teams.get(&remote).map_err(team_failure)?;
            return match provteamread::latest(team.client()).map_err(team_failure)? {
                Some(id) => Ok(Place::Team { remote, id }),
                None => Err(Failure::Exit {
                    code: 2,
                    message: format!(
                        "no trials in the team store {} yet\n  fix: `provctl push` some",
                        remote.name
                    ),
                }),
            };
        }
        // The latest trial alone: listing them all costs a lookup per trial.
        let latest = self.local()?.latest_trial()?;
        latest
            .map(|t| Place::Local(t.id))
            .ok_or_else(|| Failure::Exit {
                code: 2,
                message: "no trials recorded in this store yet\n  fix: run a notebook with the \
                          \"Python (prov)\" kernel first"
                    .into(),
            })
    }

    /// A store holding `places`, and their ids there (in order): the local store when all are
    /// local, else a scratch store into which each one's bundle was absorbed.
    pub(crate) fn open(mut self, places: &[Place]) -> Result<Opened, Failure> {
        let all_local: Option<Vec<i64>> = places
            .iter()
            .map(|p| match p {
                Place::Local(id) => Some(*id),
                Place::Team { .. } => None,
            })
            .collect();
        if let Some(ids) = all_local {
            self.local()?;
            let store = self.local.take().expect("opened above");
            return Ok(Opened {
                store: Held::Local(store),
                ids,
            });
        }
        // Remote trials alone: a store the cache may hold already.
        let remote: Option<Vec<(Remote, i64)>> = places
            .iter()
            .map(|p| match p {
                Place::Team { remote, id } => Some((remote.clone(), *id)),
                Place::Local(_) => None,
            })
            .collect();
        if let Some(remote) = remote {
            let (scratch, ids) =
                Scratch::of_remotes(&mut self.teams, &remote).map_err(team_failure)?;
            return Ok(Opened {
                store: Held::Scratch(scratch),
                ids,
            });
        }
        let mut scratch = Scratch::new().map_err(team_failure)?;
        let mut ids = vec![0; places.len()];
        // Remote trials first, so they keep their team numbers; a local one takes its own id
        // unless a remote one has it.
        for (i, place) in places.iter().enumerate() {
            if let Place::Team { remote, id } = place {
                let team = self.teams.get(remote).map_err(team_failure)?;
                ids[i] = scratch.absorb_team(team, *id).map_err(team_failure)?;
            }
        }
        for (i, place) in places.iter().enumerate() {
            if let Place::Local(id) = place {
                self.local()?;
                let local = self.local.as_ref().expect("opened above");
                ids[i] = scratch.absorb_local(local, *id).map_err(team_failure)?;
            }
        }
        Ok(Opened {
            store: Held::Scratch(scratch),
            ids,
        })
    }
}

/// The store a per-trial command reads, and its trials' ids there.
pub(crate) struct Opened {
    store: Held,
    pub(crate) ids: Vec<i64>,
}

enum Held {
    Local(Store),
    Scratch(Scratch),
}

impl Opened {
    pub(crate) fn store(&self) -> &Store {
        match &self.store {
            Held::Local(store) => store,
            Held::Scratch(scratch) => scratch.store(),
        }
    }
}

/// A team store's error as provctl's exit: 2 for what the user named wrong (a remote, a
/// trial, a URL), 1 for a server or store that fails; a local store's error as locally.
pub(crate) fn team_failure(e: TeamError) -> Failure {
    let code = match e {
        TeamError::Store(inner) => return inner.into(),
        TeamError::NoSuchRemote { .. }
        | TeamError::NoDefaultRemote { .. }
        | TeamError::NoSuchTrial { .. }
        | TeamError::BadUrl { .. }
        | TeamError::PasswordInUrl { .. }
        | TeamError::BadRemoteName { .. } => 2,
        _ => 1,
    };
    Failure::Exit {
        code,
        message: e.to_string(),
    }
}

/// `$PROV_DB`, when set and not empty.
pub(crate) fn env_db() -> Option<PathBuf> {
    std::env::var_os(ENV_DB)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The store to read: `--db`, else `$PROV_DB` (relative to `cwd`), else
/// the first `.prov/prov.db` in `cwd` or a parent. None found is exit 2
/// with where we looked and how to fix it.
pub(crate) fn resolve_db(
    flag: Option<&Path>,
    env: Option<&Path>,
    cwd: &Path,
) -> Result<PathBuf, Failure> {
    if let Some(p) = flag.or(env) {
        return Ok(cwd.join(p));
    }
    provstore::discover_db(cwd).ok_or_else(|| Failure::Exit {
        code: 2,
        message: format!(
            "no provenance store found\n  looked for: --db (not given), ${ENV_DB} (not set), \
             {}/{} in {} and every parent folder\n  fix: run a notebook with the \"Python (prov)\" \
             kernel first, or pass --db PATH",
            provstore::DB_DIR,
            provstore::DB_FILE,
            cwd.display()
        ),
    })
}
