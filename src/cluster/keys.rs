//! Where each record lives under the cluster's prefix in etcd:
//! `s/...` the state (users, groups, keys, API-managed policies, the uin
//! counter), `a/HOST/...` the audit trail, `c/...` the cluster's own
//! markers.

use crate::store::RecordKey;

/// The state's part of the prefix.
pub const STATE: &str = "s/";
/// The audit trail's part.
pub const AUDIT: &str = "a/";
/// The check value of the cluster's pepper and sealing key.
pub const SECRETS: &str = "c/secrets";

/// The etcd key of a record (its kind's path under the state's part).
pub fn record_key(prefix: &str, k: &RecordKey) -> Vec<u8> {
    format!("{prefix}{STATE}{}", k.path()).into_bytes()
}

/// The record an etcd key names (`None`: not a state key).
pub fn parse_record_key(prefix: &str, key: &[u8]) -> Option<RecordKey> {
    let key = std::str::from_utf8(key).ok()?;
    RecordKey::parse(key.strip_prefix(prefix)?.strip_prefix(STATE)?)
}

/// The host an audit key was written by (`None`: not an audit key).
pub fn audit_host<'k>(prefix: &str, key: &'k [u8]) -> Option<&'k str> {
    let key = std::str::from_utf8(key).ok()?;
    let tail = key.strip_prefix(prefix)?.strip_prefix(AUDIT)?;
    tail.split_once('/').map(|(host, _)| host)
}

/// A new audit key of `host`.
pub fn audit_key(prefix: &str, host: &str, at_ms: i64, n: u64) -> Vec<u8> {
    format!("{prefix}{AUDIT}{host}/{at_ms:015}-{n:010}").into_bytes()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_round_trip() {
        for k in [
            RecordKey::User(200_000_000_001),
            RecordKey::Group("ops".into()),
            RecordKey::Key("AKIDx".into()),
            RecordKey::Policy("P".into()),
            RecordKey::NextUin,
        ] {
            assert_eq!(
                parse_record_key("/camd/", &record_key("/camd/", &k)),
                Some(k)
            );
        }
        assert_eq!(parse_record_key("/camd/", b"/camd/a/h/1"), None);
        assert_eq!(
            audit_host("/camd/", &audit_key("/camd/", "h1", 5, 1)),
            Some("h1")
        );
    }
}
