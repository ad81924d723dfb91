//! The rules of sub-users: add (with policies and a key in one step), update, delete.

use super::command::{AddUser, UpdateUser};
use super::error::AdminError;
use super::records::{Attachment, Key, User};

use super::rules::{Ctx, MAX_EMAIL, MAX_PHONE, MAX_REMARK, check_len, check_user_name};
use super::settings::MAX_REUSE_LIMIT;
use super::state::{Changes, State};

impl State {
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
            password_set_ms: if nu.password.is_some() { ctx.now_ms } else { 0 },
            password: nu.password,
            need_reset_password: nu.need_reset_password,
            email: nu.email,
            phone: nu.phone,
            created_ms: ctx.now_ms,
            groups: Vec::new(),
            policies,
            boundary: None,
            password_history: Vec::new(),
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
        ctx: &Ctx<'_>,
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
            // Kept only as far back as the rules look.
            let keep = self.password_rules().reuse_limit.min(MAX_REUSE_LIMIT) as usize;
            if let Some(old) = u.password.replace(v) {
                u.password_history.insert(0, old);
            }
            u.password_history.truncate(keep);
            u.password_set_ms = ctx.now_ms;
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
}
