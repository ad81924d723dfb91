//! The rules of API-managed custom policies, their versions and users'
//! permissions boundaries. Documents arrive already checked by the engine;
//! here are the names, limits and references.

use super::error::AdminError;
use super::records::{PolicyVersion, StoredPolicy, Tag};
use super::rules::Ctx;
use super::state::{Changes, State};
use crate::policy::is_valid_policy_name;

/// CAM's limit of versions per policy.
pub const MAX_VERSIONS: usize = 5;
/// CAM's limit of custom policies per account.
pub const MAX_POLICIES: usize = 1500;
/// The longest description.
const MAX_DESCRIPTION: usize = 300;

pub use crate::protocol::PolicyKind;

fn check_description(d: &str) -> Result<(), AdminError> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(AdminError::TooLong {
            field: "description",
            max: MAX_DESCRIPTION,
        });
    }
    Ok(())
}

/// Most tags on one policy (Tencent's tag service: 50 per resource).
pub const MAX_TAGS: usize = 50;
/// The longest tag key, in characters (Tencent's tag service: 127).
const MAX_TAG_KEY: usize = 127;
/// The longest tag value, in characters (Tencent's tag service: 255).
const MAX_TAG_VALUE: usize = 255;

/// At most 50 tags, each key 1-127 characters and given once, each value
/// 0-255, neither holding a control character.
pub fn check_tags(tags: &[Tag]) -> Result<(), AdminError> {
    if tags.len() > MAX_TAGS {
        return Err(AdminError::TagLimit(tags.len()));
    }
    for (i, t) in tags.iter().enumerate() {
        let key: String = t.key.chars().take(64).collect();
        let bad = |why: &str| Err(AdminError::TagParam(format!("`{key}` {why}")));
        if t.key.is_empty() || t.key.chars().count() > MAX_TAG_KEY {
            return bad("has a key that is not 1-127 characters");
        }
        if t.value.chars().count() > MAX_TAG_VALUE {
            return bad("has a value longer than 255 characters");
        }
        if t.key.chars().chain(t.value.chars()).any(char::is_control) {
            return bad("holds a control character");
        }
        if tags.iter().take(i).any(|u| u.key == t.key) {
            return bad("is given twice");
        }
    }
    Ok(())
}

impl State {
    /// The canonical name of any policy (preset, file or API-managed).
    pub fn policy_named(&self, name: &str, ctx: &Ctx<'_>) -> Option<String> {
        (ctx.known_policy)(name)
            .or_else(|| self.policies.contains_key(name).then(|| name.to_string()))
    }

    /// Where a policy name comes from, if it exists.
    pub fn policy_kind(&self, name: &str, ctx: &Ctx<'_>) -> Option<PolicyKind> {
        if self.policies.contains_key(name) {
            return Some(PolicyKind::Managed);
        }
        let canonical = (ctx.known_policy)(name)?;
        Some(if crate::policy::preset::preset(&canonical).is_some() {
            PolicyKind::Preset
        } else {
            PolicyKind::File
        })
    }

    /// An API-managed policy, or why a name is not one.
    pub fn stored_policy(&self, name: &str, ctx: &Ctx<'_>) -> Result<&StoredPolicy, AdminError> {
        match self.policy_kind(name, ctx) {
            Some(PolicyKind::Managed) => self
                .policies
                .get(name)
                .ok_or_else(|| AdminError::PolicyNotExist(name.to_string())),
            Some(kind) => Err(AdminError::PolicyNotApiManaged(
                name.to_string(),
                kind.as_str(),
            )),
            None => Err(AdminError::PolicyNotExist(name.to_string())),
        }
    }

