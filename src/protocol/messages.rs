//! Request and response types as they cross the socket. They are a
//! compatibility promise: add variants at the end, never reorder.

use serde::{Deserialize, Serialize};

use super::kind::PolicyKind;

/// A user named by name or by uin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserRef {
    /// By name.
    Name(String),
    /// By uin.
    Uin(u64),
}

/// An access key presented with a request (the SecretKey in clear: only over the local socket).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAuth {
    /// `AKID…`.
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: String,
}

impl std::fmt::Debug for KeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAuth")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

/// One authorization question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authorize {
    /// By access key: authenticate it, then decide for its owner.
    ByKey {
        /// The key.
        key: KeyAuth,
        /// e.g. `im:SendMessage`.
        action: String,
        /// e.g. `qcs::im::uin/100000000001:sdkappid/1400000001`.
        resource: String,
        /// Context pairs; a key given twice is multi-valued.
        context: Vec<(String, String)>,
    },
    /// For a user the caller authenticated itself.
    ByUser {
        /// The user.
        user: UserRef,
        /// The action.
        action: String,
        /// The resource.
        resource: String,
        /// Context pairs.
        context: Vec<(String, String)>,
    },
}

/// A decision at least at a revision of the shared truth (cluster mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeAt {
    /// The revision a write returned.
    pub min_revision: i64,
    /// The decision.
    pub ask: Authorize,
}

/// An HTTP request as received, for TC3 verification: nothing re-serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHttp {
    /// `POST` or `GET`.
    pub method: String,
    /// The path (`/`).
    pub path: String,
    /// The query string, without `?` (empty for POST).
    pub query: String,
    /// The headers as received (at least Authorization, Content-Type, Host,
    /// X-TC-Timestamp; X-TC-Action names the default action).
    pub headers: Vec<(String, String)>,
    /// The body, or its SHA-256.
    pub payload: SignedPayload,
}

/// A signed request's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignedPayload {
    /// The bytes received (one length and the bytes on the wire).
    Body(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Their SHA-256 in hex, for a caller that streams large bodies.
    Sha256Hex(String),
}

/// Verify a signed request, then decide for its signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeSigned {
    /// The request as received.
    pub request: SignedHttp,
    /// The resource.
    pub resource: String,
    /// Context pairs.
    pub context: Vec<(String, String)>,
    /// The action (`im:SendMessage`), or only the asking service's name
    /// (`im`: the action is `im:<X-TC-Action>`); the signature's scope must
    /// name that service. `None` is refused (`MissingParameter`).
    pub action: Option<String>,
}

/// The header in which a trusted gateway (camd-api) names the client a
/// signed request came from (camd-api replaces any the client sent); camd
/// reads it only from a gateway peer, and throttles failures by it.
pub const CLIENT_ADDRESS: &str = "x-camd-client-address";

/// A CAM API 3.0 call as `camd-api` received it over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The request as received (its payload must be the body).
    pub request: SignedHttp,
}

/// A CAM API 3.0 answer: the JSON body, `{"Response": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiAnswer {
    /// The body.
    pub json: String,
}

/// What re-sealing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResealInfo {
    /// The id of the sealing key every sealed copy is now under (hex).
    pub sealing_key: String,
    /// Keys re-sealed by this call.
    pub resealed: u64,
    /// Keys that already were under it.
    pub current: u64,
    /// Keys without a sealed copy (made before camd kept them): rotate them.
    pub unsealed: Vec<String>,
}

/// An error reply: the CAM error code and a message naming the bad input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// e.g. `ResourceNotFound.UserNotExist`.
    pub code: String,
    /// Lowercase, names the bad input.
    pub message: String,
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Allowed or not.
    pub allowed: bool,
    /// `Root`, `Allow`, `ExplicitDeny`, `FailClosedDeny` or `ImplicitDeny`.
    pub reason: String,
    /// The deciding policy.
    pub policy: Option<String>,
    /// The deciding statement's index.
    pub statement: Option<u32>,
    /// The principal decided for.
    pub uin: u64,
}

