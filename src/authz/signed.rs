//! Verifying a TC3-signed request against the published snapshot: the
//! checks before the signature, the key's sealed copy opened (or its
//! derived signing key taken from the cache), the signature compared in
//! constant time, then the key's state. Deciding for the signer follows.

use std::sync::atomic::Ordering;

use crate::credentials::tc3::{self, Signed};
use crate::policy::Decision;

use super::authorizer::{Ask, Authorizer, AuthzError, decide};
use super::snapshot::{KeyEntry, SigningKey};

/// How many (date, service) signing keys each access key keeps.
const CACHED: usize = 4;

/// A signed request to verify.
#[derive(Debug, Clone, Copy)]
pub struct SignedAsk<'a> {
    /// The request as received.
    pub call: Signed<'a>,
    /// The service the scope must name (`cam` for the HTTP API; `None`: any).
    pub service: Option<&'a str>,
    /// camd's clock, seconds since the epoch.
    pub now_secs: i64,
    /// The accepted distance of X-TC-Timestamp from it, in seconds.
    pub window_secs: i64,
}

/// Who signed a request that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified<'a> {
    /// The key.
    pub secret_id: &'a str,
    /// Its owner's uin.
    pub uin: u64,
    /// The scope's service.
    pub service: &'a str,
}

impl Authorizer {
    /// Verifies a signed request; on success, decides `ask` (when given)
    /// for the signer and hands both to `f`.
    pub fn by_signature<'a, R>(
        &self,
        s: &SignedAsk<'a>,
        ask: Option<Ask<'_>>,
        f: impl FnOnce(Result<(Verified<'a>, Option<Decision<'_>>), AuthzError>) -> R,
    ) -> R {
        let checked = match tc3::check(&s.call, s.service, s.now_secs, s.window_secs) {
            Ok(c) => c,
            Err(e) => return f(Err(e.into())),
        };
        let id = checked.auth.secret_id;
        let snap = self.snapshot.load();
        let Some(key) = snap.keys.get(id) else {
            return f(Err(AuthzError::SecretIdNotFound(id.to_string())));
        };
        let signing = match self.signing_key(id, key, &checked.auth) {
            Ok(k) => k,
            Err(e) => return f(Err(e)),
        };
        if let Err(e) = tc3::verify(&checked, &signing) {
            return f(Err(e.into()));
        }
        if !key.active || (key.owner != snap.owner_uin && !snap.users.contains_key(&key.owner)) {
            return f(Err(AuthzError::SecretIdNotFound(id.to_string())));
        }
        let verified = Verified {
            secret_id: id,
            uin: key.owner,
            service: checked.auth.service,
        };
        let Some(ask) = ask else {
            return f(Ok((verified, None)));
        };
        key.last_used_ms.fetch_max(ask.now_ms, Ordering::Relaxed);
        let set = match snap.users.get(&key.owner) {
            Some(u) => &u.policies,
            None => &snap.root_policies,
        };
        decide(snap.owner_uin, key.owner, set, ask, |r| {
            f(r.map(|(_, d)| (verified, Some(d))))
        })
    }

    /// The signing key of `key` for the scope's date and service: cached, or
    /// derived from the opened sealed copy and cached.
    fn signing_key(
        &self,
        id: &str,
        key: &KeyEntry,
        auth: &tc3::Authorization<'_>,
    ) -> Result<ring::hmac::Key, AuthzError> {
        let mut date = [0u8; 10];
        if auth.date.len() == date.len() {
            date.copy_from_slice(auth.date.as_bytes());
        }
        if let Ok(cache) = key.signing.lock() {
            if let Some(hit) = cache
                .iter()
                .find(|c| c.date == date && &*c.service == auth.service)
            {
                return Ok(hit.key.clone());
            }
        }
        let sealed = key
            .sealed
            .as_ref()
            .ok_or_else(|| AuthzError::NotSealed(id.to_string()))?;
        let secret = self
            .keyring
            .open(id, sealed)
            .map_err(|cause| AuthzError::Sealing {
                id: id.to_string(),
                cause,
            })?;
        let derived = tc3::signing_key(secret.expose(), auth.date, auth.service);
        if let Ok(mut cache) = key.signing.lock() {
            if cache.len() >= CACHED {
                cache.remove(0);
            }
            cache.push(SigningKey {
                date,
                service: auth.service.into(),
                key: derived.clone(),
            });
        }
        Ok(derived)
    }
}
