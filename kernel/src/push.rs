//! The background push to a team store (`PROV_PUSH=NAME`, or `[push] remote` in the store's
//! config.toml): the kernel's trial goes to the team's PostgreSQL as it is recorded, without
//! the relay or the recording ever waiting for the network.
//!
//! A thread of its own (not the relay's runtime thread, not the store's writer thread) sleeps
//! until the recorder says an execution was committed, then pushes the whole trial (the team
//! store replaces an earlier push of it in one transaction, so every push is complete on its
//! own). Commits in quick succession are coalesced: at most one push every [`Timing::interval`].
//! A remote that cannot be reached or refuses is retried with exponential backoff up to
//! [`Timing::max_backoff`]; the log says once that it went down and once that it is back. The
//! local store keeps everything meanwhile; the next push (or `provctl push`) catches up.
//!
//! At shutdown [`Pusher::finish`] asks for one last push (the trial's final status) and waits
//! for it at most a short deadline: a slow remote never delays the kernel's exit beyond that.

pub(crate) mod schedule;
pub(crate) mod team;
#[cfg(test)]
mod tests;

use crate::{debug, info, warn};
use schedule::{Change, Schedule, Timing};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the kernel's shutdown waits for the last push.
pub(crate) const FINAL_DEADLINE: Duration = Duration::from_secs(2);

/// Where the trial goes: pushes the trial as it stands now.
pub(crate) trait Remote: Send + 'static {
    /// The remote's name and URL (never a password) for the log.
    fn describe(&self) -> String;
    /// Pushes the trial; an error says why not, for the log. A failed push leaves nothing
    /// half-written on the remote (one transaction per trial), so it is simply tried again.
    fn push(&mut self) -> Result<(), String>;
}

/// What the kernel and the pushing thread share.
#[derive(Default)]
struct State {
    /// Something was committed since the last successful push began.
    dirty: bool,
    /// Something was ever committed: a trial without executions is not pushed.
    committed: bool,
    /// The kernel is ending: push once more, then stop.
    finishing: bool,
    /// The thread has stopped.
    done: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The kernel's side of the pushing thread.
pub(crate) struct Pusher {
    shared: Arc<Shared>,
}

impl Pusher {
    /// Starts the pushing thread for `remote`. The first push happens after the first commit.
    /// None when the OS refuses a thread (logged): the kernel records as usual and
    /// `provctl push` pushes later.
    pub(crate) fn start(remote: impl Remote, timing: Timing) -> Option<Pusher> {
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let what = remote.describe();
        let spawned = std::thread::Builder::new()
            .name("prov-push".into())
            .spawn(move || run(&thread_shared, remote, timing));
        match spawned {
            Ok(_) => {
                info!("pushing this trial to the team store {what} in the background");
                Some(Pusher { shared })
            }
            Err(e) => {
                warn!("cannot start pushing to {what}: {e}; `provctl push` pushes later");
                None
            }
        }
    }

    /// What the recorder calls after each commit: marks the trial as changed and wakes the
    /// thread. Never blocks beyond a short lock.
    pub(crate) fn on_commit(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || {
            let mut state = shared.lock();
            state.dirty = true;
            state.committed = true;
            shared.changed.notify_all();
        }
    }

    /// Asks for one last push (none when nothing was ever committed) and waits for it at most
    /// `deadline`; then the thread is left to itself (it ends with the process). Blocks: call
    /// it off the relay's thread.
    pub(crate) fn finish(&self, deadline: Duration) {
        let until = Instant::now() + deadline;
        let mut state = self.shared.lock();
        state.finishing = true;
        self.shared.changed.notify_all();
        while !state.done {
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                warn!("the last push did not end within {deadline:?}; `provctl push` completes it");
                return;
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The pushing thread: waits for a commit (or the end), pushes when the schedule allows.
fn run(shared: &Shared, mut remote: impl Remote, timing: Timing) {
    let mut schedule = Schedule::new(timing);
    loop {
        let finishing = match wait_for_work(shared, &schedule) {
            Work::Push => false,
            Work::Last => true,
            Work::Stop => {
                end(shared);
                return;
            }
        };
        // A bug in the push must not end the thread and leave the trial unpushed for good.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| remote.push()))
            .unwrap_or_else(|_| Err("the push failed unexpectedly (a bug in prov)".into()));
        let now = Instant::now();
        match result {
            Ok(()) => {
                if schedule.pushed(now) == Change::Back {
                    info!(
                        "the team store {} is reachable again; the trial is pushed",
                        remote.describe()
                    );
                }
                debug!("pushed the trial to {}", remote.describe());
            }
            Err(why) => {
                // The commits since stay unpushed: the next push takes them.
                shared.lock().dirty = true;
                if schedule.failed(now) == Change::Down {
                    warn!(
                        "cannot push to the team store {}: {why}; the trial stays in the local \
                         store and is pushed once the team store answers again (retried \
                         with backoff up to {} s)",
                        remote.describe(),
                        timing.max_backoff.as_secs()
                    );
                } else {
                    debug!("push to {} failed again: {why}", remote.describe());
                }
            }
        }
        if finishing {
            end(shared);
            return;
        }
    }
}

/// Tells [`Pusher::finish`] that the thread is done.
fn end(shared: &Shared) {
    shared.lock().done = true;
    shared.changed.notify_all();
}

/// What the thread does next.
enum Work {
    Push,
    /// The kernel is ending: the last push.
    Last,
    /// The kernel is ending and nothing was ever committed.
    Stop,
}

/// Sleeps until a push is due: something was committed and the schedule allows one, or the
/// kernel is ending (whatever the backoff says: the last chance before exit).
fn wait_for_work(shared: &Shared, schedule: &Schedule) -> Work {
    let mut state = shared.lock();
    loop {
        if state.finishing {
            state.dirty = false;
            return match state.committed {
                true => Work::Last,
                false => Work::Stop,
            };
        }
        let now = Instant::now();
        let wait = match state.dirty {
            true => match schedule.wait(now) {
                None => {
                    state.dirty = false;
                    return Work::Push;
                }
                Some(wait) => wait,
            },
            // Only a commit or the end wakes it.
            false => Duration::from_secs(3600),
        };
        state = shared
            .changed
            .wait_timeout(state, wait)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
