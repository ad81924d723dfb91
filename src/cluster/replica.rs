//! Keeping the local replica current: a watch on the prefix from the
//! revision after the replica's, each report applied through the writer
//! (records in one local commit, O(changes)); when etcd has compacted past
//! that revision, a resync: everything read at one revision, paged at
//! that revision, replacing the state in one step, then watching on from
//! the revision after it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::authz::Publisher;
use crate::etcd::{Etcd, EtcdError, Kv, WatchMessage, prefix_end};
use crate::store::{Record, Replicated, Writer, decodes};

use super::error::ReplicaError;
use super::integrity::{Integrity, Opened};
use super::keys::{STATE, audit_host, parse_record_key};

/// Most quarantined records remembered (each is logged when it comes).
const MAX_QUARANTINED: usize = 1000;

/// How long a watch may stay silent before it is opened again from the
/// applied revision + 1. A partition can leave the stream's connection
/// open on this side and dead on etcd's, and etcd's progress notices come
/// only every 10 minutes: reopening is cheap and loses nothing, and an etcd
/// that does not answer the new watch marks the replica disconnected.
const SILENCE: Duration = Duration::from_secs(5);

/// What the replica tells about itself.
#[derive(Debug, Default)]
pub struct Progress {
    /// The watch is open.
    pub connected: AtomicBool,
    /// The revision the watch applied last (the next watch starts after it).
    pub applied: AtomicI64,
    /// etcd's revision, as last seen.
    pub seen: AtomicI64,
    /// When etcd was last heard from (a watch opened or a report), ms since
    /// the epoch; 0 before the first time.
    pub heard_ms: AtomicI64,
    /// The revision of the last change to a state record the replica saw:
    /// a record written from an older base is an old record put back.
    pub state_rev: AtomicI64,
    /// Records not applied (etcd key: why), until a good value replaces them.
    pub quarantined: Mutex<BTreeMap<String, String>>,
}

impl Progress {
    fn applied_now(&self, rev: i64) {
        self.applied.fetch_max(rev, Ordering::Relaxed);
        self.seen.fetch_max(rev, Ordering::Relaxed);
    }

    /// Notes that etcd answered.
    pub fn heard(&self) {
        self.heard_ms
            .fetch_max(crate::clock::now_ms(), Ordering::Relaxed);
    }

    /// Quarantines the record at `key` (logged the first time, and again
    /// if the reason changes).
    pub fn quarantine(&self, key: &[u8], why: String) {
        let key = String::from_utf8_lossy(key).into_owned();
        let mut q = self.quarantined.lock().unwrap_or_else(|p| p.into_inner());
        if q.get(&key) != Some(&why) {
            crate::log_error!("cluster: quarantined `{key}` (not applied): {why}");
            if q.len() < MAX_QUARANTINED || q.contains_key(&key) {
                q.insert(key, why);
            }
        }
    }

    /// A good value for `key` arrived: it is no longer quarantined.
    fn release(&self, key: &[u8]) {
        let mut q = self.quarantined.lock().unwrap_or_else(|p| p.into_inner());
        if q.remove(String::from_utf8_lossy(key).as_ref()).is_some() {
            crate::log_info!(
                "cluster: `{}` has a good value again",
                String::from_utf8_lossy(key)
            );
        }
    }

    fn is_quarantined(&self, key: &[u8]) -> bool {
        let q = self.quarantined.lock().unwrap_or_else(|p| p.into_inner());
        q.contains_key(String::from_utf8_lossy(key).as_ref())
    }

    /// The quarantined records, as `key: why`.
    pub fn quarantined(&self) -> Vec<String> {
        let q = self.quarantined.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().map(|(k, w)| format!("{k}: {w}")).collect()
    }

    /// Seconds since etcd was last heard from, at `now_ms`.
    pub fn age_secs(&self, now_ms: i64) -> u64 {
        let heard = self.heard_ms.load(Ordering::Relaxed);
        u64::try_from(now_ms.saturating_sub(heard) / 1000).unwrap_or(0)
    }
}

/// A state record read from etcd, checked: its MAC, and that it decodes.
/// `Ok(None)`: a tombstone. `Err`: quarantined, with why.
fn check(integrity: &Integrity, prefix: &str, kv: &Kv) -> Result<(i64, Option<Record>), String> {
    let Some(key) = parse_record_key(prefix, &kv.key) else {
        return Err("not a record key camd writes".into());
    };
    let (base, opened) = integrity.open(&kv.key, &kv.value)?;
    let record = match opened {
        Opened::Deleted => return Ok((base, None)),
        Opened::Value(v) => Record {
            key,
            value: Some(v.to_vec()),
        },
    };
    decodes(&record).map_err(|e| e.to_string())?;
    Ok((base, Some(record)))
}

