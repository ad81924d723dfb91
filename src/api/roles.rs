//! CAM's role actions: CreateRole, GetRole, DescribeRoleList, DeleteRole,
//! UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRoleConsoleLogin,
//! UpdateRoleSessionDuration, AttachRolePolicy, DetachRolePolicy,
//! ListAttachedRolePolicies, Put/DeleteRolePermissionsBoundary,
//! GetRolePermissionBoundary, TagRole, UntagRole. A role is named by
//! RoleId or RoleName ("one of the two"); a RoleId is taken as a string or
//! an integer, since CAM's models type it both ways.

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::{self as op, AttachedInfo, BoundaryInfo, RoleInfo, Tag};

use super::action::{Action, last};
use super::params::{Paging, bad_value};
use super::{Directory, Params, fields};

/// The role a call names by `id` (RoleId) or `name` (RoleName); both given
/// must name the same role.
fn role_of(p: &Params, dir: &dyn Directory, id: &str, name: &str) -> Result<String, Failure> {
    let by_name = p.opt_str(name)?;
    match p.opt_id(id)? {
        Some(rid) => {
            let found = dir.role(rid)?;
            if by_name.as_ref().is_some_and(|n| *n != found) {
                return Err(bad_value(
                    name,
                    &format!(
                        "the name of role {rid} (`{found}`) when both {id} and {name} are given"
                    ),
                ));
            }
            Ok(found)
        }
        None => by_name.ok_or_else(|| {
            Failure::new(
                Code::MissingParameter,
                format!("parameter `{id}` or `{name}` is missing"),
            )
        }),
    }
}

/// The role of RoleId / RoleName.
fn role(p: &Params, dir: &dyn Directory) -> Result<String, Failure> {
    role_of(p, dir, "RoleId", "RoleName")
}

/// The policy of PolicyId / PolicyName ("one of the two").
fn policy_of(p: &Params, dir: &dyn Directory) -> Result<String, Failure> {
    match (p.opt_u64("PolicyId")?, p.opt_str("PolicyName")?) {
        (Some(id), _) => dir.policy(id),
        (None, Some(name)) => Ok(name),
        (None, None) => Err(Failure::new(
            Code::MissingParameter,
            "parameter `PolicyId` or `PolicyName` is missing",
        )),
    }
}

/// Tags as CAM's RoleTags list gives them.
fn tags_of(p: &Params, name: &str) -> Result<Vec<Tag>, Failure> {
    p.opt_list(name, &["Key", "Value"])?
        .iter()
        .map(|t| {
            Ok(Tag {
                key: t.str("Key")?,
                value: t.str("Value")?,
            })
        })
        .collect()
}

/// A session length as CAM gives it (0-43200 seconds).
fn session_of(p: &Params, name: &str) -> Result<Option<u32>, Failure> {
    p.opt_u64(name)?
        .map(|s| {
            u32::try_from(s)
                .ok()
                .filter(|s| *s <= crate::protocol::MAX_SESSION_DURATION)
                .ok_or_else(|| bad_value(name, "between 0 and 43200 seconds"))
        })
        .transpose()
}

/// A role as GetRole and DescribeRoleList show it (CAM's RoleInfo).
pub fn role_info(r: &RoleInfo, owner_uin: u64) -> Value {
    json!({
        "RoleId": r.id.to_string(),
        "RoleName": r.name,
        "PolicyDocument": r.document,
        "Description": r.description,
        "AddTime": fields::time(r.created_ms),
        "UpdateTime": fields::time(r.updated_ms),
        "ConsoleLogin": u8::from(r.console_login),
        "RoleType": "user",
        "SessionDuration": r.session_duration,
        "DeletionTaskId": null,
        "Tags": fields::tags(&r.tags),
        "RoleArn": format!("qcs::cam::uin/{owner_uin}:roleName/{}", r.name),
    })
}

/// Creates a role.
pub struct CreateRole;

