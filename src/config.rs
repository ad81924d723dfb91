//! camd's configuration: what the TOML file says (checked, with defaults),
//! resolved into what the daemon runs on.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::store::{AuditRetention, Limits};

/// The embedded default configuration: state in `./state`, no root needed.
pub const DEFAULT_CONFIG: &str = include_str!("../config/camd.toml");

/// The configuration as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Unix socket path.
    pub socket: PathBuf,
    /// Folder for the redb file and the pepper.
    pub state_dir: PathBuf,
    /// Folder of custom policy files (`*.json`).
    pub policy_dir: PathBuf,
    /// The root account's uin.
    pub owner_uin: u64,
    /// Socket permissions, octal (default `0660`).
    #[serde(default = "default_mode")]
    pub socket_mode: String,
    /// Group that owns the socket (default: the daemon's).
    #[serde(default)]
    pub socket_group: Option<String>,
    /// Peers with these uids act as the root account (uid 0 always does).
    #[serde(default)]
    pub admin_uids: Vec<u32>,
    /// Peers with these gids act as the root account.
    #[serde(default)]
    pub admin_gids: Vec<u32>,
    /// Most connections served at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most connections one peer uid may hold at once (so one uid cannot
    /// take every connection); further ones are closed at once.
    #[serde(default = "default_max_connections_per_uid")]
    pub max_connections_per_uid: usize,
    /// New connections one peer uid may open per second (a bucket one
    /// second deep); further ones are closed at once. Keeps a uid that
    /// connects and hangs up in a loop from keeping camd busy.
    #[serde(default = "default_new_connections_per_sec_per_uid")]
    pub new_connections_per_sec_per_uid: u32,
    /// Connections the kernel queues for camd before a connecting client
    /// waits (or, when non-blocking, gets `EAGAIN`). Short on purpose: under
    /// a connect flood a new client's connect waits behind at most this many
    /// (the flooder's own connects then wait in the kernel). Applies to the
    /// socket camd binds; under systemd the socket unit's `Backlog=` does.
    #[serde(default = "default_listen_backlog")]
    pub listen_backlog: u32,
    /// Seconds a connection may stay silent.
    #[serde(default = "default_idle")]
    pub idle_timeout_secs: u64,
    /// Largest frame or JSON line, in bytes.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// Most bytes of requests buffered across all connections (frames and
    /// lines still arriving and those being answered); a connection that
    /// would go over is closed.
    #[serde(default = "default_max_buffered")]
    pub max_buffered_bytes: usize,
    /// Seconds a started frame may take to arrive whole.
    #[serde(default = "default_frame_timeout")]
    pub frame_timeout_secs: u64,
    /// Most decisions one `Batch` request may carry; a larger batch is
    /// refused whole (`LimitExceeded.BatchSize`). Bounds the reply a
    /// connection can have pending.
    #[serde(default = "default_max_batch_items")]
    pub max_batch_items: usize,
    /// Uids that may say which client they forward a request for (camd-api,
    /// a Chat service deciding for outside callers): failures are then
    /// throttled per client address (the `x-camd-client-address` header
    /// of a signed request, or the `qcs:ip` context key), not per uid. The
    /// operator may always.
    #[serde(default)]
    pub gateway_uids: Vec<u32>,
    /// Gids whose members may, as `gateway_uids`.
    #[serde(default)]
    pub gateway_gids: Vec<u32>,
    /// Groups (by name, looked up in /etc/group at start) whose members may,
    /// as `gateway_uids`: the installed camd-api runs as group `camd-gateway`.
    #[serde(default)]
    pub gateway_groups: Vec<String>,
    /// Host of the console login link.
    #[serde(default = "default_console_host")]
    pub console_host: String,
    /// The account's AppId, as CAM's GetUserAppId reports it (0: not set;
    /// camd has no AppId of its own).
    #[serde(default)]
    pub app_id: u64,
    /// Seconds a signed request's X-TC-Timestamp may be from camd's clock
    /// (TC3's window is 300).
    #[serde(default = "default_signature_window")]
    pub signature_window_secs: u32,
    /// Account limits.
    #[serde(default)]
    pub limits: Limits,
    /// How much of the audit trail is kept.
    #[serde(default)]
    pub audit: AuditRetention,
    /// Throttling of failed authentications.
    #[serde(default)]
    pub throttle: ThrottleConfig,
    /// Prometheus metrics.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Cluster mode (absent: standalone).
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
    /// The decision log (absent: off). Re-read on every reload.
    #[serde(default)]
    pub decision_log: crate::decisions::DecisionLogConfig,
    /// The file this configuration was read from (`None`: the embedded default).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Cluster mode (`[cluster]` in the config, or `camd --etcd URL,...`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// etcd client URLs (`http://host:2379`, or `https://` with `ca`).
    pub endpoints: Vec<String>,
    /// Everything lives under this key prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// CA certificate (PEM) of etcd's server certificates.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), for etcd's client certificate auth.
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// etcd user (its password from `password_file`, or the systemd
    /// credential `etcd-password`).
    #[serde(default)]
    pub user: Option<String>,
    /// File holding the etcd user's password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// How long one etcd call may take, in ms (writes fail after it).
    #[serde(default = "default_etcd_timeout")]
    pub timeout_ms: u64,
    /// How long a decision asking for a revision waits for the replica, in ms.
    #[serde(default = "default_revision_wait")]
    pub max_revision_wait_ms: u64,
    /// Refuse decisions (`FailedOperation.ClusterReplicaStale`) while the
    /// replica has not heard from etcd for longer than this (at least 10: a
    /// quiet watch is heard from every 5 s); absent: keep deciding from the
    /// replica however old (availability first).
    #[serde(default)]
    pub max_staleness_secs: Option<u64>,
}

