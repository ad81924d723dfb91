//! The rights an admin operation needs, one per effect it has (a user
//! created, each policy attached, a key issued, ...), and the resources
//! they name. Each operation lists its own (see `Exec::rights`); all are
//! checked before anything runs.

use crate::policy::preset;

/// One effect of an operation: the `cam:` action, the resource it acts on,
/// and the policy it attaches or detaches (the `cam:policy_name` context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Right {
    /// e.g. `cam:AttachUserPolicy`.
    pub action: &'static str,
    /// e.g. `qcs::cam::uin/100000000001:user/alice`.
    pub resource: String,
    /// The canonical name of the policy, when the effect is about one.
    pub policy: Option<String>,
}

impl Right {
    /// A right on `resource`.
    pub fn on(action: &'static str, resource: String) -> Self {
        Self {
            action,
            resource,
            policy: None,
        }
    }

    /// A right about `policy` (its `cam:policy_name`) on `resource`.
    pub fn with_policy(action: &'static str, resource: String, policy: &str) -> Self {
        Self {
            action,
            resource,
            policy: Some(canonical_policy(policy)),
        }
    }
}

/// The name a policy goes by in a resource and in `cam:policy_name`: a
/// preset's alias resolves to the preset, so a rule written against one name
/// also governs the other.
pub fn canonical_policy(name: &str) -> String {
    preset::canonical_name(name).unwrap_or(name).to_string()
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

/// The resources of one account's entities.
pub struct Resources<'a> {
    /// The root account's uin.
    pub owner_uin: u64,
    /// Who owns an access key (from the published snapshot).
    pub key_owner: &'a (dyn Fn(&str) -> KeyOwner + Sync),
    /// A sub-user's uin by name (from the published snapshot).
    pub user_uin: &'a (dyn Fn(&str) -> Option<u64> + Sync),
}

impl Resources<'_> {
    /// `qcs::cam::uin/<owner>:<kind>/<name>`.
    pub fn of(&self, kind: &str, name: &str) -> String {
        format!("qcs::cam::uin/{}:{kind}/{name}", self.owner_uin)
    }

    /// The root account, named by uin as CAM names principals: no sub-user
    /// (`user/<name>`) can share it.
    pub fn root(&self) -> String {
        format!("qcs::cam::uin/{o}:uin/{o}", o = self.owner_uin)
    }

    /// A sub-user.
    pub fn user(&self, name: &str) -> String {
        self.of("user", name)
    }

    /// The other name of `resource`: a sub-user, written `user/NAME`
    /// here, is `uin/SUBUIN` in CAM's own form (doc 598/10606), and a
    /// policy may name either.
    pub fn alias(&self, resource: &str) -> Option<String> {
        let prefix = format!("qcs::cam::uin/{}:user/", self.owner_uin);
        let name = resource.strip_prefix(&prefix)?;
        let uin = (self.user_uin)(name)?;
        Some(self.of("uin", &uin.to_string()))
    }

    /// A group.
    pub fn group(&self, name: &str) -> String {
        self.of("group", name)
    }

    /// A role, as CAM names it in policies (`roleName/NAME`).
    pub fn role(&self, name: &str) -> String {
        self.of("roleName", name)
    }

    /// A policy, by its canonical name.
    pub fn policy(&self, name: &str) -> String {
        self.of("policy", &canonical_policy(name))
    }

    /// The owner of a user's key (`None`: the root account's).
    pub fn key_of(&self, user: Option<&str>) -> String {
        user.map_or_else(|| self.root(), |u| self.user(u))
    }

    /// The owner of access key `id`, or the key itself when unknown.
    pub fn key_by_id(&self, id: &str) -> String {
        match (self.key_owner)(id) {
            KeyOwner::User(u) => self.user(&u),
            KeyOwner::Root => self.root(),
            KeyOwner::Unknown => self.of("accesskey", id),
        }
    }

    /// True when `rights` reach the root account's access keys, which only
    /// the operator (acting as the root account) may manage: no delegated
    /// key may, whatever its policies say.
    pub fn touches_root(&self, rights: &[Right]) -> bool {
        let root = self.root();
        rights.iter().any(|r| r.resource == root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_account_is_named_by_uin_and_keys_by_their_owner() {
        let owner = |id: &str| match id {
            "AKIDroot" => KeyOwner::Root,
            "AKIDbob" => KeyOwner::User("bob".into()),
            _ => KeyOwner::Unknown,
        };
        let uin = |name: &str| (name == "bob").then_some(1001);
        let r = Resources {
            owner_uin: 100,
            key_owner: &owner,
            user_uin: &uin,
        };
        assert_eq!(r.key_of(None), "qcs::cam::uin/100:uin/100");
        assert_eq!(r.key_of(Some("root")), "qcs::cam::uin/100:user/root");
        assert_eq!(r.key_by_id("AKIDroot"), r.root());
        assert_eq!(r.key_by_id("AKIDbob"), "qcs::cam::uin/100:user/bob");
        assert!(r.touches_root(&[Right::on("cam:DeleteAccessKey", r.key_by_id("AKIDroot"))]));
        assert!(!r.touches_root(&[Right::on("cam:CreateAccessKey", r.key_of(Some("root")))]));
        assert_eq!(
            r.alias(&r.user("bob")).as_deref(),
            Some("qcs::cam::uin/100:uin/1001")
        );
        assert_eq!(r.alias(&r.user("carol")), None);
        assert_eq!(r.alias(&r.group("bob")), None);
    }

    #[test]
    fn aliases_resolve_in_resources_and_context() {
        let none = |_: &str| KeyOwner::Unknown;
        let r = Resources {
            owner_uin: 100,
            key_owner: &none,
            user_uin: &|_| None,
        };
        let right = Right::with_policy(
            "cam:AttachGroupPolicy",
            r.group("g"),
            "QcloudIMReadOnlyAccess",
        );
        assert_eq!(right.policy.as_deref(), Some("QcloudChatReadOnlyAccess"));
        assert_eq!(
            r.policy("QcloudIMReadOnlyAccess"),
            "qcs::cam::uin/100:policy/QcloudChatReadOnlyAccess"
        );
    }
}
