//! The writer's settings, and reading them (and sizes such as `8M`) from the environment.

use std::time::Duration;

use crate::{Result, DEFAULT_PAYLOAD_CAP};

/// The environment variable that sets the payload cap in bytes (suffixes
/// `k`, `M`, `G` allowed, powers of 1024), read by [`WriterConfig::from_env`].
pub const ENV_MAX_PAYLOAD: &str = "PROV_MAX_PAYLOAD";

/// Settings of a [`crate::Writer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Largest payload stored with its bytes (see [`crate::Store::set_payload_cap`]).
    pub payload_cap: usize,
    /// After a failed write, how long to drop records before trying the
    /// store again (so a transient problem recovers without hammering a
    /// full disk).
    pub retry_after: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            payload_cap: DEFAULT_PAYLOAD_CAP,
            retry_after: Duration::from_secs(5),
        }
    }
}

impl WriterConfig {
    /// The default settings with the payload cap from `$PROV_MAX_PAYLOAD`
    /// when set. An unreadable value is an error naming the variable, so the
    /// kernel can warn and fall back to the default.
    pub fn from_env() -> Result<WriterConfig, String> {
        let mut config = WriterConfig::default();
        if let Ok(value) = std::env::var(ENV_MAX_PAYLOAD) {
            config.payload_cap = parse_size(&value).map_err(|e| {
                format!(
                    "{ENV_MAX_PAYLOAD}={value:?} is not a size ({e}); using the default of 1 MiB"
                )
            })?;
        }
        Ok(config)
    }
}

/// Parses a size in bytes: `1048576`, `512k`, `1M`, `1MiB`, `2GB` (all
/// suffixes are powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| "expected a number of bytes, e.g. 1048576 or 512k".to_string())?;
    let unit: usize = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown unit {other:?} (use k, M or G)")),
    };
    n.checked_mul(unit).ok_or_else(|| "too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("2 MiB"), Ok(2 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
    }
}
