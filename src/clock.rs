//! The wall clock, in the one unit camd stores and shows: milliseconds
//! since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch (0 before it, `i64::MAX` far after).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
