//! The replies of camd's operations as CAM's API answers them: CAM's field
//! names and types, paging (Page/Rp, TotalNum) and filters applied here.

use serde_json::{Map, Value, json};

use crate::code::Failure;
use crate::policy::TimeText;
use crate::policy::preset::canonical_name;
use crate::protocol::{AttachedInfo, PolicyInfo, Reply, UserInfo};

use super::params::Paging;
use super::{Directory, group_id, policy_id, unexpected};

/// How an action's replies are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Only the RequestId.
    Empty,
    /// AddUser.
    AddUser,
    /// GetUser.
    GetUser,
    /// ListUsers.
    ListUsers,
    /// CreateGroup: the new group's name.
    CreateGroup(String),
    /// ListGroups: paging and keyword.
    ListGroups(Paging, String),
    /// ListUsersForGroup.
    ListUsersForGroup(Paging),
    /// ListGroupsForUser.
    ListGroupsForUser(Paging),
    /// ListPolicies.
    ListPolicies {
        /// The page.
        paging: Paging,
        /// `Some(true)`: presets only; `Some(false)`: custom only.
        scope: Option<bool>,
        /// A substring of the name or description.
        keyword: String,
    },
    /// GetPolicy.
    GetPolicy,
    /// ListAttachedUserPolicies, ListAttachedGroupPolicies: paging, keyword.
    Attached(Paging, String),
    /// ListAttachedUserAllPolicies.
    AllAttached {
        /// The page.
        paging: Paging,
        /// 0 all, 1 direct, 2 through groups.
        attach_type: u64,
        /// A substring of the name.
        keyword: String,
    },
    /// ListEntitiesForPolicy: paging, (users, groups) shown.
    Entities(Paging, (bool, bool)),
    /// CreateAccessKey.
    CreateAccessKey,
    /// ListAccessKeys.
    ListAccessKeys,
    /// The actions on custom policies, versions and boundaries.
    Custom(super::custom::CustomView),
}

/// CAM's time format, `YYYY-MM-DD HH:MM:SS` (UTC).
pub(super) fn time(ms: i64) -> String {
    let t = TimeText::new(ms);
    t.as_str()
        .get(..19)
        .unwrap_or_default()
        .replacen('T', " ", 1)
}

fn is_preset(name: &str) -> bool {
    canonical_name(name).is_some()
}

fn user_fields(u: &UserInfo) -> Value {
    json!({
        "Uin": u.uin,
        "Uid": u.uin,
        "Name": u.name,
        "Remark": u.remark,
        "ConsoleLogin": u64::from(u.console_login),
        "PhoneNum": u.phone,
        "CountryCode": "",
        "Email": u.email,
        "CreateTime": time(u.created_ms),
    })
}

fn group_fields(name: &str, remark: &str, created_ms: i64) -> Value {
    json!({
        "GroupId": group_id(name),
        "GroupName": name,
        "CreateTime": time(created_ms),
        "Remark": remark,
    })
}

fn policy_fields(p: &PolicyInfo) -> Value {
    let preset = p.kind == "Preset";
    json!({
        "PolicyId": policy_id(&p.name),
        "PolicyName": p.name,
        "Description": p.description,
        "Type": if preset { 2 } else { 1 },
        "CreateMode": if preset { 2 } else { 1 },
        "PolicyType": if preset { "QCS" } else { "User" },
    })
}

fn attached_fields(a: &AttachedInfo) -> Value {
    let preset = is_preset(&a.policy);
    json!({
        "PolicyId": policy_id(&a.policy),
        "PolicyName": a.policy,
        "AddTime": time(a.attached_ms),
        "CreateMode": if preset { 2 } else { 1 },
        "PolicyType": if preset { "QCS" } else { "User" },
        "Remark": "",
    })
}

fn page(paging: Paging, items: Vec<Value>, field: &str) -> Value {
    let (items, total) = paging.take(items);
    let mut m = Map::new();
    m.insert("TotalNum".into(), json!(total));
    m.insert(field.into(), Value::Array(items));
    Value::Object(m)
}

