//! User groups: CreateGroup, DeleteGroup, ListGroups, AddUserToGroup,
//! RemoveUserFromGroup, ListUsersForGroup, ListGroupsForUser.

use crate::code::Failure;
use crate::protocol::{
    AddUserToGroup, CreateGroup, DeleteGroup, Done, GroupInfo, ListGroups, ListGroupsForUser,
    ListUsersForGroup, RemoveUserFromGroup, UserInfo,
};
use crate::store::State;

use super::users::user_info;
use super::{Env, Exec, Resources, Right};

impl Exec for CreateGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:CreateGroup", res.group(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.create_group(&self.name, &self.remark, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DeleteGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DeleteGroup", res.group(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.delete_group(&self.name, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for ListGroups {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListGroups", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<GroupInfo>, Failure> {
        env.read(|s, _| Ok(group_infos(s))).await
    }
}

/// Every group as the wire lists it.
pub fn group_infos(s: &State) -> Vec<GroupInfo> {
    s.all_groups()
        .into_iter()
        .map(|(g, members)| GroupInfo {
            name: g.name,
            remark: g.remark,
            created_ms: g.created_ms,
            members: u32::try_from(members).unwrap_or(u32::MAX),
        })
        .collect()
}

impl Exec for AddUserToGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:AddUserToGroup", res.group(&self.group))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.add_user_to_group(&self.group, &self.user, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for RemoveUserFromGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:RemoveUserFromGroup", res.group(&self.group))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.remove_user_from_group(&self.group, &self.user, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for ListUsersForGroup {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListUsersForGroup", res.group(&self.group))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<UserInfo>, Failure> {
        env.read(move |s, _| {
            Ok(s.users_in_group(&self.group)?
                .iter()
                .map(user_info)
                .collect())
        })
        .await
    }
}

impl Exec for ListGroupsForUser {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListGroupsForUser", res.user(&self.user))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<String>, Failure> {
        env.read(move |s, _| Ok(s.user(&self.user)?.groups.clone()))
            .await
    }
}