impl ClusterConfig {
    /// The defaults with these endpoints.
    pub fn with_endpoints(endpoints: Vec<String>) -> Self {
        Self {
            endpoints,
            prefix: default_prefix(),
            ca: None,
            cert: None,
            key: None,
            user: None,
            password_file: None,
            timeout_ms: default_etcd_timeout(),
            max_revision_wait_ms: default_revision_wait(),
            max_staleness_secs: None,
        }
    }
}

fn default_prefix() -> String {
    "/camd/".into()
}
fn default_etcd_timeout() -> u64 {
    2000
}
fn default_revision_wait() -> u64 {
    1000
}

/// Prometheus metrics (`[metrics]` in the config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// A file for node_exporter's textfile collector, rewritten atomically
    /// (camd's unit allows AF_UNIX only, so it serves no HTTP itself).
    pub textfile: Option<PathBuf>,
    /// Seconds between rewrites of `textfile`.
    pub textfile_interval_secs: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            textfile: None,
            textfile_interval_secs: 15,
        }
    }
}

fn default_signature_window() -> u32 {
    300
}
fn default_mode() -> String {
    "0660".into()
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_connections_per_uid() -> usize {
    256
}
fn default_new_connections_per_sec_per_uid() -> u32 {
    500
}
fn default_listen_backlog() -> u32 {
    128
}
fn default_idle() -> u64 {
    300
}
fn default_max_buffered() -> usize {
    64 << 20
}

fn default_frame_timeout() -> u64 {
    10
}

fn default_max_frame() -> usize {
    1 << 20
}
fn default_max_batch_items() -> usize {
    4096
}
fn default_console_host() -> String {
    "console.tencentcloud.com".into()
}

/// Why the configuration is unusable.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config `{path}`: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The TOML is invalid.
    #[error("invalid config `{path}`: {message}")]
    Parse {
        /// The file (or `<embedded>`).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config: {0}")]
    Value(String),
}

impl Config {
    /// Reads `path`, or the embedded default when `None`.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (text, shown) = match path {
            Some(p) => (
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    cause: source,
                })?,
                p.to_path_buf(),
            ),
            None => (DEFAULT_CONFIG.to_string(), PathBuf::from("<embedded>")),
        };
        let mut c: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown,
            message: e.to_string(),
        })?;
        c.check()?;
        c.source = path.map(Path::to_path_buf);
        Ok(c)
    }
}

