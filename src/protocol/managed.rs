//! Wire types of API-managed policies, their versions, permissions
//! boundaries and the "what can this user do" view.

use serde::{Deserialize, Serialize};

/// A tag: a key and a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Creates an API-managed custom policy (its document becomes version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePolicy {
    /// Unique among all policies.
    pub name: String,
    /// The CAM 2.0 document.
    pub document: String,
    /// Free text.
    pub description: String,
    /// At most 50 tags.
    pub tags: Vec<Tag>,
}

/// Changes an API-managed policy: its default version's document and/or its
/// description (`None` leaves it); or a preset's alias (its remark).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePolicy {
    /// The policy.
    pub name: String,
    /// A new document for the default version.
    pub document: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A preset's new alias (empty: none).
    pub alias: Option<String>,
}

/// The password rules in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetPasswordRules;

/// CAM's password rules (PassWordRule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRulesInfo {
    /// The shortest password (8-32).
    pub minimum_length: u32,
    /// Classes a password must have: `A`, `a`, `0`, `#`.
    pub must_contain: String,
    /// Days a password lasts (0: forever).
    pub force_change_days: u32,
    /// Earlier passwords a new one may not repeat.
    pub reuse_limit: u32,
    /// Wrong passwords before the console locks the user (0: no limit).
    pub retry_limit: u32,
    /// 1: an expired password blocks sign-in; 2: it must be changed.
    pub expiration_invalidation: u8,
    /// Last changed (ms; 0: the defaults, never set).
    pub updated_ms: i64,
    /// Who changed them last.
    pub modifier: String,
}

/// Changes the password rules (`None` leaves a rule as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePasswordRules {
    /// The shortest password (8-32).
    pub minimum_length: Option<u32>,
    /// Classes a password must have: `A`, `a`, `0`, `#`.
    pub must_contain: Option<String>,
    /// Days a password lasts (0: forever).
    pub force_change_days: Option<u32>,
    /// Earlier passwords a new one may not repeat (at most 24).
    pub reuse_limit: Option<u32>,
    /// Wrong passwords before the console locks the user (0: no limit).
    pub retry_limit: Option<u32>,
    /// 1: an expired password blocks sign-in; 2: it must be changed.
    pub expiration_invalidation: Option<u8>,
}

/// Deletes an API-managed policy that nothing uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeletePolicy {
    /// The policy.
    pub name: String,
}

/// Adds a version to an API-managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePolicyVersion {
    /// The policy.
    pub name: String,
    /// The document.
    pub document: String,
    /// Make it the version decisions use.
    pub set_default: bool,
}

/// The version a new version got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCreated {
    /// Its id.
    pub version: u32,
}

/// Makes a version the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDefaultPolicyVersion {
    /// The policy.
    pub name: String,
    /// The version.
    pub version: u32,
}

/// A policy's versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListPolicyVersions {
    /// The policy.
    pub name: String,
}

/// One version, with its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetPolicyVersion {
    /// The policy.
    pub name: String,
    /// The version.
    pub version: u32,
}

/// Deletes versions (never the default one); all or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletePolicyVersion {
    /// The policy.
    pub name: String,
    /// The versions.
    pub versions: Vec<u32>,
}

/// A policy version as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionInfo {
    /// Its id.
    pub version: u32,
    /// Whether decisions use it.
    pub is_default: bool,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// The document.
    pub document: String,
}

/// Sets a user's permissions boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutUserPermissionsBoundary {
    /// The user.
    pub user: String,
    /// The policy that bounds them.
    pub policy: String,
}

/// Removes a user's permissions boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeleteUserPermissionsBoundary {
    /// The user.
    pub user: String,
}

/// A user's permissions boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GetUserPermissionBoundary {
    /// The user.
    pub user: String,
}

/// A user's boundary as shown (`policy` `None`: unbounded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundaryInfo {
    /// The boundary policy.
    pub policy: Option<String>,
    /// `Preset`, `Custom` (a file) or `Api`.
    pub kind: Option<super::kind::PolicyKind>,
    /// Its document (the default version's for an API-managed policy).
    pub document: Option<String>,
}

/// What a user may do, per catalogued action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPermissions {
    /// The user.
    pub user: String,
    /// Only this service's actions (`im`, `cam`).
    pub service: Option<String>,
}

/// One statement's part in a user's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// The policy.
    pub policy: String,
    /// The statement's index.
    pub statement: u32,
    /// Where the policy comes from: `direct`, `group:NAME` or `boundary`.
    pub via: String,
    /// Resource patterns as written.
    pub resources: Vec<String>,
    /// Conditions as written (not evaluated).
    pub conditions: Vec<String>,
}

/// What a user may do with one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPermission {
    /// `service:Name`.
    pub action: String,
    /// `Allowed`, `Partly` or `Denied`.
    pub access: String,
    /// Allow statements of the user's policies.
    pub allow: Vec<GrantInfo>,
    /// Deny statements (the policies' and the boundary's).
    pub deny: Vec<GrantInfo>,
    /// The boundary's allow statements (`None`: no boundary; empty: the
    /// boundary allows none of it).
    pub boundary: Option<Vec<GrantInfo>>,
}