impl Action for CreateRole {
    const NAME: &'static str = "CreateRole";
    const PARAMS: &'static [&'static str] = &[
        "RoleName",
        "PolicyDocument",
        "Description",
        "ConsoleLogin",
        "SessionDuration",
        "Tags",
    ];
    type Op = op::CreateRole;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::CreateRole>), Failure> {
        let op = op::CreateRole {
            name: p.str("RoleName")?,
            document: p.str("PolicyDocument")?,
            description: p.text("Description")?,
            console_login: p.opt_flag("ConsoleLogin")?.unwrap_or(false),
            session_duration: session_of(p, "SessionDuration")?.unwrap_or(0),
            tags: tags_of(p, "Tags")?,
        };
        Ok((Self, vec![op]))
    }

    fn render(self, replies: Vec<RoleInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "RoleId": last(replies)?.id.to_string() }))
    }
}

/// One role, by RoleId or RoleName.
pub struct GetRole;

impl Action for GetRole {
    const NAME: &'static str = "GetRole";
    const PARAMS: &'static [&'static str] = &["RoleId", "RoleName"];
    type Op = op::GetRole;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::GetRole>), Failure> {
        Ok((
            Self,
            vec![op::GetRole {
                role: role(p, dir)?,
            }],
        ))
    }

    fn render(self, replies: Vec<RoleInfo>, dir: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "RoleInfo": role_info(&last(replies)?, dir.owner_uin()) }))
    }
}

/// Every role, paged, filtered by tags (each given tag must be on the role).
pub struct DescribeRoleList(Paging, Vec<Tag>);

impl Action for DescribeRoleList {
    const NAME: &'static str = "DescribeRoleList";
    const PARAMS: &'static [&'static str] = &["Page", "Rp", "Tags"];
    type Op = op::DescribeRoleList;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::DescribeRoleList>), Failure> {
        let this = Self(p.paging()?, tags_of(p, "Tags")?);
        Ok((this, vec![op::DescribeRoleList]))
    }

    fn render(self, replies: Vec<Vec<RoleInfo>>, dir: &dyn Directory) -> Result<Value, Failure> {
        let Self(paging, tags) = self;
        let items = last(replies)?
            .iter()
            .filter(|r| tags.iter().all(|t| r.tags.contains(t)))
            .map(|r| role_info(r, dir.owner_uin()))
            .collect();
        Ok(fields::page(paging, items, "List"))
    }
}

/// Defines an action that names a role and maps its other parameters into
/// the operation's fields.
macro_rules! role_action {
    ($(#[$doc:meta])* $name:ident, [$($param:literal),*], |$p:ident, $dir:ident| { $($field:ident: $value:expr),* }) => {
        $(#[$doc])*
        pub struct $name;

        impl Action for $name {
            const NAME: &'static str = stringify!($name);
            const PARAMS: &'static [&'static str] = &["RoleId", "RoleName", $($param),*];
            type Op = op::$name;

            fn plan($p: &Params, $dir: &dyn Directory) -> Result<(Self, Vec<op::$name>), Failure> {
                let op = op::$name { role: role($p, $dir)?, $($field: $value),* };
                Ok((Self, vec![op]))
            }
        }
    };
}

role_action!(
    /// Deletes a role.
    DeleteRole, [], |p, dir| {}
);
role_action!(
    /// Replaces a role's trust policy.
    UpdateAssumeRolePolicy, ["PolicyDocument"], |p, dir| { document: p.str("PolicyDocument")? }
);
role_action!(
    /// Changes a role's description.
    UpdateRoleDescription, ["Description"], |p, dir| { description: p.str("Description")? }
);
role_action!(
    /// Allows (1) or forbids (0) a role's console sign-in.
    UpdateRoleConsoleLogin, ["ConsoleLogin"], |p, dir| {
        console_login: p.opt_flag("ConsoleLogin")?.ok_or_else(|| {
            Failure::new(Code::MissingParameter, "parameter `ConsoleLogin` is missing")
        })?
    }
);
role_action!(
    /// Changes the longest session a role gives.
    UpdateRoleSessionDuration, ["SessionDuration"], |p, dir| {
        session_duration: session_of(p, "SessionDuration")?.ok_or_else(|| {
            Failure::new(Code::MissingParameter, "parameter `SessionDuration` is missing")
        })?
    }
);
role_action!(
    /// Sets a role's permissions boundary.
    PutRolePermissionsBoundary, ["PolicyId"], |p, dir| { policy: policy_of(p, dir)? }
);
role_action!(
    /// Removes a role's permissions boundary.
    DeleteRolePermissionsBoundary, [], |p, dir| {}
);
role_action!(
    /// Sets tags on a role.
    TagRole, ["Tags"], |p, dir| { tags: {
        let tags = tags_of(p, "Tags")?;
        if tags.is_empty() {
            return Err(bad_value("Tags", "at least one tag"));
        }
        tags
    } }
);
role_action!(
    /// Removes tags from a role, by key.
    UntagRole, ["TagKeys"], |p, dir| { keys: p.str_list("TagKeys")? }
);

/// Defines AttachRolePolicy or DetachRolePolicy, whose role parameters
/// carry the action's prefix (`AttachRoleId`, `DetachRoleName`).
macro_rules! attach_role_action {
    ($(#[$doc:meta])* $name:ident, $id:literal, $role:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl Action for $name {
            const NAME: &'static str = stringify!($name);
            const PARAMS: &'static [&'static str] = &["PolicyId", "PolicyName", $id, $role];
            type Op = op::$name;

            fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::$name>), Failure> {
                let op = op::$name {
                    role: role_of(p, dir, $id, $role)?,
                    policy: policy_of(p, dir)?,
                };
                Ok((Self, vec![op]))
            }
        }
    };
}

