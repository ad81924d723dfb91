//! Policies and attachments: ListPolicies, GetPolicy, Attach/Detach to a
//! user or group, ListAttachedUserPolicies (and ...AllPolicies),
//! ListAttachedGroupPolicies, ListEntitiesForPolicy; and the policy folder:
//! ReloadPolicies, PolicyStatus. API-managed policies are listed beside
//! presets and files (kind `Managed`, `Api` on the wire).

use crate::code::{Code, Failure};
use crate::policy::preset;
use crate::protocol::{
    AttachGroupPolicy, AttachUserPolicy, AttachedInfo, DetachGroupPolicy, DetachUserPolicy, Done,
    Entities, GetPolicy, ListAttachedGroupPolicies, ListAttachedUserPolicies,
    ListEntitiesForPolicy, ListPolicies, LoadedPolicy, PolicyInfo, PolicyStatus, PolicyStatusInfo,
    ReloadInfo, ReloadPolicies, ReloadProblem, Tag,
};
use crate::reload::{Control, Report};
use std::collections::BTreeMap;

use crate::store::{AdminError, PolicyKind, StoredPolicy};

use super::{Env, Exec, Resources, Right};

/// What the store knows of policies: the API-managed ones, how many
/// users and groups each policy (by canonical name) is attached to, and
/// the presets' aliases.
struct Stored {
    api: Vec<(StoredPolicy, String)>,
    attached: BTreeMap<String, u32>,
    bounds: BTreeMap<String, u32>,
    aliases: BTreeMap<String, String>,
}

async fn stored(env: &Env<'_>) -> Result<Stored, Failure> {
    env.read(|s, cx| {
        let api = s
            .policies()
            .values()
            .map(|p| {
                let doc = p
                    .default_document()
                    .map(|v| v.document.clone())
                    .unwrap_or_default();
                (p.clone(), doc)
            })
            .collect();
        let mut attached: BTreeMap<String, u32> = BTreeMap::new();
        let mut bounds: BTreeMap<String, u32> = BTreeMap::new();
        let held = s.users().values().flat_map(|u| &u.policies);
        let held = held.chain(s.groups().values().flat_map(|g| &g.policies));
        for a in held.chain(s.roles().values().flat_map(|r| &r.policies)) {
            let name = (cx.known_policy)(&a.policy).unwrap_or_else(|| a.policy.clone());
            *attached.entry(name).or_default() += 1;
        }
        let bounded = s.users().values().filter_map(|u| u.boundary.as_ref());
        for b in bounded.chain(s.roles().values().filter_map(|r| r.boundary.as_ref())) {
            let name = (cx.known_policy)(b).unwrap_or_else(|| b.clone());
            *bounds.entry(name).or_default() += 1;
        }
        let aliases = preset::PRESETS
            .iter()
            .map(|p| (p.name.to_string(), s.preset_alias(p.name)))
            .collect();
        Ok(Stored {
            api,
            attached,
            bounds,
            aliases,
        })
    })
    .await
}

fn tags_of(p: &StoredPolicy) -> Vec<Tag> {
    p.tags
        .iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

/// Presets, policy files and API-managed policies (only `only`, by name or
/// alias, when given; then with their documents).
pub(super) async fn policies(
    env: &Env<'_>,
    only: Option<&str>,
) -> Result<Vec<PolicyInfo>, Failure> {
    let st = stored(env).await?;
    let catalog = env.policies.catalog.load();
    let wanted = |n: &str| only.is_none_or(|o| preset::canonical_name(o).unwrap_or(o) == n);
    let count = |n: &str| st.attached.get(n).copied().unwrap_or(0);
    let info = |name: &str, kind, description: String, document: Option<String>| PolicyInfo {
        name: name.to_string(),
        kind,
        description,
        document: only.and(document),
        created_ms: 0,
        updated_ms: 0,
        attachments: count(name),
        boundaries: st.bounds.get(name).copied().unwrap_or(0),
        tags: Vec::new(),
        alias: st.aliases.get(name).cloned().unwrap_or_default(),
    };
    let mut out: Vec<PolicyInfo> = preset::PRESETS
        .iter()
        .filter(|p| wanted(p.name))
        .map(|p| {
            let doc = Some(p.document.to_string());
            info(p.name, PolicyKind::Preset, p.description.to_string(), doc)
        })
        .collect();
    out.extend(catalog.custom().filter(|p| wanted(&p.name)).map(|p| {
        let loaded = catalog.meta(&p.name).map_or(0, |m| m.loaded_ms);
        PolicyInfo {
            created_ms: loaded,
            updated_ms: loaded,
            ..info(
                &p.name,
                PolicyKind::File,
                String::new(),
                catalog.source(&p.name),
            )
        }
    }));
    out.extend(
        st.api
            .iter()
            .filter(|(p, _)| wanted(&p.name))
            .map(|(p, doc)| PolicyInfo {
                created_ms: p.created_ms,
                updated_ms: p.updated_ms,
                tags: tags_of(p),
                ..info(
                    &p.name,
                    PolicyKind::Managed,
                    p.description.clone(),
                    Some(doc.clone()),
                )
            }),
    );
    Ok(out)
}

impl Exec for ListPolicies {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListPolicies", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<PolicyInfo>, Failure> {
        policies(env, None).await
    }
}

