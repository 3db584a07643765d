//! The WAL's checkpoint off the writer's path ([`crate::Store::checkpoint_in_background`]). SQLite's automatic checkpoint runs inside the
//! commit that takes the WAL past 1,000 pages: copying them into the database and two `fsync`s,
//! while the cell whose execution that commit holds waits for its idle. The kernel's writer
//! instead hands the checkpoint to a thread of its own with a connection of its own; a `PASSIVE`
//! checkpoint never blocks the writer's commits, and the WAL starts over at the writer's next
//! transaction once everything in it is in the database.
//!
//! Bounded: should the thread fall behind (commits arriving faster than it copies, or a reader
//! holding an old snapshot), the writer checkpoints inline once the WAL reaches
//! [`CHECKPOINT_INLINE_AT`] pages, as SQLite itself would at 1,000.

use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::hooks::Wal;
use rusqlite::Connection;

/// Pages in the WAL at which the checkpoint thread is asked to run: SQLite's own default.
pub(crate) const CHECKPOINT_AT: c_int = 1000;

/// Pages in the WAL at which the writer checkpoints itself (see the module's docs).
pub(crate) const CHECKPOINT_INLINE_AT: c_int = 4 * CHECKPOINT_AT;

/// What the checkpoint thread is told.
enum Nudge {
    Run,
    Stop,
}

/// How many checkpoints ran where, for tests and measurements.
#[derive(Debug, Default)]
pub(crate) struct CheckpointCounts {
    /// Run by the checkpoint thread.
    pub(crate) background: AtomicU64,
    /// Run by the writer in its commit (the WAL reached [`CHECKPOINT_INLINE_AT`]).
    pub(crate) inline: AtomicU64,
    /// The WAL's pages after the writer's latest commit.
    pub(crate) wal_pages: AtomicU64,
}

/// The checkpoint thread of one writing [`crate::Store`]; stopped and joined when dropped.
pub(crate) struct Checkpointer {
    tx: SyncSender<Nudge>,
    thread: Option<JoinHandle<()>>,
    /// Kept by the hook and the thread; read by the tests.
    pub(crate) counts: Arc<CheckpointCounts>,
}