/// The `[decision_log]` section of config file `path` as it is now, checked
/// (what a reload puts in force).
pub fn read_decision_log(path: &Path) -> Result<crate::decisions::DecisionLogConfig, ConfigError> {
    let path = &path.to_path_buf();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        cause: source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let section: crate::decisions::DecisionLogConfig = match table.get("decision_log") {
        None => crate::decisions::DecisionLogConfig::default(),
        Some(v) => v.clone().try_into().map_err(|e| ConfigError::Parse {
            path: path.clone(),
            message: format!("[decision_log]: {e}"),
        })?,
    };
    crate::decisions::Rules::compile(&section).map_err(ConfigError::Value)?;
    Ok(section)
}

impl Config {
    /// Checks values that TOML types cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.mode()?;
        crate::decisions::Rules::compile(&self.decision_log).map_err(ConfigError::Value)?;
        if self.owner_uin == 0 {
            return Err(ConfigError::Value(
                "`owner_uin` must be a positive uin".into(),
            ));
        }
        if self.max_connections == 0
            || self.max_frame_bytes < 64
            || self.max_buffered_bytes / 4 < self.max_frame_bytes
            || self.frame_timeout_secs == 0
            || self.idle_timeout_secs == 0
            || self.max_batch_items == 0
        {
            return Err(ConfigError::Value(
                "`max_connections`, `idle_timeout_secs`, `frame_timeout_secs` and `max_batch_items` must be positive, `max_frame_bytes` at least 64 and `max_buffered_bytes` at least 4 times `max_frame_bytes` (one uid may hold a quarter of it)".into(),
            ));
        }
        if let Some(s) = self
            .cluster
            .as_ref()
            .and_then(|c| c.max_staleness_secs)
            .filter(|s| *s < 10)
        {
            return Err(ConfigError::Value(format!(
                "`cluster.max_staleness_secs` must be at least 10 (a quiet watch is heard from every 5 s), not {s}"
            )));
        }
        if self.listen_backlog == 0 || self.listen_backlog > 65535 {
            return Err(ConfigError::Value(format!(
                "`listen_backlog` must be between 1 and 65535, not {}",
                self.listen_backlog
            )));
        }
        if self.max_connections_per_uid == 0 || self.new_connections_per_sec_per_uid == 0 {
            return Err(ConfigError::Value(
                "`max_connections_per_uid` and `new_connections_per_sec_per_uid` must be positive"
                    .into(),
            ));
        }
        if self.throttle.burst == 0
            || !self.throttle.refill_per_sec.is_finite()
            || self.throttle.refill_per_sec < 0.0
        {
            return Err(ConfigError::Value(
                "`throttle.burst` must be positive and `throttle.refill_per_sec` a non-negative number".into(),
            ));
        }
        if self.audit.max_entries == 0
            || self.audit.max_age_days == 0
            || self.audit.max_refusals == 0
            || self.audit.max_refusal_age_days == 0
        {
            return Err(ConfigError::Value(
                "`audit.max_entries`, `audit.max_age_days`, `audit.max_refusals` and `audit.max_refusal_age_days` must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The socket mode as bits.
    pub fn mode(&self) -> Result<u32, ConfigError> {
        u32::from_str_radix(self.socket_mode.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                ConfigError::Value(format!(
                    "`socket_mode` `{}` is not an octal mode like 0660",
                    self.socket_mode
                ))
            })
    }

    /// The redb file.
    pub fn database_path(&self) -> PathBuf {
        self.state_dir.join("camd.redb")
    }

    /// The pepper file.
    pub fn pepper_path(&self) -> PathBuf {
        self.state_dir.join("pepper")
    }
}

/// The throttle's settings (`[throttle]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failures allowed in a burst.
    pub burst: u32,
    /// Failures forgiven per second.
    pub refill_per_sec: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            burst: 10,
            refill_per_sec: 1.0,
        }
    }
}
