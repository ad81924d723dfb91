//! Sealed SecretKeys: AES-256-GCM (`ring::aead`) under the sealing key, bound
//! to their SecretId, so that camd can derive TC3 signing keys while the
//! store never holds a SecretKey in clear. The keyring holds the current
//! sealing key and, during a rotation, the previous one.

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::keyfile::{self, KeyBytes, KeyFileError};
use super::secret::Secret;
use super::session::{self, SessionClaims, SessionError, SessionKeys};

/// A short public name of a sealing key (an HMAC of a fixed label under it).
pub type SealingKeyId = [u8; 8];

/// A SecretKey sealed under one sealing key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Which sealing key sealed it.
    pub key_id: SealingKeyId,
    /// The AES-GCM nonce (random per sealing).
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext and tag.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(under {})", hex_id(&self.key_id))
    }
}

/// Why a SecretKey could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// Sealed under a key camd does not hold.
    #[error("sealed under sealing key {0}, which camd does not hold")]
    UnknownKey(String),
    /// The ciphertext does not open (altered, or bound to another SecretId).
    #[error("the sealed copy does not open: it was altered or belongs to another key")]
    Corrupt,
    /// The random source failed.
    #[error("the system random number generator failed")]
    Random,
}

/// A sealing key's id in hex, as errors and status show it.
pub fn hex_id(id: &SealingKeyId) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// One sealing key.
struct SealingKey {
    id: SealingKeyId,
    aead: LessSafeKey,
    /// The keys of role session tokens, derived from the same bytes.
    session: SessionKeys,
}

impl SealingKey {
    fn new(bytes: &KeyBytes) -> Result<Self, SealError> {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &bytes[..]),
            b"camd sealing key id",
        );
        let mut id = [0u8; 8];
        id.copy_from_slice(tag.as_ref().get(..8).ok_or(SealError::Corrupt)?);
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes[..]).map_err(|_| SealError::Corrupt)?;
        Ok(Self {
            id,
            aead: LessSafeKey::new(unbound),
            session: SessionKeys::new(&bytes[..]).ok_or(SealError::Corrupt)?,
        })
    }
}

/// The current sealing key and, while rotating, the previous one.
pub struct Keyring {
    current: SealingKey,
    previous: Option<SealingKey>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(current {}", hex_id(&self.current.id))?;
        if let Some(p) = &self.previous {
            write!(f, ", previous {}", hex_id(&p.id))?;
        }
        f.write_str(")")
    }
}

