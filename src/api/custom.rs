//! CAM's actions on custom policies, their versions and users' permissions
//! boundaries: their parameters become the same admin requests camctl
//! sends, and their replies CAM's response fields.

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::{
    BoundaryInfo, CreatePolicy, CreatePolicyVersion, DeletePolicy, DeletePolicyVersion,
    DeleteUserPermissionsBoundary, GetPolicyVersion, GetUserPermissionBoundary, ListPolicyVersions,
    Op, PolicyVersionInfo, PutUserPermissionsBoundary, Reply, SetDefaultPolicyVersion,
    UpdatePolicy,
};

use super::params::{Params, bad_value};
use super::{Directory, Plan, policy_id};

/// The actions here, with the parameters each takes.
pub const CUSTOM_ACTIONS: &[(&str, &[&str])] = &[
    (
        "CreatePolicy",
        &["PolicyName", "PolicyDocument", "Description"],
    ),
    (
        "UpdatePolicy",
        &["PolicyId", "PolicyName", "Description", "PolicyDocument"],
    ),
    ("DeletePolicy", &["PolicyId"]),
    (
        "CreatePolicyVersion",
        &["PolicyId", "PolicyDocument", "SetAsDefault"],
    ),
    ("SetDefaultPolicyVersion", &["PolicyId", "VersionId"]),
    ("ListPolicyVersions", &["PolicyId"]),
    ("GetPolicyVersion", &["PolicyId", "VersionId"]),
    ("DeletePolicyVersion", &["PolicyId", "VersionId"]),
    ("PutUserPermissionsBoundary", &["TargetUin", "PolicyId"]),
    ("DeleteUserPermissionsBoundary", &["TargetUin"]),
    ("GetUserPermissionBoundary", &["TargetUin"]),
];

/// How these actions' replies are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomView {
    /// `PolicyId` of the named policy.
    PolicyId(String),
    /// `VersionId`.
    VersionId,
    /// `Versions`.
    Versions,
    /// `PolicyVersion`.
    Version,
    /// A user's boundary.
    Boundary,
}

fn one<O: Op>(op: O, view: CustomView) -> Plan {
    Plan {
        bodies: vec![op.into_body()],
        view: super::views::View::Custom(view),
    }
}

fn empty(bodies: Vec<crate::protocol::Body>) -> Plan {
    Plan {
        bodies,
        view: super::views::View::Empty,
    }
}

fn policy(dir: &dyn Directory, id: u64) -> Result<String, Failure> {
    dir.policy_name(id).ok_or_else(|| {
        Failure::new(
            Code::PolicyIdNotFound,
            format!("no policy has PolicyId {id}"),
        )
    })
}

fn user(dir: &dyn Directory, uin: u64) -> Result<String, Failure> {
    dir.user_name(uin)
        .ok_or_else(|| Failure::new(Code::UserNotExist, format!("no sub-user has uin {uin}")))
}

fn version(id: u64) -> Result<u32, Failure> {
    u32::try_from(id).map_err(|_| bad_value("VersionId", "a version id"))
}

