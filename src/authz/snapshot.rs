//! The snapshot the decision path reads.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use crate::credentials::{KeyHash, Sealed};
use crate::policy::PolicySet;

use super::shards::{Name, Sharded};

/// A sub-user as deciding needs them. Kept by value in both maps (a
/// clone is one reference count when the name is short), so a lookup
/// lands on it without another pointer to follow.
#[derive(Debug, Clone)]
pub struct UserEntry {
    /// Their uin.
    pub uin: u64,
    /// Their name (inline when short: copying the entry, as a shard copy
    /// does, then touches one reference count, the set's).
    pub name: Name,
    /// Their effective policies (direct and through groups), compiled.
    pub policies: Arc<PolicySet>,
}

/// An access key as deciding needs it.
#[derive(Debug)]
pub struct KeyEntry {
    /// The owner's uin (the owner uin for the root account).
    pub owner: u64,
    /// The keyed hash of the SecretKey.
    pub hash: KeyHash,
    /// Inactive keys are rejected.
    pub active: bool,
    /// Last successful use, updated by deciding (ms since the epoch; 0 = never).
    pub last_used_ms: AtomicI64,
    /// The last-used time already handed to the store.
    pub flushed_ms: AtomicI64,
    /// The sealed SecretKey (`None`: a key made before sealed copies).
    pub sealed: Option<Sealed>,
    /// TC3 signing keys derived from it, by (date, service); a new entry
    /// (a changed key) starts empty.
    pub signing: std::sync::Mutex<Vec<SigningKey>>,
}

/// A TC3 signing key derived for one date and service.
#[derive(Clone)]
pub struct SigningKey {
    /// `YYYY-MM-DD`.
    pub date: [u8; 10],
    /// The service.
    pub service: Arc<str>,
    /// The derived key.
    pub key: ring::hmac::Key,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Everything deciding reads; immutable once published. Its maps are
/// sharded, so a publication copies only the shards a commit touched.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// The root account's uin.
    pub owner_uin: u64,
    /// Sub-users by uin.
    pub users: Sharded<u64, UserEntry>,
    /// Sub-users by name (copies of the entries in `users`).
    pub names: Sharded<Name, UserEntry>,
    /// Keys by SecretId.
    pub keys: Sharded<Arc<str>, Arc<KeyEntry>>,
    /// The root account's policy set (empty: the root is never evaluated).
    pub root_policies: Arc<PolicySet>,
    /// Counts up with every publication.
    pub generation: u64,
    /// Cluster mode: the shared truth's revision this snapshot holds.
    pub revision: i64,
}
