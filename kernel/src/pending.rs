//! The book of requests the child has not answered yet, so that if it dies every waiting
//! frontend still gets a reply instead of hanging.

use crate::connection::Channel;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Requests in flight, by msg_id. A plain mutex: held for one map operation at a time.
#[derive(Default)]
pub struct PendingBook {
    requests: Mutex<HashMap<String, Pending>>,
}

impl PendingBook {
    /// Notes a request that was just forwarded to the child.
    pub fn insert(&self, msg_id: String, pending: Pending) {
        self.lock().insert(msg_id, pending);
    }

    /// Forgets a request once its reply came back.
    pub fn remove(&self, msg_id: &str) -> Option<Pending> {
        self.lock().remove(msg_id)
    }

    /// Takes every request still waiting (when the child died).
    pub fn drain(&self) -> Vec<Pending> {
        self.lock().drain().map(|(_, p)| p).collect()
    }

    /// How many requests are waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // A panic elsewhere while holding the lock cannot leave the map half-updated.
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}