impl Exec for GetPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetPolicy", res.policy(&self.policy))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<PolicyInfo>, Failure> {
        let found = policies(env, Some(&self.policy)).await?;
        if found.is_empty() {
            return Err(AdminError::PolicyNotExist(self.policy).into());
        }
        Ok(found)
    }
}

impl Exec for AttachUserPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let on = res.user(&self.user);
        vec![Right::with_policy("cam:AttachUserPolicy", on, &self.policy)]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.attach_user_policy(&self.user, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DetachUserPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let on = res.user(&self.user);
        vec![Right::with_policy("cam:DetachUserPolicy", on, &self.policy)]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.detach_user_policy(&self.user, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for AttachGroupPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let on = res.group(&self.group);
        vec![Right::with_policy(
            "cam:AttachGroupPolicy",
            on,
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.attach_group_policy(&self.group, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for DetachGroupPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let on = res.group(&self.group);
        vec![Right::with_policy(
            "cam:DetachGroupPolicy",
            on,
            &self.policy,
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.detach_group_policy(&self.group, &self.policy, cx, ch))
            .await?;
        Ok(Done)
    }
}

fn attached(list: Vec<(String, Option<String>, i64)>) -> Vec<AttachedInfo> {
    list.into_iter()
        .map(|(policy, via_group, attached_ms)| AttachedInfo {
            policy,
            via_group,
            attached_ms,
        })
        .collect()
}

impl Exec for ListAttachedUserPolicies {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let action = if self.all {
            "cam:ListAttachedUserAllPolicies"
        } else {
            "cam:ListAttachedUserPolicies"
        };
        vec![Right::on(action, res.user(&self.user))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<AttachedInfo>, Failure> {
        env.read(move |s, _| s.user_policies(&self.user, self.all).map(attached))
            .await
    }
}

impl Exec for ListAttachedGroupPolicies {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:ListAttachedGroupPolicies",
            res.group(&self.group),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<AttachedInfo>, Failure> {
        env.read(move |s, _| {
            Ok(s.group_policies(&self.group)?
                .into_iter()
                .map(|a| AttachedInfo {
                    policy: a.policy,
                    via_group: None,
                    attached_ms: a.attached_ms,
                })
                .collect())
        })
        .await
    }
}

impl Exec for ListEntitiesForPolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:ListEntitiesForPolicy",
            res.policy(&self.policy),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Entities, Failure> {
        env.read(move |s, cx| {
            let (users, groups) = s.entities_for_policy(&self.policy, cx);
            Ok(Entities { users, groups })
        })
        .await
    }
}

/// A reload's outcome as the wire shows it.
pub(super) fn reload_info(r: &Report) -> ReloadInfo {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    ReloadInfo {
        applied: r.applied,
        added: n(r.diff.added),
        changed: n(r.diff.changed),
        removed: n(r.diff.removed),
        errors: r
            .errors
            .iter()
            .flat_map(|e| {
                e.problems.iter().map(|p| ReloadProblem {
                    file: e.path.display().to_string(),
                    code: p.code.to_string(),
                    path: p.json_path.clone(),
                    line: p.line,
                    column: p.column,
                    message: p.message.clone(),
                })
            })
            .collect(),
        at_ms: r.at_ms,
    }
}

impl Exec for ReloadPolicies {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ReloadPolicies", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<ReloadInfo, Failure> {
        let stopped = || Failure::new(Code::Reload, "the reload loop has stopped");
        let (tx, rx) = tokio::sync::oneshot::channel();
        env.control
            .send(Control::Reload(Some(tx)))
            .map_err(|_| stopped())?;
        let report = rx.await.map_err(|_| stopped())?;
        Ok(reload_info(&report))
    }
}

fn hex_sha256(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Exec for PolicyStatus {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListPolicies", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<PolicyStatusInfo, Failure> {
        let catalog = env.policies.catalog.load_full();
        let mut policies: Vec<LoadedPolicy> = preset::PRESETS
            .iter()
            .map(|p| LoadedPolicy {
                name: p.name.to_string(),
                kind: PolicyKind::Preset,
                hash: hex_sha256(p.document),
                loaded_ms: 0,
            })
            .collect();
        policies.extend(catalog.custom().map(|p| {
            let meta = catalog.meta(&p.name);
            LoadedPolicy {
                name: p.name.clone(),
                kind: PolicyKind::File,
                hash: meta.map(|m| m.hash.clone()).unwrap_or_default(),
                loaded_ms: meta.map_or(0, |m| m.loaded_ms),
            }
        }));
        policies.extend(
            stored(env)
                .await?
                .api
                .into_iter()
                .map(|(p, document)| LoadedPolicy {
                    name: p.name,
                    kind: PolicyKind::Managed,
                    hash: hex_sha256(&document),
                    loaded_ms: p.updated_ms,
                }),
        );
        let dangling = env.visible_dangling(env.read(|s, cx| Ok(s.dangling(cx))).await?);
        Ok(PolicyStatusInfo {
            policies,
            last_reload: env.policies.last.load_full().map(|r| reload_info(&r)),
            dangling,
        })
    }
}
