//! Outcomes as the wire carries them: failures as wire errors, engine
//! decisions as wire decisions and metric outcomes.

use crate::authz::AuthzError;
use crate::code::{Code, Failure};
use crate::metrics::Outcome;
use crate::policy::{Decision as EngineDecision, Reason};
use crate::protocol::{Decision, WireError};

/// The code of a request refused by failed-authentication throttling.
pub const THROTTLED: Code = Code::AuthThrottled;

/// A wire error from a code and a message.
pub fn wire(code: Code, message: impl Into<String>) -> WireError {
    WireError {
        code: code.as_str().to_string(),
        message: message.into(),
    }
}

/// The refusal of a batch of `len` decisions over `max` (refused whole).
pub fn batch_too_large(len: u64, max: usize) -> WireError {
    wire(
        Code::BatchSize,
        format!("a batch of {len} decisions exceeds the limit of {max} (max_batch_items)"),
    )
}

/// A failure as it goes on the wire.
pub fn to_wire(f: Failure) -> WireError {
    wire(f.code, f.message)
}

pub(super) fn decision(d: &EngineDecision<'_>, uin: u64) -> Decision {
    let st = d.statement();
    Decision {
        allowed: d.is_allowed(),
        reason: d.reason_code().to_string(),
        policy: d.policy().map(str::to_string),
        statement: st.map(|s| u32::try_from(s.statement).unwrap_or(u32::MAX)),
        uin,
    }
}

pub(super) fn outcome_of(d: &EngineDecision<'_>) -> Outcome {
    match d.reason {
        Reason::Root | Reason::Allowed(_) => Outcome::Allow,
        Reason::ExplicitDeny(_) | Reason::BoundaryDeny(_) => Outcome::ExplicitDeny,
        Reason::FailClosedDeny(_) | Reason::BoundaryFailClosedDeny(_) => Outcome::FailClosedDeny,
        Reason::ImplicitDeny | Reason::OutsideBoundary { .. } => Outcome::ImplicitDeny,
    }
}

pub(super) fn authz_failure(e: AuthzError) -> Failure {
    Failure::new(e.code(), e.to_string())
}
