//! What the magics that read a team store share (`%trials --remote NAME`, `%trial_diff mine
//! team:412`): the remotes configured beside the kernel's store, and a deadline. The remote is
//! read on a thread of its own, never the writer thread, so a slow or dead server holds
//! neither the recording nor other magics; a call that outlives [`DEADLINE`] answers with an
//! error (its thread ends with its connection's own timeouts).

use std::sync::mpsc;
use std::time::Duration;

use provteam::Remote;

use super::spec::MagicContext;

/// How long a magic waits for a team store.
pub(super) const DEADLINE: Duration = Duration::from_secs(30);

/// The longest a single statement may run on the team store, in milliseconds.
const STATEMENT_TIMEOUT_MS: u32 = 25_000;

/// The remotes of the kernel's store (`.prov/config.toml` beside it).
pub(super) fn remotes(context: &MagicContext) -> Result<Vec<Remote>, String> {
    provteam::load_remotes(context.writer.path()).map_err(|e| e.to_string())
}

/// The remote called `name`; an unknown one lists the configured ones.
pub(super) fn remote(context: &MagicContext, name: &str) -> Result<Remote, String> {
    provteam::find_remote(context.writer.path(), name).map_err(|e| e.to_string())
}

/// Bounds each statement of a new connection, so a query the server cannot finish ends too.
pub(super) fn bounded(team: &mut provteam::Team) -> Result<(), String> {
    team.client()
        .batch_execute(&format!("SET statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        .map_err(|e| format!("the team store {} refused a setting: {e}", team.url()))
}

/// Runs `work` on a thread of its own and waits at most [`DEADLINE`] for its answer.
pub(super) fn within_deadline<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("prov-remote".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| format!("cannot start reading {what}: {e}"))?;
    match rx.recv_timeout(DEADLINE) {
        Ok(answer) => answer,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "{what} did not answer within {} s\n  fix: check that the server is up and \
             reachable, then run the cell again",
            DEADLINE.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(format!("reading {what} failed")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::magics::teamdb;
    use crate::magics::tests::{context, record, run_line};

    /// Waits until the writer has committed everything handed to it.
    fn flushed(context: &super::MagicContext) {
        assert!(
            context.writer.flush(Duration::from_secs(20)),
            "the writer commits"
        );
    }

    #[test]
    fn remote_magics_answer_from_the_team_store() {
        let Some(db) = teamdb::TestDb::new() else {
            return;
        };
        let (_dir, context) = context();
        context.writer.record(record(1, "lr = 0.1\nacc = 0.5"));
        flushed(&context);
        let trial = context.writer.trial().expect("the trial began").id;
        let store = provstore::Store::open_existing(context.writer.path()).unwrap();
        let mut team = provteam::Team::connect(&db.url).unwrap();
        team.push(&store, &[trial]).unwrap();
        // Someone else's trial: team:2.
        let other = tempfile::tempdir().unwrap();
        let mut theirs = provstore::Store::open(&other.path().join("prov.db")).unwrap();
        let t = theirs
            .begin_trial(&provstore::NewTrial::for_this_process(other.path()))
            .unwrap();
        theirs
            .record_execution(t.id, &record(1, "lr = 0.3\nacc = 0.6"))
            .unwrap();
        theirs
            .end_trial(t.id, provstore::TrialStatus::Finished)
            .unwrap();
        team.push(&theirs, &[t.id]).unwrap();
        provteam::add_remote(context.writer.path(), "team", &db.url).unwrap();
        // The kernel's trial goes on after its push.
        context.writer.record(record(2, "lr = 0.2\nacc = 0.7"));
        flushed(&context);

        let trials = run_line(&context, "%trials --remote team").unwrap();
        let uuid = context.writer.trial().unwrap().uuid;
        assert_eq!(
            trials.json.as_array().map(Vec::len),
            Some(2),
            "{}",
            trials.json
        );
        assert_eq!(trials.json[0]["uuid"], uuid.as_str(), "{}", trials.json);
        assert_eq!(
            trials.json[0]["executions"], 1,
            "the pushed copy: {}",
            trials.json
        );
        assert!(trials.text.contains("2 trials"), "{}", trials.text);
        let none = run_line(&context, "%trials --remote team --user nobody-at-all").unwrap();
        assert_eq!(none.json.as_array().map(Vec::len), Some(0), "{}", none.json);

        // Against this kernel's trial, and a local trial named against a remote one.
        let diff = run_line(&context, "%trial_diff team:2").unwrap();
        assert!(diff.text.contains("lr = 0.3"), "{}", diff.text);
        assert!(diff.text.contains("lr = 0.2"), "{}", diff.text);
        let named = run_line(&context, &format!("%trial_diff team:2 {trial}")).unwrap();
        assert_eq!(named.json, diff.json);
        // A trial and its pushed copy are one trial.
        let copy = run_line(&context, "%trial_diff team:1").unwrap_err();
        assert!(copy.contains("nothing to compare"), "{copy}");

        let unknown = run_line(&context, "%trials --remote nope").unwrap_err();
        assert!(unknown.contains("no remote named \"nope\""), "{unknown}");
        assert!(unknown.contains("team"), "{unknown}");
        let missing = run_line(&context, "%trial_diff team:99").unwrap_err();
        assert!(missing.contains("99"), "{missing}");
    }

    #[test]
    fn a_silent_server_holds_neither_the_recorder_nor_the_cell_for_ever() {
        // A server that accepts connections and never says a word.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let (_dir, context) = context();
        let url = format!("postgresql://ann@127.0.0.1:{port}/prov?connect_timeout=2");
        provteam::add_remote(context.writer.path(), "slow", &url).unwrap();
        let context = std::sync::Arc::new(context);
        let asking = {
            let context = std::sync::Arc::clone(&context);
            std::thread::spawn(move || {
                let started = Instant::now();
                (
                    run_line(&context, "%trials --remote slow"),
                    started.elapsed(),
                )
            })
        };
        // Meanwhile the writer thread records and answers as usual.
        std::thread::sleep(Duration::from_millis(200));
        let before = Instant::now();
        context.writer.record(record(1, "x = 1"));
        flushed(&context);
        let count = context
            .writer
            .query(|store| store.trial_overviews())
            .unwrap();
        assert_eq!(count.len(), 1);
        assert!(
            before.elapsed() < Duration::from_secs(1),
            "{:?}",
            before.elapsed()
        );
        let (answer, took) = asking.join().unwrap();
        let message = answer.unwrap_err();
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(took < super::DEADLINE, "{took:?}");
        drop(silent);
    }
}
