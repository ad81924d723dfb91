//! What a set of policies grants per catalogued action, read from the
//! compiled statements (the same action bits deciding uses): the "what can
//! this user do" view and the difference between two policies. Not on the
//! decision path; it allocates.

use super::actions::{ACTIONS, ActionInfo, Level};
use super::document::Policy;
use super::statement::{Effect, Statement};

/// One statement's part in what a policy grants or forbids for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<'p> {
    /// The policy's name.
    pub policy: &'p str,
    /// The statement's index.
    pub statement: usize,
    /// Allow or deny.
    pub effect: Effect,
    /// Its resource patterns as written.
    pub resources: Vec<&'p str>,
    /// Its conditions as written (shown, not evaluated).
    pub conditions: Vec<&'p str>,
}

impl Grant<'_> {
    /// Every resource, no condition.
    fn unconditional_everywhere(&self) -> bool {
        self.conditions.is_empty() && self.resources.contains(&"*")
    }
}

fn grant<'p>(policy: &'p Policy, st: &'p Statement) -> Grant<'p> {
    Grant {
        policy: &policy.name,
        statement: st.index,
        effect: st.effect,
        resources: st.resources_shown.iter().map(AsRef::as_ref).collect(),
        conditions: st.conditions.iter().map(|c| c.shown.as_ref()).collect(),
    }
}

/// The statements of `policy` that apply to catalogued action `index`
/// (an allow of an operation-level action only with resource `*`).
pub fn grants(policy: &Policy, index: usize) -> impl Iterator<Item = Grant<'_>> {
    let operation = ACTIONS
        .get(index)
        .is_some_and(|a| a.level == Level::Operation);
    policy
        .statements
        .iter()
        .filter(move |st| st.action_bits.contains(index))
        .filter(move |st| !(operation && st.effect == Effect::Allow && !st.any_resource))
        .map(move |st| grant(policy, st))
}

/// How far an action is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// On every resource, without condition, nothing denies any of it.
    Allowed,
    /// Somewhere: on some resources, under conditions, or with denies beside.
    Partly,
    /// Nowhere.
    Denied,
}

impl Access {
    /// `Allowed`, `Partly` or `Denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Allowed => "Allowed",
            Access::Partly => "Partly",
            Access::Denied => "Denied",
        }
    }
}

/// The access that allow and deny statements (and a boundary's allow
/// statements, when bounded) come to.
pub fn access(allow: &[Grant<'_>], deny: &[Grant<'_>], boundary: Option<&[Grant<'_>]>) -> Access {
    let bounded_out = boundary.is_some_and(<[Grant<'_>]>::is_empty);
    if allow.is_empty() || bounded_out || deny.iter().any(Grant::unconditional_everywhere) {
        return Access::Denied;
    }
    let full = |gs: &[Grant<'_>]| gs.iter().any(Grant::unconditional_everywhere);
    if full(allow) && deny.is_empty() && boundary.is_none_or(full) {
        Access::Allowed
    } else {
        Access::Partly
    }
}

/// The catalogued actions of `service` (all when `None`), with their index.
pub fn catalogued(service: Option<&str>) -> impl Iterator<Item = (usize, &'static ActionInfo)> {
    ACTIONS
        .iter()
        .enumerate()
        .filter(move |(_, a)| service.is_none_or(|s| a.service.eq_ignore_ascii_case(s)))
}

/// One rule of a policy for one action: effect, resource, conditions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    /// `allow` or `deny`.
    pub effect: &'static str,
    /// A resource pattern as written.
    pub resource: String,
    /// The conditions as written.
    pub conditions: Vec<String>,
}

/// How one action's rules differ between two policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionChange {
    /// `service:Name`.
    pub action: String,
    /// Rules only the new policy has.
    pub added: Vec<Rule>,
    /// Rules only the old policy has.
    pub removed: Vec<Rule>,
}

fn rules(policy: &Policy, index: usize) -> Vec<Rule> {
    let mut out: Vec<Rule> = grants(policy, index)
        .flat_map(|g| {
            let effect = match g.effect {
                Effect::Allow => "allow",
                Effect::Deny => "deny",
            };
            let conditions: Vec<String> = g.conditions.iter().map(|c| c.to_string()).collect();
            g.resources
                .into_iter()
                .map(move |r| Rule {
                    effect,
                    resource: r.to_string(),
                    conditions: conditions.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Which catalogued actions change, for which resources, from `old` to
/// `new` (by what the statements match, not by their text).
pub fn diff(old: &Policy, new: &Policy) -> Vec<ActionChange> {
    let mut out = Vec::new();
    for (i, a) in ACTIONS.iter().enumerate() {
        let (before, after) = (rules(old, i), rules(new, i));
        if before == after {
            continue;
        }
        out.push(ActionChange {
            action: format!("{}:{}", a.service, a.name),
            added: after
                .iter()
                .filter(|r| !before.contains(r))
                .cloned()
                .collect(),
            removed: before
                .iter()
                .filter(|r| !after.contains(r))
                .cloned()
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::policy::actions::lookup_action;

    fn p(name: &str, doc: &str) -> Policy {
        Policy::parse(name, doc).unwrap().policy
    }

    fn index(action: &str) -> usize {
        let a = lookup_action(action).unwrap();
        ACTIONS.iter().position(|x| x == a).unwrap()
    }

    #[test]
    fn access_reads_the_statements() {
        let all = p(
            "A",
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"*"},
            {"effect":"deny","action":"im:DestroyGroup","resource":"qcs::im::uin/1:sdkappid/2"}]}"#,
        );
        let send = index("im:SendMessage");
        let allow: Vec<_> = grants(&all, send).collect();
        assert_eq!(access(&allow, &[], None), Access::Allowed);
        let destroy = index("im:DestroyGroup");
        let (allow, deny): (Vec<_>, Vec<_>) =
            grants(&all, destroy).partition(|g| g.effect == Effect::Allow);
        assert_eq!(deny[0].resources, vec!["qcs::im::uin/1:sdkappid/2"]);
        assert_eq!(access(&allow, &deny, None), Access::Partly);
        assert_eq!(access(&allow, &[], Some(&[])), Access::Denied);
        assert_eq!(access(&[], &[], None), Access::Denied);
    }

    #[test]
    fn diff_is_by_meaning_not_text() {
        let a = p(
            "A",
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["im:SendMessage","im:SendGroupMessage"],"resource":"*"}]}"#,
        );
        let b = p(
            "B",
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendGroupMessage","resource":"*"},{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#,
        );
        assert!(diff(&a, &b).is_empty());
        let c = p(
            "C",
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"qcs::im::uin/1:sdkappid/2"}]}"#,
        );
        let d = diff(&a, &c);
        assert_eq!(d.len(), 2, "{d:?}");
        let send = d.iter().find(|c| c.action == "im:SendMessage").unwrap();
        assert_eq!(send.added[0].resource, "qcs::im::uin/1:sdkappid/2");
        assert_eq!(send.removed[0].resource, "*");
    }
}
