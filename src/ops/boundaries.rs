//! Permissions boundaries (PutUserPermissionsBoundary,
//! DeleteUserPermissionsBoundary, GetUserPermissionBoundary) and the
//! "what can this user do" view (UserPermissions), read from the user's
//! compiled set in the snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::code::Failure;
use crate::policy::permissions::{self, Grant};
use crate::policy::{Effect, Policy, preset};
use crate::protocol::{
    ActionPermission, BoundaryInfo, DeleteUserPermissionsBoundary, Done, GetUserPermissionBoundary,
    GrantInfo, PutUserPermissionsBoundary, UserPermissions,
};
use crate::store::{AdminError, PolicyKind};

use super::{Env, Exec, Resources, Right};

impl Exec for PutUserPermissionsBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::with_policy(
            "cam:PutUserPermissionsBoundary",
            res.user(&self.user),
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.put_user_boundary(&self.user, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DeleteUserPermissionsBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:DeleteUserPermissionsBoundary",
            res.user(&self.user),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.delete_user_boundary(&self.user, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for GetUserPermissionBoundary {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:GetUserPermissionBoundary",
            res.user(&self.user),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<BoundaryInfo, Failure> {
        let catalog = env.policies.catalog.load_full();
        env.read(move |s, cx| {
            let b = s.user(&self.user)?.boundary.clone();
            Ok(boundary_info(s, cx, &catalog, b))
        })
        .await
    }
}

/// A boundary (a policy name, or none) with its kind and document.
pub(super) fn boundary_info(
    s: &crate::store::State,
    cx: &crate::store::Ctx<'_>,
    catalog: &crate::catalog::Catalog,
    boundary: Option<String>,
) -> BoundaryInfo {
    let Some(b) = boundary else {
        return BoundaryInfo {
            policy: None,
            kind: None,
            document: None,
        };
    };
    let kind = s.policy_kind(&b, cx);
    let document = match kind {
        Some(PolicyKind::Managed) => s
            .policies()
            .get(&b)
            .and_then(|p| p.default_document())
            .map(|v| v.document.clone()),
        Some(PolicyKind::Preset) => preset::PRESETS
            .iter()
            .find(|p| p.name == b)
            .map(|p| p.document.to_string()),
        Some(PolicyKind::File) => catalog.source(&b),
        None => None,
    };
    BoundaryInfo {
        policy: Some(b),
        kind,
        document,
    }
}

fn grant_info(g: &Grant<'_>, via: &str) -> GrantInfo {
    GrantInfo {
        policy: g.policy.to_string(),
        statement: u32::try_from(g.statement).unwrap_or(u32::MAX),
        via: via.to_string(),
        resources: g.resources.iter().map(|r| r.to_string()).collect(),
        conditions: g.conditions.iter().map(|c| c.to_string()).collect(),
    }
}

/// Where each of a user's policies comes from: `direct`, or `group:NAME`
/// (every group, when several give it).
type Origins = BTreeMap<String, String>;

impl Exec for UserPermissions {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let on = res.user(&self.user);
        vec![
            Right::on("cam:ListAttachedUserAllPolicies", on.clone()),
            Right::on("cam:GetUserPermissionBoundary", on),
        ]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<ActionPermission>, Failure> {
        let origins = origins(env, self.user.clone()).await?;
        let snapshot = env.authz.snapshot();
        let entry = snapshot
            .names
            .get(self.user.as_str())
            .ok_or_else(|| AdminError::UserNotExist(self.user.clone()))?;
        let set = &entry.policies;
        let own: Vec<Arc<Policy>> = set.policies().cloned().collect();
        let bound: Option<Vec<Arc<Policy>>> =
            set.boundary().map(|b| b.policies().cloned().collect());
        Ok(permissions::catalogued(self.service.as_deref())
            .map(|(i, action)| {
                let mut p = permission(i, &own, bound.as_deref(), &origins);
                p.action = format!("{}:{}", action.service, action.name);
                p
            })
            .collect())
    }
}

/// Where each of a user's policies comes from: `direct`, `group:NAME`, or
/// several of them.
async fn origins(env: &Env<'_>, user: String) -> Result<Origins, Failure> {
    env.read(move |s, _| {
        let u = s.user(&user)?;
        let mut out = Origins::new();
        for a in &u.policies {
            out.insert(a.policy.clone(), "direct".into());
        }
        for g in &u.groups {
            for a in s.groups().get(g).into_iter().flat_map(|g| &g.policies) {
                let via = format!("group:{g}");
                out.entry(a.policy.clone())
                    .and_modify(|v| {
                        v.push(',');
                        v.push_str(&via);
                    })
                    .or_insert(via);
            }
        }
        Ok(out)
    })
    .await
}

/// What the user's policies (`own`) and boundary (`bound`) say of the
/// catalogued action `i` (its name is filled in by the caller).
fn permission(
    i: usize,
    own: &[Arc<Policy>],
    bound: Option<&[Arc<Policy>]>,
    origins: &Origins,
) -> ActionPermission {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    let mut grants_allow = Vec::new();
    let mut grants_deny = Vec::new();
    for p in own {
        let via = origins.get(&p.name).map_or("direct", String::as_str);
        for g in permissions::grants(p, i) {
            match g.effect {
                Effect::Allow => {
                    allow.push(grant_info(&g, via));
                    grants_allow.push(g);
                }
                Effect::Deny => {
                    deny.push(grant_info(&g, via));
                    grants_deny.push(g);
                }
            }
        }
    }
    let mut bound_allow = None;
    let mut boundary = None;
    if let Some(bps) = bound {
        let mut ga = Vec::new();
        let mut shown = Vec::new();
        for g in bps.iter().flat_map(|p| permissions::grants(p, i)) {
            match g.effect {
                Effect::Allow => {
                    shown.push(grant_info(&g, "boundary"));
                    ga.push(g);
                }
                Effect::Deny => {
                    deny.push(grant_info(&g, "boundary"));
                    grants_deny.push(g);
                }
            }
        }
        bound_allow = Some(ga);
        boundary = Some(shown);
    }
    let access = permissions::access(&grants_allow, &grants_deny, bound_allow.as_deref());
    ActionPermission {
        action: String::new(),
        access: access.as_str().to_string(),
        allow,
        deny,
        boundary,
    }
}
