//! Every value camd writes under the cluster's prefix carries a MAC under
//! a key derived from the pepper the hosts share, bound to its etcd key and
//! to the revision the writing host's replica stood at (its base). A value
//! someone else put (`etcdctl put`) fails the MAC; an old value of camd's
//! put back has a base older than a change the replica has already seen.
//! Deletions are sealed tombstones, so a bare etcd delete is refused too.
//! A value that fails is quarantined, never applied.

use ring::hmac;

use crate::credentials::KeyHasher;

/// The envelope's first bytes (and its version).
const MAGIC: &[u8; 4] = b"cmv1";
/// MAGIC, the base (8 bytes), the tag (32 bytes), the kind (1 byte).
const HEADER: usize = 4 + 8 + 32 + 1;

/// What a sealed value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened<'a> {
    /// A record's bytes.
    Value(&'a [u8]),
    /// The record was deleted.
    Deleted,
}

/// The key that seals and opens values.
pub struct Integrity {
    key: hmac::Key,
}

impl std::fmt::Debug for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Integrity(<key>)")
    }
}

impl Integrity {
    /// The key derived from the pepper (every host holds the same one).
    pub fn new(hasher: &KeyHasher) -> Self {
        let derived = hasher.hash("camd cluster record integrity v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &derived),
        }
    }

    /// What the MAC covers: the envelope's version, the etcd key (with
    /// its length), the base, the kind and the payload.
    fn message(etcd_key: &[u8], base: i64, kind: u8, payload: &[u8]) -> Vec<u8> {
        let len = u64::try_from(etcd_key.len()).unwrap_or(u64::MAX);
        let mut m = Vec::with_capacity(4 + 8 + etcd_key.len() + 8 + 1 + payload.len());
        m.extend_from_slice(MAGIC);
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(etcd_key);
        m.extend_from_slice(&base.to_be_bytes());
        m.push(kind);
        m.extend_from_slice(payload);
        m
    }

    /// `payload` (`None`: a tombstone) sealed for `etcd_key`, written by a
    /// replica at revision `base`.
    pub fn seal(&self, etcd_key: &[u8], base: i64, payload: Option<&[u8]>) -> Vec<u8> {
        let (kind, bytes) = match payload {
            Some(p) => (1u8, p),
            None => (0u8, &[][..]),
        };
        let tag = hmac::sign(&self.key, &Self::message(etcd_key, base, kind, bytes));
        let mut out = Vec::with_capacity(HEADER + bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&base.to_be_bytes());
        out.extend_from_slice(tag.as_ref());
        out.push(kind);
        out.extend_from_slice(bytes);
        out
    }

    /// Opens a value read at `etcd_key`: its base and what it holds, or why
    /// it is not camd's (verified in constant time).
    pub fn open<'a>(&self, etcd_key: &[u8], value: &'a [u8]) -> Result<(i64, Opened<'a>), String> {
        let (Some(magic), Some(base), Some(tag), Some(&kind), Some(payload)) = (
            value.get(..4),
            value.get(4..12),
            value.get(12..44),
            value.get(44),
            value.get(HEADER..),
        ) else {
            return Err("not a sealed camd record (too short)".into());
        };
        if magic != MAGIC {
            return Err("not a sealed camd record (no envelope)".into());
        }
        let base = i64::from_be_bytes(base.try_into().map_err(|_| "bad base".to_string())?);
        let ctx = Self::message(etcd_key, base, kind, payload);
        hmac::verify(&self.key, &ctx, tag)
            .map_err(|_| "its MAC does not verify (not written by a host of this cluster, or altered, or moved from another key)".to_string())?;
        match kind {
            1 => Ok((base, Opened::Value(payload))),
            0 if payload.is_empty() => Ok((base, Opened::Deleted)),
            _ => Err("an unknown kind of sealed record".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::credentials::Pepper;

    fn integrity(b: u8) -> Integrity {
        Integrity::new(&KeyHasher::new(&Pepper::from_bytes([b; 32])))
    }

    #[test]
    fn sealed_values_open_only_at_their_key_with_the_shared_key() {
        let i = integrity(1);
        let v = i.seal(b"/p/s/k/AKIDa", 41, Some(b"record"));
        assert_eq!(
            i.open(b"/p/s/k/AKIDa", &v),
            Ok((41, Opened::Value(&b"record"[..])))
        );
        assert!(i.open(b"/p/s/k/AKIDb", &v).is_err(), "moved to another key");
        assert!(
            integrity(2).open(b"/p/s/k/AKIDa", &v).is_err(),
            "another pepper"
        );
        let mut altered = v.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(i.open(b"/p/s/k/AKIDa", &altered).is_err());
        let mut rebased = v.clone();
        rebased[11] ^= 1;
        assert!(
            i.open(b"/p/s/k/AKIDa", &rebased).is_err(),
            "the base is bound"
        );
        assert!(i.open(b"/p/s/k/AKIDa", b"garbage").is_err());
        let t = i.seal(b"/p/s/u/1", 7, None);
        assert_eq!(i.open(b"/p/s/u/1", &t), Ok((7, Opened::Deleted)));
    }
}
