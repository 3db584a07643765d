use provstore::{Difference, InputSide};

use super::*;

fn first(n: i64, status: ReplayStatus) -> ReplayExecution {
    ReplayExecution {
        execution_count: Some(n),
        replay_execution_count: Some(n),
        status,
        differences: vec![Difference {
            kind: "output",
            what: "stdout".into(),
            expected: Some("0.1".into()),
            got: Some("0.7".into()),
        }],
        code: String::new(),
    }
}

fn evidence<'a>(
    first: &'a ReplayExecution,
    code: &'a [(Option<i64>, &'a str)],
    inputs: &'a [InputDiff],
    environment: &'a [EnvDiff],
) -> Evidence<'a> {
    Evidence {
        first,
        not_run: None,
        replay_error: None,
        code,
        inputs,
        environment,
    }
}

fn input(status: DiffStatus) -> InputDiff {
    let side = InputSide {
        path: "data.csv".into(),
        resolved: "/d/data.csv".into(),
        sha256: Some("a".into()),
        size: Some(1),
        sampled: false,
        mtime: None,
        read_by: vec![Some(2)],
        contents: 1,
    };
    InputDiff {
        path: "data.csv".into(),
        status,
        left: Some(side.clone()),
        right: Some(side),
        sampled: false,
        note: None,
    }
}

fn package(status: DiffStatus) -> EnvDiff {
    EnvDiff {
        name: "numpy".into(),
        status,
        left: Some("2.1.0".into()),
        right: Some("2.2.0".into()),
    }
}

#[test]
fn unseeded_randomness_is_named_in_the_divergent_cell() {
    let f = first(2, ReplayStatus::Differs);
    let code = [
        (Some(1), "import random"),
        (Some(2), "print(random.random())"),
    ];
    let c = likely_cause(&evidence(&f, &code, &[], &[]));
    assert_eq!(c.kind, "unseeded-randomness");
    assert!(
        c.message.contains("In[2] draws random numbers"),
        "{}",
        c.message
    );
}

#[test]
fn randomness_of_an_earlier_cell_is_named_there() {
    let f = first(3, ReplayStatus::Differs);
    let code = [
        (Some(1), "import numpy as np"),
        (Some(2), "x = np.random.rand(3)"),
        (Some(3), "x.sum()"),
    ];
    let c = likely_cause(&evidence(&f, &code, &[], &[]));
    assert!(
        c.message.contains("In[3] depends on In[2]"),
        "{}",
        c.message
    );
}

#[test]
fn a_seeded_generator_is_not_blamed() {
    let f = first(1, ReplayStatus::Differs);
    let code = [(
        Some(1),
        "rng = np.random.default_rng(7); print(time.time())",
    )];
    assert_eq!(
        likely_cause(&evidence(&f, &code, &[], &[])).kind,
        "unrecorded-state"
    );
}

#[test]
fn a_changed_input_file_comes_first() {
    let f = first(2, ReplayStatus::Differs);
    let code = [(Some(2), "random.random()")];
    let inputs = [input(DiffStatus::Changed)];
    let env = [package(DiffStatus::Changed)];
    let c = likely_cause(&evidence(&f, &code, &inputs, &env));
    assert_eq!(c.kind, "input-file-changed");
    assert!(
        c.message.contains("`data.csv` (read by In[2])"),
        "{}",
        c.message
    );
}

#[test]
fn a_changed_package_version_is_named() {
    let f = first(2, ReplayStatus::Differs);
    let inputs = [input(DiffStatus::Equal)];
    let env = [package(DiffStatus::Changed), package(DiffStatus::Removed)];
    let c = likely_cause(&evidence(&f, &[], &inputs, &env));
    assert_eq!(c.kind, "package-version");
    assert_eq!(c.message, "the environment differs: numpy 2.1.0 → 2.2.0");
}

#[test]
fn a_name_error_is_state_not_recorded_and_a_dead_kernel_says_so() {
    let f = first(4, ReplayStatus::Error);
    let mut e = evidence(&f, &[], &[], &[]);
    e.replay_error = Some("NameError: name 'df' is not defined");
    assert_eq!(likely_cause(&e).kind, "unrecorded-state");
    e.replay_error = Some("ModuleNotFoundError: No module named 'torch'");
    assert_eq!(likely_cause(&e).kind, "package-version");
    e.replay_error = Some("KernelDied: the kernel process (pid 9) died unexpectedly");
    assert_eq!(likely_cause(&e).kind, "replay-failed");
    e.not_run = Some("the kernel exited");
    let c = likely_cause(&e);
    assert_eq!(c.kind, "replay-failed");
    assert!(c.message.contains("In[4]: the kernel exited"));
}
