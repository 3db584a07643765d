use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn child_connection_is_private_and_keeps_the_key() {
    let parent: ConnectionInfo = serde_json::from_str(
        r#"{"ip":"0.0.0.0","shell_port":1,"control_port":2,"stdin_port":3,"iopub_port":4,
            "hb_port":5,"key":"k","signature_scheme":"hmac-sha256","kernel_name":"x"}"#,
    )
    .unwrap();
    let dir = RuntimeDir::create().unwrap();
    let child = parent.for_child(&dir).unwrap();
    assert_eq!(child.transport, "ipc");
    let shell = child.ipc_path(Channel::Shell);
    assert!(shell.starts_with(&dir.path), "{}", shell.display());
    assert_eq!(
        child.ipc_path(Channel::Heartbeat).display().to_string(),
        format!("{}-5", dir.path.join("child").display())
    );
    assert_eq!(child.key, "k");
    assert_eq!(child.extra["kernel_name"], "x");
    let file = dir.write_connection(&child).unwrap();
    let mode = fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = fs::metadata(file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    drop(dir);
    assert!(!file.exists(), "removed on drop");
}

/// A pid that is certainly dead: a child we started and reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn stale_sweep_removes_only_our_dead_proxies_dirs_and_never_follows_links() {
    let base = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let precious = outside.path().join("precious");
    fs::write(&precious, "keep").unwrap();
    let dead = dead_pid();

    let stale = base.path().join(format!("{PREFIX}{dead}-a"));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("kernel-child.json"), "{}").unwrap();
    // A link inside a stale dir is removed as a link; its target stays.
    std::os::unix::fs::symlink(outside.path(), stale.join("link")).unwrap();
    // A link named like a stale dir is not touched at all.
    let link = base.path().join(format!("{PREFIX}{dead}-b"));
    std::os::unix::fs::symlink(outside.path(), &link).unwrap();
    // A live proxy's dir (ours) stays.
    let live = base
        .path()
        .join(format!("{PREFIX}{}-c", std::process::id()));
    fs::create_dir(&live).unwrap();
    // Someone else's dir stays, even with a dead pid.
    let foreign = base.path().join(format!("{PREFIX}{dead}-d"));
    fs::create_dir(&foreign).unwrap();
    let chowned = std::os::unix::fs::chown(&foreign, Some(4242), Some(4242)).is_ok();
    // Unrelated names stay.
    let other = base.path().join(format!("{PREFIX}x-e"));
    fs::create_dir(&other).unwrap();

    remove_stale(base.path());

    assert!(!stale.exists(), "a dead proxy's dir is removed");
    assert!(precious.exists(), "nothing is followed through links");
    assert!(fs::symlink_metadata(&link).is_ok(), "a link is left alone");
    assert!(live.exists());
    assert!(other.exists());
    if chowned {
        assert!(foreign.exists(), "another user's dir is left alone");
    }
}
