//! Cluster mode: many hosts share one truth in etcd, and each camd keeps a
//! local replica (its redb file and the in-memory snapshot) that decides on
//! its own. Writes are etcd transactions checked against the latest state
//! (`remote.rs`); a watch keeps the replica current (`replica.rs`); every
//! host must hold the same pepper and sealing key (`join.rs`). Where the
//! records live under the prefix: `keys.rs`.

mod error;
mod integrity;
mod join;
mod keys;
mod remote;
mod replica;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::authz::Publisher;
use crate::config::ClusterConfig;
use crate::credentials::{KeyHasher, Keyring, Secret};
use crate::etcd::{Etcd, EtcdConfig, EtcdError};
use crate::store::{Store, Writer};

pub use error::{JoinError, ReplicaError};
pub use integrity::{Integrity, Opened};
pub use keys::record_key;
pub use replica::Progress;

/// What the rest of camd knows of the cluster.
#[derive(Debug)]
pub struct Cluster {
    /// The client.
    pub etcd: Etcd,
    /// The prefix everything lives under.
    pub prefix: String,
    /// This host's id (its audit keys).
    pub host: String,
    /// The replica's progress.
    pub progress: Arc<Progress>,
    /// How long a decision may wait for a revision it asks for.
    pub max_wait: Duration,
    /// Decisions are refused when the replica has not heard from etcd
    /// for longer (`None`: never refused).
    pub max_staleness_ms: Option<i64>,
    /// Seals and opens every value under the prefix.
    pub integrity: Arc<integrity::Integrity>,
}

/// The thread keeping the replica current.
#[derive(Debug)]
pub struct Replica {
    thread: std::thread::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Replica {
    /// Stops watching (dropping its handle on the writer) and waits.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The cluster's state as `camctl status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The members' URLs.
    pub endpoints: Vec<String>,
    /// The watch is open.
    pub connected: bool,
    /// etcd's revision (the last seen when etcd does not answer).
    pub etcd_revision: i64,
}

fn password(config: &ClusterConfig) -> Result<Option<(String, Secret)>, JoinError> {
    let Some(user) = &config.user else {
        return Ok(None);
    };
    let path = match (
        &config.password_file,
        std::env::var_os("CREDENTIALS_DIRECTORY"),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some(dir)) => Path::new(&dir).join("etcd-password"),
        (None, None) => {
            return Err(JoinError::Password(format!(
                "cluster user `{user}` needs a password: set cluster.password_file or the systemd credential `etcd-password`"
            )));
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        JoinError::Password(format!(
            "cannot read the etcd password file `{}`: {e}",
            path.display()
        ))
    })?;
    Ok(Some((
        user.clone(),
        Secret::new(text.trim_end().to_string()),
    )))
}

/// This host's id: random, kept in the state folder.
fn host_id(state_dir: &Path) -> Result<String, JoinError> {
    let path = state_dir.join("host-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if !id.is_empty() {
            return Ok(id);
        }
    }
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| JoinError::HostId("the random generator failed".to_string()))?;
    let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
    std::fs::write(&path, &id)
        .map_err(|e| JoinError::HostId(format!("cannot write `{}`: {e}", path.display())))?;
    Ok(id)
}

/// The etcd client `config` describes.
fn client(config: &ClusterConfig) -> Result<Etcd, JoinError> {
    Etcd::new(&EtcdConfig {
        endpoints: config.endpoints.clone(),
        ca: config.ca.clone(),
        cert: config.cert.clone(),
        key: config.key.clone(),
        user: password(config)?,
        timeout: Duration::from_millis(config.timeout_ms),
        fresh_connections: false,
    })
    .map_err(JoinError::from)
}

/// A new replica's first read: everything in etcd, into an empty store.
async fn first_read(
    etcd: &Etcd,
    prefix: &str,
    store: &mut Store,
    integrity: &integrity::Integrity,
    progress: &Progress,
) -> Result<(), JoinError> {
    let s = store.state();
    let local = !s.users().is_empty()
        || !s.groups().is_empty()
        || !s.keys().is_empty()
        || !s.policies().is_empty()
        || !s.settings().is_empty()
        || !s.roles().is_empty();
    if local {
        return Err(JoinError::Standalone);
    }
    let all = replica::read_all(etcd, prefix, integrity, progress)
        .await
        .map_err(ReplicaError::Read)?;
    if all.replayed > 0 {
        return Err(ReplicaError::Replayed(all.replayed).into());
    }
    store
        .resync(&all.records, all.revision, crate::clock::now_ms())
        .map_err(ReplicaError::Apply)?;
    progress.state_rev.store(all.state_rev, Ordering::Relaxed);
    crate::log_info!(
        "cluster: joined with {} records at revision {}",
        all.records.len(),
        all.revision
    );
    Ok(())
}

/// A known replica's start: the newest state change as of its revision,
/// what a record's base is checked against from here on.
async fn newest_state(etcd: &Etcd, prefix: &str, revision: i64, progress: &Progress) {
    let state = format!("{prefix}{}", keys::STATE).into_bytes();
    let end = crate::etcd::prefix_end(&state);
    match etcd.newest(&state, &end, revision).await {
        Ok(rev) => progress.state_rev.store(rev, Ordering::Relaxed),
        Err(e) => crate::log_warn!(
            "cluster: cannot read the newest state change at revision {revision}: {e}; old records put back meanwhile are caught from the next change on"
        ),
    }
}

