//! The services the API layer serves, each with the one list of its
//! actions: adding a CAM action is its definition plus one line here.

use crate::code::{Code, Failure};

use super::action::{Entry, Plan};
use super::{
    Directory, account, attachments, boundaries, groups, keys, policies, roles, users, versions,
};

/// A Tencent Cloud API 3.0 service: its name (the credential scope's
/// service), its version, its actions.
#[derive(Debug)]
pub struct Service {
    /// e.g. `cam`.
    pub name: &'static str,
    /// e.g. `2019-01-16`.
    pub version: &'static str,
    /// Every action served.
    pub actions: &'static [Entry],
}

/// CAM (Cloud Access Management), version 2019-01-16.
pub const CAM: Service = Service {
    name: "cam",
    version: "2019-01-16",
    actions: &[
        Entry::of::<users::AddUser>(),
        Entry::of::<users::GetUser>(),
        Entry::of::<users::ListUsers>(),
        Entry::of::<users::UpdateUser>(),
        Entry::of::<users::DeleteUser>(),
        Entry::of::<groups::CreateGroup>(),
        Entry::of::<groups::DeleteGroup>(),
        Entry::of::<groups::ListGroups>(),
        Entry::of::<groups::AddUserToGroup>(),
        Entry::of::<groups::RemoveUserFromGroup>(),
        Entry::of::<groups::ListUsersForGroup>(),
        Entry::of::<groups::ListGroupsForUser>(),
        Entry::of::<policies::ListPolicies>(),
        Entry::of::<policies::GetPolicy>(),
        Entry::of::<attachments::AttachUserPolicy>(),
        Entry::of::<attachments::DetachUserPolicy>(),
        Entry::of::<attachments::AttachGroupPolicy>(),
        Entry::of::<attachments::DetachGroupPolicy>(),
        Entry::of::<attachments::ListAttachedUserPolicies>(),
        Entry::of::<attachments::ListAttachedUserAllPolicies>(),
        Entry::of::<attachments::ListAttachedGroupPolicies>(),
        Entry::of::<attachments::ListEntitiesForPolicy>(),
        Entry::of::<keys::CreateAccessKey>(),
        Entry::of::<keys::UpdateAccessKey>(),
        Entry::of::<keys::DeleteAccessKey>(),
        Entry::of::<keys::ListAccessKeys>(),
        Entry::of::<policies::CreatePolicy>(),
        Entry::of::<policies::UpdatePolicy>(),
        Entry::of::<policies::DeletePolicy>(),
        Entry::of::<versions::CreatePolicyVersion>(),
        Entry::of::<versions::SetDefaultPolicyVersion>(),
        Entry::of::<versions::ListPolicyVersions>(),
        Entry::of::<versions::GetPolicyVersion>(),
        Entry::of::<versions::DeletePolicyVersion>(),
        Entry::of::<boundaries::PutUserPermissionsBoundary>(),
        Entry::of::<boundaries::DeleteUserPermissionsBoundary>(),
        Entry::of::<boundaries::GetUserPermissionBoundary>(),
        Entry::of::<account::GetGroup>(),
        Entry::of::<account::UpdateGroup>(),
        Entry::of::<account::GetAccountSummary>(),
        Entry::of::<account::GetUserAppId>(),
        Entry::of::<account::DescribeSubAccounts>(),
        Entry::of::<account::ListAccounts>(),
        Entry::of::<account::GetSecurityLastUsed>(),
        Entry::of::<account::GetPasswordRules>(),
        Entry::of::<account::UpdatePasswordRules>(),
        Entry::of::<roles::CreateRole>(),
        Entry::of::<roles::GetRole>(),
        Entry::of::<roles::DescribeRoleList>(),
        Entry::of::<roles::DeleteRole>(),
        Entry::of::<roles::UpdateAssumeRolePolicy>(),
        Entry::of::<roles::UpdateRoleDescription>(),
        Entry::of::<roles::UpdateRoleConsoleLogin>(),
        Entry::of::<roles::UpdateRoleSessionDuration>(),
        Entry::of::<roles::AttachRolePolicy>(),
        Entry::of::<roles::DetachRolePolicy>(),
        Entry::of::<roles::ListAttachedRolePolicies>(),
        Entry::of::<roles::PutRolePermissionsBoundary>(),
        Entry::of::<roles::DeleteRolePermissionsBoundary>(),
        Entry::of::<roles::GetRolePermissionBoundary>(),
        Entry::of::<roles::TagRole>(),
        Entry::of::<roles::UntagRole>(),
    ],
};

/// Every service served.
pub const SERVICES: &[&Service] = &[&CAM];

impl Service {
    /// The action named `action`.
    pub fn action(&self, action: &str) -> Result<&'static Entry, Failure> {
        self.actions
            .iter()
            .find(|a| a.name == action)
            .ok_or_else(|| {
                Failure::new(
                    Code::InvalidAction,
                    format!(
                        "action `{}` is not one camd serves",
                        action.chars().take(64).collect::<String>()
                    ),
                )
            })
    }

    /// The requests `action` with JSON parameters `body` runs.
    pub fn plan(&self, action: &str, body: &[u8], dir: &dyn Directory) -> Result<Plan, Failure> {
        self.action(action)?.plan(body, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_says_which_cam_actions_are_served() {
        use crate::policy::actions::{ACTIONS, Origin, lookup};
        for a in CAM.actions {
            let info = lookup("cam", a.name);
            assert_eq!(
                info.map(|i| i.origin),
                Some(Origin::Tencent),
                "{} is served but not catalogued as Tencent's",
                a.name
            );
        }
        for info in ACTIONS.iter().filter(|i| i.service == "cam") {
            let served = CAM.actions.iter().any(|a| a.name == info.name);
            assert_eq!(
                served,
                info.origin == Origin::Tencent,
                "cam:{} is catalogued {:?}",
                info.name,
                info.origin
            );
        }
    }

    #[test]
    fn each_action_is_listed_once_and_takes_each_parameter_once() {
        for s in SERVICES {
            for (i, a) in s.actions.iter().enumerate() {
                assert!(
                    s.actions.iter().skip(i + 1).all(|b| b.name != a.name),
                    "{} listed twice",
                    a.name
                );
                for (j, p) in a.params.iter().enumerate() {
                    assert!(
                        !a.params.iter().skip(j + 1).any(|q| q == p),
                        "{}: {p} twice",
                        a.name
                    );
                }
            }
        }
    }
}
