//! Every CAM error code camd returns, each with when it occurs: the one
//! place these strings are written. docs/errors.md lists the same set (a
//! test keeps the two equal, and finds none spelled out elsewhere).

use std::fmt;

macro_rules! codes {
    ($( #[doc = $when:literal] $name:ident = $text:literal, )*) => {
        /// A CAM error code, named as CAM's API (or Tencent Cloud API 3.0's
        /// common codes) names it, so that users can search for it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( #[doc = $when] $name, )*
        }

        impl Code {
            /// Every code, in the order docs/errors.md lists them.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as CAM spells it, e.g. `ResourceNotFound.UserNotExist`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $text,)* }
            }

            /// The code spelled `text`, if camd has it.
            pub fn parse(text: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == text)
            }

            /// When camd returns it.
            pub fn when(self) -> &'static str {
                match self { $(Code::$name => $when.trim_start(),)* }
            }
        }
    };
}

codes! {
    /// The document is not JSON, not an object, or has an unknown or duplicate key.
    PolicyDocumentError = "InvalidParameter.PolicyDocumentError",
    /// `version` is missing or not `"2.0"`.
    VersionError = "InvalidParameter.VersionError",
    /// `statement` is missing or malformed, or a statement has an unknown key.
    StatementError = "InvalidParameter.StatementError",
    /// `effect` is missing or not `allow`/`deny`.
    EffectError = "InvalidParameter.EffectError",
    /// `action` is missing or malformed.
    ActionError = "InvalidParameter.ActionError",
    /// An action names no catalogued action of a known service.
    ActionNotExist = "InvalidParameter.ActionNotExist",
    /// An action names a service camd does not know.
    ActionServiceNotExist = "InvalidParameter.ActionServiceNotExist",
    /// `resource` is missing or malformed.
    ResourceError = "InvalidParameter.ResourceError",
    /// `condition` is malformed (not an object, empty, an unknown `qcs:` key).
    ConditionError = "InvalidParameter.ConditionError",
    /// A condition operator or qualifier is unknown.
    ConditionTypeError = "InvalidParameter.ConditionTypeError",
    /// A condition value does not fit its operator.
    ConditionContentError = "InvalidParameter.ConditionContentError",
    /// `principal` in a user, group or session policy, or missing or malformed in a role's trust policy.
    PrincipalError = "InvalidParameter.PrincipalError",
    /// A trust policy's `qcs` principal is not a `qcs::cam::uin/OWNER:root` or `...:uin/SUBUIN` of this account.
    PrincipalQcsError = "InvalidParameter.PrincipalQcsError",
    /// A policy document is longer than 6,144 characters.
    PolicyDocumentLengthOverLimit = "InvalidParameter.PolicyDocumentLengthOverLimit",
    /// A policy file's name is not a valid policy name (1-128 of `A-Za-z0-9+=,.@_-`).
    PolicyNameError = "InvalidParameter.PolicyNameError",
    /// A policy file takes the name of a preset policy or of an API-managed policy.
    PolicyNameInUse = "InvalidParameter.PolicyNameInUse",
    /// Creating a policy through the API with a name a preset, a policy file or another API-managed policy has.
    PolicyNameTaken = "FailedOperation.PolicyNameInUse",
    /// The account already has 1,500 API-managed policies.
    PolicyFull = "FailedOperation.PolicyFull",
    /// A policy already has 5 versions; delete one first.
    PolicyVersionFull = "FailedOperation.PolicyVersionFull",
    /// Deleting a policy's default version (make another the default first).
    PolicyVersionAlreadyDefault = "FailedOperation.PolicyVersionAlreadyDefault",
    /// The policy has no version with that id.
    PolicyVersionNotExist = "InvalidParameter.PolicyVersionNotExists",
    /// Changing a preset or a file-managed policy through the API (edit the file instead).
    PolicyNotApiManaged = "OperationDenied.PolicyNotApiManaged",
    /// Deleting a policy that is still attached or used as a permissions boundary.
    PolicyInUse = "FailedOperation.PolicyInUse",
    /// The named sub-user does not exist.
    UserNotExist = "ResourceNotFound.UserNotExist",
    /// The named group does not exist.
    GroupNotExist = "ResourceNotFound.GroupNotExist",
    /// The named policy is neither a preset nor a loaded custom policy.
    PolicyIdNotFound = "ResourceNotFound.PolicyIdNotFound",
    /// The access key does not exist.
    SecretNotExist = "ResourceNotFound.SecretNotExist",
    /// Detaching a policy that is not attached to that user or group.
    AttachmentNotExist = "ResourceNotFound.AttachmentNotExist",
    /// Removing a user from a group it is not a member of.
    UserNotInGroup = "ResourceNotFound.UserNotInGroup",
    /// No role has that name (or RoleId).
    RoleNotExist = "InvalidParameter.RoleNotExist",
    /// `camctl decisions get`: no record with that decision id in the decision log's files.
    DecisionNotExist = "ResourceNotFound.DecisionNotExist",
    /// `camctl decisions tail` or `get`: camd's decision log writes no file.
    DecisionLogNoFile = "FailedOperation.DecisionLogNoFile",
    /// A sub-user with that name exists, or the name is the root account's (`root`).
    SubUserNameInUse = "InvalidParameter.SubUserNameInUse",
    /// A group with that name exists.
    GroupNameInUse = "InvalidParameter.GroupNameInUse",
    /// Creating a role with a name another role has.
    RoleNameInUse = "InvalidParameter.RoleNameInUse",
    /// A role name is not 1-128 characters of `A-Za-z0-9+=,.@_-`.
    RoleNameError = "InvalidParameter.RoleNameError",
    /// A role's description is longer than 300 bytes.
    DescriptionLengthOverlimit = "InvalidParameter.DescriptionLengthOverlimit",
    /// A user or group name is not 1-64 characters of `A-Za-z0-9+=,.@_-`.
    NameIllegal = "InvalidParameter.NameIllegal",
    /// A remark, e-mail or phone is longer than its limit.
    ParamTooLong = "InvalidParameter.ParamTooLong",
    /// The account already has 1,000 sub-users (the configured limit).
    SubUserFull = "InvalidParameter.SubUserFull",
    /// The account already has 300 groups (the configured limit).
    GroupFull = "InvalidParameter.GroupFull",
    /// The account already has 1,000 roles.
    RoleFull = "InvalidParameter.RoleFull",
    /// The user is already in 10 groups (the configured limit).
    UserGroupFull = "InvalidParameter.UserGroupFull",
    /// The group already has 100 users (the configured limit).
    GroupUserFull = "InvalidParameter.GroupUserFull",
    /// The user or group already has 200 policies attached (the configured limit).
    AttachmentFull = "InvalidParameter.AttachmentFull",
    /// The user (or the root account) already has 2 access keys.
    AccessKeyOverLimit = "OperationDenied.AccessKeyOverLimit",
    /// Deleting a user who has access keys, without `force`.
    HaveKeys = "OperationDenied.HaveKeys",
    /// A password breaks the account's password rules (by default: 8-32 characters with upper case, lower case, digits and symbols), or repeats a recent one.
    PasswordViolatedRules = "InvalidParameter.PasswordViolatedRules",
    /// UpdatePasswordRules: a rule is out of range (e.g. MinimumLength outside 8-32, an unknown MustContain class).
    PasswordRuleError = "InvalidParameter.PasswordRuleError",
    /// A tag's key or value is empty, too long, or a key is given twice.
    TagParamError = "InvalidParameter.TagParamError",
    /// More than 50 tags on one policy.
    TagLimitExceeded = "InvalidParameter.TagLimitExceeded",
    /// The request names something wrongly (a bad argument, a missing SecretKey, a context pair without `=`, a credentials file that cannot be created).
    InvalidParameter = "InvalidParameter",
    /// A request that does not decode (binary frame or JSON line).
    MalformedRequest = "InvalidParameter.MalformedRequest",
    /// A `Batch` carries more decisions than `max_batch_items`.
    BatchSize = "LimitExceeded.BatchSize",
    /// An unknown, wrong or disabled access key.
    InvalidAuthorization = "AuthFailure.InvalidAuthorization",
    /// A signed request's signature does not match it (TC3-HMAC-SHA256).
    SignatureFailure = "AuthFailure.SignatureFailure",
    /// A signed request's X-TC-Timestamp is outside the window around camd's clock.
    SignatureExpire = "AuthFailure.SignatureExpire",
    /// A signed request names an unknown or disabled SecretId.
    SecretIdNotFound = "AuthFailure.SecretIdNotFound",
    /// A signed request's SecretId is malformed, or its key predates sealed copies and cannot verify signatures (rotate it).
    InvalidSecretId = "AuthFailure.InvalidSecretId",
    /// The caller may not do this: no access key, a key whose policies do not allow it, the root account's keys, or the audit trail (operator only).
    UnauthorizedOperation = "AuthFailure.UnauthorizedOperation",
    /// Too many failed authentications or refused admin requests from this peer uid or client address (or with this SecretId); the message says when to retry.
    AuthThrottled = "RequestLimitExceeded.AuthThrottled",
    /// camd-api: every connection to camd stayed busy for the whole wait, or this client address holds its share of connections; retry.
    RequestLimitExceeded = "RequestLimitExceeded",
    /// camd-api: the request's `Host` is not one of the names it serves (`--host`).
    HostNotServed = "InvalidParameter.HostNotServed",
    /// An HTTP API request names an action camd does not serve.
    InvalidAction = "InvalidAction",
    /// An HTTP API request asks for something camd does not do, e.g. renaming a group (UpdateGroup with a new GroupName).
    UnsupportedOperation = "UnsupportedOperation",
    /// An HTTP API request uses a method other than POST.
    UnsupportedProtocol = "UnsupportedProtocol",
    /// An HTTP API request names a version other than 2019-01-16.
    NoSuchVersion = "NoSuchVersion",
    /// An HTTP API request lacks a required parameter.
    MissingParameter = "MissingParameter",
    /// An HTTP API request's parameter has the wrong type or value.
    InvalidParameterValue = "InvalidParameterValue",
    /// An HTTP API request carries a parameter the action does not take.
    UnknownParameter = "UnknownParameter",
    /// A sealed SecretKey does not open: sealed under a sealing key camd does not hold, or altered.
    SealingKey = "InternalError.SealingKey",
    /// Cluster mode: etcd cannot be reached, so a change cannot be made (decisions go on); nothing was changed.
    ClusterUnavailable = "FailedOperation.ClusterUnavailable",
    /// Cluster mode: other hosts kept changing the state while a change was tried; nothing was changed, retry.
    ClusterConflict = "FailedOperation.ClusterConflict",
    /// Cluster mode: this host's pepper or sealing key differs from the cluster's.
    ClusterSecrets = "FailedOperation.ClusterSecretsMismatch",
    /// Cluster mode: a decision asked for a revision this host has not reached in time.
    ClusterLagging = "FailedOperation.ClusterRevisionNotReached",
    /// Cluster mode: this host's replica has not heard from etcd for longer than `max_staleness_secs`, so it does not decide.
    ClusterStale = "FailedOperation.ClusterReplicaStale",
    /// The durable commit failed; nothing was changed.
    Storage = "InternalError.Storage",
    /// The store's writer thread has stopped (camd is shutting down or broken).
    Store = "InternalError.Store",
    /// A policy file could not be read.
    Io = "InternalError.Io",
    /// The reload loop has stopped, or a reload could not run.
    Reload = "InternalError.Reload",
    /// The system's random generator failed.
    Random = "InternalError.Random",
    /// A password could not be hashed.
    Hash = "InternalError.Hash",
    /// A request reached the admin path that is not an admin operation (a bug).
    Dispatch = "InternalError.Dispatch",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer before it goes on the wire: its code and a lowercase
/// message naming the bad input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The CAM code.
    pub code: Code,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_is_spelled_once() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(!c.when().is_empty());
        }
    }
}
