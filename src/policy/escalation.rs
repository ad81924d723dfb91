//! Lint: allow statements that let whoever holds them raise their own
//! rights, a path to full admin (the patterns AWS Access Analyzer and
//! Parliament warn on). The policy stays valid; these are warnings.

use super::checker::Checker;
use super::pattern::Vars;
use super::resource::ResourcePattern;
use super::statement::{Effect, Statement};

/// What a right acts on.
#[derive(Clone, Copy)]
enum On {
    User,
    Group,
    Policy,
    Role,
}

/// One escalating right.
struct Path {
    action: &'static str,
    on: On,
    /// A `cam:policy_name` condition bounds it (it only attaches policies).
    bounded_by_policy_name: bool,
    why: &'static str,
}

const PATHS: &[Path] = &[
    Path {
        action: "cam:AttachUserPolicy",
        on: On::User,
        bounded_by_policy_name: true,
        why: "it can attach any policy, AdministratorAccess too, to any user, itself included",
    },
    Path {
        action: "cam:AttachGroupPolicy",
        on: On::Group,
        bounded_by_policy_name: true,
        why: "it can attach any policy, AdministratorAccess too, to any group, its own included",
    },
    Path {
        action: "cam:CreateAccessKey",
        on: On::User,
        bounded_by_policy_name: false,
        why: "it can create an access key for any user and act as that user",
    },
    Path {
        action: "cam:UpdateUser",
        on: On::User,
        bounded_by_policy_name: false,
        why: "it can set any user's console password and log in as that user",
    },
    Path {
        action: "cam:AddUserToGroup",
        on: On::Group,
        bounded_by_policy_name: false,
        why: "it can add itself to any group and so gain that group's policies",
    },
    Path {
        action: "cam:DeleteUserPermissionsBoundary",
        on: On::User,
        bounded_by_policy_name: false,
        why: "it can lift any user's permissions boundary, its own included",
    },
    Path {
        action: "cam:PutUserPermissionsBoundary",
        on: On::User,
        bounded_by_policy_name: true,
        why: "it can widen any user's permissions boundary, its own included",
    },
    Path {
        action: "cam:UpdatePolicy",
        on: On::Policy,
        bounded_by_policy_name: false,
        why: "it can rewrite any API-managed policy, those attached to itself included",
    },
    Path {
        action: "cam:CreatePolicyVersion",
        on: On::Policy,
        bounded_by_policy_name: false,
        why: "it can add a default version to any API-managed policy, those attached to itself included",
    },
    Path {
        action: "cam:CreatePolicy",
        on: On::Policy,
        bounded_by_policy_name: false,
        why: "it can write policies that grant anything: with any right to attach them, or to set a version as default, that is full admin",
    },
    Path {
        action: "cam:SetDefaultPolicyVersion",
        on: On::Policy,
        bounded_by_policy_name: false,
        why: "it can switch any API-managed policy to a wider version, those attached to itself included",
    },
    Path {
        action: "cam:AttachRolePolicy",
        on: On::Role,
        bounded_by_policy_name: true,
        why: "it can attach any policy, AdministratorAccess too, to any role, those it may assume included",
    },
    Path {
        action: "cam:UpdateAssumeRolePolicy",
        on: On::Role,
        bounded_by_policy_name: false,
        why: "it can make any role trust itself, and then assume it",
    },
    Path {
        action: "cam:DeleteRolePermissionsBoundary",
        on: On::Role,
        bounded_by_policy_name: false,
        why: "it can lift any role's permissions boundary, those it may assume included",
    },
    Path {
        action: "cam:PutRolePermissionsBoundary",
        on: On::Role,
        bounded_by_policy_name: true,
        why: "it can widen any role's permissions boundary, those it may assume included",
    },
];

const NO_VARS: Vars = Vars {
    uin: 0,
    owner_uin: 0,
};

