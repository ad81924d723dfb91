//! CAM's account-wide reads and group details: GetGroup, UpdateGroup,
//! GetAccountSummary, GetUserAppId, DescribeSubAccounts, ListAccounts,
//! GetSecurityLastUsed.

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::{
    self as op, AccountSummary, AppIdInfo, Done, GroupDetail, KeyInfo, PasswordRulesInfo, UserInfo,
};

use super::action::{Action, last};
use super::params::bad_value;
use super::{Directory, Params, fields, group_id};

/// Most uins in one DescribeSubAccounts (CAM's model: "最多支持50个UIN").
const MAX_SUB_ACCOUNTS: usize = 50;
/// Most SecretIds in one GetSecurityLastUsed (CAM's model: "最多支持10个").
const MAX_LAST_USED: usize = 10;

/// One group with its members.
pub struct GetGroup;

impl Action for GetGroup {
    const NAME: &'static str = "GetGroup";
    const PARAMS: &'static [&'static str] = &["GroupId"];
    type Op = op::GetGroup;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::GetGroup>), Failure> {
        let name = dir.group(p.u64("GroupId")?)?;
        Ok((Self, vec![op::GetGroup { name }]))
    }

    fn render(self, replies: Vec<GroupDetail>, _: &dyn Directory) -> Result<Value, Failure> {
        let d = last(replies)?;
        Ok(json!({
            "GroupId": group_id(&d.group.name),
            "GroupName": d.group.name,
            "GroupNum": d.group.members,
            "Remark": d.group.remark,
            "CreateTime": fields::time(d.group.created_ms),
            "UserInfo": d.members.iter().map(fields::member).collect::<Vec<_>>(),
        }))
    }
}

/// Changes a group's remark. camd derives a GroupId from the group's name,
/// so a new GroupName would change the id CAM keeps: refused.
pub struct UpdateGroup;

impl Action for UpdateGroup {
    const NAME: &'static str = "UpdateGroup";
    const PARAMS: &'static [&'static str] = &["GroupId", "GroupName", "Remark"];
    type Op = op::UpdateGroup;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::UpdateGroup>), Failure> {
        let name = dir.group(p.u64("GroupId")?)?;
        if p.opt_str("GroupName")?.is_some_and(|n| n != name) {
            return Err(Failure::new(
                Code::UnsupportedOperation,
                format!(
                    "camd does not rename groups (group `{name}`): its GroupId is derived from its name; create a group with the new name instead"
                ),
            ));
        }
        let remark = p.opt_str("Remark")?;
        Ok((Self, vec![op::UpdateGroup { name, remark }]))
    }

    fn render(self, _: Vec<Done>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({}))
    }
}

/// Counts of the account's entities.
pub struct GetAccountSummary;

impl Action for GetAccountSummary {
    const NAME: &'static str = "GetAccountSummary";
    const PARAMS: &'static [&'static str] = &[];
    type Op = op::GetAccountSummary;

    fn plan(_: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::GetAccountSummary>), Failure> {
        Ok((Self, vec![op::GetAccountSummary]))
    }

    fn render(self, replies: Vec<AccountSummary>, _: &dyn Directory) -> Result<Value, Failure> {
        let s = last(replies)?;
        Ok(json!({
            "Policies": s.policies,
            "Roles": s.roles,
            "Idps": 0,
            "User": s.users,
            "Group": s.groups,
            "Member": s.members,
            "IdentityProviders": 0,
        }))
    }
}

/// The signer's uin, the root account's, and the account's AppId.
pub struct GetUserAppId;

impl Action for GetUserAppId {
    const NAME: &'static str = "GetUserAppId";
    const PARAMS: &'static [&'static str] = &[];
    type Op = op::GetUserAppId;

    fn plan(_: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::GetUserAppId>), Failure> {
        Ok((Self, vec![op::GetUserAppId]))
    }

    fn render(self, replies: Vec<AppIdInfo>, dir: &dyn Directory) -> Result<Value, Failure> {
        let a = last(replies)?;
        Ok(json!({
            "Uin": dir.signer_uin().to_string(),
            "OwnerUin": a.owner_uin.to_string(),
            "AppId": a.app_id,
        }))
    }
}

