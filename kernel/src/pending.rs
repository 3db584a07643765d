//! The book of requests the child has not answered yet, so that if it dies every waiting
//! frontend still gets a reply instead of hanging.
//!
//! Bounded: a request the child never answers (a replay it rejects, an unknown message type)
//! would otherwise stay forever, so past [`MAX_PENDING`] the oldest is forgotten (it only
//! loses its death reply). Requests repeating a msg_id are kept apart and answered in order.

use crate::connection::Channel;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

/// Requests kept at most.
const MAX_PENDING: usize = 4096;

/// One forwarded request awaiting its reply.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Where the reply must go back.
    pub channel: Channel,
    /// The routing identities to answer to.
    pub identities: Vec<Bytes>,
    /// The request's header frame, byte for byte: the reply's parent_header.
    pub header: Bytes,
    pub msg_type: String,
}

/// Requests in flight, oldest first, and where each msg_id's are.
#[derive(Default)]
struct Book {
    by_order: BTreeMap<u64, (String, Pending)>,
    by_id: HashMap<String, VecDeque<u64>>,
    next: u64,
}

impl Book {
    fn forget(&mut self, msg_id: &str, order: u64) {
        if let Some(orders) = self.by_id.get_mut(msg_id) {
            orders.retain(|o| *o != order);
            if orders.is_empty() {
                self.by_id.remove(msg_id);
            }
        }
    }
}

/// Requests in flight. A plain mutex: held for one map operation at a time.
#[derive(Default)]
pub struct PendingBook {
    book: Mutex<Book>,
    /// Woken whenever the book becomes empty.
    emptied: Notify,
}

impl PendingBook {
    /// Notes a request that was just forwarded to the child.
    pub fn insert(&self, msg_id: String, pending: Pending) {
        let mut book = self.lock();
        book.next += 1;
        let order = book.next;
        book.by_id
            .entry(msg_id.clone())
            .or_default()
            .push_back(order);
        book.by_order.insert(order, (msg_id, pending));
        while book.by_order.len() > MAX_PENDING {
            let Some((order, (msg_id, _))) = book.by_order.pop_first() else {
                break;
            };
            book.forget(&msg_id, order);
        }
    }

    /// Forgets the oldest request with this msg_id once its reply came back.
    pub fn remove(&self, msg_id: &str) -> Option<Pending> {
        let mut book = self.lock();
        let order = *book.by_id.get(msg_id)?.front()?;
        book.forget(msg_id, order);
        let removed = book.by_order.remove(&order).map(|(_, p)| p);
        if book.by_order.is_empty() {
            self.emptied.notify_waiters();
        }
        removed
    }

    /// Waits at most `limit` until no request waits (the child answered them all); says
    /// whether none does.
    pub async fn wait_empty(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let emptied = self.emptied.notified();
            if self.len() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, emptied).await.is_err() {
                return self.len() == 0;
            }
        }
    }

    /// Takes every request still waiting (when the child died), oldest first.
    pub fn drain(&self) -> Vec<Pending> {
        let mut book = self.lock();
        book.by_id.clear();
        let drained = std::mem::take(&mut book.by_order)
            .into_values()
            .map(|(_, p)| p)
            .collect();
        self.emptied.notify_waiters();
        drained
    }

    /// How many requests are waiting.
    pub fn len(&self) -> usize {
        self.lock().by_order.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        // A panic elsewhere while holding the lock cannot leave the map half-updated.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: u8) -> Pending {
        Pending {
            channel: Channel::Shell,
            identities: vec![Bytes::from(vec![n])],
            header: Bytes::new(),
            msg_type: "execute_request".into(),
        }
    }

    #[test]
    fn repeated_ids_are_answered_in_order() {
        let book = PendingBook::default();
        book.insert("a".into(), request(1));
        book.insert("a".into(), request(2));
        assert_eq!(book.remove("a").unwrap().identities[0][0], 1);
        assert_eq!(book.len(), 1);
        assert_eq!(book.remove("a").unwrap().identities[0][0], 2);
        assert!(book.remove("a").is_none());
    }

    #[test]
    fn never_answered_requests_are_bounded() {
        let book = PendingBook::default();
        for i in 0..MAX_PENDING + 100 {
            book.insert(format!("m{i}"), request(0));
        }
        assert_eq!(book.len(), MAX_PENDING);
        assert!(book.remove("m0").is_none(), "the oldest was forgotten");
        assert!(book.remove(&format!("m{}", MAX_PENDING + 99)).is_some());
        assert_eq!(book.drain().len(), MAX_PENDING - 1);
        assert_eq!(book.len(), 0);
    }

    #[tokio::test]
    async fn waiting_for_an_empty_book_ends_at_the_last_reply() {
        let book = std::sync::Arc::new(PendingBook::default());
        assert!(book.wait_empty(Duration::ZERO).await);
        book.insert("a".into(), request(1));
        assert!(!book.wait_empty(Duration::from_millis(5)).await);
        let replies = std::sync::Arc::clone(&book);
        let waiter = tokio::spawn(async move { book.wait_empty(Duration::from_secs(30)).await });
        tokio::task::yield_now().await;
        replies.remove("a");
        assert!(waiter.await.unwrap());
    }
}
