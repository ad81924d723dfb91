//! The rules of every admin operation, as methods on the in-memory state:
//! each checks everything before it changes anything, so a failed
//! operation leaves the state (and the batch it shares a commit with)
//! untouched. Reads answer from the same state.

use super::command::{AddUser, Counts, NewKey, Owner, Resealed, UpdateUser};
use super::error::AdminError;
use super::limits::Limits;
use super::records::{Attachment, Group, Key, KeyStatus, User};
use super::state::{Changes, State};
use crate::credentials::{SealError, Sealed};

/// What the operations need besides the state.
pub struct Ctx<'a> {
    /// The limits in force.
    pub limits: &'a Limits,
    /// The clock, for created/attached times.
    pub now_ms: i64,
    /// The root account's uin.
    pub owner_uin: u64,
    /// The canonical name of a policy the catalog knows (an alias resolves to its preset).
    pub known_policy: &'a dyn Fn(&str) -> Option<String>,
}

/// The first uin handed to a sub-user of a new database.
pub const FIRST_UIN: u64 = 200_000_000_001;

const MAX_REMARK: usize = 255;
const MAX_EMAIL: usize = 255;
const MAX_PHONE: usize = 32;

/// User and group names: 1-64 characters of `[A-Za-z0-9+=,.@_-]`.
pub fn check_name(name: &str) -> Result<(), AdminError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AdminError::NameIllegal(name.to_string()))
    }
}

/// The name the root account goes by: no sub-user may take it (in any
/// case), so nothing shown or matched by name can mean both.
pub const ROOT_NAME: &str = "root";

/// A sub-user's name: a valid name that is not the root account's.
pub fn check_user_name(name: &str) -> Result<(), AdminError> {
    check_name(name)?;
    if name.eq_ignore_ascii_case(ROOT_NAME) {
        return Err(AdminError::NameReserved(name.to_string()));
    }
    Ok(())
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), AdminError> {
    if value.chars().count() > max {
        Err(AdminError::TooLong { field, max })
    } else {
        Ok(())
    }
}

/// Who holds an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A user, by name.
    User(String),
    /// A group, by name.
    Group(String),
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::User(u) => write!(f, "user `{u}`"),
            Holder::Group(g) => write!(f, "group `{g}`"),
        }
    }
}

/// Most signature uses kept per access key (within their windows).
pub const MAX_SIGNATURES: usize = 512;

impl State {
    fn uin_of(&self, name: &str) -> Result<u64, AdminError> {
        self.uin_named(name)
            .ok_or_else(|| AdminError::UserNotExist(name.to_string()))
    }

    fn group_exists(&self, name: &str) -> Result<(), AdminError> {
        if self.groups.contains_key(name) {
            Ok(())
        } else {
            Err(AdminError::GroupNotExist(name.to_string()))
        }
    }

    fn owner_uin_of(&self, owner: &Owner, ctx: &Ctx<'_>) -> Result<(u64, String), AdminError> {
        match owner {
            Owner::Root => Ok((ctx.owner_uin, "the root account".to_string())),
            Owner::User(name) => Ok((self.uin_of(name)?, format!("user `{name}`"))),
        }
    }

    fn allocate_uin(&mut self, ctx: &Ctx<'_>, changes: &mut Changes) -> u64 {
        let mut uin = self.next_uin.max(FIRST_UIN);
        if uin == ctx.owner_uin {
            uin += 1;
        }
        self.next_uin = uin + 1;
        changes.meta = true;
        uin
    }

