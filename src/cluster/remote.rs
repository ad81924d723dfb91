//! The store's commits in cluster mode: one etcd transaction per batch,
//! applied only if nothing under the state's prefix changed after the
//! revision the local replica is at (so every rule was checked against the
//! latest truth), with the batch's audit entries. Every value is sealed
//! (`integrity.rs`), and a deletion is a sealed tombstone.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_ms;
use crate::etcd::{Etcd, EtcdError, Op, prefix_end};
use crate::store::{Record, Remote, RemoteError};

use super::integrity::Integrity;
use super::keys::{STATE, audit_key, record_key};

/// Commits to etcd from the writer thread (which is not a tokio thread).
pub struct EtcdRemote {
    /// The client.
    pub etcd: Etcd,
    /// The cluster's prefix.
    pub prefix: String,
    /// This host's id (audit keys).
    pub host: String,
    /// The runtime the client runs on.
    pub handle: tokio::runtime::Handle,
    /// Audit entries written by this host.
    pub counter: AtomicU64,
    /// Seals every value.
    pub integrity: std::sync::Arc<Integrity>,
}

impl Remote for EtcdRemote {
    fn commit(
        &mut self,
        base: Option<i64>,
        records: &[Record],
        audit: &[Vec<u8>],
    ) -> Result<i64, RemoteError> {
        let sealed_base = base.unwrap_or(0);
        let mut ops: Vec<Op> = records
            .iter()
            .map(|r| {
                let key = record_key(&self.prefix, &r.key);
                let value = self.integrity.seal(&key, sealed_base, r.value.as_deref());
                Op::Put(key, value)
            })
            .collect();
        let at = now_ms();
        for entry in audit {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let key = audit_key(&self.prefix, &self.host, at, n);
            let value = self.integrity.seal(&key, 0, Some(entry));
            ops.push(Op::Put(key, value));
        }
        let state = format!("{}{STATE}", self.prefix).into_bytes();
        let end = prefix_end(&state);
        let etcd = self.etcd.clone();
        let result = self.handle.block_on(async move {
            match base {
                Some(rev) => etcd.txn_unchanged_since(&state, &end, rev, &ops).await,
                // Audit entries alone: a compare that always holds.
                None => {
                    etcd.txn_unchanged_since(&state, &end, i64::MAX - 1, &ops)
                        .await
                }
            }
        });
        match result {
            Ok(r) if r.succeeded => Ok(r.revision),
            Ok(r) => Err(RemoteError::Conflict(r.revision)),
            Err(EtcdError::Unavailable(why)) => Err(RemoteError::Unavailable(why)),
            Err(e) => Err(RemoteError::Unavailable(e.to_string())),
        }
    }
}