/// How long a new host (no replica yet) waits for etcd to answer at start:
/// etcd and camd started together (a README, a compose file, a boot) come
/// up in either order.
const FIRST_JOIN_WAIT: Duration = Duration::from_secs(30);

/// Checks the secrets; a new host retries while etcd is unreachable, for
/// up to [`FIRST_JOIN_WAIT`] (a known host decides from its replica instead).
async fn first_answer(
    etcd: &Etcd,
    prefix: &str,
    mine: &[u8],
    known: bool,
) -> Result<(), join::CheckError> {
    let deadline = tokio::time::Instant::now() + FIRST_JOIN_WAIT;
    let mut said = false;
    loop {
        match join::check_secrets(etcd, prefix, mine).await {
            Err(join::CheckError::Etcd(e @ EtcdError::Unavailable(_)))
                if !known && tokio::time::Instant::now() < deadline =>
            {
                if !said {
                    crate::log_warn!(
                        "cluster: waiting up to {} s for etcd to answer (a new host has no replica to decide from): {e}",
                        FIRST_JOIN_WAIT.as_secs()
                    );
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

impl Cluster {
    /// Joins the cluster: checks the secrets and brings `store` up to
    /// etcd's state (a new replica reads everything; a known one catches
    /// up through the watch later, so it starts even while etcd is away).
    /// Commits of `store` go to etcd from now on.
    pub async fn join(
        config: &ClusterConfig,
        state_dir: &Path,
        store: &mut Store,
        hasher: &KeyHasher,
        keyring: &Keyring,
    ) -> Result<Self, JoinError> {
        let etcd = client(config)?;
        let prefix = config.prefix.clone();
        let host = host_id(state_dir)?;
        let mine = join::check_value(hasher, keyring);
        let known = store.revision() > 0;
        match first_answer(&etcd, &prefix, &mine, known).await {
            Ok(()) => {}
            Err(join::CheckError::Etcd(e @ EtcdError::Unavailable(_))) if known => {
                crate::log_warn!(
                    "cluster: etcd unreachable at start; deciding from the replica at revision {}: {e}",
                    store.revision()
                );
            }
            Err(e) => return Err(e.into()),
        }
        let progress = Arc::new(Progress::default());
        let integrity = Arc::new(integrity::Integrity::new(hasher));
        if known {
            newest_state(&etcd, &prefix, store.revision(), &progress).await;
        } else {
            first_read(&etcd, &prefix, store, &integrity, &progress).await?;
        }
        progress.applied.store(store.revision(), Ordering::Relaxed);
        progress.seen.store(store.revision(), Ordering::Relaxed);
        store.set_remote(Box::new(remote::EtcdRemote {
            etcd: etcd.clone(),
            prefix: prefix.clone(),
            host: host.clone(),
            handle: tokio::runtime::Handle::current(),
            counter: AtomicU64::new(0),
            integrity: integrity.clone(),
        }));
        Ok(Self {
            etcd,
            prefix,
            host,
            progress,
            max_wait: Duration::from_millis(config.max_revision_wait_ms),
            max_staleness_ms: config
                .max_staleness_secs
                .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)),
            integrity,
        })
    }

    /// Keeps the replica current until the writer stops, on a thread and
    /// runtime of its own: reading and decoding etcd's reports never
    /// delays a decision on the runtime that serves the socket.
    pub fn spawn_replica(&self, writer: Writer<Publisher>) -> std::io::Result<Replica> {
        // The replica runs on a runtime of its own: its connections too.
        let run = replica::run(
            self.etcd.with_own_pool(),
            self.prefix.clone(),
            self.host.clone(),
            self.integrity.clone(),
            writer,
            self.progress.clone(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("camd-replica".into())
            .spawn(move || {
                rt.block_on(async move {
                    tokio::select! {
                        () = run => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(Replica { thread, stop })
    }

    /// Why a decision at `now_ms` is refused: the replica has not heard
    /// from etcd for longer than `max_staleness_secs`.
    pub fn too_stale(&self, now_ms: i64) -> Option<u64> {
        let max = self.max_staleness_ms?;
        let heard = self.progress.heard_ms.load(Ordering::Relaxed);
        (now_ms.saturating_sub(heard) > max).then(|| self.progress.age_secs(now_ms))
    }

    /// Where the cluster stands (asks etcd, briefly).
    pub async fn standing(&self) -> Standing {
        let asked = tokio::time::timeout(Duration::from_millis(500), self.etcd.revision()).await;
        if let Ok(Ok(rev)) = asked {
            self.progress.seen.fetch_max(rev, Ordering::Relaxed);
        }
        Standing {
            endpoints: self.etcd.endpoints(),
            connected: self.progress.connected.load(Ordering::Relaxed),
            etcd_revision: self.progress.seen.load(Ordering::Relaxed),
        }
    }
}
