//! The `[decision_log]` section as written: where records go, which are
//! kept, which context values are masked. Off unless a sink is named.

use std::path::PathBuf;

use serde::Deserialize;

/// `[decision_log]` in the config (absent: off).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionLogConfig {
    /// A file of JSON lines, rotated by size (absent: no file sink).
    pub file: Option<PathBuf>,
    /// The file is rotated when a record would take it past this size.
    pub max_file_bytes: u64,
    /// Rotated files kept (`FILE.1` the newest); older ones are deleted.
    pub max_files: u32,
    /// The group the files belong to (mode 0640), by name.
    pub group: Option<String>,
    /// Also send each record to the journal (native protocol).
    pub journald: bool,
    /// The journal's socket (for tests; the default is systemd's).
    pub journald_socket: PathBuf,
    /// A local collector's Unix socket (Vector, fluent-bit).
    pub socket: Option<PathBuf>,
    /// `datagram` (one record a datagram) or `stream` (JSON lines).
    pub socket_type: SocketType,
    /// Keep one decision in `sample` (after the rules); 1 keeps all.
    pub sample: u32,
    /// Keep or drop records; the first rule that matches decides, and a
    /// record no rule matches is kept.
    pub rules: Vec<RuleConfig>,
    /// Context keys whose values never reach a sink (`*` matches any run
    /// of characters; case-insensitive).
    pub mask: Vec<String>,
    /// Requests' records waiting for the writer, at most (more are dropped).
    pub queue_len: usize,
    /// Bytes of records waiting for the writer, at most.
    pub queue_bytes: usize,
    /// While records wait, the writer takes at most this share of one core
    /// (it rests in between), so deciding keeps the CPU; records that do
    /// not fit are dropped and counted. 1.0: no limit.
    pub writer_cpu_share: f64,
}

impl Default for DecisionLogConfig {
    fn default() -> Self {
        Self {
            file: None,
            max_file_bytes: 100 << 20,
            max_files: 5,
            group: None,
            journald: false,
            journald_socket: PathBuf::from("/run/systemd/journal/socket"),
            socket: None,
            socket_type: SocketType::Datagram,
            sample: 1,
            rules: Vec::new(),
            mask: Vec::new(),
            queue_len: 8192,
            queue_bytes: 16 << 20,
            writer_cpu_share: 0.25,
        }
    }
}

impl DecisionLogConfig {
    /// True when some sink is named: the log is on.
    pub fn enabled(&self) -> bool {
        self.file.is_some() || self.journald || self.socket.is_some()
    }
}

/// How records go to a collector's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketType {
    /// One record a datagram (`SOCK_DGRAM`).
    Datagram,
    /// Newline-delimited JSON over a stream, reconnected when it breaks.
    Stream,
}

/// One `[[decision_log.rules]]` entry: every field given must match.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `keep` or `drop`.
    pub effect: String,
    /// `allow`, `deny` or `error`.
    pub outcome: Option<String>,
    /// The action, `*` matching any run of characters (case-insensitive).
    pub action: Option<String>,
    /// The principal: a user's name, its uin, or a SecretId.
    pub principal: Option<String>,
    /// The caller's uid.
    pub uid: Option<u32>,
}
