//! The requests camd answers, in one list: each admin operation's request
//! fields and typed reply, named as CAM's API names it. The list makes the
//! wire `Body` (in list order: the order is the wire format, so add at the
//! end, never reorder), the `Op` impl of every request, and `Body::visit`,
//! which hands an admin request to whoever executes it.

use serde::{Deserialize, Serialize};

use super::account::*;
use super::decision_log::DecisionLogInfo;
use super::managed::*;
use super::messages::{
    ApiAnswer, ApiCall, AttachedInfo, AuditInfo, Authorize, AuthorizeAt, AuthorizeSigned,
    Credentials, Decision, GroupDetail, GroupInfo, KeyInfo, PolicyInfo, PolicyStatusInfo,
    ReloadInfo, Reply, ResealInfo, StatusInfo, UserInfo, WireError,
};
use super::roles::*;

/// A request with a typed reply.
pub trait Op: Sized {
    /// The CAM API action name (camd's own name for camd-only requests).
    const NAME: &'static str;
    /// What a successful call returns.
    type Reply: ReplyShape;
    /// This request as a wire body.
    fn into_body(self) -> Body;
    /// The request in `body`, or `body` back when it is another request.
    #[allow(
        clippy::result_large_err,
        reason = "the body is handed back by value so the next request type can take it, uncopied"
    )]
    fn from_body(body: Body) -> Result<Self, Body>;
}

/// A reply type and the wire `Reply` variant that carries it.
pub trait ReplyShape: Sized {
    /// As a wire reply.
    fn into_reply(self) -> Reply;
    /// From a wire reply; the reply back when it has another shape.
    #[allow(
        clippy::result_large_err,
        reason = "the reply is handed back by value, to be shown in the error"
    )]
    fn from_reply(reply: Reply) -> Result<Self, Reply>;
}

macro_rules! shapes {
    ($($t:ty => $v:ident,)*) => {$(
        impl ReplyShape for $t {
            fn into_reply(self) -> Reply {
                Reply::$v(self)
            }
            fn from_reply(reply: Reply) -> Result<Self, Reply> {
                match reply {
                    Reply::$v(x) => Ok(x),
                    other => Err(other),
                }
            }
        }
    )*};
}

shapes! {
    u16 => Pong,
    Decision => Decision,
    Vec<Result<Decision, WireError>> => Decisions,
    Credentials => Credentials,
    UserInfo => User,
    Vec<UserInfo> => Users,
    Vec<GroupInfo> => Groups,
    Vec<String> => Names,
    Vec<PolicyInfo> => Policies,
    Vec<AttachedInfo> => Attached,
    KeyInfo => Key,
    Vec<KeyInfo> => Keys,
    StatusInfo => Status,
    ReloadInfo => Reload,
    PolicyStatusInfo => PolicyStatus,
    Vec<AuditInfo> => Audit,
    String => Metrics,
    ApiAnswer => Api,
    ResealInfo => Resealed,
    VersionCreated => VersionCreated,
    Vec<PolicyVersionInfo> => Versions,
    PolicyVersionInfo => Version,
    BoundaryInfo => Boundary,
    Vec<ActionPermission> => Permissions,
    GroupDetail => GroupDetail,
    AccountSummary => AccountSummary,
    AppIdInfo => AppId,
    PasswordRulesInfo => PasswordRules,
    DecisionLogInfo => DecisionLog,
    RoleInfo => Role,
    Vec<RoleInfo> => Roles,
}

/// The operation was carried out; nothing to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done;

impl ReplyShape for Done {
    fn into_reply(self) -> Reply {
        Reply::Done
    }
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Done => Ok(Done),
            other => Err(other),
        }
    }
}

/// The users and groups a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entities {
    /// User names.
    pub users: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
}

impl ReplyShape for Entities {
    fn into_reply(self) -> Reply {
        Reply::Entities {
            users: self.users,
            groups: self.groups,
        }
    }
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Entities { users, groups } => Ok(Entities { users, groups }),
            other => Err(other),
        }
    }
}

/// Whoever executes admin operations: one `Handle` per operation, all
/// returning `Out` (see [`Body::visit`]).
pub trait Visit {
    /// What handling any operation gives.
    type Out;
}

/// Handles operation `O`.
pub trait Handle<O>: Visit {
    /// Handles `op`.
    fn handle(self, op: O) -> Self::Out;
}

/// The type of a list entry: its payload, or the unit struct of its name.
macro_rules! op_type {
    ($v:ident ($t:ty)) => {
        $t
    };
    ($v:ident) => {
        $v
    };
}