    /// Deletes a user; with `force` also their keys.
    pub fn delete_user(
        &mut self,
        name: &str,
        force: bool,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let uin = self.uin_of(name)?;
        let ids: Vec<String> = self.keys_of(uin).cloned().collect();
        if !ids.is_empty() && !force {
            return Err(AdminError::HaveKeys(name.to_string()));
        }
        for id in ids {
            self.remove_key(&id);
            changes.keys.insert(id);
        }
        self.remove_user(uin);
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Creates a group.
    pub fn create_group(
        &mut self,
        name: &str,
        remark: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_name(name)?;
        check_len("remark", remark, MAX_REMARK)?;
        if self.groups.contains_key(name) {
            return Err(AdminError::GroupNameInUse(name.to_string()));
        }
        if self.groups.len() >= ctx.limits.groups {
            return Err(AdminError::GroupFull(self.groups.len()));
        }
        let g = Group {
            name: name.to_string(),
            remark: remark.to_string(),
            created_ms: ctx.now_ms,
            policies: Vec::new(),
        };
        self.groups.insert(name.to_string(), g);
        changes.groups.insert(name.to_string());
        Ok(())
    }

    /// Deletes a group, its memberships and attachments.
    pub fn delete_group(&mut self, name: &str, changes: &mut Changes) -> Result<(), AdminError> {
        self.group_exists(name)?;
        for uin in self.disband(name) {
            changes.users.insert(uin);
            changes.affected.insert(uin);
        }
        self.put_group(name, None);
        changes.groups.insert(name.to_string());
        Ok(())
    }

    /// Adds a user to a group (already a member: nothing to do).
    pub fn add_user_to_group(
        &mut self,
        group: &str,
        user: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_exists(group)?;
        let uin = self.uin_of(user)?;
        let members = self.member_count(group);
        let Some(u) = self.users.get(&uin) else {
            return Err(AdminError::UserNotExist(user.to_string()));
        };
        if u.groups.iter().any(|g| g == group) {
            return Ok(());
        }
        if u.groups.len() >= ctx.limits.groups_per_user {
            return Err(AdminError::UserGroupFull(user.to_string(), u.groups.len()));
        }
        if members >= ctx.limits.users_per_group {
            return Err(AdminError::GroupUserFull(group.to_string(), members));
        }
        self.join_group(uin, group);
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Removes a user from a group.
    pub fn remove_user_from_group(
        &mut self,
        group: &str,
        user: &str,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_exists(group)?;
        let uin = self.uin_of(user)?;
        let Some(u) = self.users.get(&uin) else {
            return Err(AdminError::UserNotExist(user.to_string()));
        };
        if !u.groups.iter().any(|g| g == group) {
            return Err(AdminError::UserNotInGroup {
                user: user.to_string(),
                group: group.to_string(),
            });
        }
        self.leave_group(uin, group);
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Runs `f` on a user's attachments, and records the user as changed.
    fn user_policies_mut(
        &mut self,
        user: &str,
        changes: &mut Changes,
        f: impl FnOnce(&mut Vec<Attachment>) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        let uin = self.uin_of(user)?;
        let u = self
            .users
            .get_mut(&uin)
            .ok_or_else(|| AdminError::UserNotExist(user.to_string()))?;
        f(&mut u.policies)?;
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Runs `f` on a group's attachments, and records the group (and so its
    /// members) as changed.
    fn group_policies_mut(
        &mut self,
        group: &str,
        changes: &mut Changes,
        f: impl FnOnce(&mut Vec<Attachment>) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        let g = self
            .groups
            .get_mut(group)
            .ok_or_else(|| AdminError::GroupNotExist(group.to_string()))?;
        f(&mut g.policies)?;
        self.group_changed(group, changes);
        Ok(())
    }

    /// Attaches a policy the catalog has (by its canonical name) to a user.
    pub fn attach_user_policy(
        &mut self,
        user: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let known = self.known(ctx, policy)?;
        self.user_policies_mut(user, changes, |list| {
            attach(list, known, ctx, || format!("user `{user}`"))
        })
    }

    /// Detaches a policy (by its canonical name, or as given) from a user.
    pub fn detach_user_policy(
        &mut self,
        user: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.user_policies_mut(user, changes, |list| {
            detach(list, named(ctx, policy), || format!("user `{user}`"))
        })
    }

    /// Attaches a policy the catalog has to a group.
    pub fn attach_group_policy(
        &mut self,
        group: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let known = self.known(ctx, policy)?;
        self.group_policies_mut(group, changes, |list| {
            attach(list, known, ctx, || format!("group `{group}`"))
        })
    }

    /// Detaches a policy from a group.
    pub fn detach_group_policy(
        &mut self,
        group: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_policies_mut(group, changes, |list| {
            detach(list, named(ctx, policy), || format!("group `{group}`"))
        })
    }

    /// Creates an access key for a user or the root account.
    pub fn create_access_key(
        &mut self,
        owner: &Owner,
        nk: NewKey,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<Key, AdminError> {
        let (uin, label) = self.owner_uin_of(owner, ctx)?;
        let have = self.keys_of(uin).count();
        if have >= ctx.limits.keys_per_user {
            return Err(AdminError::AccessKeyOverLimit(label, have));
        }
        if self.keys.contains_key(&nk.secret_id) {
            return Err(AdminError::Storage(format!(
                "secret id `{}` collides; retry",
                nk.secret_id
            )));
        }
        let key = Key::new(nk, uin, ctx.now_ms);
        self.insert_key(key.clone());
        changes.keys.insert(key.secret_id.clone());
        Ok(key)
    }

    /// Enables or disables an access key.
    pub fn update_access_key(
        &mut self,
        id: &str,
        status: KeyStatus,
        changes: &mut Changes,
    ) -> Result<Key, AdminError> {
        let k = self
            .keys
            .get_mut(id)
            .ok_or_else(|| AdminError::SecretNotExist(id.to_string()))?;
        k.status = status;
        let key = k.clone();
        changes.keys.insert(id.to_string());
        Ok(key)
    }

    /// Deletes an access key.
    pub fn delete_access_key(&mut self, id: &str, changes: &mut Changes) -> Result<(), AdminError> {
        self.remove_key(id)
            .ok_or_else(|| AdminError::SecretNotExist(id.to_string()))?;
        changes.keys.insert(id.to_string());
        Ok(())
    }

    /// Re-seals every sealed SecretKey with `reseal` (which gives `None`
    /// for one already under the current sealing key), all or nothing.
    pub fn reseal_keys(
        &mut self,
        reseal: impl Fn(&str, &Sealed) -> Result<Option<Sealed>, SealError>,
        changes: &mut Changes,
    ) -> Result<Resealed, AdminError> {
        let mut done = Resealed::default();
        let mut new = Vec::new();
        for (id, k) in &self.keys {
            let Some(sealed) = &k.sealed else {
                done.unsealed.push(id.clone());
                continue;
            };
            match reseal(id, sealed) {
                Ok(Some(s)) => new.push((id.clone(), s)),
                Ok(None) => done.current += 1,
                Err(cause) => {
                    return Err(AdminError::Sealing {
                        id: id.clone(),
                        cause,
                    });
                }
            }
        }
        done.resealed = new.len() as u64;
        for (id, s) in new {
            if let Some(k) = self.keys.get_mut(&id) {
                k.sealed = Some(s);
                changes.keys.insert(id);
            }
        }
        done.unsealed.sort();
        Ok(done)
    }

    /// Records when keys were last used (batched from the decision path).
    pub fn record_key_use(&mut self, uses: &[(String, i64)], changes: &mut Changes) {
        for (id, at) in uses {
            if let Some(k) = self.keys.get_mut(id) {
                if k.last_used_ms.is_none_or(|t| t < *at) {
                    k.last_used_ms = Some(*at);
                    changes.keys.insert(id.clone());
                }
            }
        }
    }

    /// Binds a CAM API call's signature (its SHA-256 `digest`, valid until
    /// `expires_s`) to `action` in the key's record. TC3 signs the body,
    /// but Tencent's SDKs sign only `content-type` and `host`, so a
    /// captured call could be resent within its window with another
    /// `X-TC-Action` over the same body (`GetUser {"Name": "a"}` turned
    /// into `DeleteUser`). TC3 has no nonce, so an honest client's calls
    /// collide too (the same call twice in a second, two reads of one
    /// body): a signature may be used again for the same action, or for
    /// another read after a read; never for a change after another action,
    /// nor for another action after a change. Kept in the record, the
    /// binding holds across restarts and, in cluster mode, on every host
    /// (two hosts binding at once conflict in etcd and the rule runs again
    /// on the newer record). Expired uses are dropped; at most
    /// `MAX_SIGNATURES` are kept per key.
    pub fn bind_signature(
        &mut self,
        b: &super::command::SignatureBinding,
        is_change: impl Fn(&str) -> bool,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let super::command::SignatureBinding {
            secret_id,
            digest,
            action,
            now_s,
            expires_s,
        } = b;
        let (digest, now_s, expires_s) = (*digest, *now_s, *expires_s);
        let Some(k) = self.keys.get_mut(secret_id) else {
            return Err(AdminError::SecretNotExist(secret_id.to_string()));
        };
        let before = k.signatures.len();
        k.signatures.retain(|s| s.expires_s >= now_s);
        let pruned = k.signatures.len() != before;
        let found = k.signatures.iter().find(|s| s.digest == digest);
        let verdict = match found {
            Some(first)
                if first.action == *action || !(is_change(&first.action) || is_change(action)) =>
            {
                Ok(false)
            }
            Some(first) => Err(AdminError::SignatureRebound(first.action.clone())),
            None if k.signatures.len() >= MAX_SIGNATURES => {
                Err(AdminError::SignaturesFull(MAX_SIGNATURES))
            }
            None => {
                k.signatures.push(super::records::SignatureUse {
                    digest,
                    action: action.clone(),
                    expires_s,
                });
                Ok(true)
            }
        };
        if pruned || verdict == Ok(true) {
            changes.keys.insert(secret_id.clone());
        }
        verdict.map(drop)
    }

    /// The canonical name of a policy any source has.
    fn known(&self, ctx: &Ctx<'_>, policy: &str) -> Result<String, AdminError> {
        self.policy_named(policy, ctx)
            .ok_or_else(|| AdminError::PolicyNotExist(policy.to_string()))
    }

    fn group_changed(&self, group: &str, changes: &mut Changes) {
        changes.groups.insert(group.to_string());
        changes.affected.extend(self.members_of(group));
    }

    /// Creates a user, with its policies and key, in one step.
    pub fn add_user(
        &mut self,
        nu: AddUser,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<User, AdminError> {
        check_user_name(&nu.name)?;
        check_len("remark", &nu.remark, MAX_REMARK)?;
        check_len("email", &nu.email, MAX_EMAIL)?;
        check_len("phone", &nu.phone, MAX_PHONE)?;
        if self.uin_named(&nu.name).is_some() {
            return Err(AdminError::SubUserNameInUse(nu.name));
        }
        if self.users.len() >= ctx.limits.users {
            return Err(AdminError::SubUserFull(self.users.len()));
        }
        let mut policies: Vec<Attachment> = Vec::new();
        for p in &nu.policies {
            let name = self.known(ctx, p)?;
            if !policies.iter().any(|a| a.policy == name) {
                policies.push(Attachment {
                    policy: name,
                    attached_ms: ctx.now_ms,
                });
            }
        }
        if policies.len() > ctx.limits.attachments {
            return Err(AdminError::AttachmentFull(
                format!("user `{}`", nu.name),
                ctx.limits.attachments,
            ));
        }
        if let Some(k) = &nu.key {
            if self.keys.contains_key(&k.secret_id) || ctx.limits.keys_per_user == 0 {
                return Err(AdminError::AccessKeyOverLimit(
                    format!("user `{}`", nu.name),
                    0,
                ));
            }
        }
        let uin = self.allocate_uin(ctx, changes);
        let user = User {
            uin,
            name: nu.name,
            remark: nu.remark,
            console_login: nu.console_login,
            password: nu.password,
            need_reset_password: nu.need_reset_password,
            email: nu.email,
            phone: nu.phone,
            created_ms: ctx.now_ms,
            groups: Vec::new(),
            policies,
            boundary: None,
        };
        if let Some(k) = nu.key {
            let key = Key::new(k, uin, ctx.now_ms);
            changes.keys.insert(key.secret_id.clone());
            self.insert_key(key);
        }
        self.insert_user(user.clone());
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(user)
    }

    /// Changes a user.
    pub fn update_user(
        &mut self,
        name: &str,
        upd: UpdateUser,
        changes: &mut Changes,
    ) -> Result<User, AdminError> {
        let uin = self.uin_of(name)?;
        if let Some(n) = upd.new_name.as_ref().filter(|n| *n != name) {
            check_user_name(n)?;
            if n != name && self.uin_named(n).is_some() {
                return Err(AdminError::SubUserNameInUse(n.clone()));
            }
        }
        for (field, v, max) in [
            ("remark", &upd.remark, MAX_REMARK),
            ("email", &upd.email, MAX_EMAIL),
            ("phone", &upd.phone, MAX_PHONE),
        ] {
            if let Some(v) = v {
                check_len(field, v, max)?;
            }
        }
        let Some(mut u) = self.remove_user(uin) else {
            return Err(AdminError::UserNotExist(name.to_string()));
        };
        if let Some(n) = upd.new_name {
            u.name = n;
        }
        if let Some(v) = upd.remark {
            u.remark = v;
        }
        if let Some(v) = upd.console_login {
            u.console_login = v;
        }
        if let Some(v) = upd.password {
            u.password = Some(v);
        }
        if let Some(v) = upd.need_reset_password {
            u.need_reset_password = v;
        }
        if let Some(v) = upd.email {
            u.email = v;
        }
        if let Some(v) = upd.phone {
            u.phone = v;
        }
        self.insert_user(u.clone());
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(u)
    }

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

/// The canonical name of a policy, or the name as given when the catalog no
/// longer has it (a dangling attachment can still be detached).
fn named(ctx: &Ctx<'_>, policy: &str) -> String {
    (ctx.known_policy)(policy).unwrap_or_else(|| policy.to_string())
}

fn attach(
    list: &mut Vec<Attachment>,
    policy: String,
    ctx: &Ctx<'_>,
    who: impl Fn() -> String,
) -> Result<(), AdminError> {
    if list.iter().any(|a| a.policy == policy) {
        return Ok(());
    }
    if list.len() >= ctx.limits.attachments {
        return Err(AdminError::AttachmentFull(who(), list.len()));
    }
    list.push(Attachment {
        policy,
        attached_ms: ctx.now_ms,
    });
    Ok(())
}

fn detach(
    list: &mut Vec<Attachment>,
    policy: String,
    who: impl Fn() -> String,
) -> Result<(), AdminError> {
    let before = list.len();
    list.retain(|a| a.policy != policy);
    if list.len() == before {
        return Err(AdminError::AttachmentNotExist {
            policy,
            target: who(),
        });
    }
    Ok(())
}
