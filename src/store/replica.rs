//! The store as a replica of a shared truth: records as (table, key,
//! bytes) to send elsewhere or to apply from elsewhere, the revision of the
//! shared truth the local file is at, and undoing an in-memory change that
//! the shared truth refused. The store knows neither etcd nor any network:
//! a `Remote` commits for it.

use super::audit::{AuditEntry, AuditNote};
use super::error::RecordError;
use super::kind::{Kind, OnKinds, OnRecord, RecordKey, each_kind};
use super::state::{Changes, State};
use super::tables::{META, META_NEXT_UIN};

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
pub fn decodes(r: &Record) -> Result<(), RecordError> {
    struct Decodes<'a>(&'a [u8]);
    impl OnRecord for Decodes<'_> {
        type Out = Result<(), RecordError>;
        fn kind<K: Kind>(self, id: &K::Id) -> Self::Out {
            K::decode(self.0)
                .map(drop)
                .map_err(|cause| RecordError::Decode {
                    what: format!("{} {id}", K::NAME),
                    cause,
                })
        }
        fn next_uin(self) -> Self::Out {
            counter(Some(self.0)).map(drop)
        }
    }
    match &r.value {
        None => Ok(()),
        Some(b) => r.key.visit(Decodes(b)),
    }
}

/// The uin counter from its record's bytes.
fn counter(b: Option<&[u8]>) -> Result<u64, RecordError> {
    let bytes: [u8; 8] = b
        .and_then(|b| b.try_into().ok())
        .ok_or(RecordError::Counter)?;
    Ok(u64::from_be_bytes(bytes))
}

/// The records a batch names, as the state holds them now.
struct Collect<'a> {
    state: &'a State,
    changes: &'a Changes,
    out: Vec<Record>,
}

impl OnKinds for Collect<'_> {
    type Error = RecordError;
    fn kind<K: Kind>(&mut self) -> Result<(), RecordError> {
        for id in K::noted(self.changes) {
            let value = match K::get(self.state, id) {
                None => None,
                Some(v) => Some(K::encode(v).map_err(|cause| RecordError::Encode {
                    what: format!("{} {id}", K::NAME),
                    cause,
                })?),
            };
            self.out.push(Record {
                key: K::wrap(id.clone()),
                value,
            });
        }
        Ok(())
    }
}

/// Notes every record of each kind the state holds as changed.
struct NoteAll<'a> {
    state: &'a State,
    changes: &'a mut Changes,
}

impl OnKinds for NoteAll<'_> {
    type Error = std::convert::Infallible;
    fn kind<K: Kind>(&mut self) -> Result<(), Self::Error> {
        K::noted_mut(self.changes).extend(K::ids(self.state));
        Ok(())
    }
}

/// Adds the changes of one set to another's, kind by kind.
struct Merge<'a> {
    from: &'a Changes,
    into: &'a mut Changes,
}

impl OnKinds for Merge<'_> {
    type Error = std::convert::Infallible;
    fn kind<K: Kind>(&mut self) -> Result<(), Self::Error> {
        let from = K::noted(self.from).iter().cloned();
        K::noted_mut(self.into).extend(from);
        Ok(())
    }
}

/// Applies one record's value (`None`: deleted) to the state.
struct Apply<'a> {
    state: &'a mut State,
    changes: &'a mut Changes,
    value: Option<&'a [u8]>,
}

impl OnRecord for Apply<'_> {
    type Out = Result<(), RecordError>;
    fn kind<K: Kind>(self, id: &K::Id) -> Self::Out {
        let value = match self.value {
            None => None,
            Some(b) => Some(K::decode(b).map_err(|cause| RecordError::Decode {
                what: format!("{} {id}", K::NAME),
                cause,
            })?),
        };
        K::put(self.state, id, value, self.changes);
        K::noted_mut(self.changes).insert(id.clone());
        Ok(())
    }
    fn next_uin(self) -> Self::Out {
        self.state.next_uin = counter(self.value)?;
        self.changes.meta = true;
        Ok(())
    }
}