/// A user as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Uin.
    pub uin: u64,
    /// Name.
    pub name: String,
    /// Remark.
    pub remark: String,
    /// Console login allowed.
    pub console_login: bool,
    /// Must reset the password.
    pub need_reset_password: bool,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Groups.
    pub groups: Vec<String>,
}

/// The credentials of a new user or key, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The user's uin (the owner uin for a root key).
    pub uin: u64,
    /// The user's name.
    pub name: String,
    /// The console login link.
    pub login_link: Option<String>,
    /// The console password.
    pub password: Option<String>,
    /// The access key id.
    pub secret_id: Option<String>,
    /// The SecretKey.
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("uin", &self.uin)
            .field("name", &self.name)
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

/// A group as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// Name.
    pub name: String,
    /// Remark.
    pub remark: String,
    /// Created.
    pub created_ms: i64,
    /// Number of members.
    pub members: u32,
}

/// A group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    /// The group.
    pub group: GroupInfo,
    /// Its members.
    pub members: Vec<UserInfo>,
}

/// A policy as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// Name.
    pub name: String,
    /// Where it comes from.
    pub kind: PolicyKind,
    /// What it grants.
    pub description: String,
    /// The document (GetPolicy only).
    pub document: Option<String>,
    /// Created (ms; API-managed policies, else 0).
    pub created_ms: i64,
    /// Last changed (ms; API-managed policies, or a file's load time; presets 0).
    pub updated_ms: i64,
    /// Users and groups it is attached to.
    pub attachments: u32,
    /// Users it bounds (their permissions boundary).
    pub boundaries: u32,
    /// Its tags (API-managed policies).
    pub tags: Vec<super::managed::Tag>,
    /// A preset's alias, as UpdatePolicy set it (else empty).
    pub alias: String,
}

/// An attachment as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedInfo {
    /// Policy name.
    pub policy: String,
    /// The group it comes through, if not attached directly.
    pub via_group: Option<String>,
    /// Attached, ms since the epoch.
    pub attached_ms: i64,
}

/// An access key as listed (never the SecretKey).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `AKID…`.
    pub secret_id: String,
    /// Owner uin.
    pub owner: u64,
    /// `Active` / `Inactive`.
    pub status: String,
    /// Created.
    pub created_ms: i64,
    /// Last used.
    pub last_used_ms: Option<i64>,
    /// Free text.
    pub description: String,
}

/// Daemon status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// camd's version.
    pub version: String,
    /// The root account's uin.
    pub owner_uin: u64,
    /// Sub-users.
    pub users: u64,
    /// Groups.
    pub groups: u64,
    /// Access keys.
    pub keys: u64,
    /// Attachments.
    pub attachments: u64,
    /// Custom policies loaded.
    pub custom_policies: u64,
    /// Attachments naming a policy the catalog does not have: (entity, policy).
    pub dangling: Vec<(String, String)>,
    /// Snapshot generation.
    pub generation: u64,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Decisions that allowed, since start.
    pub allows: u64,
    /// Decisions that denied, since start.
    pub denies: u64,
    /// Requests with an unknown, wrong or disabled access key, since start.
    pub unauthenticated: u64,
    /// Requests refused by failed-authentication throttling, since start.
    pub throttled: u64,
    /// Cluster mode: where this replica stands (`None`: standalone).
    pub cluster: Option<ClusterInfo>,
}

/// A replica's standing in its cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// etcd's client URLs.
    pub endpoints: Vec<String>,
    /// The watch on etcd is open.
    pub connected: bool,
    /// The revision this replica's state is at.
    pub applied_revision: i64,
    /// etcd's current revision (the last seen while etcd does not answer).
    pub etcd_revision: i64,
    /// etcd's revision minus the applied one (0 when caught up or ahead).
    pub lag: i64,
    /// SHA-256 of every record, in order: equal on hosts at the same revision.
    pub state_hash: String,
    /// Seconds since the replica last heard from etcd.
    pub age_secs: u64,
    /// Records in etcd not applied (`key: why`): not sealed by a host of
    /// this cluster, altered, an old record put back, or not decodable.
    pub quarantined: Vec<String>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInfo {
    /// Position in the trail.
    pub seq: u64,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Who: `uid N`, or `uid N key AKID…`.
    pub actor: String,
    /// The operation (`cam:AddUser`, `auth:Failure`, `auth:Throttled`, …).
    pub action: String,
    /// What it was about.
    pub target: String,
    /// `ok`, or the CAM error code.
    pub outcome: String,
}

