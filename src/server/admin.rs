//! Admin operations: each maps to its `cam:` action and resource (for
//! delegated administration), then to a store command; replies convert store
//! records to wire types. Secrets are generated and hashed here, off the
//! runtime's threads, and returned to the caller once.

use crate::code::Code;
use crate::credentials::{
    PasswordHash, Secret, check_password_rules, generate_password, generate_secret_id,
    generate_secret_key,
};
use crate::policy::preset;
use crate::protocol::{
    AddUser, AttachedInfo, AuditInfo, Body, Credentials, GroupInfo, KeyAuth, KeyInfo, LoadedPolicy,
    PolicyInfo, PolicyStatusInfo, ReloadInfo, ReloadProblem, Reply, StatusInfo, UpdateUser,
    UserInfo, WireError,
};
use crate::store::{
    self, AdminError, AuditNote, Command, KeyStatus, NewKey, NewUser, Owner, Query, UserUpdate,
};

use std::sync::atomic::Ordering;

use super::daemon::Daemon;
use super::effects::{Effect, KeyOwner, Resources};
use super::handler::wire;
use super::peer::Peer;

fn admin_error(e: AdminError) -> WireError {
    wire(e.code(), e.to_string())
}

fn user_info(u: &store::User) -> UserInfo {
    UserInfo {
        uin: u.uin,
        name: u.name.clone(),
        remark: u.remark.clone(),
        console_login: u.console_login,
        need_reset_password: u.need_reset_password,
        email: u.email.clone(),
        phone: u.phone.clone(),
        created_ms: u.created_ms,
        groups: u.groups.clone(),
    }
}

fn key_info(k: &store::Key) -> KeyInfo {
    KeyInfo {
        secret_id: k.secret_id.clone(),
        owner: k.owner,
        status: k.status.as_str().to_string(),
        created_ms: k.created_ms,
        last_used_ms: k.last_used_ms,
    }
}

fn hex_sha256(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn reload_info(r: &crate::reload::Report) -> ReloadInfo {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    ReloadInfo {
        applied: r.applied,
        added: n(r.diff.added),
        changed: n(r.diff.changed),
        removed: n(r.diff.removed),
        errors: r
            .errors
            .iter()
            .flat_map(|e| {
                e.problems.iter().map(|p| ReloadProblem {
                    file: e.path.display().to_string(),
                    code: p.code.to_string(),
                    path: p.json_path.clone(),
                    line: p.line,
                    column: p.column,
                    message: p.message.clone(),
                })
            })
            .collect(),
        at_ms: r.at_ms,
    }
}

fn unexpected(r: store::Reply) -> WireError {
    wire(Code::UnexpectedReply, format!("the store answered {r:?}"))
}

tokio::task_local! {
    /// Who is performing the admin operation this task runs, and what: the
    /// audit entry committed with each change it makes.
    static AUDIT: AuditNote;
}

/// Who a peer is, for the audit trail (never a SecretKey).
pub fn actor(peer: Peer, auth: Option<&KeyAuth>) -> String {
    match auth {
        Some(k) if !peer.operator => format!("uid {} key {}", peer.uid, shown_id(&k.secret_id)),
        _ => format!("uid {}", peer.uid),
    }
}

/// A SecretId as the audit trail and log show it: only what looks like one
/// (a caller could put anything, a SecretKey even, in the field).
pub fn shown_id(id: &str) -> &str {
    if id.len() <= 64 && id.starts_with("AKID") && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        id
    } else {
        "<malformed SecretId>"
    }
}

fn is_write(action: &str) -> bool {
    crate::policy::actions::lookup_action(action)
        .is_none_or(|a| a.access == crate::policy::actions::Access::Write)
}

impl Daemon {
    async fn run(&self, cmd: Command) -> Result<store::Reply, WireError> {
        let note = AUDIT.try_with(Clone::clone).ok();
        let sent = match self.writer.submit_audited(cmd, note) {
            Ok(rx) => rx.await.map_err(|_| store::WriterError),
            Err(e) => Err(e),
        };
        match sent {
            Ok(r) => r.map_err(admin_error),
            Err(e) => Err(wire(Code::Store, e.to_string())),
        }
    }

