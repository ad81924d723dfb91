//! `camd-api`'s HTTP front: CAM's API (Tencent Cloud API 3.0) over HTTP or
//! HTTPS (rustls), each request forwarded as received to camd over its Unix
//! socket (`CallApi`), where the signature is verified against the sealed
//! keys and the call runs as the signer. The front holds no key and
//! decides nothing; camd itself keeps to Unix sockets.

mod forward;
mod hosts;
mod pool;
mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub use hosts::Hosts;
pub use tls::{TlsError, leaf_certificate, self_signed, tls_acceptor};

/// Why the front cannot serve.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// Plain HTTP was asked for on an address other than loopback.
    #[error(
        "refusing to serve plain HTTP on `{0}`: without --tls-cert and --tls-key camd-api listens on loopback only"
    )]
    PlainOffLoopback(SocketAddr),
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Checks that plain HTTP stays on loopback.
pub fn check_plain(addr: SocketAddr, tls: bool) -> Result<(), GatewayError> {
    if tls || addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(GatewayError::PlainOffLoopback(addr))
    }
}

/// How the front treats its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most HTTP connections served at once; past it, new ones wait in the
    /// kernel's backlog.
    pub max_connections: usize,
    /// Most HTTP connections from one client address; past it, new ones
    /// are closed at once.
    pub max_per_client: usize,
    /// How long a client may take to send a request's headers (and,
    /// between requests, to start the next one), or a TLS handshake.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's whole body (at most
    /// 256 KiB: at 10 s, a rate of at least 26 KB/s).
    pub body_timeout: Duration,
    /// Connections to camd, shared by all HTTP connections (camd allows
    /// 256 per uid).
    pub camd_connections: usize,
    /// How long a request waits for a connection to camd.
    pub camd_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_per_client: 64,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            camd_connections: 32,
            camd_wait: Duration::from_secs(5),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient(std::sync::Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in its client's share; given back on drop.
struct Slot {
    table: Arc<PerClient>,
    addr: IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, addr: IpAddr, max: usize) -> Option<Slot> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(addr).or_insert(0);
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: self.clone(),
            addr,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.addr) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&self.addr);
            }
        }
    }
}

/// Serves until `stop` turns true; open connections finish their request.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    socket: PathBuf,
    hosts: Hosts,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let front = Arc::new(forward::Front {
        pool: pool::Pool::new(socket, limits.camd_connections, limits.camd_wait),
        hosts,
        body_timeout: limits.body_timeout,
    });
    let per_client = Arc::new(PerClient::default());
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p,
            _ = stop.changed() => break,
        };
        let Ok(permit) = permit else {
            break;
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                crate::log_warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = per_client.take(peer.ip(), limits.max_per_client) else {
            crate::log_debug!(
                "closing a connection from {peer}: it holds {} already",
                limits.max_per_client
            );
            continue;
        };
        let tls = tls.clone();
        let front = front.clone();
        connections.spawn(async move {
            let _permit = permit;
            let _slot = slot;
            match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(s)) => connection(TokioIo::new(s), peer.ip(), front, limits).await,
                        Ok(Err(e)) => crate::log_debug!("tls handshake with {peer} failed: {e}"),
                        Err(_) => crate::log_debug!("tls handshake with {peer} timed out"),
                    }
                }
                None => connection(TokioIo::new(stream), peer.ip(), front, limits).await,
            }
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// One HTTP/1.1 connection from `client`; its requests share the pool.
async fn connection<I>(io: I, client: IpAddr, front: Arc<forward::Front>, limits: Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let front = front.clone();
        async move { forward::answer(req, client, &front).await }
    });
    if let Err(e) = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(forward::MAX_BODY * 2)
        .serve_connection(io, service)
        .await
    {
        crate::log_debug!("http connection ended: {e}");
    }
}
