//! The snapshot's maps, split in shards behind their own `Arc`s, so that
//! publishing a change copies only the shards it touches: a clone of the
//! map is 256 reference counts, an insert copies one shard (about 1/256th
//! of the population) if a reader still holds it.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// Shards per map.
pub const SHARDS: usize = 256;

/// A map in [`SHARDS`] copy-on-write shards. A key is hashed once: bits
/// 32..40 of its hash pick the shard (hashbrown takes a bucket from the low
/// bits and a tag from the top seven, so neither is constant in a shard),
/// and the same hash finds it there. The hasher is foldhash, seeded at
/// random per map: keys are inserted only by the store's writer (names and
/// SecretIds an operator or camd made), so lookups need speed more than
/// resistance to chosen collisions, and the seed keeps those unpredictable.
#[derive(Debug)]
pub struct Sharded<K, V> {
    shards: Vec<Arc<HashTable<(K, V)>>>,
    state: RandomState,
}

impl<K, V> Clone for Sharded<K, V> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
            state: self.state.clone(),
        }
    }
}

impl<K, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Arc::new(HashTable::new())).collect(),
            state: RandomState::default(),
        }
    }
}

/// A key looked up by its borrowed form `Q`; equal keys and forms hash alike.
pub trait Key<Q: ?Sized> {
    /// Whether the key is `q`.
    fn is(&self, q: &Q) -> bool;
}

impl Key<u64> for u64 {
    #[inline]
    fn is(&self, q: &u64) -> bool {
        self == q
    }
}

impl Key<str> for Arc<str> {
    #[inline]
    fn is(&self, q: &str) -> bool {
        **self == *q
    }
}

/// Bytes of a name kept inline.
const SHORT: usize = 22;

/// A name as a key: kept inline when short (most user names are), so a
/// lookup compares it without following a pointer to another allocation;
/// a longer one is shared. Hashes as the `str` it holds.
#[derive(Debug, Clone)]
pub enum Name {
    /// Up to [`SHORT`] bytes.
    Short {
        /// Bytes used.
        len: u8,
        /// The name, zero-padded.
        bytes: [u8; SHORT],
    },
    /// A longer name.
    Long(Arc<str>),
}

impl Name {
    /// The key of `name`.
    pub fn new(name: &str) -> Self {
        let mut bytes = [0u8; SHORT];
        match (bytes.get_mut(..name.len()), u8::try_from(name.len())) {
            (Some(head), Ok(len)) => {
                head.copy_from_slice(name.as_bytes());
                Self::Short { len, bytes }
            }
            _ => Self::Long(Arc::from(name)),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Made from a `str`, so always UTF-8.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Short { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Long(s) => s.as_bytes(),
        }
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Name {}

impl Key<str> for Name {
    #[inline]
    fn is(&self, q: &str) -> bool {
        self.as_bytes() == q.as_bytes()
    }
}

/// The shard of a hash.
#[inline]
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl<K: Hash + Eq + Clone, V: Clone> Sharded<K, V> {
    /// The value of `key`.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Key<Q>,
        Q: Hash + ?Sized,
    {
        let hash = self.state.hash_one(key);
        self.shards
            .get(shard_of(hash))?
            .find(hash, |(k, _)| k.is(key))
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Key<Q>,
        Q: Hash + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Inserts, copying the key's shard first if a reader shares it.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let state = self.state.clone();
        let hash = state.hash_one(&key);
        let shard = Arc::make_mut(self.shards.get_mut(shard_of(hash))?);
        if let Some((_, v)) = shard.find_mut(hash, |(k, _)| *k == key) {
            return Some(std::mem::replace(v, value));
        }
        shard.insert_unique(hash, (key, value), |(k, _)| state.hash_one(k));
        None
    }

    /// Removes, copying the key's shard first if a reader shares it.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Key<Q>,
        Q: Hash + ?Sized,
    {
        let hash = self.state.hash_one(key);
        let shard = self.shards.get_mut(shard_of(hash))?;
        shard.find(hash, |(k, _)| k.is(key))?;
        let found = Arc::make_mut(shard).find_entry(hash, |(k, _)| k.is(key));
        found.ok().map(|e| e.remove().0.1)
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
        self.iter().map(|(_, v)| v)
    }

    /// Every entry, shard by shard.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards
            .iter()
            .flat_map(|s| s.iter().map(|(k, v)| (k, v)))
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
        let mut ids: Sharded<Arc<str>, u64> = Sharded::default();
        ids.insert(Arc::from("alice"), 1);
        assert_eq!(ids.get("alice"), Some(&1));
        assert!(!ids.contains_key("bob"));
        let mut names: Sharded<Name, u64> = Sharded::default();
        let long = "a-name-longer-than-twenty-two-bytes";
        for (i, n) in ["", "bob", "exactly-twenty-two-byt", long, "ünïcödé"]
            .iter()
            .enumerate()
        {
            names.insert(Name::new(n), i as u64);
        }
        assert!(matches!(
            Name::new("exactly-twenty-two-byt"),
            Name::Short { len: 22, .. }
        ));
        assert!(matches!(Name::new(long), Name::Long(_)));
        for (i, n) in ["", "bob", "exactly-twenty-two-byt", long, "ünïcödé"]
            .iter()
            .enumerate()
        {
            assert_eq!(names.get(*n), Some(&(i as u64)), "{n}");
        }
        assert!(names.get("bo").is_none() && names.get("bob ").is_none());
        assert_eq!(names.remove("bob"), Some(1));
        assert_eq!((names.get("bob"), names.len()), (None, 4));
    }
}
