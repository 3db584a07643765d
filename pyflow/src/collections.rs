//! Small collections for the many small keys of the analysis and the
//! engine: the Fx hash (rustc's; SipHash's DoS resistance buys nothing
//! here) and an insertion-ordered set.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Fx hasher: rotate, xor, multiply per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;
pub(crate) type FxHashSet<T> = HashSet<T, FxBuild>;

/// Insertion-ordered set: facts come out in source order, short lists are
/// searched linearly, long ones get a hash set.
#[derive(Clone, Debug)]
pub(crate) struct OrderedSet<T> {
    items: Vec<T>,
    index: Option<FxHashSet<T>>,
}

impl<T> Default for OrderedSet<T> {
    fn default() -> Self {
        OrderedSet {
            items: Vec::new(),
            index: None,
        }
    }
}

/// Length from which an [`OrderedSet`] keeps a hash set.
const LINEAR: usize = 24;

impl<T: Clone + Eq + Hash> OrderedSet<T> {
    pub(crate) fn contains(&self, item: &T) -> bool {
        match &self.index {
            Some(index) => index.contains(item),
            None => self.items.contains(item),
        }
    }

    pub(crate) fn insert(&mut self, item: T) {
        if self.contains(&item) {
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(item.clone());
        } else if self.items.len() >= LINEAR {
            let mut index: FxHashSet<T> = self.items.iter().cloned().collect();
            index.insert(item.clone());
            self.index = Some(index);
        }
        self.items.push(item);
    }

    pub(crate) fn remove(&mut self, item: &T) {
        if self.contains(item) {
            self.items.retain(|i| i != item);
            if let Some(index) = &mut self.index {
                index.remove(item);
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<T> {
        self.items
    }
}
