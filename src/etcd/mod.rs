//! A small etcd v3 client over etcd's JSON gateway (`/v3/...`, served by
//! every etcd 3.4+ member on its client URL): ranges, transactions with
//! compares, watches, status, compaction and password authentication, on
//! tokio and hyper. Keys and values are bytes (base64 on the wire). It
//! knows nothing of camd's data.

mod http;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use thiserror::Error;

/// Why an etcd call failed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EtcdError {
    /// No member answered (connection refused, timed out, cut).
    #[error("etcd is unreachable: {0}")]
    Unavailable(String),
    /// A member answered with an error: its gRPC code and message.
    #[error("etcd refused: {message}")]
    Server {
        /// The gateway's gRPC status code.
        code: Grpc,
        /// etcd's message.
        message: String,
    },
    /// The answer did not parse.
    #[error("etcd answered something unexpected: {0}")]
    Protocol(String),
    /// The revision asked for is compacted away.
    #[error("etcd compacted revision {0}")]
    Compacted(i64),
    /// The client options are wrong.
    #[error("etcd client configuration: {0}")]
    Config(String),
}

/// A gRPC status code, as etcd's gateway reports it with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grpc(pub u32);

impl Grpc {
    /// No code given.
    pub const UNKNOWN: Grpc = Grpc(2);
    /// Bad input; also etcd's answer to a wrong user name or password.
    pub const INVALID_ARGUMENT: Grpc = Grpc(3);
    /// The request took too long.
    pub const DEADLINE_EXCEEDED: Grpc = Grpc(4);
    /// Over a quota (etcd's NOSPACE).
    pub const RESOURCE_EXHAUSTED: Grpc = Grpc(8);
    /// A revision compacted away, or not yet reached.
    pub const OUT_OF_RANGE: Grpc = Grpc(11);
    /// No leader, the leader changed, or the request timed out in raft.
    pub const UNAVAILABLE: Grpc = Grpc(14);
    /// The auth token is invalid or expired.
    pub const UNAUTHENTICATED: Grpc = Grpc(16);
}

impl std::fmt::Display for Grpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gRPC code {}", self.0)
    }
}

impl EtcdError {
    /// A member could not serve it now, another (or a later try) may.
    fn is_transient(&self) -> bool {
        matches!(self, EtcdError::Server { code, .. }
            if *code == Grpc::UNAVAILABLE || *code == Grpc::DEADLINE_EXCEEDED)
    }

    /// The auth token needs renewing.
    fn is_stale_token(&self) -> bool {
        matches!(self, EtcdError::Server { code, .. } if *code == Grpc::UNAUTHENTICATED)
    }

    /// The revision asked for is compacted away (etcd gives this and a
    /// revision in the future one code; only the message tells them apart).
    fn is_compacted(&self) -> bool {
        matches!(self, EtcdError::Server { code, message }
            if *code == Grpc::OUT_OF_RANGE && !message.contains("future"))
    }
}

/// One member's client URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or not.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Endpoint {
    /// Parses `http://host:port` or `https://host:port`.
    pub fn parse(url: &str) -> Result<Self, EtcdError> {
        let bad = || EtcdError::Config(format!("endpoint `{url}` is not http(s)://HOST:PORT"));
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            tls,
            host: host.to_string(),
            port: port.parse().map_err(|_| bad())?,
        })
    }

    /// As written.
    pub fn url(&self) -> String {
        format!(
            "{}://{}:{}",
            if self.tls { "https" } else { "http" },
            self.host,
            self.port
        )
    }
}

/// How to reach etcd.
#[derive(Debug, Clone, Default)]
pub struct EtcdConfig {
    /// Client URLs of the members.
    pub endpoints: Vec<String>,
    /// CA certificate (PEM) for `https` endpoints.
    pub ca: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub cert: Option<PathBuf>,
    /// The client certificate's key.
    pub key: Option<PathBuf>,
    /// User name and password for etcd's authentication.
    pub user: Option<(String, crate::credentials::Secret)>,
    /// How long one call may take.
    pub timeout: Duration,
    /// Open a connection for every call instead of keeping idle ones (the
    /// benches' baseline).
    pub fresh_connections: bool,
}