impl Checkpointer {
    /// Starts the thread, which checkpoints through `conn` (a connection of its own to the
    /// store) each time [`Checkpointer::hook`] asks.
    pub(crate) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let counts = Arc::new(CheckpointCounts::default());
        let (tx, rx) = mpsc::sync_channel::<Nudge>(1);
        let ran = Arc::clone(&counts);
        let thread = std::thread::Builder::new()
            .name("prov-checkpoint".into())
            .spawn(move || {
                while let Ok(Nudge::Run) = rx.recv() {
                    // PASSIVE: copies what it can without waiting for anyone; a failure (a
                    // reader in the way, a full disk) leaves the frames for the next run.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    ran.background.fetch_add(1, Ordering::Relaxed);
                }
            })?;
        Ok(Checkpointer {
            tx,
            thread: Some(thread),
            counts,
        })
    }

    /// The writer connection's WAL hook (`Connection::wal_hook`), replacing SQLite's
    /// automatic checkpoint, which is this same hook: past [`CHECKPOINT_AT`] pages it nudges
    /// the thread, past [`CHECKPOINT_INLINE_AT`] it checkpoints in the commit.
    pub(crate) fn hook(&self) -> impl FnMut(&mut Wal, c_int) -> rusqlite::Result<()> + Send {
        let tx = self.tx.clone();
        let counts = Arc::clone(&self.counts);
        move |wal: &mut Wal, pages: c_int| {
            counts.wal_pages.store(pages as u64, Ordering::Relaxed);
            if pages >= CHECKPOINT_INLINE_AT {
                let _ = wal.checkpoint();
                counts.inline.fetch_add(1, Ordering::Relaxed);
            } else if pages >= CHECKPOINT_AT {
                // Full: a nudge is already waiting.
                let _ = tx.try_send(Nudge::Run);
            }
            // The commit happened either way: an error here would only report it failed.
            Ok(())
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Sent, not left to the channel's closing: the commit hook holds a sender too.
        let _ = self.tx.send(Nudge::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The size of `path`'s WAL in pages of `page_size` bytes (0 when there is none).
#[cfg(test)]
pub(crate) fn wal_pages(path: &std::path::Path, page_size: u64) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = std::fs::metadata(wal).map_or(0, |m| m.len());
    // A 32-byte header, then each frame: a 24-byte header and the page.
    bytes.saturating_sub(32) / (24 + page_size)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{DataflowRecord, ExecStatus, ExecutionRecord, NewTrial, Store};

    fn test_trial() -> NewTrial {
        NewTrial {
            notebook: None,
            cwd: "/".into(),
            platform: "test".into(),
            pid: 1,
            hostname: "test".into(),
            started_at: chrono::Utc::now(),
            user: None,
        }
    }

    fn pass(n: i64) -> ExecutionRecord {
        let at = chrono::Utc::now();
        ExecutionRecord {
            msg_id: format!("msg-{n}"),
            execution_count: Some(n),
            cell_id: None,
            code: "pass".into(),
            code_replaced: false,
            started_at: at,
            ended_at: at,
            status: ExecStatus::Ok,
            error: None,
            outputs: vec![],
            dataflow: Some(DataflowRecord {
                analysis: String::new(),
                runtime: None,
                failed_line: None,
            }),
        }
    }

    /// A kernel whose cells leave the thread time to finish: it does every checkpoint, none
    /// runs in a commit, and the WAL starts over near the checkpoint's size.
    #[test]
    fn the_thread_keeps_the_wal_bounded_and_the_commits_never_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("prov.db");
        let mut store = Store::open(&db).unwrap();
        let trial = store.begin_trial(&test_trial()).unwrap().id;
        store.checkpoint_in_background().unwrap();
        let page: u64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| {
                r.get::<_, i64>(0).map(|p| p as u64)
            })
            .unwrap();
        let counts = Arc::clone(&store.checkpointer.as_ref().unwrap().counts);
        let mut largest = 0;
        let mut ran = 0;
        for n in 1..=1500 {
            store.record_execution(trial, &pass(n)).unwrap();
            largest = largest.max(wal_pages(&db, page));
            if counts.wal_pages.load(Ordering::Relaxed) >= CHECKPOINT_AT as u64 {
                // The next cell comes once the thread is done (on a loaded machine it may take a
                // while to be scheduled: the wait is for it, not for a time).
                let asked = std::time::Instant::now();
                while counts.background.load(Ordering::Relaxed) == ran {
                    assert!(
                        asked.elapsed() < Duration::from_secs(20),
                        "no checkpoint ran"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                ran = counts.background.load(Ordering::Relaxed);
            }
        }
        assert!(ran >= 5, "{ran} checkpoints");
        assert_eq!(counts.inline.load(Ordering::Relaxed), 0);
        assert!(largest <= 2 * CHECKPOINT_AT as u64, "{largest} pages");
        drop(store);
        let store = Store::open(&db).unwrap();
        assert_eq!(store.executions(trial).unwrap().len(), 1500);
    }

    /// Unpaced, the thread may never find the WAL quiet: the commits' own checkpoint bounds it.
    #[test]
    fn a_wal_the_thread_cannot_catch_is_checkpointed_by_the_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("prov.db");
        let mut store = Store::open(&db).unwrap();
        let trial = store.begin_trial(&test_trial()).unwrap().id;
        store.checkpoint_in_background().unwrap();
        // A reader holding its snapshot keeps every frame in the WAL.
        let reader = Connection::open(&db).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM executions;")
            .unwrap();
        let page: u64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| {
                r.get::<_, i64>(0).map(|p| p as u64)
            })
            .unwrap();
        let mut n = 0;
        while wal_pages(&db, page) < CHECKPOINT_INLINE_AT as u64 {
            n += 1;
            store.record_execution(trial, &pass(n)).unwrap();
        }
        reader.execute_batch("COMMIT").unwrap();
        let before = store
            .checkpointer
            .as_ref()
            .unwrap()
            .counts
            .inline
            .load(Ordering::Relaxed);
        // The reader gone, the next commits' checkpoint empties the WAL and it starts over.
        for _ in 0..3 {
            n += 1;
            store.record_execution(trial, &pass(n)).unwrap();
        }
        let counts = &store.checkpointer.as_ref().unwrap().counts;
        assert!(counts.inline.load(Ordering::Relaxed) > before);
        let frames: i64 = store
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(frames < CHECKPOINT_AT as i64, "{frames} frames in the WAL");
    }
}
