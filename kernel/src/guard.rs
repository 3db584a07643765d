//! Bounded input, the kernel's side: the limit on what a frontend may send (`PROV_MAX_MESSAGE`)
//! read from the environment, and the options our frontend sockets (the crate `provzmtp`) run
//! with. The sockets enforce it: a frame or a multipart message over the limit (each frame
//! counting at least 64 bytes) closes that connection, logged, before anything is reserved for
//! it (`zmtp/src/guard.rs`).

use provzmtp::{Level, Options, DEFAULT_MAX_MESSAGE, ENV_MAX_MESSAGE};

/// The limit from `$PROV_MAX_MESSAGE` (`512M`, `1G`, bytes; suffixes are powers of 1024), else
/// the default (256 MiB); an unreadable value is logged.
pub(crate) fn max_message_from_env() -> u64 {
    match std::env::var(ENV_MAX_MESSAGE) {
        Ok(value) => match provstore::parse_size(&value) {
            Ok(0) | Err(_) => {
                crate::warn!(
                    "{ENV_MAX_MESSAGE}={value:?} is not a size above 0; using {DEFAULT_MAX_MESSAGE} bytes"
                );
                DEFAULT_MAX_MESSAGE
            }
            Ok(n) => n as u64,
        },
        Err(_) => DEFAULT_MAX_MESSAGE,
    }
}

/// How the frontend sockets behave: the limit, and their log lines in ours.
pub(crate) fn socket_options() -> Options {
    Options::new(max_message_from_env(), say)
}

fn say(level: Level, message: std::fmt::Arguments<'_>) {
    match level {
        Level::Warn => crate::warn!("{message}"),
        Level::Debug => crate::debug!("{message}"),
    }
}
