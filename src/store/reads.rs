//! The reads: users, groups, memberships, attachments, keys, counts and dangling attachments, answered from the state.

use super::command::{Counts, Owner};
use super::error::AdminError;
use super::records::{Attachment, Group, Key, User};

use super::rules::{Ctx, Holder, named};
use super::state::State;

impl State {
    /// One user, by name.
    pub fn user(&self, name: &str) -> Result<&User, AdminError> {
        self.uin_of(name).and_then(|uin| {
            self.users
                .get(&uin)
                .ok_or_else(|| AdminError::UserNotExist(name.to_string()))
        })
    }

    /// Every user.
    pub fn all_users(&self) -> Vec<User> {
        self.users.values().cloned().collect()
    }

    /// Every group, each with its number of members.
    pub fn all_groups(&self) -> Vec<(Group, usize)> {
        self.groups
            .values()
            .map(|g| (g.clone(), self.member_count(&g.name)))
            .collect()
    }

    /// One group, with its number of members.
    pub fn group_named(&self, name: &str) -> Result<(Group, usize), AdminError> {
        self.groups
            .get(name)
            .map(|g| (g.clone(), self.member_count(name)))
            .ok_or_else(|| AdminError::GroupNotExist(name.to_string()))
    }

    /// A group's members.
    pub fn users_in_group(&self, group: &str) -> Result<Vec<User>, AdminError> {
        self.group_exists(group)?;
        Ok(self
            .members_of(group)
            .filter_map(|uin| self.users.get(&uin).cloned())
            .collect())
    }

    /// Policies attached to a user: directly (`None`), or with `all` also
    /// through its groups (`Some(group)`), with when each was attached.
    pub fn user_policies(
        &self,
        name: &str,
        all: bool,
    ) -> Result<Vec<(String, Option<String>, i64)>, AdminError> {
        let u = self.user(name)?;
        let mut out: Vec<(String, Option<String>, i64)> = u
            .policies
            .iter()
            .map(|a| (a.policy.clone(), None, a.attached_ms))
            .collect();
        if all {
            for g in &u.groups {
                for a in self
                    .groups
                    .get(g)
                    .map(|g| g.policies.as_slice())
                    .unwrap_or_default()
                {
                    out.push((a.policy.clone(), Some(g.clone()), a.attached_ms));
                }
            }
        }
        Ok(out)
    }

    /// Policies attached to a group.
    pub fn group_policies(&self, group: &str) -> Result<Vec<Attachment>, AdminError> {
        let g = self
            .groups
            .get(group)
            .ok_or_else(|| AdminError::GroupNotExist(group.to_string()))?;
        Ok(g.policies.clone())
    }

    /// The users and groups a policy (or its alias) is attached to.
    pub fn entities_for_policy(&self, policy: &str, ctx: &Ctx<'_>) -> (Vec<String>, Vec<String>) {
        let name = named(ctx, policy);
        let users = self
            .users
            .values()
            .filter(|u| u.policies.iter().any(|a| a.policy == name));
        let groups = self
            .groups
            .values()
            .filter(|g| g.policies.iter().any(|a| a.policy == name));
        (
            users.map(|u| u.name.clone()).collect(),
            groups.map(|g| g.name.clone()).collect(),
        )
    }

    /// A user's (or the root account's) access keys.
    pub fn access_keys(&self, owner: &Owner, ctx: &Ctx<'_>) -> Result<Vec<Key>, AdminError> {
        let (uin, _) = self.owner_uin_of(owner, ctx)?;
        let ids = self.keys_of(uin);
        Ok(ids.filter_map(|id| self.keys.get(id).cloned()).collect())
    }

    /// Counts for status.
    pub fn counts(&self) -> Counts {
        Counts {
            users: self.users.len(),
            groups: self.groups.len(),
            keys: self.keys.len(),
            attachments: self.users.values().map(|u| u.policies.len()).sum::<usize>()
                + self
                    .groups
                    .values()
                    .map(|g| g.policies.len())
                    .sum::<usize>(),
        }
    }

    /// Attachments whose policy the catalog does not have: (who, policy).
    pub fn dangling(&self, ctx: &Ctx<'_>) -> Vec<(Holder, String)> {
        let mut out = Vec::new();
        for u in self.users.values() {
            for a in &u.policies {
                if self.policy_named(&a.policy, ctx).is_none() {
                    out.push((Holder::User(u.name.clone()), a.policy.clone()));
                }
            }
        }
        for g in self.groups.values() {
            for a in &g.policies {
                if self.policy_named(&a.policy, ctx).is_none() {
                    out.push((Holder::Group(g.name.clone()), a.policy.clone()));
                }
            }
        }
        out
    }
}
