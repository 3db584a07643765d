//! Naming a remote trial: `NAME:ID` or `NAME:<uuid>` where NAME is a configured remote
//! (`team:412`), and the connections to the team stores a command reads, opened once each.

use std::collections::HashMap;

use provteam::{Remote, Team, TeamError};

/// `text` as a remote trial, when its part before the first `:` names one of `remotes`: the
/// remote and what follows (a team number, UUID or name). A local trial may have a colon in
/// its name: it is remote only if the prefix is a configured remote's name.
pub fn split_ref<'a>(text: &'a str, remotes: &'a [Remote]) -> Option<(&'a Remote, &'a str)> {
    let (name, rest) = text.trim().split_once(':')?;
    let remote = remotes.iter().find(|r| r.name == name)?;
    Some((remote, rest))
}

/// Whether `text` looks like `NAME:…` with NAME a possible remote name (letters, digits, `-`,
/// `_`): a typo in a remote's name is then told as such, not as an unknown local trial.
pub fn looks_remote(text: &str) -> Option<&str> {
    let (name, rest) = text.trim().split_once(':')?;
    let shaped = !name.is_empty()
        && !rest.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    shaped.then_some(name)
}

/// The team stores a command has connected to, by URL.
#[derive(Default)]
pub struct Teams {
    open: HashMap<String, Team>,
}

impl Teams {
    /// The connection to `remote`, opened on first use (libpq's password conventions, a
    /// bounded connect time).
    pub fn get(&mut self, remote: &Remote) -> Result<&mut Team, TeamError> {
        if !self.open.contains_key(&remote.url) {
            let team = Team::connect(&remote.url)?;
            self.open.insert(remote.url.clone(), team);
        }
        Ok(self
            .open
            .get_mut(&remote.url)
            .expect("the connection was just opened"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_remote_makes_a_remote_trial() {
        let remotes = vec![Remote {
            name: "team".into(),
            url: "postgresql://ann@db/prov".into(),
        }];
        let (remote, rest) = split_ref("team:412", &remotes).unwrap();
        assert_eq!((remote.name.as_str(), rest), ("team", "412"));
        assert!(split_ref("lr:0.1", &remotes).is_none());
        assert!(split_ref("412", &remotes).is_none());
        assert_eq!(looks_remote("taem:412"), Some("taem"));
        assert_eq!(looks_remote("lr=0.1"), None);
        assert_eq!(looks_remote("a b:1"), None);
    }
}