/// Sub-users by uin (CAM's SubAccountUser): unknown uins are left out.
pub struct DescribeSubAccounts;

impl Action for DescribeSubAccounts {
    const NAME: &'static str = "DescribeSubAccounts";
    const PARAMS: &'static [&'static str] = &["FilterSubAccountUin"];
    type Op = op::DescribeSubAccounts;

    fn plan(
        p: &Params,
        _: &dyn Directory,
    ) -> Result<(Self, Vec<op::DescribeSubAccounts>), Failure> {
        let name = "FilterSubAccountUin";
        let uins = Params::at_most(name, p.u64_list(name)?, MAX_SUB_ACCOUNTS)?;
        Ok((Self, vec![op::DescribeSubAccounts { uins }]))
    }

    fn render(self, replies: Vec<Vec<UserInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let users: Vec<Value> = last(replies)?
            .iter()
            .map(|u| {
                json!({
                    "Uin": u.uin,
                    "Name": u.name,
                    "Uid": u.uin,
                    "Remark": u.remark,
                    "CreateTime": fields::time(u.created_ms),
                    "UserType": 2,
                    "LastLoginIp": "",
                    "LastLoginTime": null,
                })
            })
            .collect();
        Ok(json!({ "SubAccounts": users }))
    }
}

/// The account's users, the root account first, filtered by UserType and
/// paged by MaxItems (1-100) and Marker (how many were listed before).
pub struct ListAccounts {
    max: usize,
    skip: usize,
    user_type: Option<String>,
}

impl Action for ListAccounts {
    const NAME: &'static str = "ListAccounts";
    const PARAMS: &'static [&'static str] = &["MaxItems", "Marker", "UserType"];
    type Op = op::ListAccounts;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::ListAccounts>), Failure> {
        let max = p.opt_u64("MaxItems")?.unwrap_or(100);
        if !(1..=100).contains(&max) {
            return Err(bad_value("MaxItems", "1-100"));
        }
        let skip = match p.opt_str("Marker")?.filter(|m| !m.is_empty()) {
            None => 0,
            Some(m) => m
                .parse()
                .map_err(|_| bad_value("Marker", "a Marker this call returned"))?,
        };
        let user_type = p.opt_str("UserType")?.filter(|t| !t.is_empty());
        let max = usize::try_from(max).unwrap_or(100);
        Ok((
            Self {
                max,
                skip,
                user_type,
            },
            vec![op::ListAccounts],
        ))
    }

    fn render(self, replies: Vec<Vec<UserInfo>>, dir: &dyn Directory) -> Result<Value, Failure> {
        let owner = dir.owner_uin();
        let root = json!({
            "Uin": owner, "Name": "root", "Uid": owner, "Remark": "", "ConsoleLogin": 1,
            "PhoneNum": "", "CountryCode": "", "Email": "", "CreateTime": "", "UserType": "Owner",
        });
        let subs = last(replies)?.into_iter().map(|u| {
            let mut f = fields::user(&u);
            if let Value::Object(m) = &mut f {
                m.remove("NickName");
                m.insert("UserType".into(), json!("SubUser"));
            }
            f
        });
        let wanted = |t: &str| self.user_type.as_deref().is_none_or(|w| w == t);
        let all = wanted("Owner")
            .then_some(root)
            .into_iter()
            .chain(subs.filter(|_| wanted("SubUser")))
            .skip(self.skip);
        let mut page: Vec<Value> = all.take(self.max + 1).collect();
        let truncated = page.len() > self.max;
        page.truncate(self.max);
        let marker = if truncated {
            (self.skip + page.len()).to_string()
        } else {
            String::new()
        };
        Ok(json!({ "Users": page, "Marker": marker, "IsTruncated": truncated }))
    }
}

/// When access keys were last used (CAM's SecretIdLastUsed): the date
/// (UTC) and the time in ms; unknown SecretIds are left out.
pub struct GetSecurityLastUsed;

