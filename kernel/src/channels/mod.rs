//! One file per kernel channel; each direction of each channel runs as its own task.
//! `frames.rs` (receiving, checking a frontend's message) and `outbox.rs` (the order iopub
//! messages leave in) serve them.

pub(crate) mod frames;
pub(crate) mod heartbeat;
pub(crate) mod iopub;
pub(crate) mod outbox;
pub(crate) mod requests;
pub(crate) mod stdin;
