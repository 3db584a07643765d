//! A one-way flag one task raises and another reads or waits for: the child's first iopub
//! traffic (the handshake waits for it), a frontend's `shutdown_request` (the child's exit is
//! then expected).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Flag {
    raised: AtomicBool,
    notify: Notify,
}

impl Flag {
    /// Raises the flag (again is harmless) and wakes whoever waits for it.
    pub(crate) fn raise(&self) {
        if !self.raised.swap(true, Ordering::AcqRel) {
            self.notify.notify_waiters();
        }
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
    }

    /// Waits at most `limit` for the flag; says whether it is raised.
    pub(crate) async fn wait(&self, limit: Duration) -> bool {
        let notified = self.notify.notified();
        if self.is_raised() {
            return true;
        }
        let _ = tokio::time::timeout(limit, notified).await;
        self.is_raised()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_waiter_wakes_when_the_flag_is_raised() {
        let flag = Arc::new(Flag::default());
        assert!(!flag.wait(Duration::from_millis(10)).await);
        let raiser = Arc::clone(&flag);
        let waiter = tokio::spawn(async move { flag.wait(Duration::from_secs(30)).await });
        tokio::task::yield_now().await;
        raiser.raise();
        assert!(waiter.await.unwrap());
    }
}
