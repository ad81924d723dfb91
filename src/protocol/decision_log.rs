//! The decision log's state on the wire: where it writes, what it keeps,
//! each sink's health, and what it dropped.

use serde::{Deserialize, Serialize};

/// One sink's health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkInfo {
    /// `file`, `journald` or `socket`.
    pub kind: String,
    /// Its path.
    pub target: String,
    /// False after a write failed, until one succeeds.
    pub up: bool,
    /// Records it took.
    pub written: u64,
    /// Records it did not take.
    pub failed: u64,
    /// The last failure, if any.
    pub error: Option<String>,
    /// When (ms since the epoch; 0: never).
    pub error_at_ms: i64,
}

/// What `DecisionLogStatus` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionLogInfo {
    /// Decisions are being recorded.
    pub on: bool,
    /// The file sink's absolute path.
    pub file: Option<String>,
    /// One decision in this many is kept (after the rules).
    pub sample: u32,
    /// Each sink.
    pub sinks: Vec<SinkInfo>,
    /// Why the last `[decision_log]` read was refused (the one before stays).
    pub rejected: Option<String>,
    /// Requests whose records wait for the writer.
    pub queued: u64,
    /// Records dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Records dropped because no sink took them.
    pub dropped_sink_failed: u64,
}
