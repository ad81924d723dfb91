//! What an admin operation does, as the `cam:` rights a delegated caller
//! needs for it: one right per effect (a user created, each policy attached,
//! a key issued, ...), every one checked before anything runs. Also which
//! operations touch the root account's keys (the operator's alone).

use crate::policy::preset;
use crate::protocol::Body;

/// One effect of an operation: the `cam:` action, the resource it acts on,
/// and the policy it attaches or detaches (the `cam:policy_name` context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// e.g. `cam:AttachUserPolicy`.
    pub action: &'static str,
    /// e.g. `qcs::cam::uin/100000000001:user/alice`.
    pub resource: String,
    /// The canonical name of the policy, when the effect is about one.
    pub policy: Option<String>,
}

/// The name a policy goes by in a resource and in `cam:policy_name`: a
/// preset's alias resolves to the preset, so a rule written against one name
/// also governs the other.
pub fn canonical_policy(name: &str) -> String {
    preset::canonical_name(name).unwrap_or(name).to_string()
}

/// Builds the resources an account's operations act on.
pub struct Resources {
    /// The root account's uin.
    pub owner_uin: u64,
}

impl Resources {
    /// `qcs::cam::uin/<owner>:<kind>/<name>`.
    pub fn of(&self, kind: &str, name: &str) -> String {
        format!("qcs::cam::uin/{}:{kind}/{name}", self.owner_uin)
    }

    /// The root account, named by uin as CAM names principals: no sub-user
    /// (`user/<name>`) can share it.
    pub fn root(&self) -> String {
        format!("qcs::cam::uin/{o}:uin/{o}", o = self.owner_uin)
    }

    fn user(&self, name: &str) -> String {
        self.of("user", name)
    }

    fn group(&self, name: &str) -> String {
        self.of("group", name)
    }

    fn policy(&self, name: &str) -> String {
        self.of("policy", &canonical_policy(name))
    }

    /// Every effect `body` has, the first being the operation itself (its
    /// audit entry names it). `key_owner` names the user owning a SecretId
    /// (`None` for the root account's keys or an unknown key). `None` for
    /// requests that are not admin operations.
    pub fn effects(
        &self,
        body: &Body,
        key_owner: impl Fn(&str) -> KeyOwner,
    ) -> Option<Vec<Effect>> {
        let one = |action: &'static str, resource: String| Effect {
            action,
            resource,
            policy: None,
        };
        let with_policy = |action: &'static str, resource: String, policy: &str| Effect {
            action,
            resource,
            policy: Some(canonical_policy(policy)),
        };
        let key = |action: &'static str, owner: &Option<String>| match owner {
            Some(u) => one(action, self.user(u)),
            None => one(action, self.root()),
        };
        let by_id = |action: &'static str, id: &str| match key_owner(id) {
            KeyOwner::User(u) => one(action, self.user(&u)),
            KeyOwner::Root => one(action, self.root()),
            KeyOwner::Unknown => one(action, self.of("accesskey", id)),
        };
        Some(match body {
            Body::AddUser(a) => {
                let res = self.user(&a.name);
                let mut all = vec![one("cam:AddUser", res.clone())];
                all.extend(
                    a.policies
                        .iter()
                        .map(|p| with_policy("cam:AttachUserPolicy", res.clone(), p)),
                );
                if a.use_api {
                    all.push(one("cam:CreateAccessKey", res));
                }
                all
            }
            Body::UpdateUser(u) => {
                let mut all = vec![one("cam:UpdateUser", self.user(&u.name))];
                // A rename moves the user under another resource: the caller
                // must be allowed to manage the user by its new name too.
                if let Some(n) = u.new_name.as_ref().filter(|n| **n != u.name) {
                    all.push(one("cam:UpdateUser", self.user(n)));
                }
                all
            }
            Body::DeleteUser { name, force } => {
                let mut all = vec![one("cam:DeleteUser", self.user(name))];
                if *force {
                    all.push(one("cam:DeleteAccessKey", self.user(name)));
                }
                all
            }
            Body::GetUser(n) => vec![one("cam:GetUser", self.user(n))],
            Body::ListUsers | Body::Status => vec![one("cam:ListUsers", "*".into())],
            Body::CreateGroup { name, .. } => vec![one("cam:CreateGroup", self.group(name))],
            Body::DeleteGroup(g) => vec![one("cam:DeleteGroup", self.group(g))],
            Body::ListGroups => vec![one("cam:ListGroups", "*".into())],
            Body::AddUserToGroup { group, .. } => {
                vec![one("cam:AddUserToGroup", self.group(group))]
            }
            Body::RemoveUserFromGroup { group, .. } => {
                vec![one("cam:RemoveUserFromGroup", self.group(group))]
            }
            Body::ListUsersForGroup(g) => vec![one("cam:ListUsersForGroup", self.group(g))],
            Body::ListGroupsForUser(u) => vec![one("cam:ListGroupsForUser", self.user(u))],
            Body::ListPolicies | Body::PolicyStatus => vec![one("cam:ListPolicies", "*".into())],
            Body::GetPolicy(p) => vec![one("cam:GetPolicy", self.policy(p))],
            Body::AttachUserPolicy { user, policy } => {
                vec![with_policy("cam:AttachUserPolicy", self.user(user), policy)]
            }
            Body::DetachUserPolicy { user, policy } => {
                vec![with_policy("cam:DetachUserPolicy", self.user(user), policy)]
            }
            Body::AttachGroupPolicy { group, policy } => vec![with_policy(
                "cam:AttachGroupPolicy",
                self.group(group),
                policy,
            )],
            Body::DetachGroupPolicy { group, policy } => vec![with_policy(
                "cam:DetachGroupPolicy",
                self.group(group),
                policy,
            )],
            Body::ListAttachedUserPolicies { user, all: false } => {
                vec![one("cam:ListAttachedUserPolicies", self.user(user))]
            }
            Body::ListAttachedUserPolicies { user, all: true } => {
                vec![one("cam:ListAttachedUserAllPolicies", self.user(user))]
            }
            Body::ListAttachedGroupPolicies(g) => {
                vec![one("cam:ListAttachedGroupPolicies", self.group(g))]
            }
            Body::ListEntitiesForPolicy(p) => {
                vec![one("cam:ListEntitiesForPolicy", self.policy(p))]
            }
            Body::CreateAccessKey(u) => vec![key("cam:CreateAccessKey", u)],
            Body::ListAccessKeys(u) => vec![key("cam:ListAccessKeys", u)],
            Body::UpdateAccessKey { secret_id, .. } => {
                vec![by_id("cam:UpdateAccessKey", secret_id)]
            }
            Body::DeleteAccessKey(id) => vec![by_id("cam:DeleteAccessKey", id)],
            Body::ReloadPolicies => vec![one("cam:ReloadPolicies", "*".into())],
            Body::Ping | Body::Authorize(_) | Body::Batch(_) | Body::Audit { .. } => return None,
        })
    }

    /// True when `effects` reach the root account's access keys, which only
    /// the operator (acting as the root account) may manage: no delegated
    /// key may, whatever its policies say.
    pub fn touches_root(&self, effects: &[Effect]) -> bool {
        let root = self.root();
        effects.iter().any(|e| e.resource == root)
    }
}