/// Why the keyring could not be loaded.
#[derive(Debug, Error)]
pub enum KeyringError {
    /// A key file is unusable.
    #[error(transparent)]
    File(#[from] KeyFileError),
    /// A key is unusable.
    #[error("sealing key: {0}")]
    Key(#[from] SealError),
}

/// The credential and file name of the sealing key.
pub const SEALING_KEY: &str = "sealing-key";
/// The credential and file name of the previous sealing key during a rotation.
pub const SEALING_KEY_OLD: &str = "sealing-key-old";

impl Keyring {
    /// A keyring from given key bytes (tests and benches).
    pub fn from_bytes(current: [u8; 32], previous: Option<[u8; 32]>) -> Result<Self, SealError> {
        Ok(Self {
            current: SealingKey::new(&zeroize::Zeroizing::new(current))?,
            previous: previous
                .map(|p| SealingKey::new(&zeroize::Zeroizing::new(p)))
                .transpose()?,
            rng: SystemRandom::new(),
        })
    }

    /// Loads `sealing-key` (created when missing) and `sealing-key-old` (when
    /// present) from `$CREDENTIALS_DIRECTORY` or `dir`.
    pub fn load(dir: &Path) -> Result<Self, KeyringError> {
        let current = keyfile::load_or_create(SEALING_KEY, &dir.join(SEALING_KEY))?;
        let previous = keyfile::load_if_present(SEALING_KEY_OLD, &dir.join(SEALING_KEY_OLD))?;
        Ok(Self {
            current: SealingKey::new(&current)?,
            previous: previous.as_ref().map(SealingKey::new).transpose()?,
            rng: SystemRandom::new(),
        })
    }

    /// The current key's id.
    pub fn current_id(&self) -> SealingKeyId {
        self.current.id
    }

    /// The previous key's id, during a rotation.
    pub fn previous_id(&self) -> Option<SealingKeyId> {
        self.previous.as_ref().map(|p| p.id)
    }

    /// Seals `secret_key` for `secret_id` under the current key.
    pub fn seal(&self, secret_id: &str, secret_key: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut bytes = secret_key.as_bytes().to_vec();
        self.current
            .aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(secret_id.as_bytes()),
                &mut bytes,
            )
            .map_err(|_| SealError::Corrupt)?;
        Ok(Sealed {
            key_id: self.current.id,
            nonce,
            bytes,
        })
    }

    /// Opens a sealed SecretKey of `secret_id` with whichever held key sealed it.
    pub fn open(&self, secret_id: &str, sealed: &Sealed) -> Result<Secret, SealError> {
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(hex_id(&sealed.key_id)))?;
        let mut bytes = zeroize::Zeroizing::new(sealed.bytes.clone());
        let plain = key
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(sealed.nonce),
                Aad::from(secret_id.as_bytes()),
                &mut bytes,
            )
            .map_err(|_| SealError::Corrupt)?;
        let text = std::str::from_utf8(plain).map_err(|_| SealError::Corrupt)?;
        Ok(Secret::new(text.to_string()))
    }

    /// Seals a role session into a token under the current key: the token
    /// and the session's TmpSecretKey (which nothing stores).
    pub fn issue_session(&self, claims: &SessionClaims) -> Result<(String, Secret), SessionError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SessionError::Random)?;
        self.current.session.issue(&self.current.id, nonce, claims)
    }

    /// Opens a session token sealed under either held key: its claims and
    /// TmpSecretKey. Whether the session still holds (expiry, the role's
    /// id and epoch, its trust policy) is the caller's to check.
    pub fn open_session(&self, token: &str) -> Result<(SessionClaims, Secret), SessionError> {
        let (raw, id) = session::decode(token)?;
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id == id)
            .ok_or(SessionError::UnknownKey)?;
        key.session.open(&raw)
    }

    /// Re-seals under the current key; `None` when it already is.
    pub fn reseal(&self, secret_id: &str, sealed: &Sealed) -> Result<Option<Sealed>, SealError> {
        if sealed.key_id == self.current.id {
            return Ok(None);
        }
        let secret = self.open(secret_id, sealed)?;
        self.seal(secret_id, secret.expose()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_binds_to_the_secret_id() {
        let ring = Keyring::from_bytes([1; 32], None).unwrap();
        let s = ring.seal("AKIDa", "the-secret").unwrap();
        assert!(!s.bytes.windows(10).any(|w| w == b"the-secret"));
        assert_eq!(ring.open("AKIDa", &s).unwrap().expose(), "the-secret");
        assert_eq!(ring.open("AKIDb", &s).unwrap_err(), SealError::Corrupt);
        let mut altered = s.clone();
        if let Some(b) = altered.bytes.first_mut() {
            *b ^= 1;
        }
        assert_eq!(
            ring.open("AKIDa", &altered).unwrap_err(),
            SealError::Corrupt
        );
        assert_ne!(ring.seal("AKIDa", "the-secret").unwrap().nonce, s.nonce);
        assert!(!format!("{s:?}{ring:?}").contains("secret"));
    }

    #[test]
    fn rotation_reseals_under_the_new_key() {
        let old = Keyring::from_bytes([1; 32], None).unwrap();
        let s = old.seal("AKIDa", "k").unwrap();
        let other = Keyring::from_bytes([2; 32], None).unwrap();
        assert!(matches!(
            other.open("AKIDa", &s),
            Err(SealError::UnknownKey(_))
        ));
        let both = Keyring::from_bytes([2; 32], Some([1; 32])).unwrap();
        assert_eq!(both.open("AKIDa", &s).unwrap().expose(), "k");
        let new = both.reseal("AKIDa", &s).unwrap().unwrap();
        assert_eq!(new.key_id, other.current_id());
        assert_eq!(other.open("AKIDa", &new).unwrap().expose(), "k");
        assert!(both.reseal("AKIDa", &new).unwrap().is_none());
    }
}
