//! The recorder over a real store, without sockets: taps in, executions out.

use super::*;
use crate::edit::tests::signed;
use crate::wire::Signer;

const SECRET: &[u8] = b"secret";

/// A recorder over a new store in `dir`, its tap, and the writer (to read what it recorded).
fn recorder(dir: &std::path::Path) -> (TapSender, Arc<WriterHandle>) {
    recorder_telling(dir, None)
}

/// [`recorder`], telling `on_commit` of each commit.
fn recorder_telling(
    dir: &std::path::Path,
    on_commit: Option<OnCommit>,
) -> (TapSender, Arc<WriterHandle>) {
    let writer = provstore::Writer::start(
        &dir.join("prov.db"),
        provstore::NewTrial::for_this_process(dir),
        Box::new(|_| {}),
    )
    .expect("the writer starts");
    let writer = Arc::new(writer);
    let (tx, rx) = tap();
    let (publish, _) = mpsc::unbounded_channel();
    spawn(
        rx,
        Arc::clone(&writer),
        Author::new(Signer::new(SECRET)),
        publish,
        Arc::default(),
        on_commit,
    );
    (tx, writer)
}

fn header(msg_id: &str, msg_type: &str) -> String {
    format!(r#"{{"msg_id":"{msg_id}","msg_type":"{msg_type}","session":"s"}}"#)
}

fn request(msg_id: &str, code: &str) -> Tap {
    let content = serde_json::json!({"code": code, "silent": false}).to_string();
    let raw = signed(
        &Signer::new(SECRET),
        &["client"],
        [&header(msg_id, "execute_request"), "{}", "{}", &content],
    );
    Tap::Request {
        raw,
        at: Utc::now(),
        typed_code: None,
    }
}

fn from_child(msg_id: &str, msg_type: &str, content: &str) -> RawMessage {
    signed(
        &Signer::new(SECRET),
        &[],
        [
            &header(&format!("{msg_id}-{msg_type}"), msg_type),
            &header(msg_id, "execute_request"),
            "{}",
            content,
        ],
    )
}

fn status(msg_id: &str, state: &str) -> Tap {
    let content = format!(r#"{{"execution_state":"{state}"}}"#);
    Tap::Iopub(from_child(msg_id, "status", &content), Utc::now(), None)
}

fn reply(msg_id: &str) -> Tap {
    let content = r#"{"status":"ok","execution_count":1}"#;
    Tap::Reply(
        from_child(msg_id, "execute_reply", content),
        None,
        Vec::new(),
    )
}

fn recorded(writer: &WriterHandle) -> Vec<String> {
    // The trial row is written by the writer thread as it starts.
    let trial = (0..500)
        .find_map(|_| {
            let trial = writer.trial();
            if trial.is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
            trial
        })
        .expect("the trial began")
        .id;
    let executions = writer.query(move |store| store.executions(trial)).unwrap();
    executions.into_iter().map(|e| e.code).collect()
}

#[tokio::test]
async fn a_barrier_opens_once_every_earlier_execution_went_to_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (tap, writer) = recorder(dir.path());
    tap.send(request("a", "x = 1"));
    tap.send(request("b", "%tags"));
    let (done, mut opened) = oneshot::channel();
    tap.send(Tap::Barrier("b".into(), done));
    tap.send(status("a", "busy"));
    tap.send(status("a", "idle"));
    tokio::task::yield_now().await;
    // `a` went idle but its reply (held while its cell's magics run) has not come.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut opened)
            .await
            .is_err(),
        "the barrier opened before the execution before it was recorded"
    );
    tap.send(reply("a"));
    opened.await.expect("the barrier opens");
    // The writer's queue is in order: a query sent now sees `a`.
    assert_eq!(recorded(&writer), ["x = 1"]);
}

#[tokio::test]
async fn a_barrier_for_an_unknown_request_waits_for_everything_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (tap, writer) = recorder(dir.path());
    tap.send(request("a", "x = 1"));
    let (done, mut opened) = oneshot::channel();
    tap.send(Tap::Barrier("never-seen".into(), done));
    tap.send(status("a", "busy"));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut opened)
            .await
            .is_err(),
        "opened with an execution in flight"
    );
    tap.send(status("a", "idle"));
    tap.send(reply("a"));
    opened.await.expect("the barrier opens");
    assert_eq!(recorded(&writer), ["x = 1"]);

    // With nothing in flight, at once.
    let (done, opened) = oneshot::channel();
    tap.send(Tap::Barrier("b".into(), done));
    opened.await.expect("the barrier opens");
}

#[tokio::test]
async fn each_commit_is_told_after_it_is_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (told, mut commits) = mpsc::unbounded_channel();
    let db = dir.path().join("prov.db");
    // What another connection to the store (the background push's) sees when told.
    let on_commit: OnCommit = Arc::new(move || {
        let store = provstore::Store::open_existing(&db).expect("the store opens");
        let trial = store.trials().expect("trials")[0].id;
        let _ = told.send(store.executions(trial).expect("executions").len());
    });
    let (tap, _writer) = recorder_telling(dir.path(), Some(on_commit));
    for (n, id) in ["a", "b"].into_iter().enumerate() {
        tap.send(request(id, "x = 1"));
        tap.send(status(id, "busy"));
        tap.send(status(id, "idle"));
        tap.send(reply(id));
        let seen = tokio::time::timeout(Duration::from_secs(10), commits.recv()).await;
        assert_eq!(seen.expect("told within 10 s"), Some(n + 1));
    }
}