/// The response fields of `view` over the replies of its requests.
pub fn render(view: &View, replies: Vec<Reply>, dir: &dyn Directory) -> Result<Value, Failure> {
    let last = replies.into_iter().last().unwrap_or(Reply::Done);
    Ok(match (view, last) {
        (View::Empty, _) => json!({}),
        (View::Custom(v), reply) => {
            let shown = format!("{:?}", std::mem::discriminant(&reply));
            return super::custom::render(v, reply).ok_or_else(|| {
                Failure::new(
                    crate::code::Code::Dispatch,
                    format!("unexpected reply {shown}"),
                )
            });
        }
        (View::AddUser, Reply::Credentials(c)) => {
            let mut m = Map::new();
            m.insert("Uin".into(), json!(c.uin));
            m.insert("Uid".into(), json!(c.uin));
            m.insert("Name".into(), json!(c.name));
            for (k, v) in [
                ("Password", c.password.as_ref()),
                ("SecretId", c.secret_id.as_ref()),
                ("SecretKey", c.secret_key.as_ref()),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            Value::Object(m)
        }
        (View::GetUser, Reply::User(u)) => user_fields(&u),
        (View::ListUsers, Reply::Users(us)) => {
            json!({ "Data": us.iter().map(user_fields).collect::<Vec<_>>() })
        }
        (View::CreateGroup(name), Reply::Done) => json!({ "GroupId": group_id(name) }),
        (View::ListGroups(paging, keyword), Reply::Groups(gs)) => page(
            *paging,
            gs.iter()
                .filter(|g| g.name.contains(keyword.as_str()))
                .map(|g| group_fields(&g.name, &g.remark, g.created_ms))
                .collect(),
            "GroupInfo",
        ),
        (View::ListUsersForGroup(paging), Reply::Users(us)) => {
            page(*paging, us.iter().map(user_fields).collect(), "UserInfo")
        }
        (View::ListGroupsForUser(paging), Reply::Names(names)) => page(
            *paging,
            names
                .iter()
                .map(|n| {
                    dir.group_by_name(n).map_or_else(
                        || group_fields(n, "", 0),
                        |g| group_fields(&g.name, &g.remark, g.created_ms),
                    )
                })
                .collect(),
            "GroupInfo",
        ),
        (
            View::ListPolicies {
                paging,
                scope,
                keyword,
            },
            Reply::Policies(ps),
        ) => {
            let mut v = page(
                *paging,
                ps.iter()
                    .filter(|p| listed(p, *scope, keyword))
                    .map(policy_fields)
                    .collect(),
                "List",
            );
            if let Value::Object(m) = &mut v {
                m.insert("ServiceTypeList".into(), json!([]));
            }
            v
        }
        (View::GetPolicy, Reply::Policies(ps)) => {
            let Some(p) = ps.first() else {
                return Err(unexpected(&Reply::Policies(Vec::new())));
            };
            let mut v = policy_fields(p);
            if let Value::Object(m) = &mut v {
                m.insert(
                    "PolicyDocument".into(),
                    json!(p.document.clone().unwrap_or_default()),
                );
            }
            v
        }
        (View::Attached(paging, keyword), Reply::Attached(list)) => page(
            *paging,
            list.iter()
                .filter(|a| a.policy.contains(keyword.as_str()))
                .map(attached_fields)
                .collect(),
            "List",
        ),
        (
            View::AllAttached {
                paging,
                attach_type,
                keyword,
            },
            Reply::Attached(list),
        ) => all_attached(*paging, *attach_type, keyword, &list),
        (
            View::Entities(paging, (users, groups)),
            Reply::Entities {
                users: us,
                groups: gs,
            },
        ) => {
            let mut items = Vec::new();
            if *users {
                items.extend(us.iter().map(|n| {
                    let uin = dir.user_uin(n).unwrap_or(0);
                    json!({ "Id": uin.to_string(), "Name": n, "Uin": uin, "RelatedType": 1, "AttachmentTime": "" })
                }));
            }
            if *groups {
                items.extend(gs.iter().map(|n| {
                    json!({ "Id": group_id(n).to_string(), "Name": n, "RelatedType": 2, "AttachmentTime": "" })
                }));
            }
            page(*paging, items, "List")
        }
        (View::CreateAccessKey, Reply::Credentials(c)) => json!({
            "AccessKey": {
                "AccessKeyId": c.secret_id,
                "SecretAccessKey": c.secret_key,
                "Status": "Active",
                "CreateTime": time(crate::clock::now_ms()),
            }
        }),
        (View::ListAccessKeys, Reply::Keys(ks)) => json!({
            "AccessKeys": ks.iter().map(|k| json!({
                "AccessKeyId": k.secret_id,
                "Status": k.status,
                "CreateTime": time(k.created_ms),
            })).collect::<Vec<_>>()
        }),
        (_, other) => return Err(unexpected(&other)),
    })
}

/// ListAttachedUserAllPolicies: one entry per policy, with the groups it
/// comes through.
fn all_attached(paging: Paging, attach_type: u64, keyword: &str, list: &[AttachedInfo]) -> Value {
    let mut names: Vec<&str> = list.iter().map(|a| a.policy.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let items = names
        .into_iter()
        .filter(|n| n.contains(keyword))
        .filter_map(|n| {
            let of: Vec<&AttachedInfo> = list.iter().filter(|a| a.policy == n).collect();
            let direct = of.iter().any(|a| a.via_group.is_none());
            let groups: Vec<Value> = of
                .iter()
                .filter_map(|a| a.via_group.as_deref())
                .map(|g| json!({ "GroupId": group_id(g), "GroupName": g }))
                .collect();
            let shown = match attach_type {
                1 => direct,
                2 => !groups.is_empty(),
                _ => true,
            };
            let preset = is_preset(n);
            let added = of.iter().map(|a| a.attached_ms).min().unwrap_or(0);
            shown.then(|| {
                json!({
                    "PolicyId": policy_id(n).to_string(),
                    "PolicyName": n,
                    "Description": "",
                    "AddTime": time(added),
                    "StrategyType": if preset { "2" } else { "1" },
                    "CreateMode": if preset { "2" } else { "1" },
                    "Groups": groups,
                })
            })
        })
        .collect();
    let (items, total) = paging.take(items);
    json!({ "PolicyList": items, "TotalNum": total })
}

/// Whether ListPolicies shows `p` for Scope (`Some(true)`: presets only,
/// `Some(false)`: custom only) and Keyword (in the name or description).
pub fn listed(p: &crate::protocol::PolicyInfo, scope: Option<bool>, keyword: &str) -> bool {
    scope.is_none_or(|preset| (p.kind == "Preset") == preset)
        && (p.name.contains(keyword) || p.description.contains(keyword))
}
