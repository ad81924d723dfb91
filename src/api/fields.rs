//! camd's entities in CAM's field names and types, as CAM's API answers:
//! times as `YYYY-MM-DD HH:MM:SS`, flags as 0/1, ids derived from names,
//! lists paged (Page/Rp, TotalNum).

use serde_json::{Map, Value, json};

use crate::policy::TimeText;
use crate::policy::preset::canonical_name;
use crate::protocol::{
    AttachedInfo, BoundaryInfo, PolicyInfo, PolicyKind, PolicyVersionInfo, UserInfo,
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

/// A policy as ListPolicies shows it (CAM's StrategyInfo).
pub fn policy(p: &PolicyInfo) -> Value {
    let preset = p.kind == PolicyKind::Preset;
    let (kind, mode) = origin(preset);
    json!({
        "PolicyId": policy_id(&p.name),
        "PolicyName": p.name,
        "Description": p.description,
        "Type": mode,
        "CreateMode": mode,
        "PolicyType": kind,
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
        Some(name) => {
            let (kind, mode) = origin(preset);
            json!({
                "PolicyId": policy_id(name),
                "PolicyName": name,
                "PolicyDocument": b.document,
                "PolicyType": kind,
                "CreateMode": mode,
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
