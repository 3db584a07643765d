//! The pushing thread with an in-process remote that counts pushes and fails or hangs on
//! demand (the real PostgreSQL one is exercised by tests/python/test_team_*.py).

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Clone, Default)]
struct Counting {
    tries: Arc<AtomicUsize>,
    pushed: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    /// Each push sleeps this long (a slow remote).
    slow: Option<Duration>,
}

impl Remote for Counting {
    fn describe(&self) -> String {
        "\"test\"".into()
    }

    fn push(&mut self) -> Result<(), String> {
        self.tries.fetch_add(1, Ordering::SeqCst);
        if let Some(slow) = self.slow {
            std::thread::sleep(slow);
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        self.pushed.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn fast() -> Timing {
    Timing {
        interval: Duration::from_millis(300),
        first_retry: Duration::from_millis(40),
        max_backoff: Duration::from_millis(160),
    }
}

/// Waits until `count` reaches `want` (at most 10 s); its value then.
fn wait_for(count: &AtomicUsize, want: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::SeqCst) < want && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    count.load(Ordering::SeqCst)
}

#[test]
fn commits_in_a_burst_are_coalesced_into_few_pushes() {
    let remote = Counting::default();
    let pusher = Pusher::start(remote.clone(), fast()).expect("a thread");
    let commit = pusher.on_commit();
    for _ in 0..200 {
        commit();
    }
    assert!(
        wait_for(&remote.pushed, 1) >= 1,
        "the first commit starts a push"
    );
    std::thread::sleep(fast().interval * 3);
    let pushed = remote.pushed.load(Ordering::SeqCst);
    assert!(
        (1..=2).contains(&pushed),
        "200 commits at once make one push, and at most one more for those during it: {pushed}"
    );
    std::thread::sleep(fast().interval * 2);
    assert_eq!(
        remote.pushed.load(Ordering::SeqCst),
        pushed,
        "nothing committed since: no push"
    );
    pusher.finish(FINAL_DEADLINE);
    assert_eq!(
        remote.pushed.load(Ordering::SeqCst),
        pushed + 1,
        "the end pushes once more"
    );
}

#[test]
fn a_down_remote_is_retried_with_backoff_and_caught_up_when_back() {
    let remote = Counting::default();
    remote.failing.store(true, Ordering::SeqCst);
    let pusher = Pusher::start(remote.clone(), fast()).expect("a thread");
    pusher.on_commit()();
    // 40, 80, 160, 160… ms between tries: about 7 tries in a second, not hundreds.
    std::thread::sleep(Duration::from_secs(1));
    let tries = remote.tries.load(Ordering::SeqCst);
    assert!(
        (3..=12).contains(&tries),
        "tries in 1 s with backoff: {tries}"
    );
    assert_eq!(remote.pushed.load(Ordering::SeqCst), 0);
    // No new commit: the failed push's changes are still due, and go once the remote is back.
    remote.failing.store(false, Ordering::SeqCst);
    assert_eq!(
        wait_for(&remote.pushed, 1),
        1,
        "caught up without a new commit"
    );
    std::thread::sleep(fast().interval * 2);
    assert_eq!(remote.pushed.load(Ordering::SeqCst), 1, "then quiet");
    pusher.finish(FINAL_DEADLINE);
}

#[test]
fn finishing_pushes_even_while_backing_off() {
    let remote = Counting::default();
    remote.failing.store(true, Ordering::SeqCst);
    let timing = Timing {
        max_backoff: Duration::from_secs(60),
        first_retry: Duration::from_secs(60),
        ..fast()
    };
    let pusher = Pusher::start(remote.clone(), timing).expect("a thread");
    pusher.on_commit()();
    assert_eq!(wait_for(&remote.tries, 1), 1);
    remote.failing.store(false, Ordering::SeqCst);
    pusher.finish(FINAL_DEADLINE);
    assert_eq!(
        remote.pushed.load(Ordering::SeqCst),
        1,
        "the last push ignores the backoff"
    );
}

#[test]
fn finishing_waits_for_a_hung_remote_only_until_the_deadline() {
    let remote = Counting {
        slow: Some(Duration::from_secs(30)),
        ..Counting::default()
    };
    let pusher = Pusher::start(remote.clone(), fast()).expect("a thread");
    pusher.on_commit()();
    assert_eq!(wait_for(&remote.tries, 1), 1, "a push is under way");
    let started = Instant::now();
    pusher.finish(Duration::from_millis(300));
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "finish returned after {waited:?}, not after the remote's 30 s"
    );
}

#[test]
fn a_trial_without_commits_is_not_pushed_at_the_end() {
    let remote = Counting::default();
    let pusher = Pusher::start(remote.clone(), fast()).expect("a thread");
    pusher.finish(FINAL_DEADLINE);
    assert_eq!(remote.tries.load(Ordering::SeqCst), 0);
}