    /// Records an audit entry that changes nothing else (fire and forget: it
    /// is committed with the next batch).
    pub fn audit_only(&self, note: AuditNote) {
        if self
            .writer
            .submit_audited(Command::Audit, Some(note))
            .is_err()
        {
            crate::log_error!("cannot record an audit entry: the store writer has stopped");
        }
    }

    async fn audit_page(&self, since: u64, limit: u32) -> Result<Reply, WireError> {
        let limit = usize::try_from(limit.min(10_000)).unwrap_or(10_000);
        match self.writer.read_audit(since, limit).await {
            Ok(Ok(entries)) => Ok(Reply::Audit(
                entries
                    .into_iter()
                    .map(|e| AuditInfo {
                        seq: e.seq,
                        at_ms: e.at_ms,
                        actor: e.actor,
                        action: e.action,
                        target: e.target,
                        outcome: e.outcome,
                    })
                    .collect(),
            )),
            Ok(Err(e)) => Err(wire(Code::Store, e)),
            Err(e) => Err(wire(Code::Store, e.to_string())),
        }
    }

    fn login_link(&self, name: &str) -> String {
        format!(
            "https://{}/login/subAccount/{}?type=subAccount&username={name}",
            self.config.console_host, self.config.owner_uin
        )
    }

    async fn hash_password(&self, password: &Secret) -> Result<PasswordHash, WireError> {
        let rng = self.rng.clone();
        let pw = password.clone();
        tokio::task::spawn_blocking(move || PasswordHash::new(pw.expose(), &rng))
            .await
            .map_err(|e| wire(Code::Hash, e.to_string()))?
            .map_err(|e| wire(Code::Random, e.to_string()))
    }

    fn new_key(&self) -> Result<(NewKey, Secret), WireError> {
        let id = generate_secret_id(&self.rng).map_err(|e| wire(Code::Random, e.to_string()))?;
        let secret =
            generate_secret_key(&self.rng).map_err(|e| wire(Code::Random, e.to_string()))?;
        Ok((
            NewKey {
                hash: self.hasher.hash(secret.expose()),
                secret_id: id,
            },
            secret,
        ))
    }

    /// Who owns access key `secret_id`, as the published snapshot says (a
    /// key never changes owner).
    fn key_owner(&self, secret_id: &str) -> KeyOwner {
        let snap = self.authz.snapshot();
        match snap.keys.get(secret_id).map(|k| k.owner) {
            Some(o) if o == snap.owner_uin => KeyOwner::Root,
            Some(o) => snap
                .users
                .get(&o)
                .map_or(KeyOwner::Unknown, |u| KeyOwner::User(u.name.to_string())),
            None => KeyOwner::Unknown,
        }
    }

    /// Checks that the caller may have every effect; the root account's keys
    /// are the operator's alone, whatever a delegated key's policies say.
    fn permit_all(
        &self,
        peer: Peer,
        auth: Option<&KeyAuth>,
        effects: &[Effect],
        res: &Resources,
    ) -> Result<(), WireError> {
        for e in effects {
            let pair;
            let ctx: &[(&str, &str)] = match &e.policy {
                Some(p) => {
                    pair = [("cam:policy_name", p.as_str())];
                    &pair
                }
                None => &[],
            };
            self.permit(peer, auth, e.action, &e.resource, ctx)?;
        }
        if !peer.operator && res.touches_root(effects) {
            return Err(wire(
                Code::UnauthorizedOperation,
                format!(
                    "only the operator may manage the root account's access keys; peer uid {} acts with a delegated key",
                    peer.uid
                ),
            ));
        }
        Ok(())
    }

