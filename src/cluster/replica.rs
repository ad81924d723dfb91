//! Keeping the local replica current: a watch on the prefix from the
//! revision after the replica's, each report applied through the writer
//! (records in one local commit, O(changes)); when etcd has compacted past
//! that revision, a resync: everything read at one revision, paged at
//! that revision, replacing the state in one step, then watching on from
//! the revision after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use crate::authz::Publisher;
use crate::etcd::{Etcd, EtcdError, WatchMessage, prefix_end};
use crate::store::{Record, Replicated, Writer};

use super::keys::{STATE, audit_host, parse_record_key};

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

    /// Seconds since etcd was last heard from, at `now_ms`.
    pub fn age_secs(&self, now_ms: i64) -> u64 {
        let heard = self.heard_ms.load(Ordering::Relaxed);
        u64::try_from(now_ms.saturating_sub(heard) / 1000).unwrap_or(0)
    }
}

/// Reads every state record at one revision (the first page's), paging.
pub async fn read_all(etcd: &Etcd, prefix: &str) -> Result<(Vec<Record>, i64), EtcdError> {
    let start = format!("{prefix}{STATE}").into_bytes();
    let end = prefix_end(&start);
    let mut key = start;
    let mut revision = 0;
    let mut out = Vec::new();
    loop {
        let page = etcd.range(&key, &end, revision, 2000).await?;
        if revision == 0 {
            revision = page.revision;
        }
        for kv in &page.kvs {
            if let Some(k) = parse_record_key(prefix, &kv.key) {
                out.push(Record {
                    key: k,
                    value: Some(kv.value.clone()),
                });
            }
        }
        match (page.more, page.kvs.last()) {
            (true, Some(last)) => {
                key = last.key.clone();
                key.push(0);
            }
            _ => return Ok((out, revision)),
        }
    }
}

/// Replaces the local state with etcd's.
pub async fn resync(
    etcd: &Etcd,
    prefix: &str,
    writer: &Writer<Publisher>,
    progress: &Progress,
) -> Result<i64, String> {
    let (records, revision) = read_all(etcd, prefix).await.map_err(|e| e.to_string())?;
    let n = records.len();
    let applied = writer
        .replicate(Replicated::Everything(records, revision))
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())??;
    progress.applied_now(applied);
    crate::log_info!("cluster: resynchronised {n} records at revision {revision}");
    Ok(applied)
}

/// Applies one watch report through the writer.
async fn apply(
    events: Vec<crate::etcd::Event>,
    prefix: &str,
    host: &str,
    writer: &Writer<Publisher>,
) -> Result<i64, String> {
    let mut records = Vec::new();
    let mut audit = Vec::new();
    let top = events.iter().map(|e| e.kv.mod_revision).max().unwrap_or(0);
    for e in events {
        if let Some(k) = parse_record_key(prefix, &e.kv.key) {
            records.push((
                e.kv.mod_revision,
                Record {
                    key: k,
                    value: (!e.delete).then_some(e.kv.value),
                },
            ));
        } else if let Some(h) = audit_host(prefix, &e.kv.key) {
            if h != host && !e.delete {
                audit.push(e.kv.value);
            }
        }
    }
    writer
        .replicate(Replicated::Changes(records, audit, top))
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?
}

/// Watches and applies until the writer is gone.
pub async fn run(
    etcd: Etcd,
    prefix: String,
    host: String,
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
                    match apply(events, &prefix, &host, &writer).await {
                        Ok(rev) => progress.applied_now(rev),
                        Err(e) if e.contains("stopped") || e.contains("closed") => return,
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
                    if let Err(e) = resync(&etcd, &prefix, &writer, &progress).await {
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
