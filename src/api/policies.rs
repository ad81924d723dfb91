//! CAM's actions on policies: ListPolicies, GetPolicy, and CreatePolicy,
//! UpdatePolicy and DeletePolicy on API-managed ones.

use serde_json::{Value, json};

use crate::code::Failure;
use crate::protocol::{self as op, Done, PolicyInfo};

use super::action::{Action, last};
use super::params::{Paging, bad_value};
use super::{Directory, Params, fields, policy_id};

/// ListPolicies' Scope, as CAM spells it: `None` for All, `Some(true)` for
/// QCS (presets), `Some(false)` for Local (custom: files and API-managed).
pub fn parse_scope(s: Option<&str>) -> Result<Option<bool>, Failure> {
    match s {
        None | Some("All") => Ok(None),
        Some("QCS") => Ok(Some(true)),
        Some("Local") => Ok(Some(false)),
        Some(_) => Err(bad_value("Scope", "All, QCS or Local")),
    }
}

/// Presets and custom policies, paged, by Scope and Keyword.
pub struct ListPolicies {
    paging: Paging,
    scope: Option<bool>,
    keyword: String,
}

impl Action for ListPolicies {
    const NAME: &'static str = "ListPolicies";
    const PARAMS: &'static [&'static str] = &["Rp", "Page", "Scope", "Keyword"];
    type Op = op::ListPolicies;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::ListPolicies>), Failure> {
        let this = Self {
            paging: p.paging()?,
            scope: parse_scope(p.opt_str("Scope")?.as_deref())?,
            keyword: p.text("Keyword")?,
        };
        Ok((this, vec![op::ListPolicies]))
    }

    fn render(self, replies: Vec<Vec<PolicyInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let items = last(replies)?
            .iter()
            .filter(|p| fields::listed(p, self.scope, &self.keyword))
            .map(fields::policy)
            .collect();
        let page = fields::page(self.paging, items, "List");
        Ok(fields::with(page, "ServiceTypeList", json!([])))
    }
}

/// One policy with its document.
pub struct GetPolicy;

impl Action for GetPolicy {
    const NAME: &'static str = "GetPolicy";
    const PARAMS: &'static [&'static str] = &["PolicyId"];
    type Op = op::GetPolicy;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::GetPolicy>), Failure> {
        let policy = dir.policy(p.u64("PolicyId")?)?;
        Ok((Self, vec![op::GetPolicy { policy }]))
    }

    fn render(self, replies: Vec<Vec<PolicyInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let ps = last(replies)?;
        let Some(p) = ps.first() else {
            return Err(Failure::new(
                crate::code::Code::Dispatch,
                "GetPolicy answered no policy",
            ));
        };
        Ok(fields::policy_detail(p))
    }
}

/// Creates an API-managed policy.
pub struct CreatePolicy(String);

impl Action for CreatePolicy {
    const NAME: &'static str = "CreatePolicy";
    const PARAMS: &'static [&'static str] =
        &["PolicyName", "PolicyDocument", "Description", "Tags"];
    type Op = op::CreatePolicy;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::CreatePolicy>), Failure> {
        let name = p.str("PolicyName")?;
        let tags = p
            .opt_list("Tags", &["Key", "Value"])?
            .iter()
            .map(|t| {
                Ok(op::Tag {
                    key: t.str("Key")?,
                    value: t.str("Value")?,
                })
            })
            .collect::<Result<_, Failure>>()?;
        let op = op::CreatePolicy {
            name: name.clone(),
            document: p.str("PolicyDocument")?,
            description: p.text("Description")?,
            tags,
        };
        Ok((Self(name), vec![op]))
    }

    fn render(self, _: Vec<Done>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "PolicyId": policy_id(&self.0) }))
    }
}

/// Changes an API-managed policy (by PolicyId, or PolicyName alone).
pub struct UpdatePolicy(String);

impl Action for UpdatePolicy {
    const NAME: &'static str = "UpdatePolicy";
    const PARAMS: &'static [&'static str] = &[
        "PolicyId",
        "PolicyName",
        "Description",
        "PolicyDocument",
        "Alias",
    ];
    type Op = op::UpdatePolicy;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::UpdatePolicy>), Failure> {
        let name = match p.opt_u64("PolicyId")? {
            Some(id) => dir.policy(id)?,
            None => p.str("PolicyName")?,
        };
        if p.opt_str("PolicyName")?.is_some_and(|n| n != name) {
            return Err(bad_value(
                "PolicyName",
                "the policy's own name (camd does not rename policies)",
            ));
        }
        let op = op::UpdatePolicy {
            name: name.clone(),
            document: p.opt_str("PolicyDocument")?,
            description: p.opt_str("Description")?,
            alias: p.opt_str("Alias")?,
        };
        Ok((Self(name), vec![op]))
    }

    fn render(self, _: Vec<Done>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "PolicyId": policy_id(&self.0) }))
    }
}

/// Deletes API-managed policies, by a list of PolicyIds.
pub struct DeletePolicy;

impl Action for DeletePolicy {
    const NAME: &'static str = "DeletePolicy";
    const PARAMS: &'static [&'static str] = &["PolicyId"];
    type Op = op::DeletePolicy;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::DeletePolicy>), Failure> {
        let ops = p
            .u64_list("PolicyId")?
            .into_iter()
            .map(|id| dir.policy(id).map(|name| op::DeletePolicy { name }))
            .collect::<Result<_, _>>()?;
        Ok((Self, ops))
    }
}
