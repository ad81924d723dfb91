//! A compiled set of policies (everything attached to one user) and the
//! decision procedure: default deny, any matching deny wins, then any allow.
//! Evaluation is pure and allocation-free.

use std::sync::Arc;

use super::catalog::{self, Level};
use super::condition::{Outcome, eval_all};
use super::decision::{Decision, Reason, StatementRef};
use super::document::{Effect, Policy, Statement};
use super::pattern::Vars;
use super::request::Request;

/// One policy's statements split by effect, so that denies are checked first.
#[derive(Debug, Clone)]
struct Split {
    policy: Arc<Policy>,
    deny: Vec<usize>,
    allow: Vec<usize>,
}

/// The effective policies of one principal, compiled once and evaluated many times.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Split>,
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
        let mut out: Vec<Split> = Vec::new();
        for p in policies {
            if out.iter().any(|s| s.policy.name == p.name) {
                continue;
            }
            let idx = |e: Effect| {
                p.statements
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.effect == e)
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
            };
            out.push(Split {
                deny: idx(Effect::Deny),
                allow: idx(Effect::Allow),
                policy: p,
            });
        }
        Self { policies: out }
    }

    /// The policies in the set.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.policies.iter().map(|s| &s.policy)
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// True when the set has no policy.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Decides the request.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision<'_> {
        if req.principal.is_root() {
            return Decision {
                reason: Reason::Root,
                unevaluable_allow: None,
            };
        }
        let mut ctx = Eval {
            req,
            vars: Vars {
                uin: req.principal.uin,
                owner_uin: req.principal.owner_uin,
            },
            operation_level: None,
        };
        for split in &self.policies {
            for &i in &split.deny {
                if let Some(st) = split.policy.statements.get(i) {
                    match ctx.hit(st) {
                        Hit::No => {}
                        Hit::Yes => return deny(Reason::ExplicitDeny(at(split, st))),
                        Hit::Unevaluable => return deny(Reason::FailClosedDeny(at(split, st))),
                    }
                }
            }
        }
        let mut unevaluable_allow = None;
        for split in &self.policies {
            for &i in &split.allow {
                if let Some(st) = split.policy.statements.get(i) {
                    match ctx.hit(st) {
                        Hit::No => {}
                        Hit::Yes => {
                            return Decision {
                                reason: Reason::Allowed(at(split, st)),
                                unevaluable_allow: None,
                            };
                        }
                        Hit::Unevaluable => {
                            unevaluable_allow = unevaluable_allow.or(Some(at(split, st)));
                        }
                    }
                }
            }
        }
        Decision {
            reason: Reason::ImplicitDeny,
            unevaluable_allow,
        }
    }
}

fn at<'s>(split: &'s Split, st: &Statement) -> StatementRef<'s> {
    StatementRef {
        policy: &split.policy.name,
        statement: st.index,
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
    fn hit(&mut self, st: &Statement) -> Hit {
        if !st.actions.iter().any(|a| a.matches(self.req.action)) {
            return Hit::No;
        }
        let resource_ok = if st.any_resource {
            true
        } else {
            let op = *self.operation_level.get_or_insert_with(|| {
                catalog::lookup_action(self.req.action).is_some_and(|a| a.level == Level::Operation)
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
