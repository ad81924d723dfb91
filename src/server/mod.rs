//! The Unix-socket server: listener, connections, request handling, and an
//! orderly shutdown (stop accepting, finish in-flight requests and commits).
//! No business rules live here: they are in `store/` and `policy/`.

mod acceptor;
mod admin;
mod answer;
mod api;
mod budget;
mod connection;
mod daemon;
mod handler;
mod listener;
mod peer;
mod per_uid;
mod proof;
mod signed;
mod throttle;
mod tracing;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use acceptor::Acceptor;
pub use budget::Budget;
pub use daemon::{Daemon, now_ms};
pub use listener::{ListenError, bind, gid_of};
pub use peer::Peer;
use per_uid::{PerUid, Refused};
pub use throttle::{Gate, Throttle};

/// How often last-used times of access keys are written back.
const KEY_USE_FLUSH: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish their current request.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `listener` until `stop` turns true, then drains connections.
pub async fn serve(
    daemon: Arc<Daemon>,
    listener: std::os::unix::net::UnixListener,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(daemon.config.max_connections));
    let per_uid = PerUid::new(
        daemon.config.max_connections_per_uid,
        daemon.config.new_connections_per_sec_per_uid,
    );
    let metrics = daemon.metrics.clone();
    let admit = move |uid| match per_uid.enter(uid) {
        Ok(slot) => Some(slot),
        Err(why) => {
            metrics.refused(why == Refused::Cap);
            None
        }
    };
    let mut acceptor = match Acceptor::spawn(listener, permits.clone(), admit) {
        Ok(a) => a,
        Err(e) => {
            crate::log_error!("cannot start accepting connections: {e}");
            return;
        }
    };
    let mut conns = JoinSet::new();
    let flusher = tokio::spawn(flush_key_uses_every(daemon.clone(), stop.clone()));
    loop {
        let accepted = tokio::select! {
            a = acceptor.next() => a,
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Some(a) = accepted else {
            crate::log_error!("no longer accepting connections");
            break;
        };
        let stream = match a
            .stream
            .set_nonblocking(true)
            .and_then(|()| UnixStream::from_std(a.stream))
        {
            Ok(s) => s,
            Err(e) => {
                crate::log_warn!("cannot serve a connection from uid {}: {e}", a.uid);
                continue;
            }
        };
        let d = daemon.clone();
        let s = stop.clone();
        let (slot, permit, peer) = (a.slot, a.permit, (a.uid, a.gid, a.pid));
        conns.spawn(async move {
            let _held = (slot, permit);
            d.metrics.connection(1);
            let end = connection::serve(d.clone(), stream, peer, s).await;
            d.metrics.connection(-1);
            if let connection::End::Dropped(why) = end {
                crate::log_debug!("connection dropped: {why}");
            }
        });
    }
    // Stop accepting (a thread waiting for a permit is released by closing
    // them) and close the socket before draining.
    permits.close();
    acceptor.stop().await;
    let drained =
        tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        crate::log_warn!(
            "{} connections did not finish in {DRAIN:?}; closing them",
            conns.len()
        );
        conns.shutdown().await;
    }
    let _ = flusher.await;
    flush_key_uses(&daemon).await;
}

/// Writes last-used times back every [`KEY_USE_FLUSH`] until `stop`.
async fn flush_key_uses_every(daemon: Arc<Daemon>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(KEY_USE_FLUSH);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => flush_key_uses(&daemon).await,
            _ = stop.changed() => return,
        }
    }
}

async fn flush_key_uses(daemon: &Daemon) {
    let uses = daemon.authz.take_key_uses();
    if !uses.is_empty() {
        if let Ok(pending) = daemon.writer.record_key_use(uses) {
            if let Ok(Err(e)) = pending.await {
                crate::log_error!("cannot record key use: {e}");
            }
        }
    }
}
