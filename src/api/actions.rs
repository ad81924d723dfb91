//! Each CAM API action camd serves: the parameters it takes (CAM's names
//! and types) and the admin requests they become.

use crate::code::{Code, Failure};
use crate::protocol::{
    AddUser, AddUserToGroup, AttachGroupPolicy, AttachUserPolicy, Body, CreateAccessKey,
    CreateGroup, DeleteAccessKey, DeleteGroup, DeleteUser, DetachGroupPolicy, DetachUserPolicy,
    GetPolicy, GetUser, ListAccessKeys, ListAttachedGroupPolicies, ListAttachedUserPolicies,
    ListEntitiesForPolicy, ListGroupsForUser, ListUsersForGroup, Op, RemoveUserFromGroup,
    UpdateAccessKey, UpdateUser,
};

use super::custom::CUSTOM_ACTIONS;
use super::params::{Params, bad_value as value};
use super::views::View;
use super::{Directory, Plan};

/// Every action camd serves here, with the parameters each takes (those on
/// custom policies, versions and boundaries are in `custom.rs`).
pub const ACTIONS: &[(&str, &[&str])] = &[
    (
        "AddUser",
        &[
            "Name",
            "Remark",
            "ConsoleLogin",
            "UseApi",
            "Password",
            "NeedResetPassword",
            "PhoneNum",
            "CountryCode",
            "Email",
        ],
    ),
    ("GetUser", &["Name"]),
    ("ListUsers", &[]),
    (
        "UpdateUser",
        &[
            "Name",
            "Remark",
            "ConsoleLogin",
            "Password",
            "NeedResetPassword",
            "PhoneNum",
            "CountryCode",
            "Email",
        ],
    ),
    ("DeleteUser", &["Name", "Force"]),
    ("CreateGroup", &["GroupName", "Remark"]),
    ("DeleteGroup", &["GroupId"]),
    ("ListGroups", &["Page", "Rp", "Keyword"]),
    ("AddUserToGroup", &["Info"]),
    ("RemoveUserFromGroup", &["Info"]),
    ("ListUsersForGroup", &["GroupId", "Page", "Rp"]),
    ("ListGroupsForUser", &["Uid", "SubUin", "Page", "Rp"]),
    ("ListPolicies", &["Rp", "Page", "Scope", "Keyword"]),
    ("GetPolicy", &["PolicyId"]),
    ("AttachUserPolicy", &["PolicyId", "AttachUin"]),
    ("DetachUserPolicy", &["PolicyId", "DetachUin"]),
    ("AttachGroupPolicy", &["PolicyId", "AttachGroupId"]),
    ("DetachGroupPolicy", &["PolicyId", "DetachGroupId"]),
    ("ListAttachedUserPolicies", &["TargetUin", "Page", "Rp"]),
    (
        "ListAttachedUserAllPolicies",
        &[
            "TargetUin",
            "Rp",
            "Page",
            "AttachType",
            "StrategyType",
            "Keyword",
        ],
    ),
    (
        "ListAttachedGroupPolicies",
        &["TargetGroupId", "Page", "Rp", "Keyword"],
    ),
    (
        "ListEntitiesForPolicy",
        &["PolicyId", "Page", "Rp", "EntityFilter"],
    ),
    ("CreateAccessKey", &["TargetUin", "Description"]),
    ("UpdateAccessKey", &["AccessKeyId", "Status", "TargetUin"]),
    ("DeleteAccessKey", &["AccessKeyId", "TargetUin"]),
    ("ListAccessKeys", &["TargetUin"]),
];

fn one<O: Op>(op: O, view: View) -> Plan {
    Plan {
        bodies: vec![op.into_body()],
        view,
    }
}

fn user(dir: &dyn Directory, uin: u64) -> Result<String, Failure> {
    dir.user_name(uin)
        .ok_or_else(|| Failure::new(Code::UserNotExist, format!("no sub-user has uin {uin}")))
}

fn group(dir: &dyn Directory, id: u64) -> Result<String, Failure> {
    dir.group_by_id(id)
        .map(|g| g.name)
        .ok_or_else(|| Failure::new(Code::GroupNotExist, format!("no group has GroupId {id}")))
}

fn policy(dir: &dyn Directory, id: u64) -> Result<String, Failure> {
    dir.policy_name(id).ok_or_else(|| {
        Failure::new(
            Code::PolicyIdNotFound,
            format!("no policy has PolicyId {id}"),
        )
    })
}

/// A key's owner by TargetUin: the root account, a sub-user, or (absent)
/// the signer.
fn key_owner(p: &Params, dir: &dyn Directory) -> Result<Option<String>, Failure> {
    let uin = p.opt_u64("TargetUin")?.unwrap_or(dir.signer_uin());
    if uin == dir.owner_uin() {
        Ok(None)
    } else {
        user(dir, uin).map(Some)
    }
}

