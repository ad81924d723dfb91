//! The store as a replica of a shared truth: records as (table, key,
//! bytes) to send elsewhere or to apply from elsewhere, the revision of the
//! shared truth the local file is at, and undoing an in-memory change that
//! the shared truth refused. The store knows neither etcd nor any network:
//! a `Remote` commits for it.

use std::collections::BTreeSet;

use redb::WriteTransaction;

use super::audit::{AuditEntry, AuditNote};
use super::records;
use super::state::{Changes, State};
use super::tables::{GROUPS, KEYS, META, META_NEXT_UIN, POLICIES, USERS};

/// Meta key of the shared truth's revision the file holds.
pub const META_REVISION: &str = "cluster_revision";

/// Which record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKey {
    /// A sub-user, by uin.
    User(u64),
    /// A group, by name.
    Group(String),
    /// An access key, by SecretId.
    Key(String),
    /// An API-managed policy, by name.
    Policy(String),
    /// The next uin to hand out.
    NextUin,
}

/// A record as replicated (`None`: deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Which.
    pub key: RecordKey,
    /// Its encoded value.
    pub value: Option<Vec<u8>>,
}

/// A commit the shared truth refused or could not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// Something changed after the base revision; the truth is now at this one.
    Conflict(i64),
    /// The shared truth cannot be reached; nothing was committed.
    Unavailable(String),
}

/// Commits a batch's records and audit entries to the shared truth.
pub trait Remote: Send {
    /// Commits `records` (with `audit`, encoded entries) if nothing changed
    /// after `base` (`None`: audit entries only, unconditionally); the
    /// revision of the commit.
    fn commit(
        &mut self,
        base: Option<i64>,
        records: &[Record],
        audit: &[Vec<u8>],
    ) -> Result<i64, RemoteError>;
}

fn enc(r: Result<Vec<u8>, postcard::Error>) -> Option<Vec<u8>> {
    r.ok()
}

/// An audit entry as replicated: its fields without the local number.
pub fn encode_audit(at_ms: i64, note: &AuditNote, outcome: &str) -> Vec<u8> {
    postcard::to_allocvec(&AuditEntry {
        seq: 0,
        at_ms,
        actor: note.actor.clone(),
        action: note.action.clone(),
        target: note.target.clone(),
        outcome: outcome.to_string(),
    })
    .unwrap_or_default()
}

/// A replicated audit entry, for the local trail.
pub fn decode_audit(bytes: &[u8]) -> Option<(i64, AuditNote, String)> {
    let e: AuditEntry = postcard::from_bytes(bytes).ok()?;
    Some((
        e.at_ms,
        AuditNote {
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: None,
        },
        e.outcome,
    ))
}

/// Whether a replicated record decodes as its kind (a value from a newer
/// camd, or garbage, does not: it is quarantined, never applied).
pub fn decodes(r: &Record) -> Result<(), String> {
    let Some(b) = &r.value else {
        return Ok(());
    };
    let bad = |e: postcard::Error| format!("does not decode: {e}");
    match &r.key {
        RecordKey::User(_) => records::decode_user(b).map(drop).map_err(bad),
        RecordKey::Group(_) => records::decode_group(b).map(drop).map_err(bad),
        RecordKey::Key(_) => records::decode_key(b).map(drop).map_err(bad),
        RecordKey::Policy(_) => records::decode_policy(b).map(drop).map_err(bad),
        RecordKey::NextUin => {
            if b.len() == 8 {
                Ok(())
            } else {
                Err("next_uin is not 8 bytes".into())
            }
        }
    }
}

impl State {
    /// The records `changes` names, as they are now.
    pub fn records_of(&self, changes: &Changes) -> Vec<Record> {
        let mut out = Vec::new();
        for uin in &changes.users {
            out.push(Record {
                key: RecordKey::User(*uin),
                value: self
                    .users
                    .get(uin)
                    .and_then(|u| enc(records::encode_user(u))),
            });
        }
        for name in &changes.groups {
            out.push(Record {
                key: RecordKey::Group(name.clone()),
                value: self
                    .groups
                    .get(name)
                    .and_then(|g| enc(records::encode_group(g))),
            });
        }
        for id in &changes.keys {
            out.push(Record {
                key: RecordKey::Key(id.clone()),
                value: self.keys.get(id).and_then(|k| enc(records::encode_key(k))),
            });
        }
        for name in &changes.policies {
            out.push(Record {
                key: RecordKey::Policy(name.clone()),
                value: self
                    .policies
                    .get(name)
                    .and_then(|p| enc(records::encode_policy(p))),
            });
        }
        if changes.meta {
            out.push(Record {
                key: RecordKey::NextUin,
                value: Some(self.next_uin.to_be_bytes().to_vec()),
            });
        }
        out
    }

    /// Every record, in key order (a resync's source, and the state hash).
    pub fn all_records(&self) -> Vec<Record> {
        let changes = Changes {
            users: self.users.keys().copied().collect(),
            groups: self.groups.keys().cloned().collect(),
            keys: self.keys.keys().cloned().collect(),
            policies: self.policies.keys().cloned().collect(),
            meta: true,
            ..Changes::default()
        };
        self.records_of(&changes)
    }

