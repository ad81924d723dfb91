//! Durable state in redb: sub-users, groups, memberships, attachments and
//! access keys. Only this module knows redb. Writes go through one writer
//! thread that groups concurrent operations into one durable, two-phase
//! commit and acknowledges each only after that commit returns.

mod attachments;
mod audit;
mod command;
mod error;
mod file;
mod groups;
mod keys;
mod kind;
mod limits;
mod managed;
mod migrate;
mod reads;
mod records;
mod replica;
mod roles;
mod rules;
mod settings;
mod state;
mod tables;
mod users;
mod writer;

use std::path::{Path, PathBuf};

use redb::{Database, Durability, ReadableTableMetadata};

pub use audit::{AuditEntry, AuditNote, AuditRetention};
pub use command::{AddUser, Counts, NewKey, Owner, Resealed, SignatureBinding, UpdateUser};
pub use error::{AdminError, ApplyError, OpenError, RecordError};
pub use kind::RecordKey;
pub use limits::Limits;
pub use managed::{MAX_POLICIES, MAX_VERSIONS, PolicyKind};
pub use records::{
    Attachment, Group, Key, KeyStatus, PasswordRules, PolicyVersion, Role, Setting, StoredPolicy,
    Tag, User,
};
pub use replica::{Record, Remote, RemoteError, decode_audit, decodes, encode_audit};
pub use roles::{MAX_ROLE_DESCRIPTION, NewRole, ROLE_ID_BASE, check_role_name};
pub use rules::{Ctx, FIRST_UIN, Holder, ROOT_NAME, check_name, check_user_name};
pub use state::{Changes, State};
pub use tables::SCHEMA_VERSION;
pub use writer::{Job, Pending, Publish, ReconfigureError, Replicated, Writer, WriterError};

/// The database file and the in-memory state mirrored from it.
pub struct Store {
    db: Database,
    path: PathBuf,
    state: State,
    limits: Limits,
    owner_uin: u64,
    retention: AuditRetention,
    /// In cluster mode, where commits go first.
    remote: Option<Box<dyn Remote>>,
    /// When a commit last reached the disk (cluster mode makes replicated
    /// changes durable at most once a second).
    last_durable: std::time::Instant,
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
    /// Cluster mode: the shared truth changed after the state's revision
    /// and is now at this one; nothing was applied, and the batch can run
    /// again once the state has caught up.
    pub conflict: Option<i64>,
}

impl BatchOutcome {
    /// The outcome of a batch that committed `changes` (or changed nothing).
    fn of(results: Vec<Result<(), AdminError>>, changes: Changes) -> Self {
        Self {
            results,
            changes,
            reloaded: false,
            conflict: None,
        }
    }
}

/// Why a batch's changes were not committed.
enum Refused {
    /// The shared truth moved on (the batch is retried on the new state).
    Conflict(i64),
    /// Every job that had succeeded fails with this instead.
    Failed(AdminError),
}

