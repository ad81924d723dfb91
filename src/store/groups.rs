//! The rules of groups and memberships.

use super::error::AdminError;
use super::records::Group;

use super::rules::{Ctx, MAX_REMARK, check_len, check_name};
use super::state::{Changes, State};

impl State {
    /// Creates a group.
    pub fn create_group(
        &mut self,
        name: &str,
        remark: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_name(name)?;
        check_len("remark", remark, MAX_REMARK)?;
        if self.groups.contains_key(name) {
            return Err(AdminError::GroupNameInUse(name.to_string()));
        }
        if self.groups.len() >= ctx.limits.groups {
            return Err(AdminError::GroupFull(self.groups.len()));
        }
        let g = Group {
            name: name.to_string(),
            remark: remark.to_string(),
            created_ms: ctx.now_ms,
            policies: Vec::new(),
        };
        self.groups.insert(name.to_string(), g);
        changes.groups.insert(name.to_string());
        Ok(())
    }

    /// Changes a group's remark (`None` leaves it).
    pub fn update_group(
        &mut self,
        name: &str,
        remark: Option<&str>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let Some(g) = self.groups.get_mut(name) else {
            return Err(AdminError::GroupNotExist(name.to_string()));
        };
        if let Some(r) = remark {
            check_len("remark", r, MAX_REMARK)?;
            g.remark = r.to_string();
        }
        changes.groups.insert(name.to_string());
        Ok(())
    }

    /// Deletes a group, its memberships and attachments.
    pub fn delete_group(&mut self, name: &str, changes: &mut Changes) -> Result<(), AdminError> {
        self.group_exists(name)?;
        for uin in self.disband(name) {
            changes.users.insert(uin);
            changes.affected.insert(uin);
        }
        self.put_group(name, None);
        changes.groups.insert(name.to_string());
        Ok(())
    }

    /// Adds a user to a group (already a member: nothing to do).
    pub fn add_user_to_group(
        &mut self,
        group: &str,
        user: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_exists(group)?;
        let uin = self.uin_of(user)?;
        let members = self.member_count(group);
        let Some(u) = self.users.get(&uin) else {
            return Err(AdminError::UserNotExist(user.to_string()));
        };
        if u.groups.iter().any(|g| g == group) {
            return Ok(());
        }
        if u.groups.len() >= ctx.limits.groups_per_user {
            return Err(AdminError::UserGroupFull(user.to_string(), u.groups.len()));
        }
        if members >= ctx.limits.users_per_group {
            return Err(AdminError::GroupUserFull(group.to_string(), members));
        }
        self.join_group(uin, group);
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }

    /// Removes a user from a group.
    pub fn remove_user_from_group(
        &mut self,
        group: &str,
        user: &str,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.group_exists(group)?;
        let uin = self.uin_of(user)?;
        let Some(u) = self.users.get(&uin) else {
            return Err(AdminError::UserNotExist(user.to_string()));
        };
        if !u.groups.iter().any(|g| g == group) {
            return Err(AdminError::UserNotInGroup {
                user: user.to_string(),
                group: group.to_string(),
            });
        }
        self.leave_group(uin, group);
        changes.users.insert(uin);
        changes.affected.insert(uin);
        Ok(())
    }
}