impl Action for GetSecurityLastUsed {
    const NAME: &'static str = "GetSecurityLastUsed";
    const PARAMS: &'static [&'static str] = &["SecretIdList"];
    type Op = op::GetSecurityLastUsed;

    fn plan(
        p: &Params,
        _: &dyn Directory,
    ) -> Result<(Self, Vec<op::GetSecurityLastUsed>), Failure> {
        let name = "SecretIdList";
        let secret_ids = Params::at_most(name, p.str_list(name)?, MAX_LAST_USED)?;
        Ok((Self, vec![op::GetSecurityLastUsed { secret_ids }]))
    }

    fn render(self, replies: Vec<Vec<KeyInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let rows: Vec<Value> = last(replies)?
            .iter()
            .map(|k| {
                json!({
                    "SecretId": k.secret_id,
                    "LastUsedDate": k.last_used_ms.map(|ms| fields::time(ms).chars().take(10).collect::<String>()),
                    "LastSecretUsedDate": k.last_used_ms,
                })
            })
            .collect();
        Ok(json!({ "SecretIdLastUsedRows": rows }))
    }
}

/// The password rules in force (CAM's PassWordRule), with who changed them
/// and when (empty and `""` while they are camd's defaults).
pub struct GetPasswordRules;

impl Action for GetPasswordRules {
    const NAME: &'static str = "GetPasswordRules";
    const PARAMS: &'static [&'static str] = &[];
    type Op = op::GetPasswordRules;

    fn plan(_: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::GetPasswordRules>), Failure> {
        Ok((Self, vec![op::GetPasswordRules]))
    }

    fn render(self, replies: Vec<PasswordRulesInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        let r = last(replies)?;
        Ok(json!({
            "Rules": {
                "MinimumLength": r.minimum_length,
                "MustContain": r.must_contain,
                "ForcePasswordChange": r.force_change_days,
                "ReusePasswordLimit": r.reuse_limit,
                "RetryPasswordLimit": r.retry_limit,
                "PasswordExpirationInvalidation": r.expiration_invalidation,
            },
            "UpdateTime": if r.updated_ms == 0 { String::new() } else { fields::time(r.updated_ms) },
            "Modifier": r.modifier,
        }))
    }
}

/// The names of PassWordRule's fields.
const RULES: &[&str] = &[
    "MinimumLength",
    "MustContain",
    "ForcePasswordChange",
    "ReusePasswordLimit",
    "RetryPasswordLimit",
    "PasswordExpirationInvalidation",
];

/// Changes the password rules: the fields of Rules given replace the
/// rules in force, the others stay.
pub struct UpdatePasswordRules;

impl Action for UpdatePasswordRules {
    const NAME: &'static str = "UpdatePasswordRules";
    const PARAMS: &'static [&'static str] = &["Rules"];
    type Op = op::UpdatePasswordRules;

    fn plan(
        p: &Params,
        _: &dyn Directory,
    ) -> Result<(Self, Vec<op::UpdatePasswordRules>), Failure> {
        let r = p.object("Rules", RULES)?;
        let small = |name: &str| -> Result<Option<u32>, Failure> {
            r.opt_u64(name)?
                .map(|v| u32::try_from(v).map_err(|_| bad_value(name, "a small number")))
                .transpose()
        };
        let expiration = small("PasswordExpirationInvalidation")?
            .map(|v| {
                u8::try_from(v).map_err(|_| bad_value("PasswordExpirationInvalidation", "1 or 2"))
            })
            .transpose()?;
        let op = op::UpdatePasswordRules {
            minimum_length: small("MinimumLength")?,
            must_contain: r.opt_str("MustContain")?,
            force_change_days: small("ForcePasswordChange")?,
            reuse_limit: small("ReusePasswordLimit")?,
            retry_limit: small("RetryPasswordLimit")?,
            expiration_invalidation: expiration,
        };
        Ok((Self, vec![op]))
    }

    fn render(self, _: Vec<Done>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({}))
    }
}