impl Refused {
    /// The outcome: nothing changed.
    fn outcome(self, mut results: Vec<Result<(), AdminError>>) -> BatchOutcome {
        let conflict = match self {
            Refused::Conflict(at) => Some(at),
            Refused::Failed(e) => {
                for r in &mut results {
                    if r.is_ok() {
                        *r = Err(e.clone());
                    }
                }
                None
            }
        };
        BatchOutcome {
            results,
            changes: Changes::default(),
            reloaded: false,
            conflict,
        }
    }
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
            remote: None,
            last_durable: std::time::Instant::now(),
        })
    }

    /// Cluster mode: commits go to `remote` first, and the file is a replica.
    pub fn set_remote(&mut self, remote: Box<dyn Remote>) {
        self.remote = Some(remote);
    }

    /// The most jobs one batch takes: in cluster mode few enough that a
    /// batch stays within etcd's default 128 operations per transaction.
    pub fn max_batch(&self) -> usize {
        if self.remote.is_some() { 8 } else { 4096 }
    }

    /// The shared truth's revision the state is at (0: none yet).
    pub fn revision(&self) -> i64 {
        self.state.revision
    }

    /// Applies changes from the shared truth (each record with its
    /// revision; those at or below the state's revision are already in),
    /// and audit entries, in one local commit; the state is then at `top`
    /// (or its own revision, if later). What changed.
    pub fn apply_remote(
        &mut self,
        records: Vec<(i64, Record)>,
        audit: Vec<Vec<u8>>,
        top: i64,
        now_ms: i64,
    ) -> Result<Changes, ApplyError> {
        let fresh: Vec<Record> = records
            .into_iter()
            .filter(|(r, _)| *r > self.state.revision)
            .map(|(_, rec)| rec)
            .collect();
        let changes = self.state.apply_records(&fresh)?;
        let audit: Vec<(i64, AuditNote, String)> =
            audit.iter().filter_map(|b| decode_audit(b)).collect();
        let revision = self.state.revision.max(top);
        // etcd holds these durably: the replica's copy reaches the disk at
        // most a second later (a crash before then only makes the host
        // resume from an earlier revision, its file consistent).
        let durable = self.last_durable.elapsed() >= std::time::Duration::from_secs(1);
        self.commit_as(&changes, audit, now_ms, Some(revision), durable)?;
        self.state.revision = revision;
        Ok(changes)
    }

    /// Replaces the whole state with the shared truth's at `revision`.
    pub fn resync(
        &mut self,
        records: &[Record],
        revision: i64,
        now_ms: i64,
    ) -> Result<(), ApplyError> {
        let changes = self.state.replace_all(records)?;
        self.commit(&changes, Vec::new(), now_ms, Some(revision))?;
        self.state.revision = revision;
        Ok(())
    }

    /// The raw database (for the replica's bookkeeping).
    pub fn database(&self) -> &Database {
        &self.db
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
        let (results, changes, audit) = self.apply_jobs(jobs, known_policy, now_ms);
        if changes.is_empty() && audit.is_empty() {
            return BatchOutcome::of(results, changes);
        }
        let revision = match self.share(&changes, &audit) {
            Ok(revision) => revision,
            Err(refused) => {
                self.undo(&changes);
                return refused.outcome(results);
            }
        };
        match self.commit(&changes, audit, now_ms, revision) {
            Ok(()) => {
                if let Some(r) = revision {
                    self.state.revision = r;
                }
                BatchOutcome::of(results, changes)
            }
            Err(e) => {
                let reloaded = match State::load(&self.db, &self.path) {
                    Ok(s) => {
                        self.state = s;
                        true
                    }
                    Err(_) => false,
                };
                let mut out = Refused::Failed(AdminError::Storage(e.to_string())).outcome(results);
                out.reloaded = reloaded;
                out
            }
        }
    }

    /// Runs each job on the state: their results, what they changed, and
    /// their audit entries with outcomes.
    #[allow(
        clippy::type_complexity,
        reason = "the three parts of one step, named at the call"
    )]
    fn apply_jobs(
        &mut self,
        jobs: &mut [Box<dyn Job>],
        known_policy: &dyn Fn(&str) -> Option<String>,
        now_ms: i64,
    ) -> (
        Vec<Result<(), AdminError>>,
        Changes,
        Vec<(i64, AuditNote, String)>,
    ) {
        let ctx = rules::Ctx {
            limits: &self.limits,
            now_ms,
            owner_uin: self.owner_uin,
            known_policy,
        };
        let mut changes = Changes::default();
        let mut audit: Vec<(i64, AuditNote, String)> = Vec::new();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs.iter_mut() {
            let note = job.note();
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
        (results, changes, audit)
    }

    /// Cluster mode: commits the batch's records and audit entries to the
    /// shared truth first; the revision the state is then at (`None`:
    /// standalone, or only audit entries).
    fn share(
        &mut self,
        changes: &Changes,
        audit: &[(i64, AuditNote, String)],
    ) -> Result<Option<i64>, Refused> {
        let Some(remote) = self.remote.as_mut() else {
            return Ok(None);
        };
        let records = self
            .state
            .records_of(changes)
            .map_err(|e| Refused::Failed(AdminError::Storage(e.to_string())))?;
        let entries: Vec<Vec<u8>> = audit
            .iter()
            .map(|(at, note, outcome)| encode_audit(*at, note, outcome))
            .collect();
        let base = (!records.is_empty()).then_some(self.state.revision);
        match remote.commit(base, &records, &entries) {
            // The compare held: nothing else changed the state in
            // between, so the state is now at the commit's revision.
            Ok(rev) if base.is_some() => Ok(Some(rev)),
            Ok(_) => Ok(None),
            Err(RemoteError::Conflict(now_at)) => Err(Refused::Conflict(now_at)),
            Err(RemoteError::Unavailable(why)) if records.is_empty() => {
                crate::log_warn!(
                    "the audit entries of this batch are kept on this host only: {why}"
                );
                Ok(None)
            }
            Err(RemoteError::Unavailable(why)) => {
                Err(Refused::Failed(AdminError::ClusterUnavailable(why)))
            }
        }
    }

    /// Puts back what `changes` changed in memory, from the file (all of
    /// it when that fails).
    fn undo(&mut self, changes: &Changes) {
        if self.state.revert(&self.db, changes).is_err() {
            if let Ok(s) = State::load(&self.db, &self.path) {
                self.state = s;
            }
        }
    }

    fn commit(
        &mut self,
        changes: &Changes,
        audit: Vec<(i64, AuditNote, String)>,
        now_ms: i64,
        revision: Option<i64>,
    ) -> Result<(), redb::Error> {
        self.commit_as(changes, audit, now_ms, revision, true)
    }

    /// A commit, durable or not (`Durability::None`: on disk with the next
    /// durable one).
    fn commit_as(
        &mut self,
        changes: &Changes,
        audit: Vec<(i64, AuditNote, String)>,
        now_ms: i64,
        revision: Option<i64>,
        durable: bool,
    ) -> Result<(), redb::Error> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(if durable {
            Durability::Immediate
        } else {
            Durability::None
        })
        .map_err(|e| redb::Error::Corrupted(e.to_string()))?;
        txn.set_two_phase_commit(durable);
        self.state.persist(&txn, changes)?;
        audit::append(&txn, audit, self.retention, now_ms)?;
        if let Some(r) = revision {
            file::set_revision(&txn, r)?;
        }
        txn.commit()?;
        if durable {
            self.last_durable = std::time::Instant::now();
        }
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
