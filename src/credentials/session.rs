//! Role session tokens (STS's `Token`): what a session is (its claims),
//! sealed with AES-256-GCM under a key derived from the sealing key, so
//! that any host holding the cluster's sealing key can open one and no
//! store write is needed to issue it. A session's TmpSecretKey is never
//! stored either: it is an HMAC of the token's nonce and TmpSecretId under
//! a second derived key, computed again wherever the token is presented.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::secret::Secret;

/// What every token starts with (and its format's version).
pub const TOKEN_PREFIX: &str = "camd1.";
/// The longest token camd issues or reads, in bytes (STS documents 4,096).
pub const MAX_TOKEN_BYTES: usize = 4096;
/// The longest session policy a token carries, in bytes: what fits the
/// token's bound once sealed and encoded, with the other claims.
pub const MAX_SESSION_POLICY_BYTES: usize = 2048;

/// Who a session is and what bounds it: everything a host needs to honour
/// it without asking the store anything but the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The session's TmpSecretId (`AKID...`).
    pub tmp_secret_id: String,
    /// The role's name.
    pub role: String,
    /// The role's RoleId (a role deleted and made again has another).
    pub role_id: u64,
    /// The role's epoch when issued (a new trust policy ends the session).
    pub epoch: u64,
    /// The uin that assumed the role.
    pub principal_uin: u64,
    /// RoleSessionName.
    pub session_name: String,
    /// Issued, seconds since the epoch.
    pub issued_s: i64,
    /// Expires, seconds since the epoch.
    pub expires_s: i64,
    /// The session policy (`Policy`), which narrows the role's rights.
    pub policy: Option<String>,
}

/// Why a token was refused. Messages never repeat the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    /// Not a token camd made (prefix, encoding, length).
    #[error("the token is not one camd issued")]
    Malformed,
    /// Sealed under a sealing key camd does not hold.
    #[error("the token was sealed under a sealing key camd does not hold")]
    UnknownKey,
    /// It does not open: altered, truncated or forged.
    #[error("the token does not open: it was altered or forged")]
    Forged,
    /// Its claims are too large to seal into a token.
    #[error("the session's claims take {0} bytes sealed; a token holds at most 4096")]
    TooLarge(usize),
    /// The random source failed.
    #[error("the system random number generator failed")]
    Random,
}

/// The keys one sealing key gives sessions.
pub(super) struct SessionKeys {
    token: LessSafeKey,
    secret: hmac::Key,
}

/// A key derived from the sealing key's bytes for one purpose.
fn derived(bytes: &[u8], label: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), label)
}

impl SessionKeys {
    /// Derives them from a sealing key's bytes.
    pub(super) fn new(bytes: &[u8]) -> Option<Self> {
        let token = derived(bytes, b"camd session token key v1");
        let secret = derived(bytes, b"camd session secret key v1");
        Some(Self {
            token: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, token.as_ref()).ok()?),
            secret: hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref()),
        })
    }

    /// The TmpSecretKey of a token's nonce and TmpSecretId: 40 characters.
    fn tmp_secret_key(&self, nonce: &[u8], tmp_secret_id: &str) -> Secret {
        let mut ctx = hmac::Context::with_key(&self.secret);
        ctx.update(nonce);
        ctx.update(tmp_secret_id.as_bytes());
        let tag = ctx.sign();
        let mut text = URL_SAFE_NO_PAD.encode(tag.as_ref());
        text.truncate(40);
        Secret::new(text.replace(['-', '_'], "x"))
    }

    /// Seals `claims` into a token, with `key_id` naming the sealing key
    /// and `nonce` drawn by the caller; the token and its TmpSecretKey.
    pub(super) fn issue(
        &self,
        key_id: &[u8; 8],
        nonce: [u8; NONCE_LEN],
        claims: &SessionClaims,
    ) -> Result<(String, Secret), SessionError> {
        let mut bytes = postcard::to_stdvec(claims).map_err(|_| SessionError::Malformed)?;
        self.token
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(TOKEN_PREFIX.as_bytes()),
                &mut bytes,
            )
            .map_err(|_| SessionError::Forged)?;
        let mut raw = Vec::with_capacity(8 + NONCE_LEN + bytes.len());
        raw.extend_from_slice(key_id);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&bytes);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(SessionError::TooLarge(token.len()));
        }
        Ok((token, self.tmp_secret_key(&nonce, &claims.tmp_secret_id)))
    }

    /// Opens a token sealed under these keys: its claims and TmpSecretKey.
    pub(super) fn open(&self, raw: &[u8]) -> Result<(SessionClaims, Secret), SessionError> {
        let nonce: [u8; NONCE_LEN] = raw
            .get(8..8 + NONCE_LEN)
            .and_then(|n| n.try_into().ok())
            .ok_or(SessionError::Malformed)?;
        let mut sealed = raw
            .get(8 + NONCE_LEN..)
            .ok_or(SessionError::Malformed)?
            .to_vec();
        let plain = self
            .token
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(TOKEN_PREFIX.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| SessionError::Forged)?;
        let claims: SessionClaims =
            postcard::from_bytes(plain).map_err(|_| SessionError::Forged)?;
        let secret = self.tmp_secret_key(&nonce, &claims.tmp_secret_id);
        Ok((claims, secret))
    }
}

