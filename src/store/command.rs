//! The operations the writer applies, and their replies. Secrets arrive
//! already hashed: the store never sees a password or SecretKey in clear.

use crate::credentials::{KeyHash, PasswordHash};

use super::records::{Group, Key, KeyStatus, User};

/// A new access key's id and keyed hash.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// `AKID…`.
    pub secret_id: String,
    /// HMAC of the SecretKey under the pepper.
    pub hash: KeyHash,
}

/// Who owns an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The root account.
    Root,
    /// A sub-user, by name.
    User(String),
}

/// What a new user starts with.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// May log in to the console.
    pub console_login: bool,
    /// Console password, hashed.
    pub password: Option<PasswordHash>,
    /// Must change the password at first login.
    pub need_reset_password: bool,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// Policies to attach.
    pub policies: Vec<String>,
    /// An access key to create.
    pub key: Option<NewKey>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// A new name.
    pub new_name: Option<String>,
    /// A new remark.
    pub remark: Option<String>,
    /// Console login on or off.
    pub console_login: Option<bool>,
    /// A new password, hashed.
    pub password: Option<PasswordHash>,
    /// Must change the password at next login.
    pub need_reset_password: Option<bool>,
    /// A new e-mail.
    pub email: Option<String>,
    /// A new phone.
    pub phone: Option<String>,
}

/// Read-only questions, answered from the writer's state without a commit.
#[derive(Debug, Clone)]
pub enum Query {
    /// One user.
    GetUser(String),
    /// Every user.
    ListUsers,
    /// Every group.
    ListGroups,
    /// A group's members.
    ListUsersForGroup(String),
    /// A user's groups.
    ListGroupsForUser(String),
    /// Policies attached to a user: directly, or (`all`) also through groups.
    ListAttachedUserPolicies {
        /// The user.
        user: String,
        /// Include group attachments.
        all: bool,
    },
    /// Policies attached to a group.
    ListAttachedGroupPolicies(String),
    /// Users and groups a policy is attached to.
    ListEntitiesForPolicy(String),
    /// A user's (or the root's) access keys.
    ListAccessKeys(Owner),
    /// Counts for status.
    Counts,
    /// Attachments whose policy the catalog does not have.
    DanglingAttachments,
}

/// A write (or a query) for the writer.
#[derive(Debug, Clone)]
pub enum Command {
    /// Creates a user (with policies and a key, in the same transaction).
    AddUser(NewUser),
    /// Changes a user.
    UpdateUser(String, UserUpdate),
    /// Deletes a user; with `force` also their keys.
    DeleteUser {
        /// The user.
        name: String,
        /// Delete keys too.
        force: bool,
    },
    /// Creates a group.
    CreateGroup {
        /// Unique name.
        name: String,
        /// Free text.
        remark: String,
    },
    /// Deletes a group, its memberships and attachments.
    DeleteGroup(String),
    /// Adds a user to a group.
    AddUserToGroup {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Removes a user from a group.
    RemoveUserFromGroup {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Attaches a policy to a user.
    AttachUserPolicy {
        /// The user.
        user: String,
        /// The policy.
        policy: String,
    },
    /// Detaches a policy from a user.
    DetachUserPolicy {
        /// The user.
        user: String,
        /// The policy.
        policy: String,
    },
    /// Attaches a policy to a group.
    AttachGroupPolicy {
        /// The group.
        group: String,
        /// The policy.
        policy: String,
    },
    /// Detaches a policy from a group.
    DetachGroupPolicy {
        /// The group.
        group: String,
        /// The policy.
        policy: String,
    },
    /// Creates an access key.
    CreateAccessKey(Owner, NewKey),
    /// Enables or disables an access key.
    UpdateAccessKey(String, KeyStatus),
    /// Deletes an access key.
    DeleteAccessKey(String),
    /// Records when keys were last used (batched from the decision path).
    RecordKeyUse(Vec<(String, i64)>),
    /// Changes nothing: carries an audit entry on its own (a failed
    /// authentication, a refused operation).
    Audit,
    /// A read.
    Query(Query),
}

/// What a command returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Done, nothing to report.
    Done,
    /// A user.
    User(Box<User>),
    /// Users.
    Users(Vec<User>),
    /// Groups, each with its number of members.
    Groups(Vec<(Group, usize)>),
    /// Group names.
    GroupNames(Vec<String>),
    /// Policy names, each with where it comes from (`None`: attached directly; `Some(g)`: through group g).
    Policies(Vec<(String, Option<String>, i64)>),
    /// Entities: (users, groups).
    Entities(Vec<String>, Vec<String>),
    /// Access keys (without hashes exposed).
    Keys(Vec<Key>),
    /// One access key.
    Key(Box<Key>),
    /// Counts: users, groups, keys, attachments.
    Counts {
        /// Sub-users.
        users: usize,
        /// Groups.
        groups: usize,
        /// Access keys.
        keys: usize,
        /// User and group attachments.
        attachments: usize,
    },
    /// Dangling attachments: (`user x` / `group y`, policy).
    Dangling(Vec<(String, String)>),
}