/// The requests one of these actions runs.
pub fn plan(action: &str, p: &Params, dir: &dyn Directory) -> Result<Plan, Failure> {
    let pid = || policy(dir, p.u64("PolicyId")?);
    Ok(match action {
        "CreatePolicy" => {
            let name = p.str("PolicyName")?;
            one(
                CreatePolicy {
                    name: name.clone(),
                    document: p.str("PolicyDocument")?,
                    description: p.opt_str("Description")?.unwrap_or_default(),
                },
                CustomView::PolicyId(name),
            )
        }
        "UpdatePolicy" => {
            let name = match p.opt_u64("PolicyId")? {
                Some(id) => policy(dir, id)?,
                None => p.str("PolicyName")?,
            };
            if p.opt_str("PolicyName")?.is_some_and(|n| n != name) {
                return Err(bad_value(
                    "PolicyName",
                    "the policy's own name (camd does not rename policies)",
                ));
            }
            one(
                UpdatePolicy {
                    name: name.clone(),
                    document: p.opt_str("PolicyDocument")?,
                    description: p.opt_str("Description")?,
                },
                CustomView::PolicyId(name),
            )
        }
        "DeletePolicy" => empty(
            p.u64_list("PolicyId")?
                .into_iter()
                .map(|id| {
                    Ok(DeletePolicy {
                        name: policy(dir, id)?,
                    }
                    .into_body())
                })
                .collect::<Result<_, Failure>>()?,
        ),
        "CreatePolicyVersion" => one(
            CreatePolicyVersion {
                name: pid()?,
                document: p.str("PolicyDocument")?,
                set_default: p.bool("SetAsDefault")?,
            },
            CustomView::VersionId,
        ),
        "SetDefaultPolicyVersion" => empty(vec![
            SetDefaultPolicyVersion {
                name: pid()?,
                version: version(p.u64("VersionId")?)?,
            }
            .into_body(),
        ]),
        "ListPolicyVersions" => one(ListPolicyVersions { name: pid()? }, CustomView::Versions),
        "GetPolicyVersion" => one(
            GetPolicyVersion {
                name: pid()?,
                version: version(p.u64("VersionId")?)?,
            },
            CustomView::Version,
        ),
        "DeletePolicyVersion" => empty(vec![
            DeletePolicyVersion {
                name: pid()?,
                versions: p
                    .u64_list("VersionId")?
                    .into_iter()
                    .map(version)
                    .collect::<Result<_, _>>()?,
            }
            .into_body(),
        ]),
        "PutUserPermissionsBoundary" => empty(vec![
            PutUserPermissionsBoundary {
                user: user(dir, p.u64("TargetUin")?)?,
                policy: pid()?,
            }
            .into_body(),
        ]),
        "DeleteUserPermissionsBoundary" => empty(vec![
            DeleteUserPermissionsBoundary {
                user: user(dir, p.u64("TargetUin")?)?,
            }
            .into_body(),
        ]),
        "GetUserPermissionBoundary" => one(
            GetUserPermissionBoundary {
                user: user(dir, p.u64("TargetUin")?)?,
            },
            CustomView::Boundary,
        ),
        other => {
            return Err(Failure::new(
                Code::InvalidAction,
                format!("action `{other}` has no translation"),
            ));
        }
    })
}

/// A version as ListPolicyVersions shows it (CAM's PolicyVersionItem).
fn version_fields(v: &PolicyVersionInfo) -> Value {
    json!({
        "VersionId": v.version,
        "CreateDate": super::views::time(v.created_ms),
        "IsDefaultVersion": u8::from(v.is_default),
    })
}

/// A version with its document (CAM's PolicyVersionDetail).
fn version_detail(v: &PolicyVersionInfo) -> Value {
    let mut f = version_fields(v);
    if let Value::Object(m) = &mut f {
        m.insert("Document".into(), json!(v.document));
    }
    f
}

fn boundary_fields(b: &BoundaryInfo) -> Value {
    let preset = b.kind.as_deref() == Some("Preset");
    match &b.policy {
        None => json!({"PolicyId": null, "PolicyName": null, "PolicyDocument": null,
                       "PolicyType": null, "CreateMode": null}),
        Some(name) => json!({
            "PolicyId": policy_id(name),
            "PolicyName": name,
            "PolicyDocument": b.document,
            "PolicyType": if preset { "QCS" } else { "User" },
            "CreateMode": if preset { 2 } else { 1 },
        }),
    }
}

/// These actions' responses (`None`: the reply does not fit the view).
pub fn render(view: &CustomView, reply: Reply) -> Option<Value> {
    Some(match (view, reply) {
        (CustomView::PolicyId(name), Reply::Done) => json!({ "PolicyId": policy_id(name) }),
        (CustomView::VersionId, Reply::VersionCreated(v)) => json!({ "VersionId": v.version }),
        (CustomView::Versions, Reply::Versions(vs)) => {
            json!({ "Versions": vs.iter().map(version_fields).collect::<Vec<_>>() })
        }
        (CustomView::Version, Reply::Version(v)) => json!({ "PolicyVersion": version_detail(&v) }),
        (CustomView::Boundary, Reply::Boundary(b)) => boundary_fields(&b),
        _ => return None,
    })
}
