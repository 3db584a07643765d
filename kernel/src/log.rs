//! Log lines on stderr, which Jupyter shows in the server's log. `PROV_LOG=debug` adds detail.

use std::sync::OnceLock;

/// Whether debug lines are printed; read once from `PROV_LOG`.
pub fn debug_enabled() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var("PROV_LOG").is_ok_and(|v| v == "debug"))
}

/// Prints one log line with a timestamp and level.
#[macro_export]
macro_rules! log_line {
    ($level:literal, $($arg:tt)*) => {
        eprintln!(
            "[prov-kernel {} {}] {}",
            chrono::Local::now().format("%H:%M:%S%.3f"),
            $level,
            format_args!($($arg)*)
        )
    };
}

/// Something the user or an operator may want to know.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log_line!("INFO", $($arg)*) };
}

/// Something went wrong but the kernel keeps working.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log_line!("WARN", $($arg)*) };
}

/// Detail for debugging the relay; off unless `PROV_LOG=debug`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::debug_enabled() {
            $crate::log_line!("DEBUG", $($arg)*)
        }
    };
}