/// Reads from the file, of each kind, the records a batch names.
struct Reread<'a> {
    txn: &'a redb::ReadTransaction,
    changes: &'a Changes,
    out: Vec<Record>,
}

impl OnKinds for Reread<'_> {
    type Error = redb::Error;
    fn kind<K: Kind>(&mut self) -> Result<(), redb::Error> {
        let table = self.txn.open_table(K::TABLE)?;
        for id in K::noted(self.changes) {
            let value = table.get(K::key(id))?.map(|v| v.value().to_vec());
            self.out.push(Record {
                key: K::wrap(id.clone()),
                value,
            });
        }
        Ok(())
    }
}

/// The uin counter's record.
fn counter_record(next_uin: u64) -> Record {
    Record {
        key: RecordKey::NextUin,
        value: Some(next_uin.to_be_bytes().to_vec()),
    }
}

impl State {
    /// The records `changes` names, as they are now (an encode failure is
    /// an error: a record is never sent as deleted because it would not encode).
    pub fn records_of(&self, changes: &Changes) -> Result<Vec<Record>, RecordError> {
        let mut c = Collect {
            state: self,
            changes,
            out: Vec::new(),
        };
        each_kind(&mut c)?;
        let mut out = c.out;
        if changes.meta {
            out.push(counter_record(self.next_uin));
        }
        Ok(out)
    }

    /// Every record, in key order (a resync's source, and the state hash).
    pub fn all_records(&self) -> Result<Vec<Record>, RecordError> {
        let mut changes = Changes {
            meta: true,
            ..Changes::default()
        };
        let Ok(()) = each_kind(&mut NoteAll {
            state: self,
            changes: &mut changes,
        });
        self.records_of(&changes)
    }

    /// Applies records from the shared truth; what changed (to persist and
    /// publish). A record that does not decode is an error naming it.
    pub fn apply_records(&mut self, recs: &[Record]) -> Result<Changes, RecordError> {
        let mut ch = Changes::default();
        for r in recs {
            r.key.visit(Apply {
                state: self,
                changes: &mut ch,
                value: r.value.as_deref(),
            })?;
        }
        Ok(ch)
    }

    /// Puts back, from the file, every record `changes` names (undoing an
    /// in-memory change the shared truth refused).
    pub fn revert(&mut self, db: &redb::Database, changes: &Changes) -> Result<(), redb::Error> {
        use redb::ReadableDatabase;
        let txn = db.begin_read()?;
        let mut reread = Reread {
            txn: &txn,
            changes,
            out: Vec::new(),
        };
        each_kind(&mut reread)?;
        let mut recs = reread.out;
        if changes.meta {
            let meta = txn.open_table(META)?;
            let next = meta.get(META_NEXT_UIN)?.map_or(1, |v| v.value());
            recs.push(counter_record(next));
        }
        // Group records name no members: members come from users, so a
        // user put back restores its memberships.
        self.apply_records(&recs)
            .map(drop)
            .map_err(|e| redb::Error::Corrupted(e.to_string()))
    }

    /// Replaces everything with `recs` (a resync); every record changed.
    pub fn replace_all(&mut self, recs: &[Record]) -> Result<Changes, RecordError> {
        // Everything that was, deleted (so the file drops it too) ...
        let mut ch = Changes::default();
        let Ok(()) = each_kind(&mut NoteAll {
            state: self,
            changes: &mut ch,
        });
        *self = State::empty_at(self.revision);
        // ... and everything that is, applied.
        let applied = self.apply_records(recs)?;
        let Ok(()) = each_kind(&mut Merge {
            from: &applied,
            into: &mut ch,
        });
        ch.meta = true;
        ch.affected = self.users.keys().copied().collect();
        Ok(ch)
    }
}