attach_role_action!(
    /// Attaches a policy to a role.
    AttachRolePolicy, "AttachRoleId", "AttachRoleName"
);
attach_role_action!(
    /// Detaches a policy from a role.
    DetachRolePolicy, "DetachRoleId", "DetachRoleName"
);

/// The policies attached to a role, paged, filtered by PolicyType (`User`
/// custom, `QCS` preset) and Keyword.
pub struct ListAttachedRolePolicies {
    paging: Paging,
    preset: Option<bool>,
    keyword: String,
}

impl Action for ListAttachedRolePolicies {
    const NAME: &'static str = "ListAttachedRolePolicies";
    const PARAMS: &'static [&'static str] =
        &["Page", "Rp", "RoleId", "RoleName", "PolicyType", "Keyword"];
    type Op = op::ListAttachedRolePolicies;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListAttachedRolePolicies>), Failure> {
        let preset = match p.opt_str("PolicyType")?.as_deref() {
            None | Some("") => None,
            Some("User") => Some(false),
            Some("QCS") => Some(true),
            Some(_) => return Err(bad_value("PolicyType", "`User` or `QCS`")),
        };
        let this = Self {
            paging: p.paging()?,
            preset,
            keyword: p.text("Keyword")?,
        };
        Ok((
            this,
            vec![op::ListAttachedRolePolicies {
                role: role(p, dir)?,
            }],
        ))
    }

    fn render(self, replies: Vec<Vec<AttachedInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let items = last(replies)?
            .iter()
            .filter(|a| a.policy.contains(self.keyword.as_str()))
            .filter(|a| {
                self.preset
                    .is_none_or(|p| fields::is_preset(&a.policy) == p)
            })
            .map(|a| fields::with(fields::attached(a), "Description", json!("")))
            .collect();
        Ok(fields::page(self.paging, items, "List"))
    }
}

/// A role's boundary (RoleId alone, as CAM's model requires).
pub struct GetRolePermissionBoundary;

impl Action for GetRolePermissionBoundary {
    const NAME: &'static str = "GetRolePermissionBoundary";
    const PARAMS: &'static [&'static str] = &["RoleId"];
    type Op = op::GetRolePermissionBoundary;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::GetRolePermissionBoundary>), Failure> {
        let id = p
            .opt_id("RoleId")?
            .ok_or_else(|| Failure::new(Code::MissingParameter, "parameter `RoleId` is missing"))?;
        let op = op::GetRolePermissionBoundary {
            role: dir.role(id)?,
        };
        Ok((Self, vec![op]))
    }

    fn render(self, replies: Vec<BoundaryInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(fields::boundary(&last(replies)?))
    }
}
