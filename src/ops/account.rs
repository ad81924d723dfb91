//! The account-wide reads and group details: GetGroup, UpdateGroup,
//! GetAccountSummary, GetUserAppId, DescribeSubAccounts, ListAccounts,
//! GetSecurityLastUsed.

use crate::code::{Code, Failure};
use crate::protocol::{
    AccountSummary, AppIdInfo, DescribeSubAccounts, Done, GetAccountSummary, GetGroup,
    GetSecurityLastUsed, GetUserAppId, GroupDetail, GroupInfo, KeyInfo, ListAccounts, PolicyKind,
    UpdateGroup, UserInfo,
};

use super::keys::key_info;
use super::policies::policies;
use super::users::user_info;
use super::{Env, Exec, Resources, Right};

/// Most uins in one DescribeSubAccounts (CAM's model: "最多支持50个UIN").
pub const MAX_SUB_ACCOUNTS: usize = 50;
/// Most SecretIds in one GetSecurityLastUsed (CAM's model: "最多支持10个").
pub const MAX_LAST_USED: usize = 10;

fn too_many(what: &str, n: usize, max: usize) -> Result<(), Failure> {
    if n > max {
        return Err(Failure::new(
            Code::InvalidParameterValue,
            format!("{what} has {n} items; at most {max} are taken in one call"),
        ));
    }
    Ok(())
}

impl Exec for GetGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetGroup", res.group(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<GroupDetail, Failure> {
        env.read(move |s, _| {
            let (g, members) = s.group_named(&self.name)?;
            let users = s.users_in_group(&self.name)?;
            Ok(GroupDetail {
                group: GroupInfo {
                    name: g.name,
                    remark: g.remark,
                    created_ms: g.created_ms,
                    members: u32::try_from(members).unwrap_or(u32::MAX),
                },
                members: users.iter().map(user_info).collect(),
            })
        })
        .await
    }
}

impl Exec for UpdateGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:UpdateGroup", res.group(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.update_group(&self.name, self.remark.as_deref(), ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for GetAccountSummary {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetAccountSummary", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<AccountSummary, Failure> {
        let custom = policies(env, None)
            .await?
            .iter()
            .filter(|p| p.kind != PolicyKind::Preset)
            .count();
        env.read(move |s, _| {
            let members: usize = s.groups().keys().map(|g| s.member_count(g)).sum();
            Ok(AccountSummary {
                policies: custom as u64,
                roles: s.roles().len() as u64,
                users: s.users().len() as u64,
                groups: s.groups().len() as u64,
                members: members as u64,
            })
        })
        .await
    }
}

impl Exec for GetUserAppId {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetUserAppId", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<AppIdInfo, Failure> {
        Ok(AppIdInfo {
            owner_uin: env.owner_uin,
            app_id: env.app_id,
        })
    }
}

impl Exec for DescribeSubAccounts {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DescribeSubAccounts", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<UserInfo>, Failure> {
        too_many("the uin list", self.uins.len(), MAX_SUB_ACCOUNTS)?;
        env.read(move |s, _| {
            Ok(self
                .uins
                .iter()
                .filter_map(|u| s.users().get(u))
                .map(user_info)
                .collect())
        })
        .await
    }
}

impl Exec for ListAccounts {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListAccounts", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<UserInfo>, Failure> {
        env.read(|s, _| Ok(s.users().values().map(user_info).collect()))
            .await
    }
}

impl Exec for GetSecurityLastUsed {
    /// One right per key, on its owner (as reading the key's list would
    /// need); past the limit (refused when it runs) the rest are not
    /// checked, and an empty list needs the right on `*`.
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let mut rights: Vec<Right> = self
            .secret_ids
            .iter()
            .take(MAX_LAST_USED + 1)
            .map(|id| Right::on("cam:GetSecurityLastUsed", res.key_by_id(id)))
            .collect();
        if rights.is_empty() {
            rights.push(Right::on("cam:GetSecurityLastUsed", "*".into()));
        }
        rights
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<KeyInfo>, Failure> {
        too_many("the SecretId list", self.secret_ids.len(), MAX_LAST_USED)?;
        env.read(move |s, _| {
            Ok(self
                .secret_ids
                .iter()
                .filter_map(|id| s.keys().get(id))
                .map(key_info)
                .collect())
        })
        .await
    }
}