/// Who owns an access key, as the snapshot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOwner {
    /// The root account.
    Root,
    /// A sub-user, by name.
    User(String),
    /// No such key.
    Unknown,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::protocol::{AddUser, UpdateUser};

    const R: Resources = Resources { owner_uin: 100 };

    fn none(_: &str) -> KeyOwner {
        KeyOwner::Unknown
    }

    #[test]
    fn add_user_needs_a_right_for_each_policy_and_the_key() {
        let body = Body::AddUser(AddUser {
            name: "bob".into(),
            use_api: true,
            policies: vec![
                "AdministratorAccess".into(),
                "QcloudIMReadOnlyAccess".into(),
            ],
            ..AddUser::default()
        });
        let e = R.effects(&body, none).unwrap();
        let shown: Vec<_> = e
            .iter()
            .map(|e| (e.action, e.resource.as_str(), e.policy.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("cam:AddUser", "qcs::cam::uin/100:user/bob", None),
                (
                    "cam:AttachUserPolicy",
                    "qcs::cam::uin/100:user/bob",
                    Some("AdministratorAccess")
                ),
                (
                    "cam:AttachUserPolicy",
                    "qcs::cam::uin/100:user/bob",
                    Some("QcloudChatReadOnlyAccess")
                ),
                ("cam:CreateAccessKey", "qcs::cam::uin/100:user/bob", None),
            ]
        );
    }

    #[test]
    fn a_rename_needs_the_right_on_both_names_and_force_on_keys() {
        let body = Body::UpdateUser(UpdateUser {
            name: "a".into(),
            new_name: Some("b".into()),
            ..UpdateUser::default()
        });
        let e = R.effects(&body, none).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].resource, "qcs::cam::uin/100:user/b");
        let del = Body::DeleteUser {
            name: "a".into(),
            force: true,
        };
        assert_eq!(
            R.effects(&del, none).unwrap()[1].action,
            "cam:DeleteAccessKey"
        );
    }

    #[test]
    fn root_keys_are_named_by_uin_and_recognised() {
        let create = R.effects(&Body::CreateAccessKey(None), none).unwrap();
        assert_eq!(create[0].resource, "qcs::cam::uin/100:uin/100");
        assert!(R.touches_root(&create));
        let of_user = R
            .effects(&Body::CreateAccessKey(Some("root".into())), none)
            .unwrap();
        assert_eq!(of_user[0].resource, "qcs::cam::uin/100:user/root");
        assert!(!R.touches_root(&of_user));
        let del = R
            .effects(&Body::DeleteAccessKey("AKIDx".into()), |_| KeyOwner::Root)
            .unwrap();
        assert!(R.touches_root(&del));
    }

    #[test]
    fn aliases_resolve_in_resources_and_context() {
        let body = Body::AttachGroupPolicy {
            group: "g".into(),
            policy: "QcloudIMReadOnlyAccess".into(),
        };
        let e = R.effects(&body, none).unwrap();
        assert_eq!(e[0].policy.as_deref(), Some("QcloudChatReadOnlyAccess"));
        let get = R
            .effects(&Body::GetPolicy("QcloudIMReadOnlyAccess".into()), none)
            .unwrap();
        assert_eq!(
            get[0].resource,
            "qcs::cam::uin/100:policy/QcloudChatReadOnlyAccess"
        );
    }
}
