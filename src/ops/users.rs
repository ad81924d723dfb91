//! Sub-users: AddUser, GetUser, ListUsers, UpdateUser, DeleteUser.

use crate::code::{Code, Failure};
use crate::credentials::{PasswordHash, Secret, check_password_rules, generate_password};
use crate::protocol::{
    AddUser, Credentials, DeleteUser, Done, GetUser, ListUsers, UpdateUser, UserInfo,
};
use crate::store::{self, AdminError, PasswordRules, check_user_name};

use super::keys::new_key;
use super::{Env, Exec, Resources, Right};

/// A user as the wire shows it.
pub(super) fn user_info(u: &store::User) -> UserInfo {
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

/// Hashes a chosen password (checked against the rules) off the runtime.
async fn hash_password(env: &Env<'_>, password: &Secret) -> Result<PasswordHash, Failure> {
    let rng = env.rng.clone();
    let pw = password.clone();
    tokio::task::spawn_blocking(move || PasswordHash::new(pw.expose(), &rng))
        .await
        .map_err(|e| Failure::new(Code::Hash, e.to_string()))?
        .map_err(|e| Failure::new(Code::Random, e.to_string()))
}

/// `password` checked against the account's password rules.
fn checked(password: &str, rules: &PasswordRules) -> Result<Secret, Failure> {
    let min = usize::try_from(rules.minimum_length).unwrap_or(usize::MAX);
    check_password_rules(password, min, &rules.must_contain)
        .map_err(|_| Failure::from(AdminError::PasswordViolatedRules))?;
    Ok(Secret::new(password.to_string()))
}

/// The password rules in force.
async fn rules(env: &Env<'_>) -> Result<PasswordRules, Failure> {
    env.read(|s, _| Ok(s.password_rules())).await
}

/// Reuse checks running at once.
static REUSE_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Refuses a new password of `user` that repeats one of its last
/// `ReusePasswordLimit` passwords (each compared off the runtime).
async fn not_reused(env: &Env<'_>, user: &str, password: &Secret) -> Result<(), Failure> {
    let name = user.to_string();
    let (limit, recent) = env
        .read(move |s, _| {
            let limit = s.password_rules().reuse_limit as usize;
            let u = s.user(&name)?;
            let recent: Vec<PasswordHash> = u
                .password
                .iter()
                .chain(&u.password_history)
                .take(limit)
                .cloned()
                .collect();
            Ok((limit, recent))
        })
        .await?;
    if recent.is_empty() {
        return Ok(());
    }
    // Each comparison is a PBKDF2 run: two checks at a time at most, so
    // password changes cannot take every blocking thread.
    let _turn = REUSE_CHECKS
        .acquire()
        .await
        .map_err(|e| Failure::new(Code::Hash, e.to_string()))?;
    let pw = password.clone();
    let reused = tokio::task::spawn_blocking(move || recent.iter().any(|h| h.verify(pw.expose())))
        .await
        .map_err(|e| Failure::new(Code::Hash, e.to_string()))?;
    if reused {
        return Err(Failure::new(
            Code::PasswordViolatedRules,
            format!("the new password of user `{user}` repeats one of its last {limit} passwords"),
        ));
    }
    Ok(())
}

impl Exec for AddUser {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let user = res.user(&self.name);
        let mut all = vec![Right::on("cam:AddUser", user.clone())];
        all.extend(
            self.policies
                .iter()
                .map(|p| Right::with_policy("cam:AttachUserPolicy", user.clone(), p)),
        );
        if self.use_api {
            all.push(Right::on("cam:CreateAccessKey", user));
        }
        all
    }

    async fn run(self, env: &Env<'_>) -> Result<Credentials, Failure> {
        // As CAM's AddUser: the password comes back only when generated (a
        // chosen one is the caller's already, and is not echoed).
        let generated = self.password.is_none();
        let password = match (&self.password, self.console_login) {
            (Some(p), _) => Some(checked(p, &rules(env).await?)?),
            (None, true) => Some(
                generate_password(env.rng)
                    .map_err(|e| Failure::new(Code::Random, e.to_string()))?,
            ),
            (None, false) => None,
        };
        check_user_name(&self.name)?;
        let hash = match &password {
            Some(p) => Some(hash_password(env, p).await?),
            None => None,
        };
        let key = if self.use_api {
            Some(new_key(env, "")?)
        } else {
            None
        };
        let new = store::AddUser {
            name: self.name,
            remark: self.remark,
            console_login: self.console_login,
            password: hash,
            need_reset_password: self.need_reset_password,
            email: self.email,
            phone: self.phone,
            policies: self.policies,
            key: key.as_ref().map(|(k, _)| k.clone()),
        };
        let u = env
            .change(move |s, cx, ch| s.add_user(new.clone(), cx, ch))
            .await?;
        Ok(Credentials {
            uin: u.uin,
            login_link: self.console_login.then(|| {
                format!(
                    "https://{}/login/subAccount/{}?type=subAccount&username={}",
                    env.console_host, env.owner_uin, u.name
                )
            }),
            name: u.name,
            password: password
                .filter(|_| generated)
                .map(|p| p.expose().to_string()),
            secret_id: key.as_ref().map(|(k, _)| k.secret_id.clone()),
            secret_key: key.map(|(_, s)| s.expose().to_string()),
        })
    }
}

