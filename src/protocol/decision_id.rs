//! A decision's id as the wire carries it: a u64 on the binary protocol,
//! 16 lowercase hex digits in JSON (a JavaScript number could not hold it)
//! and in the decision log.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bits of the sequence within one millisecond (the rest is the time).
pub const SEQ_BITS: u32 = 20;

/// Unique on its host and sortable by time: the milliseconds since the
/// epoch in the high 44 bits, a sequence in the low 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DecisionId(pub u64);

impl DecisionId {
    /// When it was made (ms since the epoch).
    pub fn at_ms(self) -> i64 {
        i64::try_from(self.0 >> SEQ_BITS).unwrap_or(i64::MAX)
    }

    /// The id `i` places after this one (a batch's items have consecutive ids).
    pub fn nth(self, i: usize) -> Self {
        Self(self.0.wrapping_add(i as u64))
    }
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Text that is not a decision id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decision id (16 hex digits, as camd prints them)")]
pub struct BadDecisionId(pub String);

impl FromStr for DecisionId {
    type Err = BadDecisionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || BadDecisionId(s.chars().take(40).collect());
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(shown());
        }
        u64::from_str_radix(s, 16).map(Self).map_err(|_| shown())
    }
}

impl Serialize for DecisionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for DecisionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            u64::deserialize(d).map(Self)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_in_json_a_varint_in_postcard() {
        let id = DecisionId((1_800_000_000_000 << SEQ_BITS) + 5);
        assert_eq!(id.at_ms(), 1_800_000_000_000);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<DecisionId>(&json).unwrap(), id);
        let bin = postcard::to_stdvec(&id).unwrap();
        assert_eq!(postcard::from_bytes::<DecisionId>(&bin).unwrap(), id);
        assert_eq!(id.to_string().parse::<DecisionId>().unwrap(), id);
        assert!("12".parse::<DecisionId>().is_err());
        assert!("zzzzzzzzzzzzzzzz".parse::<DecisionId>().is_err());
        assert!(id.nth(1) > id);
    }
}
