//! The wire types of roles: CAM's role actions, each naming its role by
//! name (camd-api turns CAM's RoleId into the name).

use serde::{Deserialize, Serialize};

use super::managed::Tag;

/// The longest session a role may allow, in seconds (CAM: 0-43200).
pub const MAX_SESSION_DURATION: u32 = 43_200;

/// A role as GetRole and DescribeRoleList show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleInfo {
    /// CAM's RoleId.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The trust policy as written.
    pub document: String,
    /// Free text.
    pub description: String,
    /// May sign in to the console.
    pub console_login: bool,
    /// The longest session AssumeRole gives, in seconds (0: STS's own limit).
    pub session_duration: u32,
    /// Its tags.
    pub tags: Vec<Tag>,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Last changed, ms since the epoch.
    pub updated_ms: i64,
    /// Its permissions boundary, if any.
    pub boundary: Option<String>,
}

/// Creates a role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRole {
    /// Unique name.
    pub name: String,
    /// The trust policy: who may assume the role.
    pub document: String,
    /// Free text (at most 300 bytes).
    pub description: String,
    /// May sign in to the console.
    pub console_login: bool,
    /// The longest session, 0-43200 seconds (0: STS's own limit).
    pub session_duration: u32,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// Requests that name one role and nothing else.
macro_rules! by_role {
    ($($(#[doc = $d:literal])* $name:ident,)*) => {$(
        $(#[doc = $d])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name {
            /// The role.
            pub role: String,
        }
    )*};
}

by_role! {
    /// One role.
    GetRole,
    /// Deletes a role with its attachments and boundary.
    DeleteRole,
    /// The policies attached to a role.
    ListAttachedRolePolicies,
    /// Removes a role's permissions boundary.
    DeleteRolePermissionsBoundary,
    /// A role's permissions boundary.
    GetRolePermissionBoundary,
}

/// Every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescribeRoleList;

/// Replaces a role's trust policy (every session of the role ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAssumeRolePolicy {
    /// The role.
    pub role: String,
    /// The new trust policy.
    pub document: String,
}

/// Changes a role's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoleDescription {
    /// The role.
    pub role: String,
    /// The new description.
    pub description: String,
}

/// Allows or forbids a role's console sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoleConsoleLogin {
    /// The role.
    pub role: String,
    /// Allowed.
    pub console_login: bool,
}

/// Changes the longest session a role gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoleSessionDuration {
    /// The role.
    pub role: String,
    /// 0-43200 seconds (0: STS's own limit).
    pub session_duration: u32,
}

/// A role and a policy: attaching, detaching, or setting the boundary.
macro_rules! role_and_policy {
    ($($(#[doc = $d:literal])* $name:ident,)*) => {$(
        $(#[doc = $d])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            /// The role.
            pub role: String,
            /// The policy.
            pub policy: String,
        }
    )*};
}

role_and_policy! {
    /// Attaches a policy to a role.
    AttachRolePolicy,
    /// Detaches a policy from a role.
    DetachRolePolicy,
    /// Sets a role's permissions boundary.
    PutRolePermissionsBoundary,
}

/// Sets tags on a role (a key it has gets the new value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRole {
    /// The role.
    pub role: String,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// Removes tags from a role, by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntagRole {
    /// The role.
    pub role: String,
    /// The tags' keys.
    pub keys: Vec<String>,
}
