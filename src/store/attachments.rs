//! The rules of attaching and detaching policies to users and groups.

use super::error::AdminError;
use super::records::Attachment;

use super::rules::{Ctx, named};
use super::state::{Changes, State};

impl State {
    /// Runs `f` on a user's attachments, and records the user as changed.
    fn user_policies_mut(
        &mut self,
        user: &str,
        changes: &mut Changes,
        f: impl FnOnce(&mut Vec<Attachment>) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        let uin = self.uin_of(user)?;
        let u = self
            .users
            .get_mut(&uin)
            .ok_or_else(|| AdminError::UserNotExist(user.to_string()))?;
        f(&mut u.policies)?;
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Runs `f` on a group's attachments, and records the group (and so its
    /// members) as changed.
    fn group_policies_mut(
        &mut self,
        group: &str,
        changes: &mut Changes,
        f: impl FnOnce(&mut Vec<Attachment>) -> Result<(), AdminError>,
    ) -> Result<(), AdminError> {
        let g = self
            .groups
            .get_mut(group)
            .ok_or_else(|| AdminError::GroupNotExist(group.to_string()))?;
        f(&mut g.policies)?;
        self.group_changed(group, changes);
        Ok(())
    }

    /// Attaches a policy the catalog has (by its canonical name) to a user.
    pub fn attach_user_policy(
        &mut self,
        user: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let known = self.known(ctx, policy)?;
        self.user_policies_mut(user, changes, |list| {
            attach(list, known, ctx, || format!("user `{user}`"))
        })
    }

    /// Detaches a policy (by its canonical name, or as given) from a user.
    pub fn detach_user_policy(
        &mut self,
        user: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.user_policies_mut(user, changes, |list| {
            detach(list, named(ctx, policy), || format!("user `{user}`"))
        })
    }

    /// Attaches a policy the catalog has to a group.
    pub fn attach_group_policy(
        &mut self,
        group: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let known = self.known(ctx, policy)?;
        self.group_policies_mut(group, changes, |list| {
            attach(list, known, ctx, || format!("group `{group}`"))
        })
    }

    /// Detaches a policy from a group.
    pub fn detach_group_policy(
        &mut self,
        group: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_policies_mut(group, changes, |list| {
            detach(list, named(ctx, policy), || format!("group `{group}`"))
        })
    }
}

impl State {
    /// Attaches a policy the catalog has to a role.
    pub fn attach_role_policy(
        &mut self,
        role: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let known = self.known(ctx, policy)?;
        self.role_mut(role, ctx, changes, |r| {
            attach(&mut r.policies, known, ctx, || format!("role `{role}`"))
        })
    }

    /// Detaches a policy from a role.
    pub fn detach_role_policy(
        &mut self,
        role: &str,
        policy: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.role_mut(role, ctx, changes, |r| {
            detach(&mut r.policies, named(ctx, policy), || {
                format!("role `{role}`")
            })
        })
    }

    /// Sets a role's permissions boundary (a policy the catalog has; `None`
    /// removes it, and none is fine).
    pub fn set_role_boundary(
        &mut self,
        role: &str,
        policy: Option<&str>,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let boundary = policy.map(|p| self.known(ctx, p)).transpose()?;
        self.role_mut(role, ctx, changes, |r| {
            r.boundary = boundary;
            Ok(())
        })
    }
}

/// Adds `policy` to `list` (already there: nothing to do), within the limit.
fn attach(
    list: &mut Vec<Attachment>,
    policy: String,
    ctx: &Ctx<'_>,
    who: impl Fn() -> String,
) -> Result<(), AdminError> {
    if list.iter().any(|a| a.policy == policy) {
        return Ok(());
    }
    if list.len() >= ctx.limits.attachments {
        return Err(AdminError::AttachmentFull(who(), list.len()));
    }
    list.push(Attachment {
        policy,
        attached_ms: ctx.now_ms,
    });
    Ok(())
}

/// Removes `policy` from `list`; an error when it was not there.
fn detach(
    list: &mut Vec<Attachment>,
    policy: String,
    who: impl Fn() -> String,
) -> Result<(), AdminError> {
    let before = list.len();
    list.retain(|a| a.policy != policy);
    if list.len() == before {
        return Err(AdminError::AttachmentNotExist {
            policy,
            target: who(),
        });
    }
    Ok(())
}
