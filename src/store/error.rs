//! Admin errors, each with its CAM error code.

use thiserror::Error;

use crate::code::Code;

/// Why an admin operation failed. `code()` is the CAM error code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminError {
    /// No such sub-user.
    #[error("user `{0}` does not exist")]
    UserNotExist(String),
    /// No such group.
    #[error("group `{0}` does not exist")]
    GroupNotExist(String),
    /// No such policy in the catalog.
    #[error("policy `{0}` does not exist")]
    PolicyNotExist(String),
    /// No such access key.
    #[error("access key `{0}` does not exist")]
    SecretNotExist(String),
    /// The policy is not attached there.
    #[error("policy `{policy}` is not attached to {target}")]
    AttachmentNotExist {
        /// The policy.
        policy: String,
        /// `user `x`` or `group `y``.
        target: String,
    },
    /// The user is not in the group.
    #[error("user `{user}` is not a member of group `{group}`")]
    UserNotInGroup {
        /// The user.
        user: String,
        /// The group.
        group: String,
    },
    /// A user with this name exists.
    #[error("user name `{0}` is in use")]
    SubUserNameInUse(String),
    /// A group with this name exists.
    #[error("group name `{0}` is in use")]
    GroupNameInUse(String),
    /// A sub-user may not take the root account's name.
    #[error("user name `{0}` is reserved for the root account")]
    NameReserved(String),
    /// A name with characters outside the allowed set, or of a bad length.
    #[error("name `{0}` is invalid: use 1-64 characters of `A-Za-z0-9+=,.@_-`")]
    NameIllegal(String),
    /// A text field is too long.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// Too many sub-users.
    #[error("the account has {0} sub-users, the limit")]
    SubUserFull(usize),
    /// Too many groups.
    #[error("the account has {0} groups, the limit")]
    GroupFull(usize),
    /// The user is in too many groups.
    #[error("user `{0}` is already in {1} groups, the limit")]
    UserGroupFull(String, usize),
    /// The group has too many users.
    #[error("group `{0}` already has {1} users, the limit")]
    GroupUserFull(String, usize),
    /// Too many policies attached to one user or group.
    #[error("{0} already has {1} policies attached, the limit")]
    AttachmentFull(String, usize),
    /// Too many access keys.
    #[error("{0} already has {1} access keys, the limit")]
    AccessKeyOverLimit(String, usize),
    /// A CAM API call's signature was first used for another action, and
    /// one of the two makes a change.
    #[error(
        "this signature was first used for `{0}`, and that action or this one makes a change: sign x-tc-action, or sign again a second later"
    )]
    SignatureRebound(String),
    /// Too many signatures of one key are in their window.
    #[error(
        "access key has {0} signed calls in the timestamp window, the limit; retry in a few seconds"
    )]
    SignaturesFull(usize),
    /// The user still has access keys.
    #[error(
        "user `{0}` has access keys; delete them first, or force it (camctl: --force; the API: Force)"
    )]
    HaveKeys(String),
    /// A password breaks the rule.
    #[error("a password needs 8-32 characters with upper case, lower case, digits and symbols")]
    PasswordViolatedRules,
    /// A sealed SecretKey did not open; nothing was re-sealed.
    #[error("access key `{id}`: {cause}; nothing was re-sealed")]
    Sealing {
        /// The key.
        id: String,
        /// Why.
        cause: crate::credentials::SealError,
    },
    /// A policy name a preset, a file or an API-managed policy already has.
    #[error("policy name `{0}` is in use")]
    PolicyNameTaken(String),
    /// A new policy would take over what a removed one left behind.
    #[error(
        "policy name `{0}` is still {1}, left by a policy that no longer exists: detach it (or delete the boundary) before creating a policy of this name"
    )]
    PolicyNameHeld(String, String),
    /// Too many API-managed policies.
    #[error("the account has {0} API-managed policies, the limit")]
    PolicyFull(usize),
    /// Too many versions of one policy.
    #[error("policy `{0}` already has {1} versions, the limit; delete one first")]
    PolicyVersionFull(String, usize),
    /// The default version cannot be deleted.
    #[error(
        "version {1} is the default version of policy `{0}`; make another version the default first"
    )]
    DefaultVersion(String, u32),
    /// No such version.
    #[error("policy `{0}` has no version {1}")]
    PolicyVersionNotExist(String, u32),
    /// A preset or file-managed policy cannot be changed through the API.
    #[error("policy `{0}` is {1}; it cannot be changed through the API")]
    PolicyNotApiManaged(String, &'static str),
    /// The policy is still in use.
    #[error("policy `{0}` is still {1}; detach it first")]
    PolicyInUse(String, String),
    /// A tag is malformed.
    #[error("tag {0}")]
    TagParam(String),
    /// Too many tags.
    #[error("{0} tags given; a policy or role takes at most 50")]
    TagLimit(usize),
    /// A password rule is out of range.
    #[error("password rule {0}")]
    PasswordRule(String),
    /// Cluster mode: etcd cannot be reached; nothing was changed.
    #[error("the cluster's store (etcd) did not take the change, nothing was changed: {0}")]
    ClusterUnavailable(String),
    /// Cluster mode: other hosts kept changing the state; nothing was changed.
    #[error(
        "other hosts changed the state {0} times while this change was tried; nothing was changed, retry"
    )]
    ClusterConflict(u32),
    /// No such role.
    #[error("role `{0}` does not exist")]
    RoleNotExist(String),
    /// A role with this name exists.
    #[error("role name `{0}` is in use")]
    RoleNameInUse(String),
    /// A role name with characters outside the allowed set, or of a bad length.
    #[error("role name `{0}` is invalid: use 1-128 characters of `A-Za-z0-9+=,.@_-`")]
    RoleNameError(String),
    /// Too many roles.
    #[error("the account has {0} roles, the limit")]
    RoleFull(usize),
    /// A role's description is too long.
    #[error("the description is {0} bytes long; a role's takes at most 300")]
    DescriptionTooLong(usize),
    /// A session length out of range.
    #[error("SessionDuration {0} is out of range: 0-43200 seconds")]
    SessionDuration(u32),
    /// A trust policy the engine refuses.
    #[error("the trust policy is invalid: {1}")]
    TrustPolicy(Code, String),
    /// The database failed; nothing in the batch was applied.
    #[error("storage failed, nothing was changed: {0}")]
    Storage(String),
}