/// A key and its value at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kv {
    /// The key.
    pub key: Vec<u8>,
    /// The value (empty for a delete event).
    pub value: Vec<u8>,
    /// The revision that last changed it.
    pub mod_revision: i64,
}

/// A change seen by a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// True for a delete.
    pub delete: bool,
    /// The key and (for a put) its new value.
    pub kv: Kv,
}

/// What a watch reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMessage {
    /// Changes, in revision order.
    Events(Vec<Event>),
    /// The store's revision, with no change under the watched range.
    Progress(i64),
    /// The start revision is compacted away: resynchronise.
    Compacted(i64),
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets a key.
    Put(Vec<u8>, Vec<u8>),
    /// Deletes a key.
    Delete(Vec<u8>),
}

/// A transaction's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnResult {
    /// True when every compare held and the operations ran.
    pub succeeded: bool,
    /// The store's revision after it (the transaction's, when it succeeded).
    pub revision: i64,
}

/// A page of a range read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The keys, in key order.
    pub kvs: Vec<Kv>,
    /// More keys follow.
    pub more: bool,
    /// The revision the read was served at.
    pub revision: i64,
}

/// The end of the range of every key that starts with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(v: &Value) -> Result<Vec<u8>, EtcdError> {
    match v.as_str() {
        None => Ok(Vec::new()),
        Some(s) => B64
            .decode(s)
            .map_err(|e| EtcdError::Protocol(format!("bad base64: {e}"))),
    }
}

/// An int64 as the gateway writes it: a string (a number from some
/// versions), absent for 0. Anything else is refused, never read as 0.
fn int(v: &Value) -> Result<i64, EtcdError> {
    let bad = || EtcdError::Protocol(format!("`{}` is not an int64", shown_value(v)));
    match v {
        Value::Null => Ok(0),
        Value::String(s) => s.parse().map_err(|_| bad()),
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn shown_value(v: &Value) -> String {
    v.to_string().chars().take(40).collect()
}

/// `v`'s field `k` (null when absent).
fn field<'a>(v: &'a Value, k: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(k).unwrap_or(&NULL)
}

fn kv_of(v: &Value) -> Result<Kv, EtcdError> {
    Ok(Kv {
        key: unb64(field(v, "key"))?,
        value: unb64(field(v, "value"))?,
        mod_revision: int(field(v, "mod_revision"))?,
    })
}

/// A client of one etcd cluster; cheap to clone.
#[derive(Clone)]
pub struct Etcd {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Vec<Endpoint>,
    tls: Option<Arc<rustls::ClientConfig>>,
    user: Option<(String, crate::credentials::Secret)>,
    token: std::sync::Mutex<Option<String>>,
    timeout: Duration,
    /// The member that answered last (tried first).
    preferred: AtomicUsize,
    /// Idle connections for unary calls, with the member each goes to.
    idle: std::sync::Mutex<Vec<(usize, http::Conn)>>,
    /// Keep no idle connection.
    fresh: bool,
}

/// Most idle connections a client keeps.
const MAX_IDLE: usize = 8;

impl std::fmt::Debug for Etcd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Etcd")
            .field("endpoints", &self.endpoints())
            .finish_non_exhaustive()
    }
}

