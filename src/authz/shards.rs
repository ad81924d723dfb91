//! The snapshot's maps, split in shards behind their own `Arc`s, so that
//! publishing a change copies only the shards it touches: a clone of the
//! map is 256 reference counts, an insert copies one shard (about 1/256th
//! of the population) if a reader still holds it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// Shards per map.
pub const SHARDS: usize = 256;

/// Which shard a key lives in; equal keys (and the borrowed forms they are
/// looked up by) must agree.
pub trait ShardKey {
    /// The shard, below [`SHARDS`].
    fn shard(&self) -> usize;
}

impl ShardKey for u64 {
    fn shard(&self) -> usize {
        // Uins are handed out in sequence: the low bits spread them evenly.
        (*self % SHARDS as u64) as usize
    }
}

impl ShardKey for str {
    fn shard(&self) -> usize {
        // FNV-1a: names and SecretIds are short; the hash only spreads
        // them, the shard's own map guards against collisions.
        let mut h: u32 = 0x811c_9dc5;
        for b in self.bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        h as usize % SHARDS
    }
}

impl ShardKey for Arc<str> {
    fn shard(&self) -> usize {
        (**self).shard()
    }
}

/// A map in [`SHARDS`] copy-on-write shards.
#[derive(Debug)]
pub struct Sharded<K, V> {
    shards: Vec<Arc<HashMap<K, V>>>,
}

impl<K, V> Clone for Sharded<K, V> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
        }
    }
}

impl<K, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Arc::new(HashMap::new())).collect(),
        }
    }
}

impl<K: Hash + Eq + ShardKey + Clone, V: Clone> Sharded<K, V> {
    /// The value of `key`.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ShardKey + ?Sized,
    {
        self.shards.get(key.shard())?.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ShardKey + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Inserts, copying the key's shard first if a reader shares it.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let shard = self.shards.get_mut(key.shard())?;
        Arc::make_mut(shard).insert(key, value)
    }

    /// Removes, copying the key's shard first if a reader shares it.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ShardKey + ?Sized,
    {
        let shard = self.shards.get_mut(key.shard())?;
        if !shard.contains_key(key) {
            return None;
        }
        Arc::make_mut(shard).remove(key)
    }

    /// Entries in all shards.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.is_empty())
    }

    /// Every value, shard by shard.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(|s| s.values())
    }

    /// Every entry, shard by shard.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(|s| s.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_shares_every_shard_and_a_change_copies_one() {
        let mut a: Sharded<u64, u32> = Sharded::default();
        for i in 0..10_000 {
            a.insert(i, 1);
        }
        let mut b = a.clone();
        b.insert(7, 2);
        assert_eq!(b.remove(&8), Some(1));
        assert_eq!(b.remove(&8), None);
        assert_eq!(
            (a.get(&7), b.get(&7), a.get(&8)),
            (Some(&1), Some(&2), Some(&1))
        );
        let shared = a
            .shards
            .iter()
            .zip(&b.shards)
            .filter(|(x, y)| Arc::ptr_eq(x, y))
            .count();
        assert_eq!(shared, SHARDS - 2, "only the shards of 7 and 8 were copied");
        assert_eq!((a.len(), b.len()), (10_000, 9_999));
        let mut names: Sharded<Arc<str>, u64> = Sharded::default();
        names.insert(Arc::from("alice"), 1);
        assert_eq!(names.get("alice"), Some(&1));
        assert!(!names.contains_key("bob"));
    }
}