/// A token's bytes after its prefix, and the sealing key id they name.
pub(super) fn decode(token: &str) -> Result<(Vec<u8>, [u8; 8]), SessionError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(SessionError::Malformed);
    }
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(SessionError::Malformed)?;
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SessionError::Malformed)?;
    let id: [u8; 8] = raw
        .get(..8)
        .and_then(|i| i.try_into().ok())
        .ok_or(SessionError::Malformed)?;
    Ok((raw, id))
}

#[cfg(test)]
mod tests {
    use super::super::seal::Keyring;
    use super::*;

    fn claims(policy: Option<String>) -> SessionClaims {
        SessionClaims {
            tmp_secret_id: "AKIDtmp0000000000000000000000000000".into(),
            role: "chat-backend".into(),
            role_id: (1 << 62) + 7,
            epoch: 3,
            principal_uin: 200_000_000_001,
            session_name: "worker-1".into(),
            issued_s: 1_800_000_000,
            expires_s: 1_800_007_200,
            policy,
        }
    }

    #[test]
    fn a_token_opens_to_its_claims_and_secret_on_any_host_with_the_key() {
        let a = Keyring::from_bytes([7; 32], None).unwrap();
        let b = Keyring::from_bytes([7; 32], None).unwrap();
        let (token, secret) = a.issue_session(&claims(None)).unwrap();
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() <= MAX_TOKEN_BYTES);
        let (got, again) = b.open_session(&token).unwrap();
        assert_eq!(got, claims(None));
        assert_eq!(again.expose(), secret.expose());
        assert_eq!(secret.expose().len(), 40);
        assert!(secret.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(
            !token.contains(secret.expose()),
            "the token does not carry its secret"
        );
        let (second, other) = a.issue_session(&claims(None)).unwrap();
        assert_ne!(second, token, "each token has its own nonce");
        assert_ne!(other.expose(), secret.expose());
    }

    #[test]
    fn altered_truncated_foreign_and_oversized_tokens_are_refused() {
        let ring = Keyring::from_bytes([7; 32], None).unwrap();
        let (token, _) = ring.issue_session(&claims(Some("{}".into()))).unwrap();
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 5;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            ring.open_session(&altered).unwrap_err(),
            SessionError::Forged
        );
        let cut = &token[..token.len() - 10];
        assert!(ring.open_session(cut).is_err());
        assert_eq!(
            ring.open_session(&token[..20]).unwrap_err(),
            SessionError::Malformed
        );
        assert_eq!(
            ring.open_session("AKIDnot-a-token").unwrap_err(),
            SessionError::Malformed
        );
        let other = Keyring::from_bytes([8; 32], None).unwrap();
        assert_eq!(
            other.open_session(&token).unwrap_err(),
            SessionError::UnknownKey
        );
        let big = "x".repeat(4000);
        assert!(matches!(
            ring.issue_session(&claims(Some(big))).unwrap_err(),
            SessionError::TooLarge(_)
        ));
        let (fits, _) = ring
            .issue_session(&claims(Some("x".repeat(MAX_SESSION_POLICY_BYTES))))
            .unwrap();
        assert!(fits.len() <= MAX_TOKEN_BYTES);
    }

    #[test]
    fn a_rotation_keeps_the_previous_keys_sessions() {
        let old = Keyring::from_bytes([7; 32], None).unwrap();
        let (token, secret) = old.issue_session(&claims(None)).unwrap();
        let rotated = Keyring::from_bytes([9; 32], Some([7; 32])).unwrap();
        let (_, again) = rotated.open_session(&token).unwrap();
        assert_eq!(again.expose(), secret.expose());
    }
}