    /// Applies records from the shared truth; what changed (to persist and
    /// publish). A record that does not decode is an error naming it.
    pub fn apply_records(&mut self, recs: &[Record]) -> Result<Changes, String> {
        let mut ch = Changes::default();
        for r in recs {
            let bad = |e: postcard::Error| format!("{:?} does not decode: {e}", r.key);
            match (&r.key, &r.value) {
                (RecordKey::User(uin), v) => {
                    self.remove_user(*uin);
                    if let Some(b) = v {
                        let u = records::decode_user(b).map_err(bad)?;
                        self.insert_user(u);
                    }
                    ch.users.insert(*uin);
                    ch.affected.insert(*uin);
                }
                (RecordKey::Group(name), v) => {
                    match v {
                        Some(b) => {
                            let g = records::decode_group(b).map_err(bad)?;
                            self.groups.insert(name.clone(), g);
                        }
                        None => {
                            self.groups.remove(name);
                        }
                    }
                    ch.groups.insert(name.clone());
                    if let Some(m) = self.members.get(name) {
                        ch.affected.extend(m.iter().copied());
                    }
                }
                (RecordKey::Key(id), v) => {
                    self.remove_key(id);
                    if let Some(b) = v {
                        self.insert_key(records::decode_key(b).map_err(bad)?);
                    }
                    ch.keys.insert(id.clone());
                }
                (RecordKey::Policy(name), v) => {
                    match v {
                        Some(b) => {
                            let p = records::decode_policy(b).map_err(bad)?;
                            self.policies.insert(name.clone(), p);
                        }
                        None => {
                            self.policies.remove(name);
                        }
                    }
                    ch.policies.insert(name.clone());
                }
                (RecordKey::NextUin, v) => {
                    let bytes: [u8; 8] = v
                        .as_deref()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| "next_uin is not 8 bytes".to_string())?;
                    self.next_uin = u64::from_be_bytes(bytes);
                    ch.meta = true;
                }
            }
        }
        // Members of touched groups (before and after) may have new sets.
        let touched: Vec<String> = ch.groups.iter().cloned().collect();
        for g in touched {
            if let Some(m) = self.members.get(&g) {
                ch.affected.extend(m.iter().copied());
            }
        }
        Ok(ch)
    }

    /// Puts back, from the file, every record `changes` names (undoing an
    /// in-memory change the shared truth refused).
    pub fn revert(&mut self, db: &redb::Database, changes: &Changes) -> Result<(), redb::Error> {
        use redb::ReadableDatabase;
        let txn = db.begin_read()?;
        let users = txn.open_table(USERS)?;
        let groups = txn.open_table(GROUPS)?;
        let keys = txn.open_table(KEYS)?;
        let policies = txn.open_table(POLICIES)?;
        let mut recs = Vec::new();
        for uin in &changes.users {
            recs.push(Record {
                key: RecordKey::User(*uin),
                value: users.get(*uin)?.map(|v| v.value().to_vec()),
            });
        }
        for name in &changes.groups {
            recs.push(Record {
                key: RecordKey::Group(name.clone()),
                value: groups.get(name.as_str())?.map(|v| v.value().to_vec()),
            });
        }
        for id in &changes.keys {
            recs.push(Record {
                key: RecordKey::Key(id.clone()),
                value: keys.get(id.as_str())?.map(|v| v.value().to_vec()),
            });
        }
        for name in &changes.policies {
            recs.push(Record {
                key: RecordKey::Policy(name.clone()),
                value: policies.get(name.as_str())?.map(|v| v.value().to_vec()),
            });
        }
        if changes.meta {
            let meta = txn.open_table(META)?;
            let next = meta.get(META_NEXT_UIN)?.map_or(1, |v| v.value());
            recs.push(Record {
                key: RecordKey::NextUin,
                value: Some(next.to_be_bytes().to_vec()),
            });
        }
        // Group records name no members: members come from users, so a
        // user put back restores its memberships.
        self.apply_records(&recs)
            .map(drop)
            .map_err(redb::Error::Corrupted)
    }

    /// Replaces everything with `recs` (a resync); every record changed.
    pub fn replace_all(&mut self, recs: &[Record]) -> Result<Changes, String> {
        let mut gone = self.all_records();
        for r in &mut gone {
            r.value = None;
        }
        *self = State {
            next_uin: 1,
            revision: self.revision,
            ..State::default()
        };
        let mut ch = Changes::default();
        // Everything that was, deleted (so the file drops it too) ...
        for r in &gone {
            match &r.key {
                RecordKey::User(u) => {
                    ch.users.insert(*u);
                }
                RecordKey::Group(g) => {
                    ch.groups.insert(g.clone());
                }
                RecordKey::Key(k) => {
                    ch.keys.insert(k.clone());
                }
                RecordKey::Policy(p) => {
                    ch.policies.insert(p.clone());
                }
                RecordKey::NextUin => ch.meta = true,
            }
        }
        // ... and everything that is, applied.
        let applied = self.apply_records(recs)?;
        ch.users.extend(applied.users);
        ch.groups.extend(applied.groups);
        ch.keys.extend(applied.keys);
        ch.policies.extend(applied.policies);
        ch.meta = true;
        ch.affected = self.users.keys().copied().collect::<BTreeSet<u64>>();
        Ok(ch)
    }
}

/// The shared truth's revision the file holds (0: none).
pub fn load_revision(db: &redb::Database) -> Result<i64, redb::Error> {
    use redb::ReadableDatabase;
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    Ok(meta
        .get(META_REVISION)?
        .map_or(0, |v| i64::try_from(v.value()).unwrap_or(0)))
}

/// Writes the shared truth's revision into the file, inside `txn`.
pub fn set_revision(txn: &WriteTransaction, revision: i64) -> Result<(), redb::Error> {
    txn.open_table(META)?
        .insert(META_REVISION, u64::try_from(revision).unwrap_or(0))?;
    Ok(())
}