/// The user and group of each `Info` item.
/// Most `Info` items in one AddUserToGroup or RemoveUserFromGroup call
/// (CAM documents none; a group holds at most 100 users).
pub const MAX_MEMBERSHIP_ITEMS: usize = 100;

/// The (group, user) pairs of `Info`, each once, in order.
fn memberships(p: &Params, dir: &dyn Directory) -> Result<Vec<(String, String)>, Failure> {
    let items = p.list("Info", &["GroupId", "Uid", "Uin"])?;
    if items.len() > MAX_MEMBERSHIP_ITEMS {
        return Err(Failure::new(
            Code::InvalidParameterValue,
            format!(
                "Info has {} items; at most {MAX_MEMBERSHIP_ITEMS} are taken in one call",
                items.len()
            ),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    for i in &items {
        let uin = match i.opt_u64("Uin")? {
            Some(u) => u,
            None => i.u64("Uid")?,
        };
        let pair = (group(dir, i.u64("GroupId")?)?, user(dir, uin)?);
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(out)
}

/// The requests `action` with JSON parameters `body` runs.
pub fn plan(action: &str, body: &[u8], dir: &dyn Directory) -> Result<Plan, Failure> {
    let Some((_, allowed)) = ACTIONS
        .iter()
        .chain(CUSTOM_ACTIONS)
        .find(|(a, _)| *a == action)
    else {
        return Err(Failure::new(
            Code::InvalidAction,
            format!(
                "action `{}` is not one camd serves",
                action.chars().take(64).collect::<String>()
            ),
        ));
    };
    let p = Params::parse(body, allowed)?;
    if CUSTOM_ACTIONS.iter().any(|(a, _)| *a == action) {
        return super::custom::plan(action, &p, dir);
    }
    let s = |n: &str| p.opt_str(n).map(Option::unwrap_or_default);
    Ok(match action {
        "AddUser" => one(
            AddUser {
                name: p.str("Name")?,
                remark: s("Remark")?,
                console_login: p.opt_flag("ConsoleLogin")?.unwrap_or(false),
                password: p.opt_str("Password")?,
                need_reset_password: p.opt_flag("NeedResetPassword")?.unwrap_or(false),
                use_api: p.opt_flag("UseApi")?.unwrap_or(false),
                email: s("Email")?,
                phone: s("PhoneNum")?,
                policies: Vec::new(),
            },
            View::AddUser,
        ),
        "GetUser" => one(
            GetUser {
                name: p.str("Name")?,
            },
            View::GetUser,
        ),
        "ListUsers" => Plan {
            bodies: vec![Body::ListUsers],
            view: View::ListUsers,
        },
        "UpdateUser" => one(
            UpdateUser {
                name: p.str("Name")?,
                new_name: None,
                remark: p.opt_str("Remark")?,
                console_login: p.opt_flag("ConsoleLogin")?,
                password: p.opt_str("Password")?,
                need_reset_password: p.opt_flag("NeedResetPassword")?,
                email: p.opt_str("Email")?,
                phone: p.opt_str("PhoneNum")?,
            },
            View::Empty,
        ),
        "DeleteUser" => one(
            DeleteUser {
                name: p.str("Name")?,
                force: p.opt_flag("Force")?.unwrap_or(false),
            },
            View::Empty,
        ),
        "CreateGroup" => {
            let name = p.str("GroupName")?;
            one(
                CreateGroup {
                    name: name.clone(),
                    remark: s("Remark")?,
                },
                View::CreateGroup(name),
            )
        }
        "DeleteGroup" => one(
            DeleteGroup {
                name: group(dir, p.u64("GroupId")?)?,
            },
            View::Empty,
        ),
        "ListGroups" => Plan {
            bodies: vec![Body::ListGroups],
            view: View::ListGroups(p.paging()?, s("Keyword")?),
        },
        "AddUserToGroup" => Plan {
            bodies: memberships(&p, dir)?
                .into_iter()
                .map(|(group, user)| AddUserToGroup { group, user }.into_body())
                .collect(),
            view: View::Empty,
        },
        "RemoveUserFromGroup" => Plan {
            bodies: memberships(&p, dir)?
                .into_iter()
                .map(|(group, user)| RemoveUserFromGroup { group, user }.into_body())
                .collect(),
            view: View::Empty,
        },
        "ListUsersForGroup" => one(
            ListUsersForGroup {
                group: group(dir, p.u64("GroupId")?)?,
            },
            View::ListUsersForGroup(p.paging()?),
        ),
        "ListGroupsForUser" => {
            let uin = match (p.opt_u64("SubUin")?, p.opt_u64("Uid")?) {
                (Some(u), _) | (None, Some(u)) => u,
                (None, None) => dir.signer_uin(),
            };
            one(
                ListGroupsForUser {
                    user: user(dir, uin)?,
                },
                View::ListGroupsForUser(p.paging()?),
            )
        }
        "ListPolicies" => Plan {
            bodies: vec![Body::ListPolicies],
            view: View::ListPolicies {
                paging: p.paging()?,
                scope: scope(p.opt_str("Scope")?)?,
                keyword: s("Keyword")?,
            },
        },
        "GetPolicy" => one(
            GetPolicy {
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::GetPolicy,
        ),
        "AttachUserPolicy" => one(
            AttachUserPolicy {
                user: user(dir, p.u64("AttachUin")?)?,
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::Empty,
        ),
        "DetachUserPolicy" => one(
            DetachUserPolicy {
                user: user(dir, p.u64("DetachUin")?)?,
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::Empty,
        ),
        "AttachGroupPolicy" => one(
            AttachGroupPolicy {
                group: group(dir, p.u64("AttachGroupId")?)?,
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::Empty,
        ),
        "DetachGroupPolicy" => one(
            DetachGroupPolicy {
                group: group(dir, p.u64("DetachGroupId")?)?,
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::Empty,
        ),
        "ListAttachedUserPolicies" => one(
            ListAttachedUserPolicies {
                user: user(dir, p.u64("TargetUin")?)?,
                all: false,
            },
            View::Attached(p.paging()?, String::new()),
        ),
        "ListAttachedUserAllPolicies" => one(
            ListAttachedUserPolicies {
                user: user(dir, p.u64("TargetUin")?)?,
                all: true,
            },
            View::AllAttached {
                paging: p.paging()?,
                attach_type: match p.opt_u64("AttachType")?.unwrap_or(0) {
                    t @ 0..=2 => t,
                    _ => return Err(value("AttachType", "0, 1 or 2")),
                },
                keyword: s("Keyword")?,
            },
        ),
        "ListAttachedGroupPolicies" => one(
            ListAttachedGroupPolicies {
                group: group(dir, p.u64("TargetGroupId")?)?,
            },
            View::Attached(p.paging()?, s("Keyword")?),
        ),
        "ListEntitiesForPolicy" => one(
            ListEntitiesForPolicy {
                policy: policy(dir, p.u64("PolicyId")?)?,
            },
            View::Entities(p.paging()?, entity_filter(p.opt_str("EntityFilter")?)?),
        ),
        "CreateAccessKey" => one(
            CreateAccessKey {
                user: key_owner(&p, dir)?,
            },
            View::CreateAccessKey,
        ),
        "UpdateAccessKey" => one(
            UpdateAccessKey {
                secret_id: p.str("AccessKeyId")?,
                active: match p.str("Status")?.as_str() {
                    "Active" => true,
                    "Inactive" => false,
                    _ => return Err(value("Status", "Active or Inactive")),
                },
            },
            View::Empty,
        ),
        "DeleteAccessKey" => one(
            DeleteAccessKey {
                secret_id: p.str("AccessKeyId")?,
            },
            View::Empty,
        ),
        "ListAccessKeys" => one(
            ListAccessKeys {
                user: key_owner(&p, dir)?,
            },
            View::ListAccessKeys,
        ),
        other => {
            return Err(Failure::new(
                Code::InvalidAction,
                format!("action `{other}` has no translation"),
            ));
        }
    })
}

/// ListPolicies' Scope: `None` for All, `Some(true)` for QCS (presets),
/// `Some(false)` for Local (custom: files and API-managed).
fn scope(s: Option<String>) -> Result<Option<bool>, Failure> {
    parse_scope(s.as_deref())
}

/// ListPolicies' Scope, as CAM spells it.
pub fn parse_scope(s: Option<&str>) -> Result<Option<bool>, Failure> {
    match s {
        None | Some("All") => Ok(None),
        Some("QCS") => Ok(Some(true)),
        Some("Local") => Ok(Some(false)),
        Some(_) => Err(value("Scope", "All, QCS or Local")),
    }
}

/// ListEntitiesForPolicy's EntityFilter: (users, groups) shown.
fn entity_filter(s: Option<String>) -> Result<(bool, bool), Failure> {
    match s.as_deref() {
        None | Some("All") => Ok((true, true)),
        Some("User") => Ok((true, false)),
        Some("Group") => Ok((false, true)),
        Some("Role") => Ok((false, false)),
        Some(_) => Err(value("EntityFilter", "All, User, Group or Role")),
    }
}
