//! The hash and the ordered set used for the many small keys of the analysis
//! and the engine: `rustc-hash`'s Fx hash (SipHash's DoS resistance buys
//! nothing for keys the engine makes itself) and `indexmap`'s insertion-ordered
//! set, so facts come out in source order.

pub(crate) use rustc_hash::{FxHashMap, FxHashSet};

/// Insertion-ordered set. Removal must keep the order of the rest (facts are
/// listed in source order), so callers use `shift_remove`, never `swap_remove`.
pub(crate) type OrderedSet<T> = indexmap::IndexSet<T, rustc_hash::FxBuildHasher>;
