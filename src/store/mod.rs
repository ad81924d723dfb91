//! Durable state in redb: sub-users, groups, memberships, attachments and
//! access keys. Only this module knows redb. Writes go through one writer
//! thread that groups concurrent operations into one durable, two-phase
//! commit and acknowledges each only after that commit returns.

mod audit;
mod command;
mod custom;
mod error;
mod limits;
mod migrate;
mod records;
mod rules;
mod state;
mod tables;
mod writer;

use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableTableMetadata};

pub use audit::{AuditEntry, AuditNote, AuditRetention};
pub use command::{AddUser, Counts, NewKey, Owner, Resealed, UpdateUser};
pub use custom::{MAX_POLICIES, MAX_VERSIONS, PolicyKind};
pub use error::{AdminError, OpenError};
pub use limits::Limits;
pub use records::{Attachment, Group, Key, KeyStatus, PolicyVersion, StoredPolicy, User};
pub use rules::{Ctx, FIRST_UIN, ROOT_NAME, check_name, check_user_name};
pub use state::{Changes, State};
pub use tables::SCHEMA_VERSION;
pub use writer::{Job, Pending, Publish, Writer, WriterError};

/// The database file and the in-memory state mirrored from it.
pub struct Store {
    db: Database,
    path: PathBuf,
    state: State,
    limits: Limits,
    owner_uin: u64,
    retention: AuditRetention,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The outcome of one batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// One result per job, in order.
    pub results: Vec<Result<(), AdminError>>,
    /// What changed (empty when the commit failed).
    pub changes: Changes,
    /// True when the state was reloaded from disk (after a failed commit):
    /// anything derived from it must be rebuilt.
    pub reloaded: bool,
}

/// Creates the database file readable by its owner alone (0600, whatever
/// the umask), or narrows an existing one to that: it holds key and password
/// hashes.
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0))
            .open(path)?,
    );
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

impl Store {
    /// Opens (or creates) the database, checks or migrates its schema, and loads the state.
    pub fn open(path: &Path, limits: Limits, owner_uin: u64) -> Result<Self, OpenError> {
        let dberr = |e: redb::Error| OpenError::Database {
            path: path.to_path_buf(),
            cause: Box::new(e),
        };
        restrict_to_owner(path).map_err(|e| dberr(redb::Error::Io(e)))?;
        let db = Database::create(path).map_err(|e| dberr(e.into()))?;
        migrate::check_and_migrate(&db, path)?;
        let state = State::load(&db, path)?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
            state,
            limits,
            owner_uin,
            retention: AuditRetention::default(),
        })
    }

    /// Sets how much of the audit trail is kept (applied at the next commit).
    pub fn set_audit_retention(&mut self, retention: AuditRetention) {
        self.retention = retention;
    }

    /// Up to `limit` audit entries from `since` on, oldest first.
    pub fn audit(&self, since: u64, limit: usize) -> Result<Vec<AuditEntry>, redb::Error> {
        audit::read(&self.db, since, limit)
    }

    /// The state as of the last commit.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Applies jobs in order and commits what they changed, with their
    /// audit entries, in one durable, two-phase transaction. If the commit
    /// fails, every job that had succeeded reports the storage error instead
    /// and the state is reloaded.
    pub fn execute(
        &mut self,
        jobs: &mut [Box<dyn Job>],
        known_policy: &dyn Fn(&str) -> Option<String>,
        now_ms: i64,
    ) -> BatchOutcome {
        let ctx = rules::Ctx {
            limits: &self.limits,
            now_ms,
            owner_uin: self.owner_uin,
            known_policy,
        };
        let mut changes = Changes::default();
        let mut audit = Vec::new();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs.iter_mut() {
            let note = job.take_note();
            let result = job.apply(&mut self.state, &ctx, &mut changes);
            if let Some(note) = note {
                let outcome = match (&note.outcome, &result) {
                    (Some(o), _) => o.to_string(),
                    (None, Ok(())) => "ok".to_string(),
                    (None, Err(e)) => e.code().to_string(),
                };
                audit.push((now_ms, note, outcome));
            }
            results.push(result);
        }
        if changes.is_empty() && audit.is_empty() {
            return BatchOutcome {
                results,
                changes,
                reloaded: false,
            };
        }
        match self.commit(&changes, audit, now_ms) {
            Ok(()) => BatchOutcome {
                results,
                changes,
                reloaded: false,
            },
            Err(e) => {
                let msg = e.to_string();
                for r in &mut results {
                    if r.is_ok() {
                        *r = Err(AdminError::Storage(msg.clone()));
                    }
                }
                let reloaded = match State::load(&self.db, &self.path) {
                    Ok(s) => {
                        self.state = s;
                        true
                    }
                    Err(_) => false,
                };
                BatchOutcome {
                    results,
                    changes: Changes::default(),
                    reloaded,
                }
            }
        }
    }

    fn commit(
        &self,
        changes: &Changes,
        audit: Vec<(i64, AuditNote, String)>,
        now_ms: i64,
    ) -> Result<(), redb::Error> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| redb::Error::Corrupted(e.to_string()))?;
        txn.set_two_phase_commit(true);
        self.state.persist(&txn, changes)?;
        audit::append(&txn, audit, self.retention, now_ms)?;
        txn.commit()?;
        Ok(())
    }

    /// Runs redb's integrity check (and repair); true when the file was clean.
    pub fn check_integrity(&mut self) -> Result<bool, redb::Error> {
        Ok(self.db.check_integrity()?)
    }

    /// Counts the rows of every table, straight from the file (for tests and status).
    pub fn row_counts(&self) -> Result<[u64; 3], redb::Error> {
        use redb::ReadableDatabase;
        let txn = self.db.begin_read()?;
        Ok([
            txn.open_table(tables::USERS)?.len()?,
            txn.open_table(tables::GROUPS)?.len()?,
            txn.open_table(tables::KEYS)?.len()?,
        ])
    }
}
