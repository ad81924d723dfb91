//! One HTTP/1.1 exchange with an etcd member's JSON gateway: connect
//! (plain or TLS), POST a JSON body, and read the answer whole or as a
//! stream of newline-separated JSON messages.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::{Endpoint, EtcdError, Grpc};

/// An open HTTP/1.1 connection to one member: one request at a time, kept
/// for the next one when its answer was read whole.
pub(super) struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    /// When it last finished an exchange (or was opened).
    idle_since: std::time::Instant,
}

/// An idle connection older than this is closed rather than reused: a
/// firewall or NAT on the way may have dropped it without a word.
const MAX_IDLE: Duration = Duration::from_secs(20);

impl Conn {
    /// Whether the connection can take another request now.
    pub(super) fn is_ready(&self) -> bool {
        self.sender.is_ready()
    }

    /// Whether it is fresh enough to reuse.
    pub(super) fn is_fresh(&self) -> bool {
        self.is_ready() && self.idle_since.elapsed() < MAX_IDLE
    }

    /// Whether the connection still takes a request (false once the member
    /// closed it while it was idle).
    pub(super) async fn still_open(&mut self, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, self.sender.ready()).await,
            Ok(Ok(()))
        )
    }

    /// Marks the end of an exchange.
    pub(super) fn idle(&mut self) {
        self.idle_since = std::time::Instant::now();
    }
}

/// Connects to `ep` (with TLS when `tls` is given).
pub(super) async fn connect(
    ep: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Conn, EtcdError> {
    let unreachable = |why: String| EtcdError::Unavailable(format!("{}: {why}", ep.url()));
    let open = async {
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        match tls {
            None => handshake(TokioIo::new(tcp), &unreachable).await,
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(ep.host.clone())
                    .map_err(|e| EtcdError::Config(format!("{}: {e}", ep.url())))?;
                let stream = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| unreachable(format!("TLS: {e}")))?;
                handshake(TokioIo::new(stream), &unreachable).await
            }
        }
    };
    tokio::time::timeout(timeout, open)
        .await
        .map_err(|_| unreachable("connect timed out".into()))?
}

async fn handshake<I>(
    io: I,
    unreachable: &(dyn Fn(String) -> EtcdError + Sync),
) -> Result<Conn, EtcdError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::spawn(conn);
    Ok(Conn {
        sender,
        idle_since: std::time::Instant::now(),
    })
}

/// POSTs `body` to `path` over `conn`; the answer's head (its body is read
/// by the caller).
pub(super) async fn send(
    conn: &mut Conn,
    ep: &Endpoint,
    path: &str,
    token: Option<&str>,
    body: &Value,
    timeout: Duration,
) -> Result<hyper::Response<Incoming>, EtcdError> {
    let unreachable = |why: String| EtcdError::Unavailable(format!("{}: {why}", ep.url()));
    let mut req = hyper::Request::post(path)
        .header("host", format!("{}:{}", ep.host, ep.port))
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let req = req
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| EtcdError::Protocol(e.to_string()))?;
    let exchange = async {
        conn.sender
            .ready()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        conn.sender
            .send_request(req)
            .await
            .map_err(|e| unreachable(e.to_string()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| unreachable("no answer in time".into()))?
}

/// The whole answer as JSON; a gateway error becomes `EtcdError::Server`.
pub(super) async fn read_json(
    resp: hyper::Response<Incoming>,
    timeout: Duration,
) -> Result<Value, EtcdError> {
    let status = resp.status();
    let body = tokio::time::timeout(timeout, resp.into_body().collect())
        .await
        .map_err(|_| EtcdError::Unavailable("the answer did not arrive in time".into()))?
        .map_err(|e| EtcdError::Unavailable(e.to_string()))?
        .to_bytes();
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| EtcdError::Protocol(format!("not JSON ({e}): {}", shown(&body))))?;
    if !status.is_success() || v.get("error").is_some() {
        return Err(server_error(&v));
    }
    Ok(v)
}

/// A gateway error body as an error, with its gRPC code (`code` in a
/// unary answer, `grpc_code` in a stream's).
pub(super) fn server_error(v: &Value) -> EtcdError {
    let message = v
        .get("message")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("unknown error")
        .to_string();
    let code = v
        .get("code")
        .or_else(|| v.get("grpc_code"))
        .and_then(Value::as_u64)
        .and_then(|c| u32::try_from(c).ok())
        .map_or(Grpc::UNKNOWN, Grpc);
    EtcdError::Server { code, message }
}

fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b.get(..200).unwrap_or(b)).into_owned()
}

/// Newline-separated JSON messages of a streamed answer.
pub(super) struct Lines {
    body: Incoming,
    buf: Vec<u8>,
}

impl Lines {
    pub(super) fn new(resp: hyper::Response<Incoming>) -> Self {
        Self {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    /// The next message; `Ok(None)` when the stream ended.
    pub(super) async fn next(&mut self) -> Result<Option<Value>, EtcdError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = line.get(..pos).unwrap_or_default();
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return serde_json::from_slice(text).map(Some).map_err(|e| {
                    EtcdError::Protocol(format!("watch message ({e}): {}", shown(text)))
                });
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(EtcdError::Unavailable(e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}
