//! API-managed custom policies and their versions: CreatePolicy,
//! UpdatePolicy, DeletePolicy, CreatePolicyVersion, SetDefaultPolicyVersion,
//! ListPolicyVersions, GetPolicyVersion, DeletePolicyVersion. Documents are
//! checked by the engine, exactly as policy files are.

use crate::code::{Code, Failure};
use crate::policy::{Policy, preset};
use crate::protocol::{
    CreatePolicy, CreatePolicyVersion, DeletePolicy, DeletePolicyVersion, Done, GetPolicyVersion,
    ListPolicyVersions, PolicyVersionInfo, SetDefaultPolicyVersion, UpdatePolicy, VersionCreated,
};
use crate::store::{self, AdminError, StoredPolicy};

use super::{Env, Exec, Resources, Right};

/// The document, if the engine accepts it; else every error with its code
/// and JSON path (the first error's code is the failure's).
fn checked(name: &str, document: String) -> Result<String, Failure> {
    match Policy::parse(name, &document) {
        Ok(_) => Ok(document),
        Err(errors) => Err(Failure::new(
            errors
                .code()
                .unwrap_or(crate::code::Code::PolicyDocumentError),
            format!("policy `{name}` is invalid: {errors}"),
        )),
    }
}

fn version_info(p: &StoredPolicy, id: u32) -> Option<PolicyVersionInfo> {
    p.version(id).map(|v| PolicyVersionInfo {
        version: v.id,
        is_default: v.id == p.default_version,
        created_ms: v.created_ms,
        document: v.document.clone(),
    })
}

impl Exec for CreatePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:CreatePolicy", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        let document = checked(&self.name, self.document)?;
        let tags: Vec<store::Tag> = self
            .tags
            .into_iter()
            .map(|t| store::Tag {
                key: t.key,
                value: t.value,
            })
            .collect();
        env.change(move |s, cx, ch| {
            s.create_policy(
                &self.name,
                &self.description,
                document.clone(),
                &tags,
                cx,
                ch,
            )
        })
        .await?;
        Ok(Done)
    }
}

impl Exec for UpdatePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:UpdatePolicy", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        if let Some(alias) = self.alias {
            let Some(preset) = preset::canonical_name(&self.name) else {
                return Err(Failure::new(
                    Code::InvalidParameterValue,
                    format!(
                        "an alias is a preset policy's remark; policy `{}` is not a preset",
                        self.name
                    ),
                ));
            };
            if self.document.is_none() && self.description.is_none() {
                env.change(move |s, _, ch| s.set_preset_alias(preset, &alias, ch))
                    .await?;
                return Ok(Done);
            }
        }
        let document = match self.document {
            Some(d) => Some(checked(&self.name, d)?),
            None => None,
        };
        env.change(move |s, cx, ch| {
            s.update_policy(
                &self.name,
                self.description.as_deref(),
                document.clone(),
                cx,
                ch,
            )
        })
        .await?;
        Ok(Done)
    }
}

impl Exec for DeletePolicy {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DeletePolicy", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.delete_policy(&self.name, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for CreatePolicyVersion {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        let mut rights = vec![Right::on("cam:CreatePolicyVersion", res.policy(&self.name))];
        if self.set_default {
            rights.push(Right::on(
                "cam:SetDefaultPolicyVersion",
                res.policy(&self.name),
            ));
        }
        rights
    }

    async fn run(self, env: &Env<'_>) -> Result<VersionCreated, Failure> {
        let document = checked(&self.name, self.document)?;
        let version = env
            .change(move |s, cx, ch| {
                s.create_policy_version(&self.name, document.clone(), self.set_default, cx, ch)
            })
            .await?;
        Ok(VersionCreated { version })
    }
}

impl Exec for SetDefaultPolicyVersion {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:SetDefaultPolicyVersion",
            res.policy(&self.name),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.set_default_policy_version(&self.name, self.version, cx, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for ListPolicyVersions {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListPolicyVersions", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<PolicyVersionInfo>, Failure> {
        env.read(move |s, cx| {
            let p = s.stored_policy(&self.name, cx)?;
            Ok(p.versions
                .iter()
                .filter_map(|v| version_info(p, v.id))
                .collect())
        })
        .await
    }
}

impl Exec for GetPolicyVersion {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetPolicyVersion", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<PolicyVersionInfo, Failure> {
        env.read(move |s, cx| {
            version_info(s.stored_policy(&self.name, cx)?, self.version)
                .ok_or_else(|| AdminError::PolicyVersionNotExist(self.name.clone(), self.version))
        })
        .await
    }
}

impl Exec for DeletePolicyVersion {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:DeletePolicyVersion", res.policy(&self.name))]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, cx, ch| s.delete_policy_versions(&self.name, &self.versions, cx, ch))
            .await?;
        Ok(Done)
    }
}