/// `Op` for one list entry.
macro_rules! op_impl {
    ($v:ident ($t:ty) -> $r:ty) => {
        impl Op for $t {
            const NAME: &'static str = stringify!($v);
            type Reply = $r;
            fn into_body(self) -> Body {
                Body::$v(self)
            }
            fn from_body(body: Body) -> Result<Self, Body> {
                match body {
                    Body::$v(op) => Ok(op),
                    other => Err(other),
                }
            }
        }
    };
    ($v:ident -> $r:ty) => {
        impl Op for $v {
            const NAME: &'static str = stringify!($v);
            type Reply = $r;
            fn into_body(self) -> Body {
                Body::$v
            }
            fn from_body(body: Body) -> Result<Self, Body> {
                match body {
                    Body::$v => Ok($v),
                    other => Err(other),
                }
            }
        }
    };
}

/// Splits the list into all entries (for `Body`, in list order) and the
/// admin entries (for the visitor), then emits both.
macro_rules! requests {
    (@split [$($all:tt)*] [$($adm:tt)*]) => {
        requests!(@emit [$($all)*] [$($adm)*]);
    };
    (@split [$($all:tt)*] [$($adm:tt)*]
        $(#[doc = $d:literal])* decision $v:ident $(($t:ty))? -> $r:ty, $($rest:tt)*) => {
        requests!(@split [$($all)* {$(#[doc = $d])* $v $(($t))? -> $r}] [$($adm)*] $($rest)*);
    };
    (@split [$($all:tt)*] [$($adm:tt)*]
        $(#[doc = $d:literal])* admin $v:ident $(($t:ty))? -> $r:ty, $($rest:tt)*) => {
        requests!(@split
            [$($all)* {$(#[doc = $d])* $v $(($t))? -> $r}]
            [$($adm)* {$v $(($t))?}]
            $($rest)*);
    };
    (@emit
        [$({ $(#[doc = $d:literal])* $v:ident $(($t:ty))? -> $r:ty })*]
        [$({ $av:ident $(($at:ty))? })*]
    ) => {
        /// What a request asks. The variants' order is the wire format.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Body {
            $( $(#[doc = $d])* $v $(($t))?, )*
        }

        $( op_impl!($v $(($t))? -> $r); )*

        /// Handles every admin operation.
        pub trait Visitor: Visit $( + Handle<op_type!($av $(($at))?)> )* {}
        impl<T: Visit $( + Handle<op_type!($av $(($at))?)> )*> Visitor for T {}

        /// The CAM action names of the admin operations, in list order.
        pub const ADMIN_OPS: &[&str] = &[$(stringify!($av)),*];

        impl Body {
            /// Hands an admin operation to `v`; any other request comes back.
            #[allow(
                clippy::result_large_err,
                reason = "a request that is not an admin operation comes back by value"
            )]
            pub fn visit<V: Visitor>(self, v: V) -> Result<V::Out, Body> {
                let body = self;
                $(
                    let body = match <op_type!($av $(($at))?) as Op>::from_body(body) {
                        Ok(op) => return Ok(Handle::<op_type!($av $(($at))?)>::handle(v, op)),
                        Err(other) => other,
                    };
                )*
                Err(body)
            }
        }
    };
    ($($list:tt)*) => {
        requests!(@split [] [] $($list)*);
    };
}

requests! {
    /// Liveness and version.
    decision Ping -> u16,
    /// One decision.
    decision Authorize(Authorize) -> Decision,
    /// Several decisions in one frame, answered in order.
    decision Batch(Vec<Authorize>) -> Vec<Result<Decision, WireError>>,
    /// Creates a sub-user; the reply carries its credentials once.
    admin AddUser(AddUser) -> Credentials,
    /// One user.
    admin GetUser(GetUser) -> UserInfo,
    /// Every user.
    admin ListUsers -> Vec<UserInfo>,
    /// Changes a user.
    admin UpdateUser(UpdateUser) -> UserInfo,
    /// Deletes a user (`force`: with their keys).
    admin DeleteUser(DeleteUser) -> Done,
    /// Creates a group.
    admin CreateGroup(CreateGroup) -> Done,
    /// Deletes a group, its memberships and attachments.
    admin DeleteGroup(DeleteGroup) -> Done,
    /// Every group.
    admin ListGroups -> Vec<GroupInfo>,
    /// Adds a user to a group.
    admin AddUserToGroup(AddUserToGroup) -> Done,
    /// Removes a user from a group.
    admin RemoveUserFromGroup(RemoveUserFromGroup) -> Done,
    /// A group's members.
    admin ListUsersForGroup(ListUsersForGroup) -> Vec<UserInfo>,
    /// A user's groups.
    admin ListGroupsForUser(ListGroupsForUser) -> Vec<String>,
    /// Presets and custom policies.
    admin ListPolicies -> Vec<PolicyInfo>,
    /// One policy with its document.
    admin GetPolicy(GetPolicy) -> Vec<PolicyInfo>,
    /// Attaches a policy to a user.
    admin AttachUserPolicy(AttachUserPolicy) -> Done,
    /// Detaches a policy from a user.
    admin DetachUserPolicy(DetachUserPolicy) -> Done,
    /// Attaches a policy to a group.
    admin AttachGroupPolicy(AttachGroupPolicy) -> Done,
    /// Detaches a policy from a group.
    admin DetachGroupPolicy(DetachGroupPolicy) -> Done,
    /// Policies attached to a user (`all`: also through groups).
    admin ListAttachedUserPolicies(ListAttachedUserPolicies) -> Vec<AttachedInfo>,
    /// Policies attached to a group.
    admin ListAttachedGroupPolicies(ListAttachedGroupPolicies) -> Vec<AttachedInfo>,
    /// Users and groups a policy is attached to.
    admin ListEntitiesForPolicy(ListEntitiesForPolicy) -> Entities,
    /// Creates an access key; the reply carries the SecretKey once.
    admin CreateAccessKey(CreateAccessKey) -> Credentials,
    /// Enables or disables an access key.
    admin UpdateAccessKey(UpdateAccessKey) -> KeyInfo,
    /// Deletes an access key.
    admin DeleteAccessKey(DeleteAccessKey) -> Done,
    /// A user's (or the root account's) access keys.
    admin ListAccessKeys(ListAccessKeys) -> Vec<KeyInfo>,
    /// Counts and health.
    admin Status -> StatusInfo,
    /// Reloads the custom policy folder and waits for the outcome.
    admin ReloadPolicies -> ReloadInfo,
    /// The loaded policies, the last reload, dangling attachments.
    admin PolicyStatus -> PolicyStatusInfo,
    /// Audit entries (operator only).
    admin Audit(Audit) -> Vec<AuditInfo>,
    /// The metrics in the Prometheus text format (operator only).
    admin GetMetrics -> String,
    /// Verifies a TC3-signed request and decides for its signer.
    decision AuthorizeSigned(AuthorizeSigned) -> Decision,
    /// A TC3-signed CAM API 3.0 call (as `camd-api` receives it over HTTP),
    /// verified, run as the signer, and answered in CAM's JSON.
    decision CallApi(ApiCall) -> ApiAnswer,
    /// Re-seals every SecretKey under the current sealing key (operator only).
    admin KeyReseal -> ResealInfo,
    /// Creates an API-managed custom policy.
    admin CreatePolicy(CreatePolicy) -> Done,
    /// Changes an API-managed policy's default version or description.
    admin UpdatePolicy(UpdatePolicy) -> Done,
    /// Deletes an API-managed policy nothing uses.
    admin DeletePolicy(DeletePolicy) -> Done,
    /// Adds a version to an API-managed policy.
    admin CreatePolicyVersion(CreatePolicyVersion) -> VersionCreated,
    /// Makes a version the one decisions use, in one step.
    admin SetDefaultPolicyVersion(SetDefaultPolicyVersion) -> Done,
    /// A policy's versions.
    admin ListPolicyVersions(ListPolicyVersions) -> Vec<PolicyVersionInfo>,
    /// One version with its document.
    admin GetPolicyVersion(GetPolicyVersion) -> PolicyVersionInfo,
    /// Deletes versions other than the default.
    admin DeletePolicyVersion(DeletePolicyVersion) -> Done,
    /// Sets a user's permissions boundary.
    admin PutUserPermissionsBoundary(PutUserPermissionsBoundary) -> Done,
    /// Removes a user's permissions boundary.
    admin DeleteUserPermissionsBoundary(DeleteUserPermissionsBoundary) -> Done,
    /// A user's permissions boundary.
    admin GetUserPermissionBoundary(GetUserPermissionBoundary) -> BoundaryInfo,
    /// What a user may do, per catalogued action, and from where.
    admin UserPermissions(UserPermissions) -> Vec<ActionPermission>,
    /// Cluster mode: one decision, made once this host's state has reached
    /// a revision (one a write on any host returned).
    decision AuthorizeAt(AuthorizeAt) -> Decision,
    /// One group with its members.
    admin GetGroup(GetGroup) -> GroupDetail,
    /// Changes a group's remark.
    admin UpdateGroup(UpdateGroup) -> Done,
    /// Counts of the account's policies, users, groups and memberships.
    admin GetAccountSummary -> AccountSummary,
    /// The account's AppId and owner uin.
    admin GetUserAppId -> AppIdInfo,
    /// Sub-users by uin.
    admin DescribeSubAccounts(DescribeSubAccounts) -> Vec<UserInfo>,
    /// Every sub-user (CAM's ListAccounts).
    admin ListAccounts -> Vec<UserInfo>,
    /// When access keys were last used.
    admin GetSecurityLastUsed(GetSecurityLastUsed) -> Vec<KeyInfo>,
    /// The password rules in force.
    admin GetPasswordRules -> PasswordRulesInfo,
    /// Replaces the password rules.
    admin UpdatePasswordRules(UpdatePasswordRules) -> Done,
    /// The decision log: sinks, rules, drops (operator only).
    admin DecisionLogStatus -> DecisionLogInfo,
    /// Creates a role; the role as created (with its RoleId).
    admin CreateRole(CreateRole) -> RoleInfo,
    /// One role.
    admin GetRole(GetRole) -> RoleInfo,
    /// Every role.
    admin DescribeRoleList -> Vec<RoleInfo>,
    /// Deletes a role.
    admin DeleteRole(DeleteRole) -> Done,
    /// Replaces a role's trust policy.
    admin UpdateAssumeRolePolicy(UpdateAssumeRolePolicy) -> Done,
    /// Changes a role's description.
    admin UpdateRoleDescription(UpdateRoleDescription) -> Done,
    /// Allows or forbids a role's console sign-in.
    admin UpdateRoleConsoleLogin(UpdateRoleConsoleLogin) -> Done,
    /// Changes the longest session a role gives.
    admin UpdateRoleSessionDuration(UpdateRoleSessionDuration) -> Done,
    /// Attaches a policy to a role.
    admin AttachRolePolicy(AttachRolePolicy) -> Done,
    /// Detaches a policy from a role.
    admin DetachRolePolicy(DetachRolePolicy) -> Done,
    /// The policies attached to a role.
    admin ListAttachedRolePolicies(ListAttachedRolePolicies) -> Vec<AttachedInfo>,
    /// Sets a role's permissions boundary.
    admin PutRolePermissionsBoundary(PutRolePermissionsBoundary) -> Done,
    /// Removes a role's permissions boundary.
    admin DeleteRolePermissionsBoundary(DeleteRolePermissionsBoundary) -> Done,
    /// A role's permissions boundary.
    admin GetRolePermissionBoundary(GetRolePermissionBoundary) -> BoundaryInfo,
    /// Sets tags on a role.
    admin TagRole(TagRole) -> Done,
    /// Removes tags from a role.
    admin UntagRole(UntagRole) -> Done,
}

/// Liveness and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping;

/// A new user, as the console creates one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUser {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// Allow console login.
    pub console_login: bool,
    /// The console password; generated when login is on and this is empty.
    pub password: Option<String>,
    /// Must change the password at first login.
    pub need_reset_password: bool,
    /// Create an access key.
    pub use_api: bool,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// Policies to attach.
    pub policies: Vec<String>,
}

/// One user, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GetUser {
    /// The user.
    pub name: String,
}

/// Every user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListUsers;

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    /// The user.
    pub name: String,
    /// A new name.
    pub new_name: Option<String>,
    /// A new remark.
    pub remark: Option<String>,
    /// Console login on or off.
    pub console_login: Option<bool>,
    /// A new password.
    pub password: Option<String>,
    /// Must change the password at next login.
    pub need_reset_password: Option<bool>,
    /// A new e-mail.
    pub email: Option<String>,
    /// A new phone.
    pub phone: Option<String>,
}

/// Deletes a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteUser {
    /// The user.
    pub name: String,
    /// Also delete their access keys.
    pub force: bool,
}

/// Creates a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroup {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
}

/// Deletes a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeleteGroup {
    /// The group.
    pub name: String,
}

/// Every group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListGroups;

/// Adds a user to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddUserToGroup {
    /// The group.
    pub group: String,
    /// The user.
    pub user: String,
}

/// Removes a user from a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveUserFromGroup {
    /// The group.
    pub group: String,
    /// The user.
    pub user: String,
}

/// A group's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListUsersForGroup {
    /// The group.
    pub group: String,
}

/// A user's groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListGroupsForUser {
    /// The user.
    pub user: String,
}

/// Presets and custom policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPolicies;

/// One policy with its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GetPolicy {
    /// The policy.
    pub policy: String,
}

/// Attaches a policy to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachUserPolicy {
    /// The user.
    pub user: String,
    /// The policy.
    pub policy: String,
}

