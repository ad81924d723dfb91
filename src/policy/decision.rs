//! The outcome of an authorization and what decided it.

use std::fmt;

/// Which statement of which policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementRef<'s> {
    /// The policy's name.
    pub policy: &'s str,
    /// The statement's index in the policy's `statement` array.
    pub statement: usize,
}

/// Why a request was allowed or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'s> {
    /// The caller is the root account, which is never evaluated.
    Root,
    /// An allow statement matched and no deny statement did.
    Allowed(StatementRef<'s>),
    /// A deny statement matched.
    ExplicitDeny(StatementRef<'s>),
    /// A deny statement's action and resource matched but its condition could
    /// not be evaluated, so it applied (fail closed).
    FailClosedDeny(StatementRef<'s>),
    /// Nothing allowed the request.
    ImplicitDeny,
    /// A deny statement of the permissions boundary matched.
    BoundaryDeny(StatementRef<'s>),
    /// A deny statement of the permissions boundary matched action and
    /// resource but its condition could not be evaluated (fail closed).
    BoundaryFailClosedDeny(StatementRef<'s>),
    /// The policies allowed it (`allowed`), but the permissions boundary
    /// (`boundary`, a policy name) does not.
    OutsideBoundary {
        /// The statement that allowed it.
        allowed: StatementRef<'s>,
        /// The boundary policy's name.
        boundary: &'s str,
    },
}

/// A decision with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'s> {
    /// Why.
    pub reason: Reason<'s>,
    /// The first allow statement that matched action and resource but whose
    /// condition could not be evaluated (so it did not allow), for diagnostics.
    pub unevaluable_allow: Option<StatementRef<'s>>,
}

impl Decision<'_> {
    /// True when the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self.reason, Reason::Root | Reason::Allowed(_))
    }

    /// The deciding statement, if one decided.
    pub fn statement(&self) -> Option<StatementRef<'_>> {
        match self.reason {
            Reason::Allowed(s)
            | Reason::ExplicitDeny(s)
            | Reason::FailClosedDeny(s)
            | Reason::BoundaryDeny(s)
            | Reason::BoundaryFailClosedDeny(s) => Some(s),
            Reason::Root | Reason::ImplicitDeny | Reason::OutsideBoundary { .. } => None,
        }
    }

    /// The deciding policy: the deciding statement's, or the boundary that
    /// does not allow what the policies allow.
    pub fn policy(&self) -> Option<&str> {
        match self.reason {
            Reason::OutsideBoundary { boundary, .. } => Some(boundary),
            _ => self.statement().map(|s| s.policy),
        }
    }

    /// True when the permissions boundary is what denied.
    pub fn by_boundary(&self) -> bool {
        matches!(
            self.reason,
            Reason::BoundaryDeny(_)
                | Reason::BoundaryFailClosedDeny(_)
                | Reason::OutsideBoundary { .. }
        )
    }

    /// A short name for the reason: `Root`, `Allow`, `ExplicitDeny`,
    /// `FailClosedDeny`, `ImplicitDeny`, `BoundaryDeny`,
    /// `BoundaryFailClosedDeny`, `OutsideBoundary`.
    pub fn reason_code(&self) -> &'static str {
        match self.reason {
            Reason::Root => "Root",
            Reason::Allowed(_) => "Allow",
            Reason::ExplicitDeny(_) => "ExplicitDeny",
            Reason::FailClosedDeny(_) => "FailClosedDeny",
            Reason::ImplicitDeny => "ImplicitDeny",
            Reason::BoundaryDeny(_) => "BoundaryDeny",
            Reason::BoundaryFailClosedDeny(_) => "BoundaryFailClosedDeny",
            Reason::OutsideBoundary { .. } => "OutsideBoundary",
        }
    }
}

impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Reason::Root => f.write_str("Allow: the root account is allowed everything it owns"),
            Reason::Allowed(s) => write!(
                f,
                "Allow: policy `{}` statement[{}] allows it",
                s.policy, s.statement
            ),
            Reason::ExplicitDeny(s) => write!(
                f,
                "Deny: policy `{}` statement[{}] denies it",
                s.policy, s.statement
            ),
            Reason::FailClosedDeny(s) => write!(
                f,
                "Deny: policy `{}` statement[{}] denies it (its condition could not be evaluated; camd fails closed)",
                s.policy, s.statement
            ),
            Reason::BoundaryDeny(s) => write!(
                f,
                "Deny: the permissions boundary `{}` statement[{}] denies it",
                s.policy, s.statement
            ),
            Reason::BoundaryFailClosedDeny(s) => write!(
                f,
                "Deny: the permissions boundary `{}` statement[{}] denies it (its condition could not be evaluated; camd fails closed)",
                s.policy, s.statement
            ),
            Reason::OutsideBoundary { allowed, boundary } => write!(
                f,
                "Deny: policy `{}` statement[{}] allows it, but the permissions boundary `{boundary}` does not",
                allowed.policy, allowed.statement
            ),
            Reason::ImplicitDeny => {
                f.write_str("Deny: no statement allows it (implicit deny)")?;
                if let Some(s) = self.unevaluable_allow {
                    write!(
                        f,
                        "; policy `{}` statement[{}] would have, but its condition could not be evaluated",
                        s.policy, s.statement
                    )?;
                }
                Ok(())
            }
        }
    }
}
