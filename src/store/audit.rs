//! The audit trail: every admin change and every refused request or failed
//! or throttled authentication, numbered, in the same redb commit as the
//! change it describes. Changes and refusals are kept in two tables under
//! separate retention (by count and age), so no flood of refusals evicts a
//! change. Entries name actors, operations and targets; never a secret.

use redb::{
    ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};

use super::tables::{AUDIT, AUDIT_REFUSED, META, META_NEXT_AUDIT};

/// What the caller of an operation tells the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    /// Who: `uid 1000`, or `uid 1000 key AKID…`.
    pub actor: String,
    /// The operation (`cam:AddUser`, `auth:Failure`, …).
    pub action: String,
    /// What it was about (a resource, a SecretId).
    pub target: String,
    /// The outcome when already known (else the command's result: `ok` or its code).
    pub outcome: Option<crate::code::Code>,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail; increases by one per entry, never reused.
    pub seq: u64,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// The operation.
    pub action: String,
    /// What it was about.
    pub target: String,
    /// `ok`, or the CAM error code.
    pub outcome: String,
}

/// How much of the trail is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditRetention {
    /// Most change entries kept (the oldest go first).
    pub max_entries: u64,
    /// Change entries older than this many days go.
    pub max_age_days: u64,
    /// Most refusal entries kept (refused requests, failed or throttled
    /// authentications; repeats are folded into one entry a second).
    pub max_refusals: u64,
    /// Refusal entries older than this many days go.
    pub max_refusal_age_days: u64,
}

impl Default for AuditRetention {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_age_days: 90,
            max_refusals: 20_000,
            max_refusal_age_days: 30,
        }
    }
}

fn corrupted(e: impl std::fmt::Display) -> redb::Error {
    redb::Error::Corrupted(format!("audit entry: {e}"))
}

/// Appends `entries` (numbering them) and prunes past the retention, inside `txn`.
pub fn append(
    txn: &WriteTransaction,
    entries: Vec<(i64, AuditNote, String)>,
    retention: AuditRetention,
    now_ms: i64,
) -> Result<(), redb::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut meta = txn.open_table(META)?;
    let mut next = meta.get(META_NEXT_AUDIT)?.map_or(1, |v| v.value());
    {
        let mut changes = txn.open_table(AUDIT)?;
        let mut refusals = txn.open_table(AUDIT_REFUSED)?;
        for (at_ms, note, outcome) in entries {
            // A change is what succeeded; anything else changed nothing.
            let to_changes = outcome == "ok";
            let e = AuditEntry {
                seq: next,
                at_ms,
                actor: note.actor,
                action: note.action,
                target: note.target,
                outcome,
            };
            let bytes = postcard::to_allocvec(&e).map_err(corrupted)?;
            if to_changes {
                changes.insert(next, bytes.as_slice())?;
            } else {
                refusals.insert(next, bytes.as_slice())?;
            }
            next = next.saturating_add(1);
        }
    }
    meta.insert(META_NEXT_AUDIT, next)?;
    let days = |d: u64| {
        now_ms.saturating_sub(i64::try_from(d.saturating_mul(86_400_000)).unwrap_or(i64::MAX))
    };
    prune(
        txn,
        AUDIT,
        retention.max_entries,
        days(retention.max_age_days),
    )?;
    prune(
        txn,
        AUDIT_REFUSED,
        retention.max_refusals,
        days(retention.max_refusal_age_days),
    )
}

/// Keeps at most `max` entries of `table`, none older than `oldest_kept`.
fn prune(
    txn: &WriteTransaction,
    table: TableDefinition<'static, u64, &'static [u8]>,
    max: u64,
    oldest_kept: i64,
) -> Result<(), redb::Error> {
    let mut table = txn.open_table(table)?;
    while table.len()? > max.max(1) {
        table.pop_first()?;
    }
    loop {
        let old = match table.first()? {
            Some((_, v)) => postcard::from_bytes::<AuditEntry>(v.value())
                .map_or(true, |e| e.at_ms < oldest_kept),
            None => false,
        };
        if !old {
            break;
        }
        table.pop_first()?;
    }
    Ok(())
}

/// Up to `limit` entries with `seq >= since`, oldest first: changes and
/// refusals merged by their number.
pub fn read(db: &redb::Database, since: u64, limit: usize) -> Result<Vec<AuditEntry>, redb::Error> {
    let txn = db.begin_read()?;
    let mut out = Vec::new();
    for def in [AUDIT, AUDIT_REFUSED] {
        let table = match txn.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        for row in table.range(since..)?.take(limit) {
            let (_, v) = row?;
            out.push(postcard::from_bytes::<AuditEntry>(v.value()).map_err(corrupted)?);
        }
    }
    out.sort_by_key(|e| e.seq);
    out.truncate(limit);
    Ok(out)
}