/// Detaches a policy from a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetachUserPolicy {
    /// The user.
    pub user: String,
    /// The policy.
    pub policy: String,
}

/// Attaches a policy to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachGroupPolicy {
    /// The group.
    pub group: String,
    /// The policy.
    pub policy: String,
}

/// Detaches a policy from a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetachGroupPolicy {
    /// The group.
    pub group: String,
    /// The policy.
    pub policy: String,
}

/// Policies attached to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAttachedUserPolicies {
    /// The user.
    pub user: String,
    /// Also those attached to the user's groups (CAM's ListAttachedUserAllPolicies).
    pub all: bool,
}

/// Policies attached to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListAttachedGroupPolicies {
    /// The group.
    pub group: String,
}

/// Users and groups a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListEntitiesForPolicy {
    /// The policy.
    pub policy: String,
}

/// Creates an access key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccessKey {
    /// The user (`None`: the root account).
    pub user: Option<String>,
    /// Free text (CAM's Description: at most 1024 characters).
    pub description: String,
}

/// Enables or disables an access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAccessKey {
    /// The key.
    pub secret_id: String,
    /// Active or not.
    pub active: bool,
}

/// Deletes an access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeleteAccessKey {
    /// The key.
    pub secret_id: String,
}

/// A user's (or the root account's) access keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListAccessKeys {
    /// The user (`None`: the root account).
    pub user: Option<String>,
}