/// What a response carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Pong, with the protocol version.
    Pong(u16),
    /// One decision.
    Decision(Decision),
    /// Decisions of a batch, in order.
    Decisions(Vec<Result<Decision, WireError>>),
    /// Done.
    Done,
    /// New credentials, shown once.
    Credentials(Credentials),
    /// One user.
    User(UserInfo),
    /// Users.
    Users(Vec<UserInfo>),
    /// Groups.
    Groups(Vec<GroupInfo>),
    /// Names (groups of a user).
    Names(Vec<String>),
    /// Policies.
    Policies(Vec<PolicyInfo>),
    /// Attachments.
    Attached(Vec<AttachedInfo>),
    /// Users and groups.
    Entities {
        /// User names.
        users: Vec<String>,
        /// Group names.
        groups: Vec<String>,
    },
    /// One key.
    Key(KeyInfo),
    /// Keys.
    Keys(Vec<KeyInfo>),
    /// Status.
    Status(StatusInfo),
    /// A reload's outcome.
    Reload(ReloadInfo),
    /// Policy status.
    PolicyStatus(PolicyStatusInfo),
    /// Audit entries.
    Audit(Vec<AuditInfo>),
    /// The metrics in the Prometheus text exposition format.
    Metrics(String),
    /// A CAM API 3.0 answer.
    Api(ApiAnswer),
    /// What re-sealing did.
    Resealed(ResealInfo),
    /// A new policy version's id.
    VersionCreated(super::managed::VersionCreated),
    /// Policy versions.
    Versions(Vec<super::managed::PolicyVersionInfo>),
    /// One policy version.
    Version(super::managed::PolicyVersionInfo),
    /// A user's permissions boundary.
    Boundary(super::managed::BoundaryInfo),
    /// A user's permissions, per action.
    Permissions(Vec<super::managed::ActionPermission>),
    /// A group and its members.
    GroupDetail(GroupDetail),
    /// Counts of the account's entities.
    AccountSummary(super::account::AccountSummary),
    /// The account's AppId.
    AppId(super::account::AppIdInfo),
    /// The password rules.
    PasswordRules(super::managed::PasswordRulesInfo),
    /// The decision log's state.
    DecisionLog(super::decision_log::DecisionLogInfo),
    /// One role.
    Role(super::roles::RoleInfo),
    /// Roles.
    Roles(Vec<super::roles::RoleInfo>),
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadProblem {
    /// The file.
    pub file: String,
    /// The CAM error code.
    pub code: String,
    /// The JSON path (empty for the file as a whole).
    pub path: String,
    /// Line (0: not about a place in the text).
    pub line: u32,
    /// Column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// A reload's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadInfo {
    /// True when the new set is in use; false when the last good set stayed.
    pub applied: bool,
    /// Custom policies added.
    pub added: u32,
    /// Custom policies changed.
    pub changed: u32,
    /// Custom policies removed.
    pub removed: u32,
    /// Every problem (when rejected).
    pub errors: Vec<ReloadProblem>,
    /// When (ms since the epoch).
    pub at_ms: i64,
}

/// A loaded policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadedPolicy {
    /// Name.
    pub name: String,
    /// Where it comes from.
    pub kind: PolicyKind,
    /// SHA-256 of the document, hex.
    pub hash: String,
    /// When this content was loaded (ms since the epoch; presets: 0).
    pub loaded_ms: i64,
}

/// Policy status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyStatusInfo {
    /// Presets and custom policies in use.
    pub policies: Vec<LoadedPolicy>,
    /// The last reload, if any since start.
    pub last_reload: Option<ReloadInfo>,
    /// Attachments naming a policy not loaded: (entity, policy).
    pub dangling: Vec<(String, String)>,
}
