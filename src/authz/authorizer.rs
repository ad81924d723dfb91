//! Deciding: by user (for callers that authenticated the user themselves) or
//! by access key (SecretId + SecretKey, verified in constant time).

use crate::code::Code;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arc_swap::ArcSwap;
use thiserror::Error;

use crate::credentials::tc3::Tc3Error;
use crate::credentials::{KeyHasher, Keyring};
use crate::policy::{Decision, PolicySet, Principal, Request, RequestError};

use super::snapshot::Snapshot;

/// Which user a by-user request names.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// By name.
    Name(&'a str),
    /// By uin (the owner uin is the root account).
    Uin(u64),
}

/// Why a request was not decided.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthzError {
    /// The named user does not exist.
    #[error("user `{0}` does not exist")]
    UnknownUser(String),
    /// The access key is unknown, wrong or inactive (which one is not said).
    #[error("the access key is unknown, does not match, or is disabled")]
    Unauthenticated,
    /// The action or resource is malformed.
    #[error("{0}")]
    BadRequest(#[from] RequestError),
    /// A signed request failed a TC3 check.
    #[error("{0}")]
    Signature(#[from] Tc3Error),
    /// A signed request names an unknown or disabled SecretId.
    #[error("access key `{0}` does not exist or is disabled")]
    SecretIdNotFound(String),
    /// A signed request's key has no sealed copy.
    #[error(
        "access key `{0}` was created before camd kept sealed copies and cannot verify signatures; rotate it (create a new key, switch the caller to it, delete this one)"
    )]
    NotSealed(String),
    /// The key's sealed copy does not open.
    #[error("access key `{id}`: {cause}")]
    Sealing {
        /// The key.
        id: String,
        /// Why.
        cause: crate::credentials::SealError,
    },
}

impl AuthzError {
    /// The CAM error code.
    pub fn code(&self) -> Code {
        match self {
            AuthzError::UnknownUser(_) => Code::UserNotExist,
            AuthzError::Unauthenticated => Code::InvalidAuthorization,
            AuthzError::BadRequest(_) => Code::InvalidParameter,
            AuthzError::Signature(e) => e.code(),
            AuthzError::SecretIdNotFound(_) => Code::SecretIdNotFound,
            AuthzError::NotSealed(_) => Code::InvalidSecretId,
            AuthzError::Sealing { .. } => Code::SealingKey,
        }
    }

    /// Whether it is a failed authentication (counted by the throttle and audited).
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            AuthzError::Unauthenticated
                | AuthzError::SecretIdNotFound(_)
                | AuthzError::Signature(Tc3Error::Mismatch)
        )
    }
}

/// Decides requests against the latest published snapshot.
#[derive(Clone)]
pub struct Authorizer {
    pub(super) snapshot: Arc<ArcSwap<Snapshot>>,
    hasher: KeyHasher,
    pub(super) keyring: Arc<Keyring>,
}

/// Compared against when a SecretId is unknown, so that an unknown id costs
/// the same HMAC as a wrong key.
const DUMMY_HASH: [u8; 32] = [0; 32];

/// One request's text.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The action.
    pub action: &'a str,
    /// The resource.
    pub resource: &'a str,
    /// The context pairs.
    pub context: &'a [(&'a str, &'a str)],
    /// The clock, ms since the epoch.
    pub now_ms: i64,
}

impl Authorizer {
    /// An authorizer over `snapshot`, verifying presented keys with
    /// `hasher` and opening sealed ones (for signatures) with `keyring`.
    pub fn new(snapshot: Arc<ArcSwap<Snapshot>>, hasher: KeyHasher, keyring: Arc<Keyring>) -> Self {
        Self {
            snapshot,
            hasher,
            keyring,
        }
    }

