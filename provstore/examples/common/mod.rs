//! What the synthetic-store examples share (`mod common;` in each): a small deterministic
//! random generator, their command line, and how they report times.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

/// xorshift64*: small, deterministic (a seed gives the same store on every machine), good
/// enough for synthetic sessions and filler bytes.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A UUID made of the next two numbers.
    pub fn uuid(&mut self) -> String {
        let hi = u128::from(self.next()) << 64;
        uuid::Uuid::from_u128(hi | u128::from(self.next())).to_string()
    }
}

/// `PATH N [QUERIES]` from the command line (QUERIES defaults to `queries`); None (after
/// printing `usage`) when they are not there.
pub fn path_n_queries(usage: &str, queries: usize) -> Option<(PathBuf, usize, usize)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(Ok(n))) = (args.first(), args.get(1).map(|s| s.parse::<usize>())) else {
        eprintln!("usage: {usage}");
        return None;
    };
    let queries = args.get(2).and_then(|q| q.parse().ok()).unwrap_or(queries);
    Some((PathBuf::from(path), n, queries))
}

/// A duration in milliseconds, for the report.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// (median, p95, max).
pub fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95), at(1.0))
}

pub mod deps_session;
pub mod diff_session;
