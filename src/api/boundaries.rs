//! CAM's actions on a sub-user's permissions boundary: Put, Delete and
//! Get.

use serde_json::Value;

use crate::code::Failure;
use crate::protocol::{self as op, BoundaryInfo};

use super::action::{Action, last};
use super::{Directory, Params, fields};

/// Sets a user's boundary.
pub struct PutUserPermissionsBoundary;

impl Action for PutUserPermissionsBoundary {
    const NAME: &'static str = "PutUserPermissionsBoundary";
    const PARAMS: &'static [&'static str] = &["TargetUin", "PolicyId"];
    type Op = op::PutUserPermissionsBoundary;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::PutUserPermissionsBoundary>), Failure> {
        let op = op::PutUserPermissionsBoundary {
            user: dir.user(p.u64("TargetUin")?)?,
            policy: dir.policy(p.u64("PolicyId")?)?,
        };
        Ok((Self, vec![op]))
    }
}

/// Removes a user's boundary.
pub struct DeleteUserPermissionsBoundary;

impl Action for DeleteUserPermissionsBoundary {
    const NAME: &'static str = "DeleteUserPermissionsBoundary";
    const PARAMS: &'static [&'static str] = &["TargetUin"];
    type Op = op::DeleteUserPermissionsBoundary;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::DeleteUserPermissionsBoundary>), Failure> {
        let user = dir.user(p.u64("TargetUin")?)?;
        Ok((Self, vec![op::DeleteUserPermissionsBoundary { user }]))
    }
}

/// A user's boundary.
pub struct GetUserPermissionBoundary;

impl Action for GetUserPermissionBoundary {
    const NAME: &'static str = "GetUserPermissionBoundary";
    const PARAMS: &'static [&'static str] = &["TargetUin"];
    type Op = op::GetUserPermissionBoundary;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::GetUserPermissionBoundary>), Failure> {
        let user = dir.user(p.u64("TargetUin")?)?;
        Ok((Self, vec![op::GetUserPermissionBoundary { user }]))
    }

    fn render(self, replies: Vec<BoundaryInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(fields::boundary(&last(replies)?))
    }
}