impl Exec for GetUser {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetUser", res.user(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<UserInfo, Failure> {
        env.read(move |s, _| s.user(&self.name).map(user_info))
            .await
    }
}

impl Exec for ListUsers {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListUsers", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<UserInfo>, Failure> {
        env.read(|s, _| Ok(s.all_users().iter().map(user_info).collect()))
            .await
    }
}

impl Exec for UpdateUser {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let mut all = vec![Right::on("cam:UpdateUser", res.user(&self.name))];
        // A rename moves the user under another resource: the caller must be
        // allowed to manage the user by its new name too.
        if let Some(n) = self.new_name.as_ref().filter(|n| **n != self.name) {
            all.push(Right::on("cam:UpdateUser", res.user(n)));
        }
        all
    }

    async fn run(self, env: &Env<'_>) -> Result<UserInfo, Failure> {
        let password = match &self.password {
            Some(p) => {
                let p = checked(p, &rules(env).await?)?;
                not_reused(env, &self.name, &p).await?;
                Some(hash_password(env, &p).await?)
            }
            None => None,
        };
        let upd = store::UpdateUser {
            new_name: self.new_name,
            remark: self.remark,
            console_login: self.console_login,
            password,
            need_reset_password: self.need_reset_password,
            email: self.email,
            phone: self.phone,
        };
        let name = self.name;
        let u = env
            .change(move |s, cx, ch| s.update_user(&name, upd.clone(), cx, ch))
            .await?;
        Ok(user_info(&u))
    }
}

impl Exec for DeleteUser {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let mut all = vec![Right::on("cam:DeleteUser", res.user(&self.name))];
        if self.force {
            all.push(Right::on("cam:DeleteAccessKey", res.user(&self.name)));
        }
        all
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.delete_user(&self.name, self.force, ch))
            .await?;
        Ok(Done)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::ops::KeyOwner;

    fn res(f: &(dyn Fn(&str) -> KeyOwner + Sync)) -> Resources<'_> {
        Resources {
            owner_uin: 100,
            key_owner: f,
            user_uin: &|_| None,
        }
    }

    #[test]
    fn add_user_needs_a_right_for_each_policy_and_the_key() {
        let none = |_: &str| KeyOwner::Unknown;
        let op = AddUser {
            name: "bob".into(),
            use_api: true,
            policies: vec![
                "AdministratorAccess".into(),
                "QcloudIMReadOnlyAccess".into(),
            ],
            ..AddUser::default()
        };
        let shown: Vec<_> = op
            .rights(&res(&none))
            .into_iter()
            .map(|r| (r.action, r.resource, r.policy))
            .collect();
        let bob = "qcs::cam::uin/100:user/bob".to_string();
        assert_eq!(
            shown,
            [
                ("cam:AddUser", bob.clone(), None),
                (
                    "cam:AttachUserPolicy",
                    bob.clone(),
                    Some("AdministratorAccess".into())
                ),
                (
                    "cam:AttachUserPolicy",
                    bob.clone(),
                    Some("QcloudChatReadOnlyAccess".into())
                ),
                ("cam:CreateAccessKey", bob, None),
            ]
        );
    }

    #[test]
    fn a_rename_needs_the_right_on_both_names_and_force_on_keys() {
        let none = |_: &str| KeyOwner::Unknown;
        let op = UpdateUser {
            name: "a".into(),
            new_name: Some("b".into()),
            ..UpdateUser::default()
        };
        let r = op.rights(&res(&none));
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].resource, "qcs::cam::uin/100:user/b");
        let del = DeleteUser {
            name: "a".into(),
            force: true,
        };
        assert_eq!(del.rights(&res(&none))[1].action, "cam:DeleteAccessKey");
    }
}
