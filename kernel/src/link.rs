//! The proxy's link to the child: the sending halves of our request sockets towards it, and the
//! proxy's own requests on them (the handshake, the probe's installation, the environment),
//! whose replies and iopub traffic no frontend may see.

use crate::connection::Channel;
use crate::debug;
use crate::messages::Author;
use crate::wire::RawMessage;
use anyhow::{bail, Result};
use bytes::Bytes;
use provzmtp::DealerSender;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// The proxy's own requests in flight. Plain state, no socket: the relay's decisions about them
/// are tested in-process.
#[derive(Default)]
pub(crate) struct OwnRequests {
    /// Waiters for replies, by msg_id.
    waiters: Mutex<HashMap<String, oneshot::Sender<RawMessage>>>,
    /// Ids whose iopub traffic is ours, until their idle.
    ids: Mutex<HashSet<String>>,
    /// `ids.len()`, read without the lock on the relay's common path.
    count: AtomicUsize,
}

impl OwnRequests {
    /// Notes a request of ours; its reply comes on the receiver.
    pub(crate) fn note(&self, msg_id: String) -> oneshot::Receiver<RawMessage> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(msg_id.clone(), tx);
        if lock(&self.ids).insert(msg_id) {
            self.count.fetch_add(1, Ordering::Release);
        }
        rx
    }

    /// Hands a reply to one of our requests to its waiter (`None`), or gives it back.
    ///
    /// Frontends' replies always carry a routing identity and ours never do, so the common
    /// path costs no lock. A late reply whose waiter gave up is dropped.
    pub(crate) fn take_reply(&self, parent_id: &str, raw: RawMessage) -> Option<RawMessage> {
        if !raw.identities.is_empty() {
            return Some(raw);
        }
        match lock(&self.waiters).remove(parent_id) {
            Some(waiter) => {
                let _ = waiter.send(raw);
            }
            None => debug!("dropping a late reply to one of our own requests"),
        }
        None
    }

    /// Whether an iopub message (of the parent `parent_id` gives, saying idle or not) is about
    /// one of our requests, so frontends must not see it; its idle ends that. With none of ours
    /// in flight (the common path) neither the parent header is read nor a lock taken.
    pub(crate) fn claims_iopub(
        &self,
        parent_id: impl FnOnce() -> String,
        is_idle: impl FnOnce() -> bool,
    ) -> bool {
        if self.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let parent_id = parent_id();
        let mut ids = lock(&self.ids);
        if !ids.contains(&parent_id) {
            return false;
        }
        if is_idle() {
            ids.remove(&parent_id);
            self.count.fetch_sub(1, Ordering::Release);
        }
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each lock is held for one map operation: a panic elsewhere cannot leave it half-done.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Our request sockets towards the child, and our own requests on them.
pub(crate) struct ChildLink {
    shell: tokio::sync::Mutex<DealerSender>,
    control: tokio::sync::Mutex<DealerSender>,
    stdin: tokio::sync::Mutex<DealerSender>,
    author: Author,
    pub(crate) own: OwnRequests,
}

impl ChildLink {
    pub(crate) fn new([shell, control, stdin]: [DealerSender; 3], author: Author) -> ChildLink {
        ChildLink {
            shell: tokio::sync::Mutex::new(shell),
            control: tokio::sync::Mutex::new(control),
            stdin: tokio::sync::Mutex::new(stdin),
            author,
            own: OwnRequests::default(),
        }
    }

    /// Sends frames to the child on one of the request channels; waits while the child is not
    /// reading (a request is never dropped).
    pub(crate) async fn send(&self, channel: Channel, msg: Vec<Bytes>) -> Result<()> {
        let socket = match channel {
            Channel::Shell => &self.shell,
            Channel::Control => &self.control,
            Channel::Stdin => &self.stdin,
            other => bail!("{} is not a request channel", other.name()),
        };
        socket.lock().await.send(&msg).await?;
        Ok(())
    }

    /// Sends one of the proxy's own requests to the child; the reply comes on the receiver and
    /// neither the reply nor its iopub traffic reaches any frontend.
    pub(crate) async fn request(
        &self,
        channel: Channel,
        msg_type: &str,
        content: &serde_json::Value,
    ) -> Result<oneshot::Receiver<RawMessage>> {
        let msg = self.author.message(msg_type, None, content, vec![]);
        let rx = self.own.note(msg.header().msg_id);
        self.send(channel, msg.into_frames()).await?;
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::tests::signed;
    use crate::wire::Signer;

    #[test]
    fn our_replies_go_to_their_waiter_and_frontends_replies_pass() {
        let own = OwnRequests::default();
        let signer = Signer::new(b"k");
        let mut waiter = own.note("ours".into());
        let frontend = signed(&signer, &["client"], ["{}", "{}", "{}", "{}"]);
        assert!(own.take_reply("ours", frontend).is_some(), "has a route");
        let ours = signed(&signer, &[], ["{}", "{}", "{}", r#"{"status":"ok"}"#]);
        assert!(own.take_reply("ours", ours).is_none());
        assert_eq!(
            &waiter.try_recv().unwrap().content[..],
            br#"{"status":"ok"}"#
        );
        let late = signed(&signer, &[], ["{}", "{}", "{}", "{}"]);
        assert!(
            own.take_reply("ours", late).is_none(),
            "a late one is dropped"
        );
    }

    #[test]
    fn our_iopub_traffic_is_claimed_until_its_idle() {
        let own = OwnRequests::default();
        assert!(!own.claims_iopub(
            || unreachable!("no parent read"),
            || unreachable!("no lock taken")
        ));
        let _reply = own.note("ours".into());
        assert!(!own.claims_iopub(|| "theirs".into(), || false));
        assert!(own.claims_iopub(|| "ours".into(), || false), "busy");
        assert!(own.claims_iopub(|| "ours".into(), || true), "idle");
        assert!(
            !own.claims_iopub(|| "ours".into(), || true),
            "after its idle"
        );
        assert_eq!(own.count.load(Ordering::Acquire), 0);
    }
}
