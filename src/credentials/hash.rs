//! The hashes camd stores instead of secrets: HMAC-SHA256 of a SecretKey under
//! the server pepper, and PBKDF2-HMAC-SHA256 of a password. Both verify in
//! constant time.

use std::num::NonZeroU32;

use ring::{hmac, pbkdf2};
use serde::{Deserialize, Serialize};

use super::pepper::Pepper;

/// The keyed hash of a SecretKey.
pub type KeyHash = [u8; 32];

/// Hashes and verifies SecretKeys under the pepper.
#[derive(Clone)]
pub struct KeyHasher {
    key: hmac::Key,
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHasher(<pepper redacted>)")
    }
}

impl KeyHasher {
    /// A hasher keyed with the pepper.
    pub fn new(pepper: &Pepper) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, pepper.expose()),
        }
    }

    /// The stored form of a SecretKey.
    pub fn hash(&self, secret_key: &str) -> KeyHash {
        let tag = hmac::sign(&self.key, secret_key.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Whether `secret_key` hashes to `stored`, in constant time.
    #[inline]
    pub fn verify(&self, secret_key: &str, stored: &KeyHash) -> bool {
        hmac::verify(&self.key, secret_key.as_bytes(), stored).is_ok()
    }
}

/// PBKDF2-HMAC-SHA256 iterations for new passwords (OWASP's figure).
pub const PASSWORD_ITERATIONS: u32 = 600_000;

/// A stored password: its parameters beside the hash, so they can be raised later.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordHash {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Random salt.
    pub salt: [u8; 16],
    /// The derived key.
    pub hash: [u8; 32],
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHash(pbkdf2-sha256, {} iterations)",
            self.iterations
        )
    }
}

impl PasswordHash {
    /// Hashes a password with a fresh salt. Slow by design (about 0.1 s): never
    /// call it on an async runtime's thread.
    pub fn new(
        password: &str,
        rng: &ring::rand::SystemRandom,
    ) -> Result<Self, super::CredentialError> {
        Self::with_iterations(password, rng, PASSWORD_ITERATIONS)
    }

    /// Hashes with a given iteration count (tests use fewer).
    pub fn with_iterations(
        password: &str,
        rng: &ring::rand::SystemRandom,
        iterations: u32,
    ) -> Result<Self, super::CredentialError> {
        use ring::rand::SecureRandom;
        let mut salt = [0u8; 16];
        rng.fill(&mut salt)
            .map_err(|_| super::CredentialError::Random)?;
        let n = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
        let mut hash = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            n,
            &salt,
            password.as_bytes(),
            &mut hash,
        );
        Ok(Self {
            iterations: n.get(),
            salt,
            hash,
        })
    }

    /// Whether `password` matches, in constant time.
    pub fn verify(&self, password: &str) -> bool {
        let n = NonZeroU32::new(self.iterations).unwrap_or(NonZeroU32::MIN);
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            n,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_verifies_only_the_key() {
        let h = KeyHasher::new(&Pepper::from_bytes([7; 32]));
        let stored = h.hash("abc");
        assert!(h.verify("abc", &stored));
        assert!(!h.verify("abd", &stored));
        let other = KeyHasher::new(&Pepper::from_bytes([8; 32]));
        assert!(!other.verify("abc", &stored));
    }

    #[test]
    fn password_hash() {
        let rng = ring::rand::SystemRandom::new();
        let p = PasswordHash::with_iterations("Good-Pass1", &rng, 1000).unwrap();
        assert!(p.verify("Good-Pass1"));
        assert!(!p.verify("Good-Pass2"));
        assert!(!format!("{p:?}").contains("Good"));
    }
}
