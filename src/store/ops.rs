//! The rules of every admin operation, applied to the in-memory state.
//! Each operation checks everything before it changes anything, so a failed
//! operation leaves the state (and the batch it shares a commit with) untouched.

use super::command::{Command, NewUser, Owner, Query, Reply, UserUpdate};
use super::error::AdminError;
use super::limits::Limits;
use super::records::{Attachment, Group, Key, KeyStatus, User};
use super::state::{Changes, State};

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

impl State {
    fn uin_of(&self, name: &str) -> Result<u64, AdminError> {
        self.names
            .get(name)
            .copied()
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

    /// Applies one command; on error nothing has changed.
    pub fn apply(
        &mut self,
        cmd: Command,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<Reply, AdminError> {
        match cmd {
            Command::AddUser(nu) => self.add_user(nu, ctx, changes),
            Command::UpdateUser(name, upd) => self.update_user(&name, upd, changes),
            Command::DeleteUser { name, force } => {
                let uin = self.uin_of(&name)?;
                let ids: Vec<String> = self
                    .keys_by_owner
                    .get(&uin)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                if !ids.is_empty() && !force {
                    return Err(AdminError::HaveKeys(name));
                }
                for id in ids {
                    self.remove_key(&id);
                    changes.keys.insert(id);
                }
                self.remove_user(uin);
                changes.users.insert(uin);
                changes.affected.insert(uin);
                Ok(Reply::Done)
            }
            Command::CreateGroup { name, remark } => {
                check_name(&name)?;
                check_len("remark", &remark, MAX_REMARK)?;
                if self.groups.contains_key(&name) {
                    return Err(AdminError::GroupNameInUse(name));
                }
                if self.groups.len() >= ctx.limits.groups {
                    return Err(AdminError::GroupFull(self.groups.len()));
                }
                let g = Group {
                    name: name.clone(),
                    remark,
                    created_ms: ctx.now_ms,
                    policies: Vec::new(),
                };
                self.groups.insert(name.clone(), g);
                changes.groups.insert(name);
                Ok(Reply::Done)
            }
            Command::DeleteGroup(name) => {
                self.group_exists(&name)?;
                for uin in self.members.remove(&name).unwrap_or_default() {
                    if let Some(u) = self.users.get_mut(&uin) {
                        u.groups.retain(|g| *g != name);
                        changes.users.insert(uin);
                        changes.affected.insert(uin);
                    }
                }
                self.groups.remove(&name);
                changes.groups.insert(name);
                Ok(Reply::Done)
            }
            Command::AddUserToGroup { group, user } => {
                self.group_exists(&group)?;
                let uin = self.uin_of(&user)?;
                let members = self.members.get(&group).map_or(0, |m| m.len());
                let Some(u) = self.users.get_mut(&uin) else {
                    return Err(AdminError::UserNotExist(user));
                };
                if u.groups.contains(&group) {
                    return Ok(Reply::Done);
                }
                if u.groups.len() >= ctx.limits.groups_per_user {
                    return Err(AdminError::UserGroupFull(user, u.groups.len()));
                }
                if members >= ctx.limits.users_per_group {
                    return Err(AdminError::GroupUserFull(group, members));
                }
                u.groups.push(group.clone());
                self.members.entry(group).or_default().insert(uin);
                changes.users.insert(uin);
                changes.affected.insert(uin);
                Ok(Reply::Done)
            }
            Command::RemoveUserFromGroup { group, user } => {
                self.group_exists(&group)?;
                let uin = self.uin_of(&user)?;
                let Some(u) = self.users.get_mut(&uin) else {
                    return Err(AdminError::UserNotExist(user));
                };
                if !u.groups.contains(&group) {
                    return Err(AdminError::UserNotInGroup { user, group });
                }
                u.groups.retain(|g| *g != group);
                if let Some(m) = self.members.get_mut(&group) {
                    m.remove(&uin);
                }
                changes.users.insert(uin);
                changes.affected.insert(uin);
                Ok(Reply::Done)
            }
            Command::AttachUserPolicy { user, policy } => {
                let uin = self.uin_of(&user)?;
                let name = (ctx.known_policy)(&policy).ok_or(AdminError::PolicyNotExist(policy))?;
                let Some(u) = self.users.get_mut(&uin) else {
                    return Err(AdminError::UserNotExist(user));
                };
                attach(&mut u.policies, name, ctx, || format!("user `{user}`"))?;
                changes.users.insert(uin);
                changes.affected.insert(uin);
                Ok(Reply::Done)
            }
            Command::DetachUserPolicy { user, policy } => {
                let uin = self.uin_of(&user)?;
                let name = (ctx.known_policy)(&policy).unwrap_or(policy);
                let Some(u) = self.users.get_mut(&uin) else {
                    return Err(AdminError::UserNotExist(user));
                };
                detach(&mut u.policies, name, || format!("user `{user}`"))?;
                changes.users.insert(uin);
                changes.affected.insert(uin);
                Ok(Reply::Done)
            }
            Command::AttachGroupPolicy { group, policy } => {
                let name = (ctx.known_policy)(&policy).ok_or(AdminError::PolicyNotExist(policy));
                let g = self
                    .groups
                    .get_mut(&group)
                    .ok_or_else(|| AdminError::GroupNotExist(group.clone()))?;
                attach(&mut g.policies, name?, ctx, || format!("group `{group}`"))?;
                self.group_changed(&group, changes);
                Ok(Reply::Done)
            }
            Command::DetachGroupPolicy { group, policy } => {
                let name = (ctx.known_policy)(&policy).unwrap_or(policy);
                let g = self
                    .groups
                    .get_mut(&group)
                    .ok_or_else(|| AdminError::GroupNotExist(group.clone()))?;
                detach(&mut g.policies, name, || format!("group `{group}`"))?;
                self.group_changed(&group, changes);
                Ok(Reply::Done)
            }
            Command::CreateAccessKey(owner, nk) => {
                let (uin, label) = self.owner_uin_of(&owner, ctx)?;
                let have = self.keys_by_owner.get(&uin).map_or(0, |s| s.len());
                if have >= ctx.limits.keys_per_user {
                    return Err(AdminError::AccessKeyOverLimit(label, have));
                }
                if self.keys.contains_key(&nk.secret_id) {
                    return Err(AdminError::Storage(format!(
                        "secret id `{}` collides; retry",
                        nk.secret_id
                    )));
                }
                let key = Key {
                    secret_id: nk.secret_id.clone(),
                    owner: uin,
                    hash: nk.hash,
                    status: KeyStatus::Active,
                    created_ms: ctx.now_ms,
                    last_used_ms: None,
                };
                self.insert_key(key.clone());
                changes.keys.insert(nk.secret_id);
                Ok(Reply::Key(Box::new(key)))
            }
            Command::UpdateAccessKey(id, status) => {
                let k = self
                    .keys
                    .get_mut(&id)
                    .ok_or_else(|| AdminError::SecretNotExist(id.clone()))?;
                k.status = status;
                let reply = Reply::Key(Box::new(k.clone()));
                changes.keys.insert(id);
                Ok(reply)
            }
            Command::DeleteAccessKey(id) => {
                self.remove_key(&id)
                    .ok_or_else(|| AdminError::SecretNotExist(id.clone()))?;
                changes.keys.insert(id);
                Ok(Reply::Done)
            }
            Command::Audit => Ok(Reply::Done),
            Command::RecordKeyUse(uses) => {
                for (id, at) in uses {
                    if let Some(k) = self.keys.get_mut(&id) {
                        if k.last_used_ms.is_none_or(|t| t < at) {
                            k.last_used_ms = Some(at);
                            changes.keys.insert(id);
                        }
                    }
                }
                Ok(Reply::Done)
            }
            Command::Query(q) => self.query(q, ctx),
        }
    }

    fn group_changed(&self, group: &str, changes: &mut Changes) {
        changes.groups.insert(group.to_string());
        if let Some(m) = self.members.get(group) {
            changes.affected.extend(m.iter().copied());
        }
    }

    fn add_user(
        &mut self,
        nu: NewUser,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<Reply, AdminError> {
        check_user_name(&nu.name)?;
        check_len("remark", &nu.remark, MAX_REMARK)?;
        check_len("email", &nu.email, MAX_EMAIL)?;
        check_len("phone", &nu.phone, MAX_PHONE)?;
        if self.names.contains_key(&nu.name) {
            return Err(AdminError::SubUserNameInUse(nu.name));
        }
        if self.users.len() >= ctx.limits.users {
            return Err(AdminError::SubUserFull(self.users.len()));
        }
        let mut policies: Vec<Attachment> = Vec::new();
        for p in &nu.policies {
            let name =
                (ctx.known_policy)(p).ok_or_else(|| AdminError::PolicyNotExist(p.clone()))?;
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
        };
        if let Some(k) = nu.key {
            self.insert_key(Key {
                secret_id: k.secret_id.clone(),
                owner: uin,
                hash: k.hash,
                status: KeyStatus::Active,
                created_ms: ctx.now_ms,
                last_used_ms: None,
            });
            changes.keys.insert(k.secret_id);
        }
        self.insert_user(user.clone());
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(Reply::User(Box::new(user)))
    }

    fn update_user(
        &mut self,
        name: &str,
        upd: UserUpdate,
        changes: &mut Changes,
    ) -> Result<Reply, AdminError> {
        let uin = self.uin_of(name)?;
        if let Some(n) = upd.new_name.as_ref().filter(|n| *n != name) {
            check_user_name(n)?;
            if n != name && self.names.contains_key(n) {
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
        Ok(Reply::User(Box::new(u)))
    }

    fn query(&self, q: Query, ctx: &Ctx<'_>) -> Result<Reply, AdminError> {
        let user = |name: &str| -> Result<&User, AdminError> {
            self.uin_of(name).and_then(|uin| {
                self.users
                    .get(&uin)
                    .ok_or_else(|| AdminError::UserNotExist(name.to_string()))
            })
        };
        Ok(match q {
            Query::GetUser(name) => Reply::User(Box::new(user(&name)?.clone())),
            Query::ListUsers => Reply::Users(self.users.values().cloned().collect()),
            Query::ListGroups => Reply::Groups(
                self.groups
                    .values()
                    .map(|g| (g.clone(), self.members.get(&g.name).map_or(0, |m| m.len())))
                    .collect(),
            ),
            Query::ListUsersForGroup(g) => {
                self.group_exists(&g)?;
                let members = self.members.get(&g).into_iter().flatten();
                Reply::Users(
                    members
                        .filter_map(|uin| self.users.get(uin).cloned())
                        .collect(),
                )
            }
            Query::ListGroupsForUser(name) => Reply::GroupNames(user(&name)?.groups.clone()),
            Query::ListAttachedUserPolicies { user: name, all } => {
                let u = user(&name)?;
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
                Reply::Policies(out)
            }
            Query::ListAttachedGroupPolicies(g) => {
                let group = self.groups.get(&g).ok_or(AdminError::GroupNotExist(g))?;
                Reply::Policies(
                    group
                        .policies
                        .iter()
                        .map(|a| (a.policy.clone(), None, a.attached_ms))
                        .collect(),
                )
            }
            Query::ListEntitiesForPolicy(p) => {
                let name = (ctx.known_policy)(&p).unwrap_or(p);
                let users = self
                    .users
                    .values()
                    .filter(|u| u.policies.iter().any(|a| a.policy == name));
                let groups = self
                    .groups
                    .values()
                    .filter(|g| g.policies.iter().any(|a| a.policy == name));
                Reply::Entities(
                    users.map(|u| u.name.clone()).collect(),
                    groups.map(|g| g.name.clone()).collect(),
                )
            }
            Query::ListAccessKeys(owner) => {
                let (uin, _) = self.owner_uin_of(&owner, ctx)?;
                let ids = self.keys_by_owner.get(&uin).into_iter().flatten();
                Reply::Keys(ids.filter_map(|id| self.keys.get(id).cloned()).collect())
            }
            Query::Counts => Reply::Counts {
                users: self.users.len(),
                groups: self.groups.len(),
                keys: self.keys.len(),
                attachments: self.users.values().map(|u| u.policies.len()).sum::<usize>()
                    + self
                        .groups
                        .values()
                        .map(|g| g.policies.len())
                        .sum::<usize>(),
            },
            Query::DanglingAttachments => {
                let mut out = Vec::new();
                for u in self.users.values() {
                    for a in &u.policies {
                        if (ctx.known_policy)(&a.policy).is_none() {
                            out.push((format!("user `{}`", u.name), a.policy.clone()));
                        }
                    }
                }
                for g in self.groups.values() {
                    for a in &g.policies {
                        if (ctx.known_policy)(&a.policy).is_none() {
                            out.push((format!("group `{}`", g.name), a.policy.clone()));
                        }
                    }
                }
                Reply::Dangling(out)
            }
        })
    }
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
