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
    /// Its Authorization header, when it parsed (else it is parsed, and
    /// its error given, by the checks).
    pub auth: Option<tc3::Authorization<'a>>,
    /// The service the scope must name (`cam` for the HTTP API; `None`: any).
    pub service: Option<&'a str>,
    /// camd's clock, seconds since the epoch.
    pub now_secs: i64,
    /// The accepted distance of X-TC-Timestamp from it, in seconds.
    pub window_secs: i64,
}

impl SignedAsk<'_> {
    /// Whether the signature covers header `name` (lowercase): only then
    /// may its value be trusted as the signer's (Tencent's SDKs do not sign
    /// x-tc-action, and a captured call could be resent with another one).
    pub fn signs(&self, name: &str) -> bool {
        self.auth
            .as_ref()
            .is_some_and(|a| a.signed_headers.split(';').any(|h| h == name))
    }
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
    /// The signature (a CAM API call may use it once).
    pub signature: [u8; 32],
    /// X-TC-Timestamp.
    pub timestamp: i64,
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
        let auth = s.auth.map_or_else(|| tc3::authorization(&s.call), Ok);
        let checked = match auth
            .and_then(|a| tc3::check_parsed(&s.call, a, s.service, s.now_secs, s.window_secs))
        {
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
            signature: checked.auth.signature,
            timestamp: checked.timestamp,
        };
        // Used, whether a decision follows (AuthorizeSigned) or not (CallApi).
        key.last_used_ms
            .fetch_max(s.now_secs.saturating_mul(1000), Ordering::Relaxed);
        let Some(ask) = ask else {
            return f(Ok((verified, None)));
        };
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;

    use arc_swap::ArcSwap;

    use super::*;
    use crate::authz::{KeyEntry, Snapshot};
    use crate::code::Code;
    use crate::credentials::tc3::{Payload, ToSign};
    use crate::credentials::{KeyHasher, Keyring, Pepper, Sealed};
    use crate::policy::PolicySet;

    const ID: &str = "AKIDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OWNER: u64 = 100_000_000_001;

    fn authorizer(sealed: Option<Sealed>, active: bool, ring: [u8; 32]) -> Authorizer {
        let mut snap = Snapshot {
            owner_uin: OWNER,
            root_policies: Arc::new(PolicySet::new(std::iter::empty())),
            ..Snapshot::default()
        };
        snap.keys.insert(
            ID.into(),
            Arc::new(KeyEntry {
                owner: OWNER,
                hash: [0; 32],
                active,
                last_used_ms: AtomicI64::new(0),
                flushed_ms: AtomicI64::new(0),
                sealed,
                signing: std::sync::Mutex::new(Vec::new()),
            }),
        );
        Authorizer::new(
            Arc::new(ArcSwap::from_pointee(snap)),
            KeyHasher::new(&Pepper::from_bytes([1; 32])),
            Arc::new(Keyring::from_bytes(ring, None).unwrap()),
        )
    }

    fn code(a: &Authorizer, key: &str) -> Result<u64, Code> {
        let ts = 1_795_000_000;
        let mut h = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), "h".to_string()),
            ("x-tc-timestamp".to_string(), ts.to_string()),
        ];
        fn call(h: &[(String, String)]) -> Signed<'_> {
            Signed {
                method: "POST",
                path: "/",
                query: "",
                headers: h,
                payload: Payload::Bytes(b"{}"),
            }
        }
        let auth = tc3::sign(
            key,
            &ToSign {
                secret_id: ID,
                service: "im",
                timestamp: ts,
                request: call(&h),
                signed: &["content-type", "host"],
            },
        )
        .unwrap();
        h.push(("authorization".into(), auth));
        let s = SignedAsk {
            call: call(&h),
            auth: None,
            service: None,
            now_secs: ts,
            window_secs: 300,
        };
        a.by_signature(&s, None, |r| r.map(|(v, _)| v.uin).map_err(|e| e.code()))
    }

    #[test]
    fn the_keys_state_and_sealed_copy_decide_what_a_good_signature_gets() {
        let ring = Keyring::from_bytes([7; 32], None).unwrap();
        let sealed = ring.seal(ID, "the-secret").unwrap();
        assert_eq!(
            code(
                &authorizer(Some(sealed.clone()), true, [7; 32]),
                "the-secret"
            ),
            Ok(OWNER)
        );
        assert_eq!(
            code(&authorizer(Some(sealed.clone()), true, [7; 32]), "not-it"),
            Err(Code::SignatureFailure)
        );
        assert_eq!(
            code(
                &authorizer(Some(sealed.clone()), false, [7; 32]),
                "the-secret"
            ),
            Err(Code::SecretIdNotFound)
        );
        assert_eq!(
            code(&authorizer(None, true, [7; 32]), "the-secret"),
            Err(Code::InvalidSecretId)
        );
        assert_eq!(
            code(&authorizer(Some(sealed), true, [8; 32]), "the-secret"),
            Err(Code::SealingKey)
        );
    }
}