impl AdminError {
    /// The CAM error code.
    pub fn code(&self) -> Code {
        match self {
            Self::UserNotExist(_) => Code::UserNotExist,
            Self::GroupNotExist(_) => Code::GroupNotExist,
            Self::PolicyNotExist(_) => Code::PolicyIdNotFound,
            Self::SecretNotExist(_) => Code::SecretNotExist,
            Self::AttachmentNotExist { .. } => Code::AttachmentNotExist,
            Self::UserNotInGroup { .. } => Code::UserNotInGroup,
            Self::SubUserNameInUse(_) => Code::SubUserNameInUse,
            Self::GroupNameInUse(_) => Code::GroupNameInUse,
            Self::NameIllegal(_) => Code::NameIllegal,
            Self::NameReserved(_) => Code::SubUserNameInUse,
            Self::TooLong { .. } => Code::ParamTooLong,
            Self::SubUserFull(_) => Code::SubUserFull,
            Self::GroupFull(_) => Code::GroupFull,
            Self::UserGroupFull(..) => Code::UserGroupFull,
            Self::GroupUserFull(..) => Code::GroupUserFull,
            Self::AttachmentFull(..) => Code::AttachmentFull,
            Self::AccessKeyOverLimit(..) => Code::AccessKeyOverLimit,
            Self::SignatureRebound(_) => Code::SignatureFailure,
            Self::SignaturesFull(_) => Code::AuthThrottled,
            Self::HaveKeys(_) => Code::HaveKeys,
            Self::PasswordViolatedRules => Code::PasswordViolatedRules,
            Self::Sealing { .. } => Code::SealingKey,
            Self::PolicyNameTaken(_) | Self::PolicyNameHeld(..) => Code::PolicyNameTaken,
            Self::PolicyFull(_) => Code::PolicyFull,
            Self::TagParam(_) => Code::TagParamError,
            Self::TagLimit(_) => Code::TagLimitExceeded,
            Self::PasswordRule(_) => Code::PasswordRuleError,
            Self::PolicyVersionFull(..) => Code::PolicyVersionFull,
            Self::DefaultVersion(..) => Code::PolicyVersionAlreadyDefault,
            Self::PolicyVersionNotExist(..) => Code::PolicyVersionNotExist,
            Self::PolicyNotApiManaged(..) => Code::PolicyNotApiManaged,
            Self::PolicyInUse(..) => Code::PolicyInUse,
            Self::ClusterUnavailable(_) => Code::ClusterUnavailable,
            Self::ClusterConflict(_) => Code::ClusterConflict,
            Self::Storage(_) => Code::Storage,
            Self::RoleNotExist(_) => Code::RoleNotExist,
            Self::RoleNameInUse(_) => Code::RoleNameInUse,
            Self::RoleNameError(_) => Code::RoleNameError,
            Self::RoleFull(_) => Code::RoleFull,
            Self::DescriptionTooLong(_) => Code::DescriptionLengthOverlimit,
            Self::SessionDuration(_) => Code::InvalidParameterValue,
            Self::TrustPolicy(code, _) => *code,
        }
    }
}

/// Why the store could not be opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// redb refused the file.
    #[error("cannot open database `{path}`: {cause}")]
    Database {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        cause: Box<redb::Error>,
    },
    /// The file was written by a newer camd.
    #[error(
        "database `{path}` has schema version {found}; this camd knows up to {known}: upgrade camd"
    )]
    SchemaTooNew {
        /// The file.
        path: std::path::PathBuf,
        /// Its version.
        found: u64,
        /// This binary's.
        known: u64,
    },
    /// A record does not decode.
    #[error("database `{path}`: {what} does not decode: {cause}")]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// Which record.
        what: String,
        /// Why.
        cause: postcard::Error,
    },
}

/// A record that cannot cross between the state and its bytes.
#[derive(Debug, Error)]
pub enum RecordError {
    /// A record's bytes are not a record of its kind (a value from a newer
    /// camd, or garbage).
    #[error("{what} does not decode: {cause}")]
    Decode {
        /// Which record (`user 200000000001`).
        what: String,
        /// Why.
        cause: postcard::Error,
    },
    /// A record could not be encoded.
    #[error("cannot encode {what}: {cause}")]
    Encode {
        /// Which record.
        what: String,
        /// Why.
        cause: postcard::Error,
    },
    /// The uin counter's value is not 8 bytes.
    #[error("next_uin is not 8 bytes")]
    Counter,
}

/// Why changes from the shared truth could not be applied.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// A record did not decode.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The local commit failed.
    #[error("cannot commit to the local file: {0}")]
    Commit(#[from] redb::Error),
}
