//! The schema-version record: set on a new file, checked on every open, and
//! the place where older layouts are migrated forward.

use std::path::Path;

use redb::{Database, Durability, ReadableTable};

use super::error::OpenError;
use super::tables::{
    GROUPS, KEYS, META, META_SCHEMA, POLICIES, ROLES, SCHEMA_VERSION, SETTINGS, USERS,
};

/// Creates the tables and the version record on a new file; refuses a newer
/// schema; migrates an older one.
pub fn check_and_migrate(db: &Database, path: &Path) -> Result<(), OpenError> {
    let dberr = |e: redb::Error| OpenError::Database {
        path: path.to_path_buf(),
        cause: Box::new(e),
    };
    let mut txn = db.begin_write().map_err(|e| dberr(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| dberr(redb::Error::Corrupted(e.to_string())))?;
    txn.set_two_phase_commit(true);
    {
        let mut meta = txn.open_table(META).map_err(|e| dberr(e.into()))?;
        let found = meta
            .get(META_SCHEMA)
            .map_err(|e| dberr(e.into()))?
            .map(|v| v.value());
        match found {
            None => {
                meta.insert(META_SCHEMA, SCHEMA_VERSION)
                    .map_err(|e| dberr(e.into()))?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OpenError::SchemaTooNew {
                    path: path.to_path_buf(),
                    found: v,
                    known: SCHEMA_VERSION,
                });
            }
            Some(v) if v < SCHEMA_VERSION => {
                // 1 -> 2: the settings table (opened below) and newer record
                // versions, which decode the older ones as they are: nothing
                // to rewrite. 2 -> 3: the roles table (opened below). Each
                // future version adds its step here.
                meta.insert(META_SCHEMA, SCHEMA_VERSION)
                    .map_err(|e| dberr(e.into()))?;
            }
            Some(_) => {}
        }
        txn.open_table(USERS).map_err(|e| dberr(e.into()))?;
        txn.open_table(GROUPS).map_err(|e| dberr(e.into()))?;
        txn.open_table(KEYS).map_err(|e| dberr(e.into()))?;
        txn.open_table(POLICIES).map_err(|e| dberr(e.into()))?;
        txn.open_table(SETTINGS).map_err(|e| dberr(e.into()))?;
        txn.open_table(ROLES).map_err(|e| dberr(e.into()))?;
    }
    txn.commit().map_err(|e| dberr(e.into()))?;
    Ok(())
}