    /// Runs an admin operation after checking the caller may.
    pub async fn admin(
        &self,
        peer: Peer,
        auth: Option<&KeyAuth>,
        body: Body,
    ) -> Result<Reply, WireError> {
        if let Body::Audit { since, limit } = body {
            if !peer.operator {
                return Err(wire(
                    Code::UnauthorizedOperation,
                    format!(
                        "only the operator may read the audit trail; peer uid {} is not the operator",
                        peer.uid
                    ),
                ));
            }
            return self.audit_page(since, limit).await;
        }
        let res = Resources {
            owner_uin: self.config.owner_uin,
        };
        let Some(effects) = res.effects(&body, |id| self.key_owner(id)) else {
            return Err(wire(Code::Dispatch, "not an admin operation"));
        };
        let Some(first) = effects.first() else {
            return Err(wire(Code::Dispatch, "an operation without effects"));
        };
        let note = AuditNote {
            actor: actor(peer, auth),
            action: first.action.to_string(),
            target: first.resource.clone(),
            outcome: None,
        };
        // Every effect is checked before anything runs: all or nothing.
        if let Err(e) = self.permit_all(peer, auth, &effects, &res) {
            if is_write(first.action) {
                self.audit_only(AuditNote {
                    outcome: Some(Code::parse(&e.code).unwrap_or(Code::UnauthorizedOperation)),
                    ..note
                });
            }
            return Err(e);
        }
        AUDIT.scope(note, self.perform(body)).await
    }

