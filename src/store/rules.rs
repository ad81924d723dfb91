//! What every rule shares: the context, the checks of names and lengths,
//! the limits, and the lookups. The rules themselves, methods on the
//! in-memory state, are one file per area (`users.rs`, `groups.rs`,
//! `attachments.rs`, `keys.rs`, `managed.rs`; `reads.rs` for the reads):
//! each checks everything before it changes anything, so a failed
//! operation leaves the state (and the batch it shares a commit with)
//! untouched.

use super::command::Owner;
use super::error::AdminError;
use super::limits::Limits;
use super::state::{Changes, State};

/// What the operations need besides the state.
pub struct Ctx<'a> {
    /// The limits in force.
    pub limits: &'a Limits,
    /// The clock, for created/attached times.
    pub now_ms: i64,
    /// The root account's uin.
    pub owner_uin: u64,
    /// The canonical name of a policy the catalog knows (an alias resolves to its preset).
    pub known_policy: &'a dyn Fn(&str) -> Option<String>,
}

/// The first uin handed to a sub-user of a new database.
pub const FIRST_UIN: u64 = 200_000_000_001;

pub(super) const MAX_REMARK: usize = 255;
pub(super) const MAX_EMAIL: usize = 255;
pub(super) const MAX_PHONE: usize = 32;

/// Whether `name` is 1-`max` characters of `[A-Za-z0-9+=,.@_-]`, CAM's
/// set for the names of users, groups and roles.
pub(super) fn is_cam_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// User and group names: 1-64 characters of `[A-Za-z0-9+=,.@_-]`.
pub fn check_name(name: &str) -> Result<(), AdminError> {
    if is_cam_name(name, 64) {
        Ok(())
    } else {
        Err(AdminError::NameIllegal(name.to_string()))
    }
}

/// The name the root account goes by: no sub-user may take it (in any
/// case), so nothing shown or matched by name can mean both.
pub const ROOT_NAME: &str = "root";

/// A sub-user's name: a valid name that is not the root account's.
pub fn check_user_name(name: &str) -> Result<(), AdminError> {
    check_name(name)?;
    if name.eq_ignore_ascii_case(ROOT_NAME) {
        return Err(AdminError::NameReserved(name.to_string()));
    }
    Ok(())
}

pub(super) fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), AdminError> {
    if value.chars().count() > max {
        Err(AdminError::TooLong { field, max })
    } else {
        Ok(())
    }
}

/// Who holds an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A user, by name.
    User(String),
    /// A group, by name.
    Group(String),
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::User(u) => write!(f, "user `{u}`"),
            Holder::Group(g) => write!(f, "group `{g}`"),
        }
    }
}

/// Most signature uses kept per access key (within their windows).
pub const MAX_SIGNATURES: usize = 512;

impl State {
    pub(super) fn uin_of(&self, name: &str) -> Result<u64, AdminError> {
        self.uin_named(name)
            .ok_or_else(|| AdminError::UserNotExist(name.to_string()))
    }

    pub(super) fn group_exists(&self, name: &str) -> Result<(), AdminError> {
        if self.groups.contains_key(name) {
            Ok(())
        } else {
            Err(AdminError::GroupNotExist(name.to_string()))
        }
    }

    pub(super) fn owner_uin_of(
        &self,
        owner: &Owner,
        ctx: &Ctx<'_>,
    ) -> Result<(u64, String), AdminError> {
        match owner {
            Owner::Root => Ok((ctx.owner_uin, "the root account".to_string())),
            Owner::User(name) => Ok((self.uin_of(name)?, format!("user `{name}`"))),
        }
    }

    pub(super) fn allocate_uin(&mut self, ctx: &Ctx<'_>, changes: &mut Changes) -> u64 {
        let mut uin = self.next_uin.max(FIRST_UIN);
        if uin == ctx.owner_uin {
            uin += 1;
        }
        self.next_uin = uin + 1;
        changes.meta = true;
        uin
    }

    /// The canonical name of a policy any source has.
    pub(super) fn known(&self, ctx: &Ctx<'_>, policy: &str) -> Result<String, AdminError> {
        self.policy_named(policy, ctx)
            .ok_or_else(|| AdminError::PolicyNotExist(policy.to_string()))
    }

    pub(super) fn group_changed(&self, group: &str, changes: &mut Changes) {
        changes.groups.insert(group.to_string());
        changes.affected.extend(self.members_of(group));
    }
}

/// The canonical name of a policy, or the name as given when the catalog no
/// longer has it (a dangling attachment can still be detached).
pub(super) fn named(ctx: &Ctx<'_>, policy: &str) -> String {
    (ctx.known_policy)(policy).unwrap_or_else(|| policy.to_string())
}