/// True when one of `resources` covers every user (or group), so also the
/// holder itself (or its groups). A sub-user is named `user/NAME` or, in
/// CAM's own form, `uin/SUBUIN`.
fn covers_everyone(resources: &[ResourcePattern], on: On) -> bool {
    let probes: &[&str] = match on {
        On::User => &["user/\u{1}", "uin/\u{1}"],
        On::Group => &["group/\u{1}"],
        On::Policy => &["policy/\u{1}"],
        On::Role => &["roleName/\u{1}", "role/\u{1}"],
    };
    probes.iter().any(|probe| covers(resources, probe))
}

fn covers(resources: &[ResourcePattern], probe: &str) -> bool {
    resources.iter().any(|r| match r {
        ResourcePattern::Any => true,
        ResourcePattern::Qcs {
            service, resource, ..
        } => {
            service.as_ref().is_none_or(|s| s.matches("cam", NO_VARS))
                && resource.matches(probe, NO_VARS)
        }
    })
}

/// Warns, at the statement, for every escalating right `st` grants.
pub(crate) fn check(st: &Statement, path: &str, offset: usize, ck: &mut Checker<'_>) {
    if st.effect != Effect::Allow || st.actions.iter().any(|a| a.is_any()) {
        // A deny grants nothing; `*` already grants everything.
        return;
    }
    let allows = |action: &str| st.actions.iter().any(|a| a.matches(action));
    let names_policy = st
        .conditions
        .iter()
        .any(|c| c.key.eq_ignore_ascii_case("cam:policy_name"));
    for p in PATHS {
        if !allows(p.action) || !covers_everyone(&st.resources, p.on) {
            continue;
        }
        if p.bounded_by_policy_name && names_policy {
            continue;
        }
        let bound = if p.bounded_by_policy_name {
            " without a `cam:policy_name` condition"
        } else {
            ""
        };
        let with_add = if p.action == "cam:AttachUserPolicy" && allows("cam:AddUser") {
            " (with `cam:AddUser`, it can also create users holding any policy)"
        } else {
            ""
        };
        ck.warn(
            path,
            offset,
            format!(
                "privilege escalation: {path} allows `{}` on every {}{bound}: {}{with_add}; a path to full admin",
                p.action,
                match p.on {
                    On::User => "user",
                    On::Group => "group",
                    On::Policy => "policy",
                    On::Role => "role",
                },
                p.why
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::policy::Policy;

    const PATHS_LEN: usize = super::PATHS.len();

    fn warnings(doc: &str) -> Vec<String> {
        Policy::parse("P", doc)
            .unwrap()
            .warnings
            .into_iter()
            .map(|w| w.message)
            .filter(|m| m.starts_with("privilege escalation"))
            .collect()
    }

    #[test]
    fn attach_on_every_user_without_a_policy_name_condition_warns() {
        let w = warnings(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:AttachUserPolicy","cam:AddUser"],"resource":"qcs::cam::uin/1:user/*"}]}"#,
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("statement[0]") && w[0].contains("cam:AttachUserPolicy"));
        assert!(w[0].contains("cam:AddUser"));
    }

    #[test]
    fn each_escalating_right_warns_and_wildcards_count() {
        let w = warnings(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:*","resource":"*"}]}"#,
        );
        assert_eq!(w.len(), PATHS_LEN, "{w:?}");
    }

    #[test]
    fn bounded_narrow_denied_or_total_statements_do_not_warn() {
        for doc in [
            // A cam:policy_name condition bounds attaching.
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:AttachUserPolicy","resource":"*","condition":{"string_equal":{"cam:policy_name":"QcloudChatReadOnlyAccess"}}}]}"#,
            // One named user, not everyone.
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:CreateAccessKey","resource":"qcs::cam::uin/1:user/alice"}]}"#,
            // Another service's resources.
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:UpdateUser","resource":"qcs::im::uin/1:*"}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"deny","action":"cam:*","resource":"*"}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:List*","resource":"*"}]}"#,
        ] {
            assert!(warnings(doc).is_empty(), "{doc}");
        }
    }
}