    async fn perform(&self, body: Body) -> Result<Reply, WireError> {
        Ok(match body {
            Body::AddUser(a) => self.add_user(a).await?,
            Body::UpdateUser(u) => self.update_user(u).await?,
            Body::GetUser(n) => match self.run(Command::Query(Query::GetUser(n))).await? {
                store::Reply::User(u) => Reply::User(user_info(&u)),
                r => return Err(unexpected(r)),
            },
            Body::ListUsers => self.users(Query::ListUsers).await?,
            Body::ListUsersForGroup(g) => self.users(Query::ListUsersForGroup(g)).await?,
            Body::DeleteUser { name, force } => {
                self.done(Command::DeleteUser { name, force }).await?
            }
            Body::CreateGroup { name, remark } => {
                self.done(Command::CreateGroup { name, remark }).await?
            }
            Body::DeleteGroup(g) => self.done(Command::DeleteGroup(g)).await?,
            Body::ListGroups => match self.run(Command::Query(Query::ListGroups)).await? {
                store::Reply::Groups(gs) => Reply::Groups(
                    gs.into_iter()
                        .map(|(g, members)| GroupInfo {
                            name: g.name,
                            remark: g.remark,
                            created_ms: g.created_ms,
                            members: u32::try_from(members).unwrap_or(u32::MAX),
                        })
                        .collect(),
                ),
                r => return Err(unexpected(r)),
            },
            Body::AddUserToGroup { group, user } => {
                self.done(Command::AddUserToGroup { group, user }).await?
            }
            Body::RemoveUserFromGroup { group, user } => {
                self.done(Command::RemoveUserFromGroup { group, user })
                    .await?
            }
            Body::ListGroupsForUser(u) => match self
                .run(Command::Query(Query::ListGroupsForUser(u)))
                .await?
            {
                store::Reply::GroupNames(n) => Reply::Names(n),
                r => return Err(unexpected(r)),
            },
            Body::ListPolicies => Reply::Policies(self.policies(None)),
            Body::GetPolicy(name) => {
                let found = self.policies(Some(&name));
                match found.into_iter().next() {
                    Some(p) => Reply::Policies(vec![p]),
                    None => return Err(admin_error(AdminError::PolicyNotExist(name))),
                }
            }
            Body::AttachUserPolicy { user, policy } => {
                self.done(Command::AttachUserPolicy { user, policy })
                    .await?
            }
            Body::DetachUserPolicy { user, policy } => {
                self.done(Command::DetachUserPolicy { user, policy })
                    .await?
            }
            Body::AttachGroupPolicy { group, policy } => {
                self.done(Command::AttachGroupPolicy { group, policy })
                    .await?
            }
            Body::DetachGroupPolicy { group, policy } => {
                self.done(Command::DetachGroupPolicy { group, policy })
                    .await?
            }
            Body::ListAttachedUserPolicies { user, all } => {
                self.attached(Query::ListAttachedUserPolicies { user, all })
                    .await?
            }
            Body::ListAttachedGroupPolicies(g) => {
                self.attached(Query::ListAttachedGroupPolicies(g)).await?
            }
            Body::ListEntitiesForPolicy(p) => match self
                .run(Command::Query(Query::ListEntitiesForPolicy(p)))
                .await?
            {
                store::Reply::Entities(users, groups) => Reply::Entities { users, groups },
                r => return Err(unexpected(r)),
            },
            Body::CreateAccessKey(user) => {
                let (nk, secret) = self.new_key()?;
                let owner = user.clone().map_or(Owner::Root, Owner::User);
                match self.run(Command::CreateAccessKey(owner, nk)).await? {
                    store::Reply::Key(k) => Reply::Credentials(Credentials {
                        uin: k.owner,
                        name: user.unwrap_or_else(|| "root".into()),
                        login_link: None,
                        password: None,
                        secret_id: Some(k.secret_id.clone()),
                        secret_key: Some(secret.expose().to_string()),
                    }),
                    r => return Err(unexpected(r)),
                }
            }
            Body::UpdateAccessKey { secret_id, active } => {
                let status = if active {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                };
                match self
                    .run(Command::UpdateAccessKey(secret_id, status))
                    .await?
                {
                    store::Reply::Key(k) => Reply::Key(key_info(&k)),
                    r => return Err(unexpected(r)),
                }
            }
            Body::DeleteAccessKey(id) => self.done(Command::DeleteAccessKey(id)).await?,
            Body::ListAccessKeys(user) => {
                let owner = user.map_or(Owner::Root, Owner::User);
                match self
                    .run(Command::Query(Query::ListAccessKeys(owner)))
                    .await?
                {
                    store::Reply::Keys(ks) => Reply::Keys(ks.iter().map(key_info).collect()),
                    r => return Err(unexpected(r)),
                }
            }
            Body::Status => self.status().await?,
            Body::ReloadPolicies => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                self.control
                    .send(crate::reload::Control::Reload(Some(tx)))
                    .map_err(|_| wire(Code::Reload, "the reload loop has stopped"))?;
                let report = rx
                    .await
                    .map_err(|_| wire(Code::Reload, "the reload loop has stopped"))?;
                Reply::Reload(reload_info(&report))
            }
            Body::PolicyStatus => {
                let catalog = self.policies.catalog.load_full();
                let mut policies: Vec<LoadedPolicy> = preset::PRESETS
                    .iter()
                    .map(|p| LoadedPolicy {
                        name: p.name.to_string(),
                        kind: "Preset".into(),
                        hash: hex_sha256(p.document),
                        loaded_ms: 0,
                    })
                    .collect();
                policies.extend(catalog.custom().map(|p| {
                    let meta = catalog.meta(&p.name);
                    LoadedPolicy {
                        name: p.name.clone(),
                        kind: "Custom".into(),
                        hash: meta.map(|m| m.hash.clone()).unwrap_or_default(),
                        loaded_ms: meta.map_or(0, |m| m.loaded_ms),
                    }
                }));
                let dangling = match self.run(Command::Query(Query::DanglingAttachments)).await? {
                    store::Reply::Dangling(d) => d,
                    r => return Err(unexpected(r)),
                };
                Reply::PolicyStatus(PolicyStatusInfo {
                    policies,
                    last_reload: self.policies.last.load_full().map(|r| reload_info(&r)),
                    dangling,
                })
            }
            Body::Ping | Body::Authorize(_) | Body::Batch(_) | Body::Audit { .. } => {
                return Err(wire(Code::Dispatch, "not an admin operation"));
            }
        })
    }

    async fn done(&self, cmd: Command) -> Result<Reply, WireError> {
        self.run(cmd).await.map(|_| Reply::Done)
    }

    async fn users(&self, q: Query) -> Result<Reply, WireError> {
        match self.run(Command::Query(q)).await? {
            store::Reply::Users(us) => Ok(Reply::Users(us.iter().map(user_info).collect())),
            r => Err(unexpected(r)),
        }
    }

    async fn attached(&self, q: Query) -> Result<Reply, WireError> {
        match self.run(Command::Query(q)).await? {
            store::Reply::Policies(ps) => Ok(Reply::Attached(
                ps.into_iter()
                    .map(|(policy, via_group, attached_ms)| AttachedInfo {
                        policy,
                        via_group,
                        attached_ms,
                    })
                    .collect(),
            )),
            r => Err(unexpected(r)),
        }
    }

    fn policies(&self, only: Option<&str>) -> Vec<PolicyInfo> {
        let catalog = self.policies.catalog.load();
        let wanted = |n: &str| only.is_none_or(|o| preset::canonical_name(o).unwrap_or(o) == n);
        let mut out: Vec<PolicyInfo> = preset::PRESETS
            .iter()
            .filter(|p| wanted(p.name))
            .map(|p| PolicyInfo {
                name: p.name.to_string(),
                kind: "Preset".into(),
                description: p.description.to_string(),
                document: only.map(|_| p.document.to_string()),
            })
            .collect();
        out.extend(
            catalog
                .custom()
                .filter(|p| wanted(&p.name))
                .map(|p| PolicyInfo {
                    name: p.name.clone(),
                    kind: "Custom".into(),
                    description: String::new(),
                    document: only.and_then(|_| catalog.source(&p.name)),
                }),
        );
        out
    }

    async fn add_user(&self, a: AddUser) -> Result<Reply, WireError> {
        let password = match (&a.password, a.console_login) {
            (Some(p), _) => {
                check_password_rules(p)
                    .map_err(|_| admin_error(AdminError::PasswordViolatedRules))?;
                Some(Secret::new(p.clone()))
            }
            (None, true) => {
                Some(generate_password(&self.rng).map_err(|e| wire(Code::Random, e.to_string()))?)
            }
            (None, false) => None,
        };
        store::check_user_name(&a.name).map_err(admin_error)?;
        let hash = match &password {
            Some(p) => Some(self.hash_password(p).await?),
            None => None,
        };
        let key = if a.use_api {
            Some(self.new_key()?)
        } else {
            None
        };
        let cmd = Command::AddUser(NewUser {
            name: a.name.clone(),
            remark: a.remark,
            console_login: a.console_login,
            password: hash,
            need_reset_password: a.need_reset_password,
            email: a.email,
            phone: a.phone,
            policies: a.policies,
            key: key.as_ref().map(|(k, _)| k.clone()),
        });
        match self.run(cmd).await? {
            store::Reply::User(u) => Ok(Reply::Credentials(Credentials {
                uin: u.uin,
                name: u.name.clone(),
                login_link: a.console_login.then(|| self.login_link(&u.name)),
                password: password.map(|p| p.expose().to_string()),
                secret_id: key.as_ref().map(|(k, _)| k.secret_id.clone()),
                secret_key: key.map(|(_, s)| s.expose().to_string()),
            })),
            r => Err(unexpected(r)),
        }
    }

    async fn update_user(&self, u: UpdateUser) -> Result<Reply, WireError> {
        let password = match &u.password {
            Some(p) => {
                check_password_rules(p)
                    .map_err(|_| admin_error(AdminError::PasswordViolatedRules))?;
                Some(self.hash_password(&Secret::new(p.clone())).await?)
            }
            None => None,
        };
        let upd = UserUpdate {
            new_name: u.new_name,
            remark: u.remark,
            console_login: u.console_login,
            password,
            need_reset_password: u.need_reset_password,
            email: u.email,
            phone: u.phone,
        };
        match self.run(Command::UpdateUser(u.name, upd)).await? {
            store::Reply::User(user) => Ok(Reply::User(user_info(&user))),
            r => Err(unexpected(r)),
        }
    }

    async fn status(&self) -> Result<Reply, WireError> {
        let (users, groups, keys, attachments) =
            match self.run(Command::Query(Query::Counts)).await? {
                store::Reply::Counts {
                    users,
                    groups,
                    keys,
                    attachments,
                } => (users, groups, keys, attachments),
                r => return Err(unexpected(r)),
            };
        let dangling = match self.run(Command::Query(Query::DanglingAttachments)).await? {
            store::Reply::Dangling(d) => d,
            r => return Err(unexpected(r)),
        };
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        Ok(Reply::Status(StatusInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            owner_uin: self.config.owner_uin,
            users: n(users),
            groups: n(groups),
            keys: n(keys),
            attachments: n(attachments),
            custom_policies: n(self.policies.catalog.load().custom().count()),
            dangling,
            generation: self.authz.snapshot().generation,
            uptime_secs: self.started.elapsed().as_secs(),
            allows: self.counters.allows.load(Ordering::Relaxed),
            denies: self.counters.denies.load(Ordering::Relaxed),
            unauthenticated: self.counters.unauthenticated.load(Ordering::Relaxed),
            throttled: self.counters.throttled.load(Ordering::Relaxed),
        }))
    }
}