/// Everything read at one revision: the good records, the revision, and
/// the newest change among them (tombstones included).
pub struct ReadAll {
    /// The records (tombstones left out).
    pub records: Vec<Record>,
    /// The revision they were read at.
    pub revision: i64,
    /// The newest state change (`Progress::state_rev`).
    pub state_rev: i64,
    /// Records written from a base older than another record's change
    /// before their own: old records put back. A state with any is not
    /// installed.
    pub replayed: usize,
}

/// Reads every state record at one revision (the first page's), paging;
/// a record that fails its checks, or whose base is older than another
/// record's change before its own, is quarantined and left out.
pub async fn read_all(
    etcd: &Etcd,
    prefix: &str,
    integrity: &Integrity,
    progress: &Progress,
) -> Result<ReadAll, EtcdError> {
    let start = format!("{prefix}{STATE}").into_bytes();
    let end = prefix_end(&start);
    let mut key = start;
    let mut revision = 0;
    let mut checked = Vec::new();
    let mut read = 0usize;
    loop {
        let page = etcd.range(&key, &end, revision, 2000).await?;
        if revision == 0 {
            revision = page.revision;
        }
        for kv in &page.kvs {
            match check(integrity, prefix, kv) {
                Ok((base, r)) => checked.push((kv.mod_revision, base, kv.key.clone(), r)),
                Err(why) => progress.quarantine(&kv.key, why),
            }
        }
        match (page.more, page.kvs.last()) {
            (true, Some(last)) => {
                key = last.key.clone();
                key.push(0);
            }
            _ => break,
        }
        // A long read says how far it got (a line every 50,000 records).
        let before = read;
        read += page.kvs.len();
        if before / READ_PROGRESS_EVERY != read / READ_PROGRESS_EVERY {
            crate::log_info!(
                "cluster: reading the cluster's state at revision {revision}: {read} records so far"
            );
        }
    }
    // A record's base is at least every other change before its own (its
    // transaction required that nothing had changed since its base).
    let mut revisions: Vec<i64> = checked.iter().map(|(m, ..)| *m).collect();
    revisions.sort_unstable();
    revisions.dedup();
    let state_rev = revisions.last().copied().unwrap_or(0);
    let mut records = Vec::new();
    let mut replayed = 0;
    for (m, base, key, r) in checked {
        let before = revisions.partition_point(|x| *x < m);
        let newest_before = before
            .checked_sub(1)
            .and_then(|i| revisions.get(i))
            .copied()
            .unwrap_or(0);
        if base < newest_before {
            progress.quarantine(&key, old_record(base, newest_before));
            replayed += 1;
            continue;
        }
        records.extend(r);
    }
    Ok(ReadAll {
        records,
        revision,
        state_rev,
        replayed,
    })
}

fn old_record(base: i64, seen: i64) -> String {
    format!(
        "an old record put back: written by a replica at revision {base}, older than a change at {seen}"
    )
}

/// How many records a long read of the state reads between its progress
/// lines.
const READ_PROGRESS_EVERY: usize = 50_000;

/// Replaces the local state with etcd's.
pub async fn resync(
    etcd: &Etcd,
    prefix: &str,
    integrity: &Integrity,
    writer: &Writer<Publisher>,
    progress: &Progress,
) -> Result<i64, ReplicaError> {
    let all = read_all(etcd, prefix, integrity, progress).await?;
    if all.replayed > 0 {
        return Err(ReplicaError::Replayed(all.replayed));
    }
    let (n, revision) = (all.records.len(), all.revision);
    let applied = writer
        .replicate(Replicated::Everything(all.records, revision))
        .map_err(|_| ReplicaError::WriterGone)?
        .await
        .map_err(|_| ReplicaError::WriterGone)??;
    progress.applied_now(applied);
    progress
        .state_rev
        .fetch_max(all.state_rev, Ordering::Relaxed);
    crate::log_info!("cluster: resynchronised {n} records at revision {revision}");
    Ok(applied)
}

/// What the replica applies from etcd: the records and audit entries that
/// pass their checks; the others are quarantined.
struct Checked {
    records: Vec<(i64, Record)>,
    audit: Vec<Vec<u8>>,
}

