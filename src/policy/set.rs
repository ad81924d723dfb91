//! A compiled set of policies (everything attached to one user) and the
//! decision procedure: default deny, any matching deny wins, then any allow.
//! Evaluation is pure and allocation-free.

use std::sync::Arc;

use super::action::ActionBits;
use super::actions::{self, Level};
use super::condition::{Outcome, eval_all};
use super::decision::{Decision, Reason, StatementRef};
use super::document::Policy;
use super::pattern::Vars;
use super::prefilter::Prefilter;
use super::request::Request;
use super::statement::{Effect, Statement};

/// One statement of the set, with what the scan needs inline.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The catalogued actions the statement matches.
    bits: ActionBits,
    /// Index into `PolicySet::policies`.
    policy: u32,
    /// Index into that policy's statements.
    statement: u32,
    /// Rejects most other resources before the statement is read.
    filter: Prefilter,
}

/// The effective policies of one principal, compiled once and evaluated many times.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Arc<Policy>>,
    /// Every statement, deny statements first, so that reaching an allow
    /// entry means no deny applied.
    entries: Box<[Entry]>,
    /// The permissions boundary: what it does not allow is denied, whatever
    /// the policies allow (`None`: unbounded).
    boundary: Option<Arc<PolicySet>>,
    /// The name a boundary set goes by (its policy's, even when that policy
    /// is gone and the set is empty).
    name: Option<Arc<str>>,
    /// How many of `entries` are deny statements (they come first).
    denies: usize,
}

/// How a statement relates to a request.
enum Hit {
    No,
    Yes,
    Unevaluable,
}

impl PolicySet {
    /// Compiles a set from policies (duplicates by name are kept once).
    pub fn new(policies: impl IntoIterator<Item = Arc<Policy>>) -> Self {
        let mut unique: Vec<Arc<Policy>> = Vec::new();
        for p in policies {
            if !unique.iter().any(|u| u.name == p.name) {
                unique.push(p);
            }
        }
        let mut entries = Vec::new();
        let mut denies = 0;
        for effect in [Effect::Deny, Effect::Allow] {
            if effect == Effect::Allow {
                denies = entries.len();
            }
            for (pi, p) in unique.iter().enumerate() {
                for (si, st) in p.statements.iter().enumerate() {
                    if st.effect == effect {
                        entries.push(Entry {
                            bits: st.action_bits,
                            policy: u32::try_from(pi).unwrap_or(u32::MAX),
                            statement: u32::try_from(si).unwrap_or(u32::MAX),
                            filter: Prefilter::of(st),
                        });
                    }
                }
            }
        }
        Self {
            policies: unique,
            entries: entries.into_boxed_slice(),
            boundary: None,
            name: None,
            denies,
        }
    }