/// Counts and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status;

/// Reloads the custom policy folder and waits for the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadPolicies;

/// The loaded policies, the last reload, dangling attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyStatus;

/// Audit entries with `seq >= since`, oldest first, at most `limit` (operator only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The first sequence number wanted.
    pub since: u64,
    /// The most entries returned (camd caps it at 10,000).
    pub limit: u32,
}

/// The metrics in the Prometheus text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetMetrics;

/// The decision log's state (operator only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionLogStatus;

/// Re-seals every SecretKey under the current sealing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyReseal;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::{Request, decode_request, encode_request};

    #[test]
    fn requests_round_trip_through_their_body() {
        let op = AttachUserPolicy {
            user: "a".into(),
            policy: "P".into(),
        };
        let body = op.clone().into_body();
        assert_eq!(AttachUserPolicy::from_body(body.clone()), Ok(op));
        assert!(GetUser::from_body(body).is_err());
        assert_eq!(ListUsers::from_body(Body::ListUsers), Ok(ListUsers));
    }

    #[test]
    fn the_wire_keeps_its_old_bytes_and_json() {
        // GetUser(String) and DeleteUser { name, force } as version 1 wrote them.
        let frame = encode_request(&Request {
            id: 7,
            auth: None,
            body: Body::GetUser(GetUser {
                name: "alice".into(),
            }),
            traceparent: None,
        })
        .unwrap();
        assert_eq!(
            frame,
            [0, 0, 0, 9, 7, 0, 4, 5, b'a', b'l', b'i', b'c', b'e']
        );
        assert_eq!(decode_request(&frame[4..]).unwrap().id, 7);
        let json = serde_json::to_string(&Body::GetUser(GetUser {
            name: "alice".into(),
        }))
        .unwrap();
        assert_eq!(json, r#"{"GetUser":"alice"}"#);
        assert_eq!(
            serde_json::to_string(&Body::ListUsers).unwrap(),
            r#""ListUsers""#
        );
        let json = serde_json::to_string(&Body::DeleteUser(DeleteUser {
            name: "a".into(),
            force: true,
        }))
        .unwrap();
        assert_eq!(json, r#"{"DeleteUser":{"name":"a","force":true}}"#);
        assert_eq!(ADMIN_OPS.first(), Some(&"AddUser"));
        assert_eq!(ADMIN_OPS.len(), 69);
        assert_eq!(ADMIN_OPS.last(), Some(&"UntagRole"));
    }
}
