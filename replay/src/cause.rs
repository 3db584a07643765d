//! The likely cause of the first divergence, from the provenance of both trials (their trial
//! diff) and the code that ran up to it, tried in this order: the replay could not run it; an
//! input file whose content changed; a package (or Python) version that changed; a name or
//! module the recorded executions do not provide (state that was not recorded); and, with the
//! same code, inputs and environment, randomness that is not seeded (the code draws random
//! numbers) or something else outside the record (the clock, the network).

use std::sync::LazyLock;

use provstore::{Cause, DiffStatus, EnvDiff, InputDiff, ReplayExecution, ReplayStatus};
use regex::Regex;

/// Code that draws random numbers from a generator nobody seeded in the same code.
static RANDOM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:random|rand|randn|randint|shuffle|permutation|default_rng|uuid4|sample)\b")
        .expect("a valid pattern")
});

/// A seed given in the code.
static SEEDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:seed|manual_seed|random_state)\b|default_rng\(\s*[^)\s]")
        .expect("a valid pattern")
});

/// Exceptions that say the code needed something the recorded executions did not make.
const UNRECORDED: [&str; 3] = ["NameError", "UnboundLocalError", "AttributeError"];

/// The error prov-kernel answers a request with when its ipykernel child died running it.
const KERNEL_DIED: &str = "KernelDied";

/// Exceptions of a missing package.
const MISSING_PACKAGE: [&str; 2] = ["ModuleNotFoundError", "ImportError"];

/// What the cause is worked out from.
pub(crate) struct Evidence<'a> {
    /// The first execution that did not reproduce.
    pub(crate) first: &'a ReplayExecution,
    /// Why the replay could not run it, if it could not.
    pub(crate) not_run: Option<&'a str>,
    /// The replay's exception there (`ename: evalue`), if it failed.
    pub(crate) replay_error: Option<&'a str>,
    /// The source's code up to and including the first divergence, as `(In[n], code)`.
    pub(crate) code: &'a [(Option<i64>, &'a str)],
    /// The input files of the source trial (left) against the replay's (right), from their
    /// trial diff.
    pub(crate) inputs: &'a [InputDiff],
    /// The environment of both, from the same diff.
    pub(crate) environment: &'a [EnvDiff],
}

/// The likely cause.
pub(crate) fn likely_cause(e: &Evidence<'_>) -> Cause {
    let here = cell(e.first.execution_count);
    if let Some(why) = e.not_run {
        return cause(
            "replay-failed",
            format!("the replay could not run {here}: {why}"),
        );
    }
    {
        let changed: Vec<String> = e
            .inputs
            .iter()
            .filter(|i| i.status == DiffStatus::Changed)
            .map(|i| {
                let readers = i
                    .left
                    .as_ref()
                    .map(|l| l.read_by.clone())
                    .unwrap_or_default();
                let by: Vec<String> = readers.iter().map(|n| cell(*n)).collect();
                if by.is_empty() {
                    format!("`{}` has other content", i.path)
                } else {
                    format!("`{}` (read by {}) has other content", i.path, by.join(", "))
                }
            })
            .collect();
        if !changed.is_empty() {
            return cause(
                "input-file-changed",
                format!(
                    "an input file changed since the source trial read it: {}; {here} depends \
                     on what it read",
                    changed.join("; ")
                ),
            );
        }
        let env: Vec<String> = e
            .environment
            .iter()
            // Only versions that changed: a replay cut short (`--until`) imports less.
            .filter(|v| v.status == DiffStatus::Changed)
            .map(|v| {
                let side = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
                format!("{} {} → {}", v.name, side(&v.left), side(&v.right))
            })
            .collect();
        if !env.is_empty() {
            return cause(
                "package-version",
                format!("the environment differs: {}", env.join(", ")),
            );
        }
    }
    if let Some(error) = e.replay_error {
        let ename = error.split(':').next().unwrap_or_default().trim();
        if ename == KERNEL_DIED {
            return cause(
                "replay-failed",
                format!("the kernel died while running {here}: {error}"),
            );
        }
        if MISSING_PACKAGE.contains(&ename) {
            return cause(
                "package-version",
                format!("{here} failed with {error}: a package the source trial had is missing"),
            );
        }
        if UNRECORDED.contains(&ename) {
            return cause(
                "unrecorded-state",
                format!(
                    "{here} failed with {error}: it depended on state the recorded executions \
                     do not create (defined in another kernel, by a cell not recorded, or \
                     outside Python)"
                ),
            );
        }
    }
    let random = e
        .code
        .iter()
        .rev()
        .find(|(_, code)| RANDOM.is_match(code) && !SEEDED.is_match(code));
    if e.first.status != ReplayStatus::Reproduced {
        if let Some((n, _)) = random {
            let whose = if *n == e.first.execution_count {
                format!("{here} draws random numbers")
            } else {
                format!("{here} depends on {}, which draws random numbers", cell(*n))
            };
            return cause(
                "unseeded-randomness",
                format!(
                    "the same code, inputs and environment gave another result: {whose} \
                     without a seed; seed it (`random.seed(0)`, `np.random.default_rng(0)`, \
                     `random_state=0`, `torch.manual_seed(0)`) so that a replay reproduces it"
                ),
            );
        }
        return cause(
            "unrecorded-state",
            format!(
                "the same code, inputs and environment gave another result at {here}: it \
                 depends on something the provenance does not record (the clock, the network, \
                 a file opened outside Python, randomness seeded elsewhere)"
            ),
        );
    }
    cause("unknown", format!("no recorded difference explains {here}"))
}

fn cause(kind: &'static str, message: String) -> Cause {
    Cause { kind, message }
}

/// `In[n]`, or `an execution` without a count.
pub(crate) fn cell(n: Option<i64>) -> String {
    n.map_or_else(|| "an execution".to_string(), |n| format!("In[{n}]"))
}

#[cfg(test)]
mod tests;