fn tls_config(c: &EtcdConfig) -> Result<Option<Arc<rustls::ClientConfig>>, EtcdError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let Some(ca) = &c.ca else {
        return Ok(None);
    };
    let bad = |what: &str, e: String| EtcdError::Config(format!("{what}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad("CA", e.to_string()))? {
        roots
            .add(cert.map_err(|e| bad("CA", e.to_string()))?)
            .map_err(|e| bad("CA", e.to_string()))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad("TLS", e.to_string()))?
    .with_root_certificates(roots);
    let config = match (&c.cert, &c.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad("client certificate", e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad("client certificate", e.to_string()))?;
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| bad("client key", e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad("client certificate", e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(bad(
                "TLS",
                "give both a client certificate and its key".into(),
            ));
        }
    };
    Ok(Some(Arc::new(config)))
}

impl Etcd {
    /// A client of the cluster at `config.endpoints`.
    pub fn new(config: &EtcdConfig) -> Result<Self, EtcdError> {
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| Endpoint::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        if endpoints.is_empty() {
            return Err(EtcdError::Config("no endpoint".into()));
        }
        let tls = tls_config(config)?;
        if endpoints.iter().any(|e| e.tls) && tls.is_none() {
            return Err(EtcdError::Config(
                "an https endpoint needs a CA certificate (cluster.ca)".into(),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                endpoints,
                tls,
                user: config.user.clone(),
                token: std::sync::Mutex::new(None),
                timeout: if config.timeout.is_zero() {
                    Duration::from_secs(2)
                } else {
                    config.timeout
                },
                preferred: AtomicUsize::new(0),
                idle: std::sync::Mutex::new(Vec::new()),
                fresh: config.fresh_connections,
            }),
        })
    }

    /// The same cluster, with a pool of connections of its own: for a
    /// task on another runtime (a connection's I/O is driven by the runtime
    /// that opened it, so runtimes must not share idle connections).
    pub fn with_own_pool(&self) -> Self {
        let i = &self.inner;
        Self {
            inner: Arc::new(Inner {
                endpoints: i.endpoints.clone(),
                tls: i.tls.clone(),
                user: i.user.clone(),
                token: std::sync::Mutex::new(self.token()),
                timeout: i.timeout,
                preferred: AtomicUsize::new(i.preferred.load(Ordering::Relaxed)),
                idle: std::sync::Mutex::new(Vec::new()),
                fresh: i.fresh,
            }),
        }
    }

    /// The members' URLs.
    pub fn endpoints(&self) -> Vec<String> {
        self.inner.endpoints.iter().map(Endpoint::url).collect()
    }

    fn token(&self) -> Option<String> {
        self.inner.token.lock().ok().and_then(|t| t.clone())
    }

    async fn authenticate(&self, ep: &Endpoint) -> Result<(), EtcdError> {
        let Some((name, password)) = &self.inner.user else {
            return Ok(());
        };
        let body = json!({"name": name, "password": password.expose()});
        let at = self
            .inner
            .endpoints
            .iter()
            .position(|e| e == ep)
            .unwrap_or(0);
        let (mut conn, _) = self.conn(at, ep).await?;
        let resp = http::send(
            &mut conn,
            ep,
            "/v3/auth/authenticate",
            None,
            &body,
            self.inner.timeout,
        )
        .await?;
        let v = http::read_json(resp, self.inner.timeout).await;
        self.put_back(at, conn, &v);
        let v = v?;
        let token = field(&v, "token")
            .as_str()
            .ok_or_else(|| EtcdError::Protocol("no token".into()))?;
        if let Ok(mut t) = self.inner.token.lock() {
            *t = Some(token.to_string());
        }
        Ok(())
    }

    /// An idle connection to member `at` (`true`: reused), or a new one.
    async fn conn(&self, at: usize, ep: &Endpoint) -> Result<(http::Conn, bool), EtcdError> {
        let reused = self.inner.idle.lock().ok().and_then(|mut idle| {
            idle.retain(|(_, c)| c.is_fresh());
            let i = idle.iter().position(|(m, _)| *m == at)?;
            Some(idle.swap_remove(i).1)
        });
        match reused {
            Some(c) => Ok((c, true)),
            None => self.connect(ep).await.map(|c| (c, false)),
        }
    }

    /// A new connection to `ep`.
    async fn connect(&self, ep: &Endpoint) -> Result<http::Conn, EtcdError> {
        let tls = self.inner.tls.as_ref().filter(|_| ep.tls);
        http::connect(ep, tls, self.inner.timeout).await
    }

    /// Sends over an idle connection to member `at`, or a new one. A kept
    /// connection the member closed while idle is replaced before the
    /// request is written (a request written is never sent twice: a
    /// transaction must not run again).
    async fn send(
        &self,
        at: usize,
        ep: &Endpoint,
        path: &str,
        body: &Value,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, http::Conn), EtcdError> {
        let (mut conn, reused) = self.conn(at, ep).await?;
        if reused && !conn.still_open(self.inner.timeout).await {
            conn = self.connect(ep).await?;
        }
        let token = self.token();
        let resp = http::send(
            &mut conn,
            ep,
            path,
            token.as_deref(),
            body,
            self.inner.timeout,
        )
        .await?;
        Ok((resp, conn))
    }

    /// Keeps `conn` for the next call when its answer was read whole (an
    /// answer or a gateway error; not a cut or a timeout).
    fn put_back<T>(&self, at: usize, mut conn: http::Conn, read: &Result<T, EtcdError>) {
        let whole = matches!(
            read,
            Ok(_) | Err(EtcdError::Server { .. } | EtcdError::Protocol(_))
        );
        if whole && !self.inner.fresh && conn.is_ready() {
            conn.idle();
            if let Ok(mut idle) = self.inner.idle.lock() {
                if idle.len() < MAX_IDLE {
                    idle.push((at, conn));
                }
            }
        }
    }

    /// Sends `body` to `path` on the first member that answers (the last
    /// good one first): the answer's head, the member, its connection.
    async fn exchange(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, usize, http::Conn), EtcdError> {
        let n = self.inner.endpoints.len();
        let first = self.inner.preferred.load(Ordering::Relaxed);
        let mut last = EtcdError::Unavailable("no endpoint".into());
        for i in 0..n {
            let at = (first + i) % n;
            let Some(ep) = self.inner.endpoints.get(at) else {
                continue;
            };
            if self.inner.user.is_some() && self.token().is_none() {
                if let Err(e) = self.authenticate(ep).await {
                    last = e;
                    continue;
                }
            }
            let sent = self.send(at, ep, path, body).await;
            match sent {
                Ok((resp, conn)) => {
                    self.inner.preferred.store(at, Ordering::Relaxed);
                    return Ok((resp, at, conn));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A unary call: the answer as JSON (retried on another member when
    /// one is unreachable or has no leader, and once with a new token).
    async fn call(&self, path: &str, body: &Value) -> Result<Value, EtcdError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (resp, at, conn) = self.exchange(path, body).await?;
            let read = http::read_json(resp, self.inner.timeout).await;
            self.put_back(at, conn, &read);
            match read {
                Err(e) if e.is_stale_token() && self.inner.user.is_some() && attempts < 3 => {
                    if let Ok(mut t) = self.inner.token.lock() {
                        *t = None;
                    }
                }
                Err(e) if e.is_transient() && attempts < 3 * self.inner.endpoints.len() => {
                    self.inner
                        .preferred
                        .store((at + 1) % self.inner.endpoints.len(), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// Keys in `[key, end)` at `revision` (0: the latest), at most `limit`
    /// (0: all).
    pub async fn range(
        &self,
        key: &[u8],
        end: &[u8],
        revision: i64,
        limit: i64,
    ) -> Result<Page, EtcdError> {
        let body = json!({"key": b64(key), "range_end": b64(end), "revision": revision.to_string(),
                          "limit": limit.to_string()});
        let v = match self.call("/v3/kv/range", &body).await {
            Err(e) if e.is_compacted() => return Err(EtcdError::Compacted(revision)),
            other => other?,
        };
        let kvs = field(&v, "kvs")
            .as_array()
            .map(|a| a.iter().map(kv_of).collect::<Result<Vec<_>, _>>())
            .transpose()?
            .unwrap_or_default();
        Ok(Page {
            kvs,
            more: field(&v, "more").as_bool().unwrap_or(false),
            revision: int(field(field(&v, "header"), "revision"))?,
        })
    }

    /// The highest mod revision of any key in `[key, end)` as of
    /// `revision` (0: now), 0 when the range is empty.
    pub async fn newest(&self, key: &[u8], end: &[u8], revision: i64) -> Result<i64, EtcdError> {
        let body = json!({"key": b64(key), "range_end": b64(end), "revision": revision.to_string(),
                          "limit": "1", "sort_order": "DESCEND", "sort_target": "MOD",
                          "keys_only": true});
        let v = match self.call("/v3/kv/range", &body).await {
            Err(e) if e.is_compacted() => return Err(EtcdError::Compacted(revision)),
            other => other?,
        };
        field(&v, "kvs")
            .as_array()
            .and_then(|a| a.first())
            .map_or(Ok(0), |kv| int(field(kv, "mod_revision")))
    }

    /// Runs `ops` if nothing in `[key, end)` changed after `revision`
    /// (every key's mod revision is at most `revision`).
    pub async fn txn_unchanged_since(
        &self,
        key: &[u8],
        end: &[u8],
        revision: i64,
        ops: &[Op],
    ) -> Result<TxnResult, EtcdError> {
        let compare = json!([{"key": b64(key), "range_end": b64(end), "target": "MOD",
                              "result": "LESS", "mod_revision": (revision + 1).to_string()}]);
        self.txn(compare, ops).await
    }

    /// Runs `ops` if `key` holds `value` (`None`: does not exist).
    pub async fn txn_if_value(
        &self,
        key: &[u8],
        value: Option<&[u8]>,
        ops: &[Op],
    ) -> Result<TxnResult, EtcdError> {
        let compare = match value {
            None => {
                json!([{"key": b64(key), "target": "VERSION", "result": "EQUAL", "version": "0"}])
            }
            Some(v) => {
                json!([{"key": b64(key), "target": "VALUE", "result": "EQUAL", "value": b64(v)}])
            }
        };
        self.txn(compare, ops).await
    }

    async fn txn(&self, compare: Value, ops: &[Op]) -> Result<TxnResult, EtcdError> {
        let success: Vec<Value> = ops
            .iter()
            .map(|op| match op {
                Op::Put(k, v) => json!({"request_put": {"key": b64(k), "value": b64(v)}}),
                Op::Delete(k) => json!({"request_delete_range": {"key": b64(k)}}),
            })
            .collect();
        let v = self
            .call(
                "/v3/kv/txn",
                &json!({"compare": compare, "success": success}),
            )
            .await?;
        Ok(TxnResult {
            succeeded: field(&v, "succeeded").as_bool().unwrap_or(false),
            revision: int(field(field(&v, "header"), "revision"))?,
        })
    }

    /// The cluster's current revision.
    pub async fn revision(&self) -> Result<i64, EtcdError> {
        let v = self.call("/v3/maintenance/status", &json!({})).await?;
        int(field(field(&v, "header"), "revision"))
    }

    /// Whether the member that answers leads: (its member id, the leader's).
    pub async fn member_status(&self) -> Result<(String, String), EtcdError> {
        let v = self.call("/v3/maintenance/status", &json!({})).await?;
        let id = |x: &Value| match x {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok((
            id(field(field(&v, "header"), "member_id")),
            id(field(&v, "leader")),
        ))
    }

    /// Compacts the history up to `revision` (tests and operators).
    pub async fn compact(&self, revision: i64) -> Result<(), EtcdError> {
        self.call(
            "/v3/kv/compaction",
            &json!({"revision": revision.to_string(), "physical": true}),
        )
        .await
        .map(drop)
    }

    /// Watches `[key, end)` from `start` on.
    pub async fn watch(&self, key: &[u8], end: &[u8], start: i64) -> Result<Watch, EtcdError> {
        let body = json!({"create_request": {"key": b64(key), "range_end": b64(end),
                          "start_revision": start.to_string(), "progress_notify": true}});
        // A watch holds its connection for as long as it lasts: never pooled.
        let (resp, _, conn) = self.exchange("/v3/watch", &body).await?;
        if !resp.status().is_success() {
            let v = http::read_json(resp, self.inner.timeout).await?;
            return Err(http::server_error(&v));
        }
        Ok(Watch {
            lines: http::Lines::new(resp),
            _conn: conn,
        })
    }
}

/// An open watch.
pub struct Watch {
    lines: http::Lines,
    /// The watch's own connection, open while it lasts.
    _conn: http::Conn,
}

impl Watch {
    /// The next report; `Err(Unavailable)` when the stream is cut.
    pub async fn next(&mut self) -> Result<WatchMessage, EtcdError> {
        loop {
            let Some(v) = self.lines.next().await? else {
                return Err(EtcdError::Unavailable("the watch stream ended".into()));
            };
            if let Some(e) = v.get("error") {
                return Err(http::server_error(e));
            }
            let r = &field(&v, "result");
            let compact = int(field(r, "compact_revision"))?;
            if compact > 0 {
                return Ok(WatchMessage::Compacted(compact));
            }
            if field(r, "canceled").as_bool() == Some(true) {
                return Err(EtcdError::Server {
                    code: Grpc::UNKNOWN,
                    message: field(r, "cancel_reason")
                        .as_str()
                        .unwrap_or("watch canceled")
                        .to_string(),
                });
            }
            let events = field(r, "events")
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            if events.is_empty() {
                if field(r, "created").as_bool() == Some(true) {
                    continue;
                }
                return Ok(WatchMessage::Progress(int(field(
                    field(r, "header"),
                    "revision",
                ))?));
            }
            let mut out = Vec::with_capacity(events.len());
            for e in events {
                out.push(Event {
                    delete: field(e, "type").as_str() == Some("DELETE"),
                    kv: kv_of(field(e, "kv"))?,
                });
            }
            return Ok(WatchMessage::Events(out));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn revisions_are_parsed_or_refused() {
        assert_eq!(int(&json!("42")).unwrap(), 42);
        assert_eq!(int(&json!(7)).unwrap(), 7);
        assert_eq!(int(&Value::Null).unwrap(), 0);
        for bad in [json!("4x"), json!(1.5), json!(true), json!([1])] {
            assert!(matches!(int(&bad), Err(EtcdError::Protocol(_))), "{bad}");
        }
    }

    #[test]
    fn gateway_errors_are_classified_by_their_code() {
        let e = |v: Value| http::server_error(&v);
        let compacted = e(
            json!({"error": "etcdserver: mvcc: required revision has been compacted",
                                 "message": "etcdserver: mvcc: required revision has been compacted", "code": 11}),
        );
        assert!(compacted.is_compacted() && !compacted.is_transient());
        let future = e(
            json!({"message": "etcdserver: mvcc: required revision is a future revision", "code": 11}),
        );
        assert!(!future.is_compacted());
        assert!(e(json!({"message": "etcdserver: no leader", "code": 14})).is_transient());
        assert!(e(json!({"message": "etcdserver: request timed out", "code": 14})).is_transient());
        assert!(
            e(json!({"message": "etcdserver: invalid auth token", "code": 16})).is_stale_token()
        );
        // A message alone decides nothing: "leader" in the text of another code.
        assert!(!e(json!({"message": "not the leader's key", "code": 3})).is_transient());
        let streamed =
            e(json!({"grpc_code": 14, "http_code": 503, "message": "etcdserver: no leader"}));
        assert!(streamed.is_transient());
    }

    #[test]
    fn endpoints_and_prefix_ends() {
        let e = Endpoint::parse("http://127.0.0.1:2379").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("127.0.0.1", 2379, false));
        assert!(Endpoint::parse("https://[::1]:2379/").unwrap().tls);
        assert!(Endpoint::parse("127.0.0.1:2379").is_err());
        assert_eq!(prefix_end(b"/camd/"), b"/camd0".to_vec());
        assert_eq!(prefix_end(&[b'a', 0xff]), b"b".to_vec());
    }
}
