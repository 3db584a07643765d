//! When the background push may run next: pure bookkeeping over instants, so coalescing and
//! backoff are tested without a clock or a network.

use std::time::{Duration, Instant};

/// The push's pace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// At least this long from one push's start to the next while the remote answers:
    /// commits in between are coalesced into the next push.
    pub(crate) interval: Duration,
    /// The wait after the first failure; doubled after each further one.
    pub(crate) first_retry: Duration,
    /// The longest wait between tries while the remote is down.
    pub(crate) max_backoff: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            interval: Duration::from_secs(2),
            first_retry: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What a push's outcome changed, for the log's one line per change.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing to say (still up, or still down).
    Same,
    /// The remote went down (the first failure after a success, or ever).
    Down,
    /// The remote answers again after failures.
    Back,
}

/// The next moment a push may start.
#[derive(Debug)]
pub(crate) struct Schedule {
    timing: Timing,
    /// No push before this.
    not_before: Option<Instant>,
    /// The current wait between failed tries; None while the remote answers.
    backoff: Option<Duration>,
}

impl Schedule {
    pub(crate) fn new(timing: Timing) -> Schedule {
        Schedule {
            timing,
            not_before: None,
            backoff: None,
        }
    }

    /// How long to wait from `now` before pushing; None when a push may start now.
    pub(crate) fn wait(&self, now: Instant) -> Option<Duration> {
        self.not_before
            .and_then(|at| at.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// A push that began before `now` succeeded.
    pub(crate) fn pushed(&mut self, now: Instant) -> Change {
        self.not_before = Some(now + self.timing.interval);
        match self.backoff.take() {
            Some(_) => Change::Back,
            None => Change::Same,
        }
    }

    /// A push failed at `now`: the next waits twice as long as the last (up to the maximum).
    pub(crate) fn failed(&mut self, now: Instant) -> Change {
        let (backoff, change) = match self.backoff {
            Some(last) => ((last * 2).min(self.timing.max_backoff), Change::Same),
            None => (self.timing.first_retry, Change::Down),
        };
        self.backoff = Some(backoff);
        self.not_before = Some(now + backoff);
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn pushes_at_once_then_at_most_every_interval() {
        let mut schedule = Schedule::new(Timing::default());
        let t0 = Instant::now();
        assert_eq!(schedule.wait(t0), None, "the first push waits for nothing");
        assert_eq!(schedule.pushed(t0), Change::Same);
        assert_eq!(schedule.wait(t0), Some(2 * S));
        assert_eq!(schedule.wait(t0 + S), Some(S));
        assert_eq!(schedule.wait(t0 + 2 * S), None);
    }

    #[test]
    fn failures_back_off_doubling_up_to_the_maximum_and_say_down_once() {
        let mut schedule = Schedule::new(Timing::default());
        let mut now = Instant::now();
        let mut waits = Vec::new();
        let mut changes = Vec::new();
        for _ in 0..8 {
            changes.push(schedule.failed(now));
            let wait = schedule.wait(now).expect("a failure makes it wait");
            waits.push(wait.as_secs());
            now += wait;
            assert_eq!(schedule.wait(now), None, "due once the wait is over");
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(changes[0], Change::Down);
        assert!(
            changes[1..].iter().all(|c| *c == Change::Same),
            "{changes:?}"
        );
    }

    #[test]
    fn a_success_after_failures_says_back_once_and_resets_the_backoff() {
        let mut schedule = Schedule::new(Timing::default());
        let now = Instant::now();
        schedule.failed(now);
        schedule.failed(now);
        assert_eq!(schedule.pushed(now), Change::Back);
        assert_eq!(schedule.pushed(now), Change::Same);
        assert_eq!(
            schedule.failed(now),
            Change::Down,
            "down again after being back"
        );
        assert_eq!(schedule.wait(now), Some(2 * S), "the backoff starts over");
    }
}
