//! CAM's actions on groups and memberships: CreateGroup, DeleteGroup,
//! ListGroups, AddUserToGroup, RemoveUserFromGroup, ListUsersForGroup,
//! ListGroupsForUser.

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::{self as op, Done, GroupInfo, UserInfo};

use super::action::{Action, last};
use super::params::Paging;
use super::{Directory, Params, fields, group_id};

/// Creates a group.
pub struct CreateGroup(String);

impl Action for CreateGroup {
    const NAME: &'static str = "CreateGroup";
    const PARAMS: &'static [&'static str] = &["GroupName", "Remark"];
    type Op = op::CreateGroup;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::CreateGroup>), Failure> {
        let name = p.str("GroupName")?;
        let op = op::CreateGroup {
            name: name.clone(),
            remark: p.text("Remark")?,
        };
        Ok((Self(name), vec![op]))
    }

    fn render(self, _: Vec<Done>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "GroupId": group_id(&self.0) }))
    }
}

/// Deletes a group.
pub struct DeleteGroup;

impl Action for DeleteGroup {
    const NAME: &'static str = "DeleteGroup";
    const PARAMS: &'static [&'static str] = &["GroupId"];
    type Op = op::DeleteGroup;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::DeleteGroup>), Failure> {
        let name = dir.group(p.u64("GroupId")?)?;
        Ok((Self, vec![op::DeleteGroup { name }]))
    }
}

/// Every group, paged, filtered by Keyword.
pub struct ListGroups(Paging, String);

impl Action for ListGroups {
    const NAME: &'static str = "ListGroups";
    const PARAMS: &'static [&'static str] = &["Page", "Rp", "Keyword"];
    type Op = op::ListGroups;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::ListGroups>), Failure> {
        Ok((Self(p.paging()?, p.text("Keyword")?), vec![op::ListGroups]))
    }

    fn render(self, replies: Vec<Vec<GroupInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let Self(paging, keyword) = self;
        let items = last(replies)?
            .iter()
            .filter(|g| g.name.contains(keyword.as_str()))
            .map(|g| fields::group(&g.name, &g.remark, g.created_ms))
            .collect();
        Ok(fields::page(paging, items, "GroupInfo"))
    }
}

/// Most `Info` items in one AddUserToGroup or RemoveUserFromGroup call
/// (CAM documents none; a group holds at most 100 users).
pub const MAX_MEMBERSHIP_ITEMS: usize = 100;

/// The (group, user) pairs of `Info`, each once, in order.
fn memberships(p: &Params, dir: &dyn Directory) -> Result<Vec<(String, String)>, Failure> {
    let items = p.list("Info", &["GroupId", "Uid", "Uin"])?;
    if items.len() > MAX_MEMBERSHIP_ITEMS {
        return Err(Failure::new(
            Code::InvalidParameterValue,
            format!(
                "Info has {} items; at most {MAX_MEMBERSHIP_ITEMS} are taken in one call",
                items.len()
            ),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    for i in &items {
        let uin = match i.opt_u64("Uin")? {
            Some(u) => u,
            None => i.u64("Uid")?,
        };
        let pair = (dir.group(i.u64("GroupId")?)?, dir.user(uin)?);
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(out)
}

/// Adds users to groups.
pub struct AddUserToGroup;

impl Action for AddUserToGroup {
    const NAME: &'static str = "AddUserToGroup";
    const PARAMS: &'static [&'static str] = &["Info"];
    const INDEPENDENT: bool = true;
    type Op = op::AddUserToGroup;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::AddUserToGroup>), Failure> {
        let ops = memberships(p, dir)?
            .into_iter()
            .map(|(group, user)| op::AddUserToGroup { group, user })
            .collect();
        Ok((Self, ops))
    }
}

/// Removes users from groups.
pub struct RemoveUserFromGroup;

impl Action for RemoveUserFromGroup {
    const NAME: &'static str = "RemoveUserFromGroup";
    const PARAMS: &'static [&'static str] = &["Info"];
    const INDEPENDENT: bool = true;
    type Op = op::RemoveUserFromGroup;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::RemoveUserFromGroup>), Failure> {
        let ops = memberships(p, dir)?
            .into_iter()
            .map(|(group, user)| op::RemoveUserFromGroup { group, user })
            .collect();
        Ok((Self, ops))
    }
}

/// A group's members, paged.
pub struct ListUsersForGroup(Paging);

impl Action for ListUsersForGroup {
    const NAME: &'static str = "ListUsersForGroup";
    const PARAMS: &'static [&'static str] = &["GroupId", "Page", "Rp"];
    type Op = op::ListUsersForGroup;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListUsersForGroup>), Failure> {
        let group = dir.group(p.u64("GroupId")?)?;
        Ok((Self(p.paging()?), vec![op::ListUsersForGroup { group }]))
    }

    fn render(self, replies: Vec<Vec<UserInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let items = last(replies)?.iter().map(fields::member).collect();
        Ok(fields::page(self.0, items, "UserInfo"))
    }
}

/// A user's groups (by SubUin or Uid; the signer's without either), paged.
pub struct ListGroupsForUser(Paging);

impl Action for ListGroupsForUser {
    const NAME: &'static str = "ListGroupsForUser";
    const PARAMS: &'static [&'static str] = &["Uid", "SubUin", "Page", "Rp"];
    type Op = op::ListGroupsForUser;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListGroupsForUser>), Failure> {
        let uin = match (p.opt_u64("SubUin")?, p.opt_u64("Uid")?) {
            (Some(u), _) | (None, Some(u)) => u,
            (None, None) => dir.signer_uin(),
        };
        let user = dir.user(uin)?;
        Ok((Self(p.paging()?), vec![op::ListGroupsForUser { user }]))
    }

    fn render(self, replies: Vec<Vec<String>>, dir: &dyn Directory) -> Result<Value, Failure> {
        let items = last(replies)?
            .iter()
            .map(|n| {
                dir.group_by_name(n).map_or_else(
                    || fields::group(n, "", 0),
                    |g| fields::group(&g.name, &g.remark, g.created_ms),
                )
            })
            .collect();
        Ok(fields::page(self.0, items, "GroupInfo"))
    }
}
