//! The Unix-socket server: listener, connections, request handling, and an
//! orderly shutdown (stop accepting, finish in-flight requests and commits).
//! No business rules live here: they are in `store/` and `policy/`.

mod admin;
mod connection;
mod daemon;
mod handler;
mod listener;
mod peer;
mod throttle;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

pub use daemon::{Counters, Daemon, now_ms};
pub use listener::{ListenError, bind, gid_of};
pub use peer::Peer;
pub use throttle::{Gate, Throttle, ThrottleConfig};

use crate::store::Command;

/// How often last-used times of access keys are written back.
const KEY_USE_FLUSH: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish their current request.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `listener` until `stop` turns true, then drains connections.
pub async fn serve(daemon: Arc<Daemon>, listener: UnixListener, mut stop: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(daemon.config.max_connections));
    let per_uid = Arc::new(PerUid::default());
    let mut conns = JoinSet::new();
    let mut flush = tokio::time::interval(KEY_USE_FLUSH);
    let mut backoff = Duration::from_millis(10);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(10);
                    let uid = stream.peer_cred().map(|c| c.uid()).unwrap_or(u32::MAX);
                    let Some(slot) = per_uid.enter(uid, daemon.config.max_connections_per_uid) else {
                        crate::log_debug!("closing a connection from uid {uid}: it holds the most connections one uid may");
                        drop(stream);
                        continue;
                    };
                    let d = daemon.clone();
                    let s = stop.clone();
                    conns.spawn(async move {
                        let _slot = slot;
                        if let connection::End::Dropped(why) = connection::serve(d, stream, s).await {
                            crate::log_debug!("connection dropped: {why}");
                        }
                        drop(permit);
                    });
                }
                Err(e) => {
                    crate::log_error!("accept failed: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            },
            _ = flush.tick() => flush_key_uses(&daemon).await,
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        crate::log_warn!(
            "{} connections did not finish in {DRAIN:?}; closing them",
            conns.len()
        );
        conns.shutdown().await;
    }
    flush_key_uses(&daemon).await;
}

/// Connections held by each peer uid.
#[derive(Debug, Default)]
struct PerUid(std::sync::Mutex<std::collections::HashMap<u32, usize>>);

/// One connection's place in [`PerUid`]; gives it back when dropped.
struct Slot(Arc<PerUid>, u32);

impl PerUid {
    fn enter(self: &Arc<Self>, uid: u32, max: usize) -> Option<Slot> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(uid).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot(self.clone(), uid))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = (self.0).0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

async fn flush_key_uses(daemon: &Daemon) {
    let uses = daemon.authz.take_key_uses();
    if !uses.is_empty() {
        if let Ok(Err(e)) = daemon.writer.call_async(Command::RecordKeyUse(uses)).await {
            crate::log_error!("cannot record key use: {e}");
        }
    }
}
