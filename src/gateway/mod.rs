//! `camd-api`'s HTTP front: CAM's API (Tencent Cloud API 3.0) over HTTP or
//! HTTPS (rustls), each request forwarded as received to camd over its Unix
//! socket (`CallApi`), where the signature is verified against the sealed
//! keys and the call runs as the signer. The front holds no key and
//! decides nothing; camd itself keeps to Unix sockets.

mod forward;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};
use tokio_rustls::TlsAcceptor;

pub use tls::{TlsError, self_signed, tls_acceptor};

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
    /// How long a client may take to send a request's headers (and,
    /// between requests, to start the next one), or a TLS handshake.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves until `stop` turns true; open connections finish their request.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    socket: PathBuf,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let socket = Arc::new(socket);
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
        let tls = tls.clone();
        let socket = socket.clone();
        connections.spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(s)) => connection(TokioIo::new(s), socket, limits).await,
                        Ok(Err(e)) => crate::log_debug!("tls handshake with {peer} failed: {e}"),
                        Err(_) => crate::log_debug!("tls handshake with {peer} timed out"),
                    }
                }
                None => connection(TokioIo::new(stream), socket, limits).await,
            }
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// One HTTP/1.1 connection; its requests share one camd connection.
async fn connection<I>(io: I, socket: Arc<PathBuf>, limits: Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let camd = Arc::new(Mutex::new(None));
    let service = service_fn(move |req| {
        let camd = camd.clone();
        let socket = socket.clone();
        async move { forward::answer(req, &socket, &camd).await }
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
