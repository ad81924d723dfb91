//! Roles: CreateRole, GetRole, DescribeRoleList, DeleteRole,
//! UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRoleConsoleLogin,
//! UpdateRoleSessionDuration, AttachRolePolicy, DetachRolePolicy,
//! ListAttachedRolePolicies, Put/DeleteRolePermissionsBoundary,
//! GetRolePermissionBoundary, TagRole, UntagRole. Trust policies are
//! checked by the engine (`policy::TrustPolicy`) before the store sees them.

use crate::code::{Code, Failure};
use crate::policy::TrustPolicy;
use crate::protocol::{
    AttachRolePolicy, AttachedInfo, BoundaryInfo, CreateRole, DeleteRole,
    DeleteRolePermissionsBoundary, DescribeRoleList, DetachRolePolicy, Done, GetRole,
    GetRolePermissionBoundary, ListAttachedRolePolicies, PutRolePermissionsBoundary, RoleInfo, Tag,
    TagRole, UntagRole, UpdateAssumeRolePolicy, UpdateRoleConsoleLogin, UpdateRoleDescription,
    UpdateRoleSessionDuration,
};
use crate::store::{self, NewRole, ROLE_ID_BASE, Role};

use super::boundaries::boundary_info;
use super::{Env, Exec, Resources, Right};

/// A role as the wire shows it.
pub fn role_info(r: &Role) -> RoleInfo {
    RoleInfo {
        id: r.id,
        name: r.name.clone(),
        document: r.document.clone(),
        description: r.description.clone(),
        console_login: r.console_login,
        session_duration: r.session_duration,
        tags: r
            .tags
            .iter()
            .map(|t| Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
        created_ms: r.created_ms,
        updated_ms: r.updated_ms,
        boundary: r.boundary.clone(),
    }
}

fn store_tags(tags: Vec<Tag>) -> Vec<store::Tag> {
    tags.into_iter()
        .map(|t| store::Tag {
            key: t.key,
            value: t.value,
        })
        .collect()
}

/// The trust policy, if the engine accepts it for this account; else every
/// error with its code and path (the first error's code is the failure's).
fn trusted(document: String, owner_uin: u64) -> Result<String, Failure> {
    match TrustPolicy::parse(&document, owner_uin) {
        Ok(_) => Ok(document),
        Err(errors) => Err(Failure::new(
            errors.code().unwrap_or(Code::PrincipalError),
            format!("the trust policy is invalid: {errors}"),
        )),
    }
}

/// A RoleId: 2^62 plus 40 random bits (CAM's ids are 2^62 plus a number).
fn draw_id(env: &Env<'_>) -> Result<u64, Failure> {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(env.rng, &mut b)
        .map_err(|_| Failure::new(Code::Random, "the system's random source failed"))?;
    Ok(ROLE_ID_BASE | (u64::from_le_bytes(b) & 0xFF_FFFF_FFFF))
}

impl Exec for CreateRole {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:CreateRole", res.role(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<RoleInfo, Failure> {
        let new = NewRole {
            id: draw_id(env)?,
            document: trusted(self.document, env.owner_uin)?,
            name: self.name,
            description: self.description,
            console_login: self.console_login,
            session_duration: self.session_duration,
            tags: store_tags(self.tags),
        };
        let name = new.name.clone();
        env.change(move |s, cx, ch| s.create_role(&new, cx, ch))
            .await?;
        env.read(move |s, _| Ok(role_info(s.role(&name)?))).await
    }
}

impl Exec for GetRole {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetRole", res.role(&self.role))]
    }

    async fn run(self, env: &Env<'_>) -> Result<RoleInfo, Failure> {
        env.read(move |s, _| Ok(role_info(s.role(&self.role)?)))
            .await
    }
}

impl Exec for DescribeRoleList {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DescribeRoleList", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<RoleInfo>, Failure> {
        env.read(|s, _| Ok(s.roles().values().map(role_info).collect()))
            .await
    }
}

impl Exec for DeleteRole {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DeleteRole", res.role(&self.role))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.delete_role(&self.role, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for UpdateAssumeRolePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:UpdateAssumeRolePolicy",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        let document = trusted(self.document, env.owner_uin)?;
        env.change(move |s, cx, ch| s.update_trust(&self.role, &document, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for UpdateRoleDescription {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:UpdateRoleDescription", res.role(&self.role))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| {
            s.update_role_description(&self.role, &self.description, cx, ch)
        })
        .await?;
        Ok(Done)
    }
}

impl Exec for UpdateRoleConsoleLogin {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:UpdateRoleConsoleLogin",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| {
            s.update_role_console_login(&self.role, self.console_login, cx, ch)
        })
        .await?;
        Ok(Done)
    }
}

impl Exec for UpdateRoleSessionDuration {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:UpdateRoleSessionDuration",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| {
            s.update_role_session_duration(&self.role, self.session_duration, cx, ch)
        })
        .await?;
        Ok(Done)
    }
}

impl Exec for AttachRolePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::with_policy(
            "cam:AttachRolePolicy",
            res.role(&self.role),
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.attach_role_policy(&self.role, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DetachRolePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::with_policy(
            "cam:DetachRolePolicy",
            res.role(&self.role),
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.detach_role_policy(&self.role, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for ListAttachedRolePolicies {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:ListAttachedRolePolicies",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<AttachedInfo>, Failure> {
        env.read(move |s, _| {
            Ok(s.role(&self.role)?
                .policies
                .iter()
                .map(|a| AttachedInfo {
                    policy: a.policy.clone(),
                    via_group: None,
                    attached_ms: a.attached_ms,
                })
                .collect())
        })
        .await
    }
}

impl Exec for PutRolePermissionsBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::with_policy(
            "cam:PutRolePermissionsBoundary",
            res.role(&self.role),
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.set_role_boundary(&self.role, Some(&self.policy), cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DeleteRolePermissionsBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:DeleteRolePermissionsBoundary",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.set_role_boundary(&self.role, None, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for GetRolePermissionBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:GetRolePermissionBoundary",
            res.role(&self.role),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<BoundaryInfo, Failure> {
        let catalog = env.policies.catalog.load_full();
        env.read(move |s, cx| {
            let b = s.role(&self.role)?.boundary.clone();
            Ok(boundary_info(s, cx, &catalog, b))
        })
        .await
    }
}

impl Exec for TagRole {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:TagRole", res.role(&self.role))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        let tags = store_tags(self.tags);
        env.change(move |s, cx, ch| s.tag_role(&self.role, &tags, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for UntagRole {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:UntagRole", res.role(&self.role))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.untag_role(&self.role, &self.keys, cx, ch))
            .await?;
        Ok(Done)
    }
}
