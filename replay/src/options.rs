//! How a replay runs: what `provctl replay`'s options set (its own module, as both the crate's
//! entry point and the session read it).

use std::time::Duration;

/// How a replay runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The kernelspec to run it in.
    pub kernel: String,
    /// Stop after this execution (`In[n]` or `n`).
    pub until: Option<String>,
    /// How far apart two floats in text may be, relative, and still count as equal.
    pub tolerance: f64,
    /// The longest one execution may take.
    pub timeout: Duration,
    /// The longest the kernel may take to start answering.
    pub startup_timeout: Duration,
    /// The replay trial's name (default: `replay-of-<source>`, made unique).
    pub name: Option<String>,
}