    /// The sealing keys.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The current snapshot, loaded once for one or more decisions.
    pub fn view(&self) -> View<'_> {
        View {
            authz: self,
            snap: self.snapshot.load(),
        }
    }

    /// Decides for a user and hands the decision (which borrows the snapshot) to `f`.
    pub fn by_user<R>(
        &self,
        who: Who<'_>,
        ask: Ask<'_>,
        f: impl FnOnce(Result<(u64, Decision<'_>), AuthzError>) -> R,
    ) -> R {
        self.view().by_user(who, ask, f)
    }

    /// Authenticates an access key, then decides for its owner.
    pub fn by_key<R>(
        &self,
        secret_id: &str,
        secret_key: &str,
        ask: Ask<'_>,
        f: impl FnOnce(Result<(u64, Decision<'_>), AuthzError>) -> R,
    ) -> R {
        self.view().by_key(secret_id, secret_key, ask, f)
    }

    /// Last-used times not yet handed to the store; marks them handed.
    pub fn take_key_uses(&self) -> Vec<(String, i64)> {
        let snap = self.snapshot.load();
        let mut out = Vec::new();
        for (id, k) in snap.keys.iter() {
            let used = k.last_used_ms.load(Ordering::Relaxed);
            if used > k.flushed_ms.fetch_max(used, Ordering::Relaxed) {
                out.push((id.to_string(), used));
            }
        }
        out
    }
}

/// One load of the snapshot, for the decisions that read it: a batch
/// decides every item against the same state and pays for one load.
pub struct View<'a> {
    authz: &'a Authorizer,
    snap: arc_swap::Guard<Arc<Snapshot>>,
}

impl View<'_> {
    /// The revision of the state this view reads.
    pub fn revision(&self) -> i64 {
        self.snap.revision
    }

    /// Decides for a user and hands the decision (which borrows the snapshot) to `f`.
    pub fn by_user<R>(
        &self,
        who: Who<'_>,
        ask: Ask<'_>,
        f: impl FnOnce(Result<(u64, Decision<'_>), AuthzError>) -> R,
    ) -> R {
        let snap = &self.snap;
        let found = match who {
            Who::Name(n) => snap.names.get(n).map(|u| (u.uin, &u.policies)),
            Who::Uin(u) if u == snap.owner_uin => Some((u, &snap.root_policies)),
            Who::Uin(u) => snap.users.get(&u).map(|e| (u, &e.policies)),
        };
        let Some((uin, set)) = found else {
            let shown = match who {
                Who::Name(n) => n.to_string(),
                Who::Uin(u) => u.to_string(),
            };
            return f(Err(AuthzError::UnknownUser(shown)));
        };
        decide(snap.owner_uin, uin, set, ask, f)
    }

    /// Authenticates an access key, then decides for its owner.
    pub fn by_key<R>(
        &self,
        secret_id: &str,
        secret_key: &str,
        ask: Ask<'_>,
        f: impl FnOnce(Result<(u64, Decision<'_>), AuthzError>) -> R,
    ) -> R {
        let snap = &self.snap;
        let Some(key) = snap.keys.get(secret_id) else {
            let _ = self.authz.hasher.verify(secret_key, &DUMMY_HASH);
            return f(Err(AuthzError::Unauthenticated));
        };
        if !self.authz.hasher.verify(secret_key, &key.hash) || !key.active {
            return f(Err(AuthzError::Unauthenticated));
        }
        key.last_used_ms.fetch_max(ask.now_ms, Ordering::Relaxed);
        let set = match snap.users.get(&key.owner) {
            Some(u) => &u.policies,
            None => &snap.root_policies,
        };
        decide(snap.owner_uin, key.owner, set, ask, f)
    }
}

pub(super) fn decide<R>(
    owner_uin: u64,
    uin: u64,
    set: &PolicySet,
    ask: Ask<'_>,
    f: impl FnOnce(Result<(u64, Decision<'_>), AuthzError>) -> R,
) -> R {
    let principal = Principal { uin, owner_uin };
    match Request::new(ask.action, ask.resource, principal, ask.now_ms, ask.context) {
        Ok(req) => f(Ok((uin, set.evaluate(&req)))),
        Err(e) => f(Err(e.into())),
    }
}
