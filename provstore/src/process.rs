//! Facts about processes: which host we are on, and whether the kernel that
//! started a trial is still alive, so trials left `running` by a killed
//! kernel can be marked `crashed`.

/// This machine's host name: trials record it, and crash detection only
/// judges trials of its own host (a pid means nothing on another machine).
pub fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at
        // most that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return name;
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Who runs this process, for the trials it records: `$USER`, else `$LOGNAME`, else the account
/// name of its uid (a service or container may set neither variable). None when nothing
/// names it.
pub fn user_name() -> Option<String> {
    let from_env = ["USER", "LOGNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.trim().is_empty());
    from_env.or_else(account_name)
}

#[cfg(unix)]
fn account_name() -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into it and into `buf` (of the length
    // given) and sets `found` to it on success, leaving it null otherwise.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned()).filter(|s| !s.is_empty())
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

/// Operating system, machine and (on Unix) kernel release, e.g.
/// `linux-x86_64 6.8.0-45-generic`: enough to tell where a trial ran.
pub fn platform() -> String {
    let base = format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH);
    match os_release() {
        Some(release) => format!("{base} {release}"),
        None => base,
    }
}

#[cfg(unix)]
fn os_release() -> Option<String> {
    // SAFETY: utsname is plain bytes; uname fills it or fails.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    // SAFETY: uname NUL-terminates its fields.
    let release = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) };
    Some(release.to_string_lossy().into_owned()).filter(|s| !s.is_empty())
}

#[cfg(not(unix))]
fn os_release() -> Option<String> {
    None
}

/// A string that names the start of process `pid` on this machine (boot id
/// and start time on Linux), so a pid reused by another process after the
/// kernel died is not mistaken for the kernel. None where the platform does
/// not tell; then only the pid is checked.
pub(crate) fn start_identity(pid: u32) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, start) = stat_fields(&stat)?;
        Some(format!("{}/{start}", boot.trim()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

/// State letter and start time (field 22, clock ticks since boot) of a
/// `/proc/PID/stat` line. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted from its closing parenthesis.
#[cfg(target_os = "linux")]
fn stat_fields(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Whether the process that recorded `pid` (and `recorded_start`, its
/// [`start_identity`]) is certainly gone. Any doubt counts as alive: marking
/// a live kernel's trial crashed would be worse than leaving a dead one
/// running.
pub(crate) fn is_dead(pid: i64, recorded_start: Option<&str>) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid32) = i32::try_from(pid) else {
            return false;
        };
        if pid32 <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists.
        let rc = unsafe { libc::kill(pid32, 0) };
        if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            return true;
        }
        #[cfg(target_os = "linux")]
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // A killed kernel its parent has not reaped yet is a zombie.
            if matches!(stat_fields(&stat), Some(('Z' | 'X', _))) {
                return true;
            }
        }
        match (recorded_start, start_identity(pid32 as u32)) {
            (Some(then), Some(now)) => then != now,
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, recorded_start);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_child_is_dead() {
        let me = std::process::id();
        let identity = start_identity(me);
        assert!(!is_dead(me as i64, identity.as_deref()));

        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_dead(pid as i64, None));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_reused_pid_is_not_the_kernel() {
        let me = std::process::id();
        assert!(is_dead(me as i64, Some("another-boot/123")));
        assert!(start_identity(me).is_some());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line =
            "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(stat_fields(line), Some(('S', 98765)));
    }

    #[test]
    fn host_and_platform_are_not_empty() {
        assert!(!hostname().is_empty());
        #[cfg(unix)]
        assert!(account_name().is_some_and(|n| !n.is_empty()));
        assert!(platform().contains(std::env::consts::OS));
    }
}
