//! The store's state in memory: every record, with the indexes the rules
//! need. It is loaded from redb at open, changed by `ops.rs`, and written back
//! key by key (`Changes` says which) in one transaction per batch.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::error::OpenError;
use super::records::{self, Group, Key, StoredPolicy, User};
use super::tables::{GROUPS, KEYS, META, META_NEXT_UIN, POLICIES, USERS};

/// Everything the store holds.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The next uin to allocate.
    pub next_uin: u64,
    /// Sub-users by uin.
    pub users: BTreeMap<u64, User>,
    /// Uin by user name.
    pub names: HashMap<String, u64>,
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Members of each group (derived from users' group lists).
    pub members: HashMap<String, BTreeSet<u64>>,
    /// Access keys by SecretId.
    pub keys: BTreeMap<String, Key>,
    /// SecretIds by owner uin (derived).
    pub keys_by_owner: HashMap<u64, BTreeSet<String>>,
    /// API-managed custom policies by name.
    pub policies: BTreeMap<String, StoredPolicy>,
    /// Cluster mode: the shared truth's revision the state is at (0: none).
    pub revision: i64,
}

/// What a batch changed: the keys to write back and the users whose
/// decisions may have changed.
#[derive(Debug, Default)]
pub struct Changes {
    /// Users to rewrite or delete.
    pub users: BTreeSet<u64>,
    /// Groups to rewrite or delete.
    pub groups: BTreeSet<String>,
    /// Keys to rewrite or delete.
    pub keys: BTreeSet<String>,
    /// API-managed policies to rewrite or delete (their users' sets are
    /// rebuilt by the publisher).
    pub policies: BTreeSet<String>,
    /// `next_uin` changed.
    pub meta: bool,
    /// Users whose effective policies, name or existence changed.
    pub affected: BTreeSet<u64>,
}

impl Changes {
    /// True when nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.groups.is_empty()
            && self.keys.is_empty()
            && self.policies.is_empty()
            && !self.meta
    }
}

impl State {
    /// Reads every record.
    pub fn load(db: &redb::Database, path: &Path) -> Result<Self, OpenError> {
        let dberr = |e: redb::Error| OpenError::Database {
            path: path.to_path_buf(),
            cause: Box::new(e),
        };
        let corrupt = |what: String, source| OpenError::Corrupt {
            path: path.to_path_buf(),
            what,
            cause: source,
        };
        let txn = db.begin_read().map_err(|e| dberr(e.into()))?;
        let mut s = State {
            next_uin: 1,
            revision: super::replica::load_revision(db).map_err(dberr)?,
            ..State::default()
        };
        let meta = txn.open_table(META).map_err(|e| dberr(e.into()))?;
        if let Some(v) = meta.get(META_NEXT_UIN).map_err(|e| dberr(e.into()))? {
            s.next_uin = v.value();
        }
        let users = txn.open_table(USERS).map_err(|e| dberr(e.into()))?;
        for row in users.iter().map_err(|e| dberr(e.into()))? {
            let (k, v) = row.map_err(|e| dberr(e.into()))?;
            let u = records::decode_user(v.value())
                .map_err(|e| corrupt(format!("user {}", k.value()), e))?;
            s.insert_user(u);
        }
        let groups = txn.open_table(GROUPS).map_err(|e| dberr(e.into()))?;
        for row in groups.iter().map_err(|e| dberr(e.into()))? {
            let (k, v) = row.map_err(|e| dberr(e.into()))?;
            let g = records::decode_group(v.value())
                .map_err(|e| corrupt(format!("group {}", k.value()), e))?;
            s.groups.insert(g.name.clone(), g);
        }
        let keys = txn.open_table(KEYS).map_err(|e| dberr(e.into()))?;
        for row in keys.iter().map_err(|e| dberr(e.into()))? {
            let (k, v) = row.map_err(|e| dberr(e.into()))?;
            let key = records::decode_key(v.value())
                .map_err(|e| corrupt(format!("key {}", k.value()), e))?;
            s.insert_key(key);
        }
        let policies = txn.open_table(POLICIES).map_err(|e| dberr(e.into()))?;
        for row in policies.iter().map_err(|e| dberr(e.into()))? {
            let (k, v) = row.map_err(|e| dberr(e.into()))?;
            let p = records::decode_policy(v.value())
                .map_err(|e| corrupt(format!("policy {}", k.value()), e))?;
            s.policies.insert(p.name.clone(), p);
        }
        Ok(s)
    }

    /// Adds a user to the maps and indexes.
    pub fn insert_user(&mut self, u: User) {
        self.names.insert(u.name.clone(), u.uin);
        for g in &u.groups {
            self.members.entry(g.clone()).or_default().insert(u.uin);
        }
        self.users.insert(u.uin, u);
    }

    /// Removes a user from the maps and indexes.
    pub fn remove_user(&mut self, uin: u64) -> Option<User> {
        let u = self.users.remove(&uin)?;
        self.names.remove(&u.name);
        for g in &u.groups {
            if let Some(m) = self.members.get_mut(g) {
                m.remove(&uin);
            }
        }
        Some(u)
    }

    /// Adds a key to the maps and indexes.
    pub fn insert_key(&mut self, k: Key) {
        self.keys_by_owner
            .entry(k.owner)
            .or_default()
            .insert(k.secret_id.clone());
        self.keys.insert(k.secret_id.clone(), k);
    }

    /// Removes a key from the maps and indexes.
    pub fn remove_key(&mut self, id: &str) -> Option<Key> {
        let k = self.keys.remove(id)?;
        if let Some(ids) = self.keys_by_owner.get_mut(&k.owner) {
            ids.remove(id);
        }
        Some(k)
    }

    /// Writes back every changed record (or deletes it when gone).
    pub fn persist(&self, txn: &WriteTransaction, changes: &Changes) -> Result<(), redb::Error> {
        let encode = |r: Result<Vec<u8>, postcard::Error>| {
            r.map_err(|e| redb::Error::Corrupted(format!("cannot encode a record: {e}")))
        };
        if changes.meta {
            txn.open_table(META)?.insert(META_NEXT_UIN, self.next_uin)?;
        }
        let mut users = txn.open_table(USERS)?;
        for uin in &changes.users {
            match self.users.get(uin) {
                Some(u) => {
                    users.insert(*uin, encode(records::encode_user(u))?.as_slice())?;
                }
                None => {
                    users.remove(*uin)?;
                }
            }
        }
        let mut groups = txn.open_table(GROUPS)?;
        for name in &changes.groups {
            match self.groups.get(name) {
                Some(g) => {
                    groups.insert(name.as_str(), encode(records::encode_group(g))?.as_slice())?;
                }
                None => {
                    groups.remove(name.as_str())?;
                }
            }
        }
        let mut keys = txn.open_table(KEYS)?;
        for id in &changes.keys {
            match self.keys.get(id) {
                Some(k) => {
                    keys.insert(id.as_str(), encode(records::encode_key(k))?.as_slice())?;
                }
                None => {
                    keys.remove(id.as_str())?;
                }
            }
        }
        let mut policies = txn.open_table(POLICIES)?;
        for name in &changes.policies {
            match self.policies.get(name) {
                Some(p) => {
                    policies
                        .insert(name.as_str(), encode(records::encode_policy(p))?.as_slice())?;
                }
                None => {
                    policies.remove(name.as_str())?;
                }
            }
        }
        Ok(())
    }
}