    fn stored_policy_mut(
        &mut self,
        name: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<&mut StoredPolicy, AdminError> {
        self.stored_policy(name, ctx)?;
        changes.policies.insert(name.to_string());
        self.policies
            .get_mut(name)
            .ok_or_else(|| AdminError::PolicyNotExist(name.to_string()))
    }

    /// Creates an API-managed policy with `document` as version 1.
    pub fn create_policy(
        &mut self,
        name: &str,
        description: &str,
        document: String,
        tags: &[Tag],
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        if !is_valid_policy_name(name) {
            return Err(AdminError::NameIllegal(name.to_string()));
        }
        check_description(description)?;
        check_tags(tags)?;
        if self.policy_named(name, ctx).is_some() || is_preset_in_other_case(name) {
            return Err(AdminError::PolicyNameTaken(name.to_string()));
        }
        // Attachments and boundaries left by a policy that is gone (a
        // removed file) would take a new policy of that name at once: its
        // author would grant it to them without the rights to attach it.
        if let Some(holder) = self.holder_of(name) {
            return Err(AdminError::PolicyNameHeld(name.to_string(), holder));
        }
        if self.policies.len() >= MAX_POLICIES {
            return Err(AdminError::PolicyFull(self.policies.len()));
        }
        self.policies.insert(
            name.to_string(),
            StoredPolicy {
                name: name.to_string(),
                description: description.to_string(),
                created_ms: ctx.now_ms,
                updated_ms: ctx.now_ms,
                default_version: 1,
                next_version: 2,
                versions: vec![PolicyVersion {
                    id: 1,
                    document,
                    created_ms: ctx.now_ms,
                }],
                tags: tags.to_vec(),
            },
        );
        changes.policies.insert(name.to_string());
        Ok(())
    }

    /// Replaces the default version's document and/or the description.
    pub fn update_policy(
        &mut self,
        name: &str,
        description: Option<&str>,
        document: Option<String>,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        if let Some(d) = description {
            check_description(d)?;
        }
        let p = self.stored_policy_mut(name, ctx, changes)?;
        let default = p.default_version;
        if let Some(doc) = document {
            if let Some(v) = p.versions.iter_mut().find(|v| v.id == default) {
                v.document = doc;
                v.created_ms = ctx.now_ms;
            }
        }
        if let Some(d) = description {
            p.description = d.to_string();
        }
        p.updated_ms = ctx.now_ms;
        Ok(())
    }

    /// Deletes an API-managed policy no user or group uses.
    pub fn delete_policy(
        &mut self,
        name: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.stored_policy(name, ctx)?;
        if let Some(holder) = self.holder_of(name) {
            return Err(AdminError::PolicyInUse(name.to_string(), holder));
        }
        self.policies.remove(name);
        changes.policies.insert(name.to_string());
        Ok(())
    }

    /// Adds a version (the default one when `set_default`); returns its id.
    pub fn create_policy_version(
        &mut self,
        name: &str,
        document: String,
        set_default: bool,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<u32, AdminError> {
        let p = self.stored_policy(name, ctx)?;
        if p.versions.len() >= MAX_VERSIONS {
            return Err(AdminError::PolicyVersionFull(
                name.to_string(),
                p.versions.len(),
            ));
        }
        let p = self.stored_policy_mut(name, ctx, changes)?;
        let id = p.next_version;
        p.next_version = id.saturating_add(1);
        p.versions.push(PolicyVersion {
            id,
            document,
            created_ms: ctx.now_ms,
        });
        if set_default {
            p.default_version = id;
        }
        p.updated_ms = ctx.now_ms;
        Ok(id)
    }

    /// Makes version `id` the one decisions use (one step: the next
    /// snapshot has the whole new version or none of it).
    pub fn set_default_policy_version(
        &mut self,
        name: &str,
        id: u32,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        if self.stored_policy(name, ctx)?.version(id).is_none() {
            return Err(AdminError::PolicyVersionNotExist(name.to_string(), id));
        }
        let p = self.stored_policy_mut(name, ctx, changes)?;
        p.default_version = id;
        p.updated_ms = ctx.now_ms;
        Ok(())
    }

    /// Deletes versions (all or none); the default version cannot go.
    pub fn delete_policy_versions(
        &mut self,
        name: &str,
        ids: &[u32],
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let p = self.stored_policy(name, ctx)?;
        for id in ids {
            if p.version(*id).is_none() {
                return Err(AdminError::PolicyVersionNotExist(name.to_string(), *id));
            }
            if *id == p.default_version {
                return Err(AdminError::DefaultVersion(name.to_string(), *id));
            }
        }
        let p = self.stored_policy_mut(name, ctx, changes)?;
        p.versions.retain(|v| !ids.contains(&v.id));
        p.updated_ms = ctx.now_ms;
        Ok(())
    }

    /// Sets a user's permissions boundary to a policy any source has.
    pub fn put_user_boundary(
        &mut self,
        user: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let name = self.known(ctx, policy)?;
        self.set_boundary(user, Some(name), changes)
    }

    /// Removes a user's permissions boundary (none is fine).
    pub fn delete_user_boundary(
        &mut self,
        user: &str,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.set_boundary(user, None, changes)
    }

    fn set_boundary(
        &mut self,
        user: &str,
        boundary: Option<String>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let uin = self.uin_of(user)?;
        let u = self
            .users
            .get_mut(&uin)
            .ok_or_else(|| AdminError::UserNotExist(user.to_string()))?;
        if u.boundary != boundary {
            u.boundary = boundary;
            changes.users.insert(uin);
            changes.affected.insert(uin);
        }
        Ok(())
    }
}

impl State {
    /// The first user or group that holds policy `name` (attached, or as a
    /// permissions boundary), said as `attached to user `a``.
    fn holder_of(&self, name: &str) -> Option<String> {
        for user in self.users.values() {
            if user.policies.iter().any(|a| a.policy == name) {
                return Some(format!("attached to user `{}`", user.name));
            }
            if user.boundary.as_deref() == Some(name) {
                return Some(format!("the permissions boundary of user `{}`", user.name));
            }
        }
        for role in self.roles.values() {
            if role.policies.iter().any(|a| a.policy == name) {
                return Some(format!("attached to role `{}`", role.name));
            }
            if role.boundary.as_deref() == Some(name) {
                return Some(format!("the permissions boundary of role `{}`", role.name));
            }
        }
        self.groups
            .values()
            .find(|g| g.policies.iter().any(|a| a.policy == name))
            .map(|g| format!("attached to group `{}`", g.name))
    }
}

/// A preset's name (or alias) written in other case: `administratoraccess`
/// would read as the preset in every list while granting something else.
fn is_preset_in_other_case(name: &str) -> bool {
    crate::policy::preset::PRESETS
        .iter()
        .map(|p| p.name)
        .chain(crate::policy::preset::ALIASES.iter().map(|(a, _)| *a))
        .any(|p| p.eq_ignore_ascii_case(name))
}
