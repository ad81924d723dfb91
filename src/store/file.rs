//! The state in its redb file: every record read at open, the changed ones
//! written back (or deleted) in a batch's transaction, each kind by the
//! generic loops over `kind::each_kind`, and the cluster revision the file
//! is at.

use std::path::Path;

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::error::OpenError;
use super::kind::{Kind, OnKinds, each_kind};
use super::state::{Changes, State};
use super::tables::{META, META_NEXT_UIN};

/// Meta key of the shared truth's revision the file holds.
pub const META_REVISION: &str = "cluster_revision";

/// Reads every record of each kind into a state.
struct Load<'a> {
    txn: &'a redb::ReadTransaction,
    state: &'a mut State,
    path: &'a Path,
}

impl OnKinds for Load<'_> {
    type Error = OpenError;
    fn kind<K: Kind>(&mut self) -> Result<(), OpenError> {
        let dberr = |e: redb::Error| OpenError::Database {
            path: self.path.to_path_buf(),
            cause: Box::new(e),
        };
        let table = self.txn.open_table(K::TABLE).map_err(|e| dberr(e.into()))?;
        let mut scratch = Changes::default();
        for row in table.iter().map_err(|e| dberr(e.into()))? {
            let (k, v) = row.map_err(|e| dberr(e.into()))?;
            let id = K::id_of(k.value());
            let value = K::decode(v.value()).map_err(|e| OpenError::Corrupt {
                path: self.path.to_path_buf(),
                what: format!("{} {id}", K::NAME),
                cause: e,
            })?;
            K::put(self.state, &id, Some(value), &mut scratch);
        }
        Ok(())
    }
}

/// Writes back (or deletes) each changed record of each kind.
struct Persist<'a> {
    txn: &'a WriteTransaction,
    state: &'a State,
    changes: &'a Changes,
}

impl OnKinds for Persist<'_> {
    type Error = redb::Error;
    fn kind<K: Kind>(&mut self) -> Result<(), redb::Error> {
        let mut table = self.txn.open_table(K::TABLE)?;
        for id in K::noted(self.changes) {
            match K::get(self.state, id) {
                Some(v) => {
                    let bytes = K::encode(v).map_err(|e| {
                        redb::Error::Corrupted(format!("cannot encode {} {id}: {e}", K::NAME))
                    })?;
                    table.insert(K::key(id), bytes.as_slice())?;
                }
                None => {
                    table.remove(K::key(id))?;
                }
            }
        }
        Ok(())
    }
}

impl State {
    /// Reads every record.
    pub fn load(db: &redb::Database, path: &Path) -> Result<Self, OpenError> {
        let dberr = |e: redb::Error| OpenError::Database {
            path: path.to_path_buf(),
            cause: Box::new(e),
        };
        let txn = db.begin_read().map_err(|e| dberr(e.into()))?;
        let mut s = State::empty_at(load_revision(db).map_err(dberr)?);
        let meta = txn.open_table(META).map_err(|e| dberr(e.into()))?;
        if let Some(v) = meta.get(META_NEXT_UIN).map_err(|e| dberr(e.into()))? {
            s.next_uin = v.value();
        }
        each_kind(&mut Load {
            txn: &txn,
            state: &mut s,
            path,
        })?;
        Ok(s)
    }

    /// Writes back every changed record (or deletes it when gone).
    pub fn persist(&self, txn: &WriteTransaction, changes: &Changes) -> Result<(), redb::Error> {
        if changes.meta {
            txn.open_table(META)?.insert(META_NEXT_UIN, self.next_uin)?;
        }
        each_kind(&mut Persist {
            txn,
            state: self,
            changes,
        })
    }
}

/// The shared truth's revision the file holds (0: none).
pub fn load_revision(db: &redb::Database) -> Result<i64, redb::Error> {
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
