//! One file per kernel channel; each direction of each channel runs as its own task.

pub mod heartbeat;
pub mod iopub;
pub mod requests;
pub mod stdin;
