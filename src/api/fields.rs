//! camd's entities in CAM's field names and types, as CAM's API answers:
//! times as `YYYY-MM-DD HH:MM:SS`, flags as 0/1, ids derived from names,
//! lists paged (Page/Rp, TotalNum).

use serde_json::{Map, Value, json};

use crate::policy::TimeText;
use crate::policy::preset::canonical_name;
use crate::protocol::{
    AttachedInfo, BoundaryInfo, PolicyInfo, PolicyKind, PolicyVersionInfo, Tag, UserInfo,
};

use super::params::Paging;
use super::{group_id, policy_id};

/// CAM's time format, `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time(ms: i64) -> String {
    let t = TimeText::new(ms);
    t.as_str()
        .get(..19)
        .unwrap_or_default()
        .replacen('T', " ", 1)
}

/// Whether `name` is a preset's (CAM's "QCS" policies).
pub fn is_preset(name: &str) -> bool {
    canonical_name(name).is_some()
}

/// CAM's PolicyType and CreateMode of a preset (`true`) or custom policy.
fn origin(preset: bool) -> (&'static str, u8) {
    if preset { ("QCS", 2) } else { ("User", 1) }
}

/// A sub-user (CAM's SubAccountInfo).
pub fn user(u: &UserInfo) -> Value {
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
        "NickName": u.name,
    })
}

/// A group's member (CAM's GroupMemberInfo): nothing is verified, and
/// camd's members are sub-users, not collaborators or receivers (UserType 0).
pub fn member(u: &UserInfo) -> Value {
    json!({
        "Uid": u.uin,
        "Uin": u.uin,
        "Name": u.name,
        "PhoneNum": u.phone,
        "CountryCode": "",
        "PhoneFlag": 0,
        "Email": u.email,
        "EmailFlag": 0,
        "UserType": 0,
        "CreateTime": time(u.created_ms),
        "IsReceiverOwner": 0,
        "Remark": u.remark,
    })
}

/// A group (CAM's GroupInfo).
pub fn group(name: &str, remark: &str, created_ms: i64) -> Value {
    json!({
        "GroupId": group_id(name),
        "GroupName": name,
        "CreateTime": time(created_ms),
        "Remark": remark,
    })
}

/// A time CAM shows, or `""` when camd has none (a preset's).
fn time_or_empty(ms: i64) -> String {
    if ms == 0 { String::new() } else { time(ms) }
}

/// Tags as CAM shows them (CAM's Tag).
pub fn tags(tags: &[Tag]) -> Value {
    tags.iter()
        .map(|t| json!({"Key": t.key, "Value": t.value}))
        .collect()
}

/// A policy as ListPolicies shows it (CAM's StrategyInfo). camd's policies
/// are not service-linked, never taken offline, and not tied to one
/// product; AdministratorAccess is the one of global reach.
pub fn policy(p: &PolicyInfo) -> Value {
    let preset = p.kind == PolicyKind::Preset;
    let (kind, mode) = origin(preset);
    let level = if p.name == "AdministratorAccess" {
        "Global"
    } else {
        "CloudProduct"
    };
    json!({
        "PolicyId": policy_id(&p.name),
        "PolicyName": p.name,
        "AddTime": time_or_empty(p.created_ms),
        "UpdateTime": time_or_empty(p.updated_ms),
        "Description": p.description,
        "Type": mode,
        "CreateMode": mode,
        "PolicyType": kind,
        "Attachments": p.attachments,
        "ServiceType": "",
        "IsAttached": null,
        "Deactived": 0,
        "DeactivedDetail": [],
        "IsServiceLinkedPolicy": 0,
        "AttachEntityCount": p.attachments,
        "AttachEntityBoundaryCount": p.boundaries,
        "Tags": tags(&p.tags),
        "PermissionLevel": level,
    })
}

/// One policy as GetPolicy shows it, with its document.
pub fn policy_detail(p: &PolicyInfo) -> Value {
    let (_, mode) = origin(p.kind == PolicyKind::Preset);
    json!({
        "PolicyName": p.name,
        "Description": p.description,
        "Type": mode,
        "AddTime": time_or_empty(p.created_ms),
        "UpdateTime": time_or_empty(p.updated_ms),
        "PolicyDocument": p.document.clone().unwrap_or_default(),
        "PresetAlias": p.alias,
        "IsServiceLinkedRolePolicy": 0,
        "Tags": tags(&p.tags),
    })
}

/// An attachment (CAM's AttachPolicyInfo).
pub fn attached(a: &AttachedInfo) -> Value {
    let (kind, mode) = origin(is_preset(&a.policy));
    json!({
        "PolicyId": policy_id(&a.policy),
        "PolicyName": a.policy,
        "AddTime": time(a.attached_ms),
        "CreateMode": mode,
        "PolicyType": kind,
        "Remark": "",
        "Deactived": 0,
        "DeactivedDetail": [],
    })
}

/// A version as ListPolicyVersions shows it (CAM's PolicyVersionItem).
pub fn version(v: &PolicyVersionInfo) -> Value {
    json!({
        "VersionId": v.version,
        "CreateDate": time(v.created_ms),
        "IsDefaultVersion": u8::from(v.is_default),
    })
}

/// A version with its document (CAM's PolicyVersionDetail).
pub fn version_detail(v: &PolicyVersionInfo) -> Value {
    let mut f = version(v);
    if let Value::Object(m) = &mut f {
        m.insert("Document".into(), json!(v.document));
    }
    f
}

/// A user's boundary, as GetUserPermissionBoundary answers.
pub fn boundary(b: &BoundaryInfo) -> Value {
    let preset = b.kind == Some(PolicyKind::Preset);
    match &b.policy {
        None => json!({"PolicyId": null, "PolicyName": null, "PolicyDocument": null,
                       "PolicyType": null, "CreateMode": null}),
        // GetUserPermissionBoundary's PolicyType is a number (1 custom,
        // 2 preset); CreateMode 2 is "by policy syntax".
        Some(name) => {
            let (_, kind) = origin(preset);
            json!({
                "PolicyId": policy_id(name),
                "PolicyName": name,
                "PolicyDocument": b.document,
                "PolicyType": kind,
                "CreateMode": 2,
            })
        }
    }
}

/// One page of `items` under `field`, with TotalNum.
pub fn page(paging: Paging, items: Vec<Value>, field: &str) -> Value {
    let (items, total) = paging.take(items);
    let mut m = Map::new();
    m.insert("TotalNum".into(), json!(total));
    m.insert(field.into(), Value::Array(items));
    Value::Object(m)
}

/// `fields` with `extra` added.
pub fn with(mut fields: Value, key: &str, extra: Value) -> Value {
    if let Value::Object(m) = &mut fields {
        m.insert(key.into(), extra);
    }
    fields
}

/// Whether ListPolicies shows `p` for Scope (`Some(true)`: presets only,
/// `Some(false)`: custom only) and Keyword (in the name or description).
pub fn listed(p: &PolicyInfo, scope: Option<bool>, keyword: &str) -> bool {
    scope.is_none_or(|preset| (p.kind == PolicyKind::Preset) == preset)
        && (p.name.contains(keyword) || p.description.contains(keyword))
}
