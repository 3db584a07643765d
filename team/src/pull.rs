//! Pulling trials: a remote trial's bundle, inflated into a temporary file, taken in by the
//! local store (`Store::absorb_trial`, idempotent by UUID); and naming remote trials.

use std::fs;
use std::io::Read;
use std::path::Path;

use postgres::Client;
use provstore::{Absorbed, Store, TrialStatus};
use serde::Serialize;

use crate::error::pg;
use crate::TeamError;

/// A trial of the team store as a command names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TeamTrialRef {
    /// Its team number (`412`).
    Id(i64),
    /// Its UUID.
    Uuid(String),
}

impl TeamTrialRef {
    /// `412` (or `team:412`'s part after the colon) is an id, anything else a UUID.
    pub fn parse(text: &str) -> TeamTrialRef {
        match text.trim().parse::<i64>() {
            Ok(id) => TeamTrialRef::Id(id),
            Err(_) => TeamTrialRef::Uuid(text.trim().to_string()),
        }
    }
}

/// The team id of `query`: a team number, a UUID, or a name (the latest trial of that name).
pub(crate) fn resolve(client: &mut Client, query: &str) -> Result<i64, TeamError> {
    let q = query.trim();
    let not_found = || TeamError::NoSuchTrial {
        query: query.to_string(),
    };
    if let Ok(id) = q.parse::<i64>() {
        let row = client
            .query_opt("SELECT id FROM prov_trials WHERE id = $1", &[&id])
            .map_err(pg("find a trial"))?;
        return row.map(|r| r.get(0)).ok_or_else(not_found);
    }
    let row = client
        .query_opt(
            "SELECT id FROM prov_trials WHERE uuid = $1
             UNION ALL
             (SELECT id FROM prov_trials WHERE name = $1 ORDER BY id DESC LIMIT 1)
             LIMIT 1",
            &[&q],
        )
        .map_err(pg("find a trial"))?;
    row.map(|r| r.get(0)).ok_or_else(not_found)
}

/// The team id of a reference, checked to exist.
pub(crate) fn team_id(client: &mut Client, r: &TeamTrialRef) -> Result<i64, TeamError> {
    match r {
        TeamTrialRef::Id(id) => resolve(client, &id.to_string()),
        TeamTrialRef::Uuid(uuid) => {
            let row = client
                .query_opt("SELECT id FROM prov_trials WHERE uuid = $1", &[uuid])
                .map_err(pg("find a trial"))?;
            row.map(|r| r.get(0)).ok_or_else(|| TeamError::NoSuchTrial {
                query: uuid.clone(),
            })
        }
    }
}

/// Writes the inflated bundle of team trial `team_id` to `dest` (replacing it).
pub(crate) fn fetch_bundle(
    client: &mut Client,
    team_id: i64,
    dest: &Path,
) -> Result<(), TeamError> {
    let row = client
        .query_opt(
            "SELECT bytes FROM prov_bundles WHERE trial_id = $1",
            &[&team_id],
        )
        .map_err(pg(format!("read the bundle of team trial {team_id}")))?;
    let Some(row) = row else {
        return Err(TeamError::NoSuchTrial {
            query: team_id.to_string(),
        });
    };
    let deflated: &[u8] = row.get(0);
    let mut raw = Vec::with_capacity(deflated.len() * 3);
    flate2::read::ZlibDecoder::new(deflated)
        .read_to_end(&mut raw)
        .map_err(|e| TeamError::BadBundle {
            team_id,
            problem: e.to_string(),
        })?;
    fs::write(dest, &raw).map_err(|source| TeamError::Io {
        path: dest.to_path_buf(),
        action: "write the bundle",
        source,
    })
}

/// The team trials a pull without names takes, by team id: those whose UUID the local store
/// lacks, and those it holds in an earlier state (fewer executions, or running where the team
/// store's has ended).
pub(crate) fn missing(client: &mut Client, store: &Store) -> Result<Vec<i64>, TeamError> {
    let local: std::collections::HashMap<String, (i64, bool)> = store
        .trials()?
        .into_iter()
        .map(|t| (t.uuid, (t.executions, t.status == TrialStatus::Running)))
        .collect();
    let rows = client
        .query(
            "SELECT id, uuid, executions, status FROM prov_trials ORDER BY id",
            &[],
        )
        .map_err(pg("list the trials"))?;
    Ok(rows
        .iter()
        .filter(|r| match local.get(r.get::<_, &str>(1)) {
            None => true,
            Some(&(executions, running)) => {
                let theirs = i64::from(r.get::<_, i32>(2));
                let ended = r.get::<_, &str>(3) != TrialStatus::Running.as_str();
                theirs > executions || (theirs == executions && running && ended)
            }
        })
        .map(|r| r.get(0))
        .collect())
}

/// Takes team trial `team_id` into `store`.
pub(crate) fn pull_one(
    client: &mut Client,
    store: &Store,
    team_id: i64,
) -> Result<Absorbed, TeamError> {
    let dir = tempfile::tempdir().map_err(|source| TeamError::Io {
        path: std::env::temp_dir(),
        action: "create a folder in",
        source,
    })?;
    let path = dir.path().join("bundle.db");
    fetch_bundle(client, team_id, &path)?;
    Ok(store.absorb_trial(&path, None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_ids_the_rest_uuids() {
        assert_eq!(TeamTrialRef::parse("412"), TeamTrialRef::Id(412));
        assert_eq!(
            TeamTrialRef::parse(" 6f1c-uuid "),
            TeamTrialRef::Uuid("6f1c-uuid".into())
        );
    }
}
