//! The rules of roles: creating and deleting them, their trust policy,
//! description, console login, session length and tags. (Their policies
//! and boundary are in `attachments.rs` and `managed.rs`.)

use crate::policy::TrustPolicy;
use crate::protocol::MAX_SESSION_DURATION;

use super::error::AdminError;
use super::managed::{MAX_TAGS, check_tags};
use super::records::{Role, Tag};
use super::rules::{Ctx, is_cam_name};
use super::state::{Changes, State};

/// The longest role description, in bytes (CAM's DescriptionLengthOverlimit).
pub const MAX_ROLE_DESCRIPTION: usize = 300;
/// The first RoleId: CAM's role ids are 2^62 plus a number.
pub const ROLE_ID_BASE: u64 = 1 << 62;

/// A role to create, as CreateRole gives it.
#[derive(Debug, Clone)]
pub struct NewRole {
    /// A RoleId the caller drew (the rule takes the next free one from it).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its trust policy.
    pub document: String,
    /// Free text.
    pub description: String,
    /// May sign in to the console.
    pub console_login: bool,
    /// The longest session, in seconds (0: STS's own limit).
    pub session_duration: u32,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// Role names: 1-128 characters of `[A-Za-z0-9+=,.@_-]`.
pub fn check_role_name(name: &str) -> Result<(), AdminError> {
    if is_cam_name(name, 128) {
        Ok(())
    } else {
        Err(AdminError::RoleNameError(
            name.chars().take(128).collect::<String>(),
        ))
    }
}

fn check_description(d: &str) -> Result<(), AdminError> {
    if d.len() > MAX_ROLE_DESCRIPTION {
        return Err(AdminError::DescriptionTooLong(d.len()));
    }
    Ok(())
}

fn check_session(secs: u32) -> Result<(), AdminError> {
    if secs > MAX_SESSION_DURATION {
        return Err(AdminError::SessionDuration(secs));
    }
    Ok(())
}

impl State {
    /// Checks a trust policy against the grammar and against the users it
    /// names, which must exist.
    fn check_trust(&self, document: &str, ctx: &Ctx<'_>) -> Result<(), AdminError> {
        let (trust, _) = TrustPolicy::parse(document, ctx.owner_uin).map_err(|e| {
            AdminError::TrustPolicy(
                e.code().unwrap_or(crate::code::Code::PrincipalError),
                e.to_string(),
            )
        })?;
        for uin in trust.users() {
            if !self.users.contains_key(&uin) {
                return Err(AdminError::UserNotExist(format!("uin/{uin}")));
            }
        }
        Ok(())
    }

    /// The role named `name`.
    pub fn role(&self, name: &str) -> Result<&Role, AdminError> {
        self.roles
            .get(name)
            .ok_or_else(|| AdminError::RoleNotExist(name.to_string()))
    }

    /// Runs `f` on a role, then marks it changed and updated.
    pub(super) fn role_mut(
        &mut self,
        name: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
        f: impl FnOnce(&mut Role) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        let r = self
            .roles
            .get_mut(name)
            .ok_or_else(|| AdminError::RoleNotExist(name.to_string()))?;
        f(r)?;
        r.updated_ms = ctx.now_ms;
        changes.roles.insert(name.to_string());
        Ok(())
    }

    /// Creates a role; its RoleId.
    pub fn create_role(
        &mut self,
        new: &NewRole,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<u64, AdminError> {
        check_role_name(&new.name)?;
        check_description(&new.description)?;
        check_session(new.session_duration)?;
        check_tags(&new.tags)?;
        self.check_trust(&new.document, ctx)?;
        if self.roles.contains_key(&new.name) {
            return Err(AdminError::RoleNameInUse(new.name.clone()));
        }
        if self.roles.len() >= ctx.limits.roles {
            return Err(AdminError::RoleFull(self.roles.len()));
        }
        let mut id = new.id.max(ROLE_ID_BASE);
        while self.roles.values().any(|r| r.id == id) {
            id = id.wrapping_add(1).max(ROLE_ID_BASE);
        }
        let role = Role {
            id,
            name: new.name.clone(),
            document: new.document.clone(),
            description: new.description.clone(),
            console_login: new.console_login,
            session_duration: new.session_duration,
            tags: new.tags.clone(),
            created_ms: ctx.now_ms,
            updated_ms: ctx.now_ms,
            policies: Vec::new(),
            boundary: None,
            epoch: 1,
        };
        self.roles.insert(new.name.clone(), role);
        changes.roles.insert(new.name.clone());
        Ok(id)
    }

    /// Deletes a role with its attachments and boundary.
    pub fn delete_role(&mut self, name: &str, changes: &mut Changes) -> Result<(), AdminError> {
        self.role(name)?;
        self.roles.remove(name);
        changes.roles.insert(name.to_string());
        Ok(())
    }

    /// Replaces a role's trust policy; every session of the role ends.
    pub fn update_trust(
        &mut self,
        name: &str,
        document: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.role(name)?;
        self.check_trust(document, ctx)?;
        self.role_mut(name, ctx, changes, |r| {
            r.document = document.to_string();
            r.epoch = r.epoch.saturating_add(1);
            Ok(())
        })
    }

    /// Changes a role's description.
    pub fn update_role_description(
        &mut self,
        name: &str,
        description: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_description(description)?;
        self.role_mut(name, ctx, changes, |r| {
            r.description = description.to_string();
            Ok(())
        })
    }

    /// Allows or forbids a role's console sign-in.
    pub fn update_role_console_login(
        &mut self,
        name: &str,
        console_login: bool,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.role_mut(name, ctx, changes, |r| {
            r.console_login = console_login;
            Ok(())
        })
    }

    /// Changes the longest session a role allows.
    pub fn update_role_session_duration(
        &mut self,
        name: &str,
        secs: u32,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_session(secs)?;
        self.role_mut(name, ctx, changes, |r| {
            r.session_duration = secs;
            Ok(())
        })
    }

    /// Sets tags on a role (a key it has gets the new value).
    pub fn tag_role(
        &mut self,
        name: &str,
        tags: &[Tag],
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_tags(tags)?;
        let mut merged = self.role(name)?.tags.clone();
        for t in tags {
            match merged.iter_mut().find(|m| m.key == t.key) {
                Some(m) => m.value = t.value.clone(),
                None => merged.push(t.clone()),
            }
        }
        if merged.len() > MAX_TAGS {
            return Err(AdminError::TagLimit(merged.len()));
        }
        self.role_mut(name, ctx, changes, |r| {
            r.tags = merged;
            Ok(())
        })
    }

    /// Removes tags from a role by key (a key it lacks is no error).
    pub fn untag_role(
        &mut self,
        name: &str,
        keys: &[String],
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.role_mut(name, ctx, changes, |r| {
            r.tags.retain(|t| !keys.contains(&t.key));
            Ok(())
        })
    }
}