    /// The set named `name` (a boundary's policy name).
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(Arc::from(name));
        self
    }

    /// The same policies bounded by `boundary` (its own boundary is ignored).
    pub fn bounded(mut self, boundary: Option<Arc<PolicySet>>) -> Self {
        self.boundary = boundary;
        self
    }

    /// The permissions boundary, if the set is bounded.
    pub fn boundary(&self) -> Option<&PolicySet> {
        self.boundary.as_deref()
    }

    /// The policies in the set.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.policies.iter()
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// True when the set has no policy.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Decides the request: the root account is never evaluated; otherwise
    /// the policies decide, and a boundary can only take an allow away (a
    /// deny in either wins).
    pub fn evaluate(&self, req: &Request<'_>) -> Decision<'_> {
        if req.principal.is_root() {
            return Decision {
                reason: Reason::Root,
                unevaluable_allow: None,
            };
        }
        let own = self.evaluate_statements(req, &self.entries);
        let Some(boundary) = self.boundary.as_deref() else {
            return own;
        };
        if matches!(
            own.reason,
            Reason::ExplicitDeny(_) | Reason::FailClosedDeny(_)
        ) {
            return own;
        }
        // When the policies allow nothing, only the boundary's denies can
        // change the answer (its reason): its allow statements are skipped.
        let scanned = match own.reason {
            Reason::ImplicitDeny => boundary
                .entries
                .get(..boundary.denies)
                .unwrap_or(&boundary.entries),
            _ => &boundary.entries,
        };
        let bound = boundary.evaluate_statements(req, scanned);
        match (bound.reason, own.reason) {
            (Reason::ExplicitDeny(at), _) => deny(Reason::BoundaryDeny(at)),
            (Reason::FailClosedDeny(at), _) => deny(Reason::BoundaryFailClosedDeny(at)),
            (Reason::ImplicitDeny, Reason::Allowed(at)) => deny(Reason::OutsideBoundary {
                allowed: at,
                boundary: boundary.name(),
            }),
            _ => own,
        }
    }

    /// The set's name, else its first policy's (a boundary has one).
    fn name(&self) -> &str {
        match &self.name {
            Some(n) => n,
            None => self.policies.first().map_or("", |p| p.name.as_str()),
        }
    }

    /// The statements' verdict, without the root rule or the boundary.
    fn evaluate_statements(&self, req: &Request<'_>, entries: &[Entry]) -> Decision<'_> {
        let mut ctx = Eval {
            req,
            vars: Vars {
                uin: req.principal.uin,
                owner_uin: req.principal.owner_uin,
            },
            operation_level: None,
        };
        let mut unevaluable_allow = None;
        for e in entries {
            if let Some(i) = req.action_index {
                if !e.bits.contains(i) {
                    continue;
                }
            }
            if !e.filter.passes(&req.resource) {
                continue;
            }
            let Some(policy) = self.policies.get(e.policy as usize) else {
                continue;
            };
            let Some(st) = policy.statements.get(e.statement as usize) else {
                continue;
            };
            if req.action_index.is_none() && !st.actions.iter().any(|a| a.matches(req.action)) {
                continue;
            }
            let at = StatementRef {
                policy: &policy.name,
                statement: st.index,
            };
            match (st.effect, ctx.hit(st)) {
                (_, Hit::No) => {}
                (Effect::Deny, Hit::Yes) => return deny(Reason::ExplicitDeny(at)),
                (Effect::Deny, Hit::Unevaluable) => return deny(Reason::FailClosedDeny(at)),
                (Effect::Allow, Hit::Yes) => {
                    return Decision {
                        reason: Reason::Allowed(at),
                        unevaluable_allow: None,
                    };
                }
                (Effect::Allow, Hit::Unevaluable) => {
                    unevaluable_allow = unevaluable_allow.or(Some(at));
                }
            }
        }
        Decision {
            reason: Reason::ImplicitDeny,
            unevaluable_allow,
        }
    }
}

fn deny(reason: Reason<'_>) -> Decision<'_> {
    Decision {
        reason,
        unevaluable_allow: None,
    }
}

struct Eval<'r, 'a> {
    req: &'r Request<'a>,
    vars: Vars,
    /// Whether the action is operation-level, looked up once when first needed.
    operation_level: Option<bool>,
}

impl Eval<'_, '_> {
    /// Resource and condition, for a statement whose action matched.
    fn hit(&mut self, st: &Statement) -> Hit {
        let resource_ok = if st.any_resource {
            true
        } else {
            let op = *self.operation_level.get_or_insert_with(|| {
                self.req
                    .action_index
                    .and_then(|i| actions::ACTIONS.get(i))
                    .is_some_and(|a| a.level == Level::Operation)
            });
            !op && st
                .resources
                .iter()
                .any(|r| r.matches(&self.req.resource, self.vars))
        };
        if !resource_ok {
            return Hit::No;
        }
        if st.conditions.is_empty() {
            return Hit::Yes;
        }
        match eval_all(&st.conditions, self.req) {
            Outcome::True => Hit::Yes,
            Outcome::False => Hit::No,
            Outcome::Error => Hit::Unevaluable,
        }
    }
}