/// Checks one watch report's events, in revision order: a state record
/// must be sealed by a host of the cluster for its key, decode, and have
/// been written from a base no older than the last state change before it.
fn check_events(
    events: Vec<crate::etcd::Event>,
    prefix: &str,
    host: &str,
    integrity: &Integrity,
    progress: &Progress,
) -> Checked {
    let mut out = Checked {
        records: Vec::new(),
        audit: Vec::new(),
    };
    // The state revision as of the events of the current revision (one
    // transaction's records share a revision and a base).
    let mut rev = (0, progress.state_rev.load(Ordering::Relaxed));
    for e in events {
        let m = e.kv.mod_revision;
        if m > rev.0 {
            rev = (m, progress.state_rev.load(Ordering::Relaxed));
        }
        if let Some(h) = audit_host(prefix, &e.kv.key) {
            if h != host && !e.delete {
                match integrity.open(&e.kv.key, &e.kv.value) {
                    Ok((_, Opened::Value(v))) => out.audit.push(v.to_vec()),
                    Ok((_, Opened::Deleted)) => {}
                    Err(why) => progress.quarantine(&e.kv.key, why),
                }
            }
            continue;
        }
        if parse_record_key(prefix, &e.kv.key).is_none() {
            continue;
        }
        if e.delete && progress.is_quarantined(&e.kv.key) {
            // The bad value is gone, and it was never applied.
            progress.release(&e.kv.key);
            continue;
        }
        if e.delete {
            progress.quarantine(
                &e.kv.key,
                "deleted outside camd (camd deletes with a sealed tombstone): the replica keeps the record".into(),
            );
            continue;
        }
        match check(integrity, prefix, &e.kv) {
            Ok((base, _)) if base < rev.1 => {
                progress.quarantine(&e.kv.key, old_record(base, rev.1))
            }
            Ok((_, r)) => {
                progress.release(&e.kv.key);
                progress.state_rev.fetch_max(m, Ordering::Relaxed);
                let key = r
                    .as_ref()
                    .map(|r| r.key.clone())
                    .or_else(|| parse_record_key(prefix, &e.kv.key));
                if let Some(key) = key {
                    out.records.push((
                        m,
                        Record {
                            key,
                            value: r.and_then(|r| r.value),
                        },
                    ));
                }
            }
            Err(why) => progress.quarantine(&e.kv.key, why),
        }
    }
    out
}

/// Applies one watch report through the writer.
async fn apply(
    events: Vec<crate::etcd::Event>,
    prefix: &str,
    host: &str,
    integrity: &Integrity,
    writer: &Writer<Publisher>,
    progress: &Progress,
) -> Result<i64, ReplicaError> {
    let top = events.iter().map(|e| e.kv.mod_revision).max().unwrap_or(0);
    let c = check_events(events, prefix, host, integrity, progress);
    let applied = writer
        .replicate(Replicated::Changes(c.records, c.audit, top))
        .map_err(|_| ReplicaError::WriterGone)?
        .await
        .map_err(|_| ReplicaError::WriterGone)??;
    Ok(applied)
}

/// Watches and applies until the writer is gone.
pub async fn run(
    etcd: Etcd,
    prefix: String,
    host: String,
    integrity: Arc<Integrity>,
    writer: Writer<Publisher>,
    progress: Arc<Progress>,
) {
    let start = prefix.clone().into_bytes();
    let end = prefix_end(&start);
    loop {
        let from = progress.applied.load(Ordering::Relaxed) + 1;
        let mut watch = match etcd.watch(&start, &end, from).await {
            Ok(w) => w,
            Err(e) => {
                if progress.connected.swap(false, Ordering::Relaxed) {
                    crate::log_warn!(
                        "cluster: etcd lost, deciding from revision {}: {e}",
                        from - 1
                    );
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
        };
        progress.heard();
        if !progress.connected.swap(true, Ordering::Relaxed) {
            crate::log_info!("cluster: watching etcd from revision {from}");
        }
        loop {
            let Ok(next) = tokio::time::timeout(SILENCE, watch.next()).await else {
                // Silent for SILENCE: open it again from where it stands.
                break;
            };
            progress.heard();
            match next {
                Ok(WatchMessage::Events(events)) => {
                    match apply(events, &prefix, &host, &integrity, &writer, &progress).await {
                        Ok(rev) => progress.applied_now(rev),
                        Err(ReplicaError::WriterGone) => return,
                        Err(e) => {
                            crate::log_error!("cluster: cannot apply a change from etcd: {e}");
                            break;
                        }
                    }
                }
                Ok(WatchMessage::Progress(rev)) => {
                    progress.seen.fetch_max(rev, Ordering::Relaxed);
                }
                Ok(WatchMessage::Compacted(at)) => {
                    crate::log_warn!(
                        "cluster: etcd compacted past revision {} (to {at}); resynchronising",
                        from - 1
                    );
                    if let Err(e) = resync(&etcd, &prefix, &integrity, &writer, &progress).await {
                        crate::log_error!("cluster: resync failed: {e}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    break;
                }
                Err(e) => {
                    progress.connected.store(false, Ordering::Relaxed);
                    crate::log_warn!("cluster: the watch stopped: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
            }
        }
    }
}
