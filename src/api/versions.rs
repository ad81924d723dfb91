//! CAM's actions on an API-managed policy's versions: Create, SetDefault,
//! List, Get and Delete PolicyVersion.

use serde_json::{Value, json};

use crate::code::Failure;
use crate::protocol::{self as op, PolicyVersionInfo, VersionCreated};

use super::action::{Action, last};
use super::params::bad_value;
use super::{Directory, Params, fields};

fn version(id: u64) -> Result<u32, Failure> {
    u32::try_from(id).map_err(|_| bad_value("VersionId", "a version id"))
}

/// The policy named by PolicyId.
fn policy(p: &Params, dir: &dyn Directory) -> Result<String, Failure> {
    dir.policy(p.u64("PolicyId")?)
}

/// Adds a version.
pub struct CreatePolicyVersion;

impl Action for CreatePolicyVersion {
    const NAME: &'static str = "CreatePolicyVersion";
    const PARAMS: &'static [&'static str] = &["PolicyId", "PolicyDocument", "SetAsDefault"];
    type Op = op::CreatePolicyVersion;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::CreatePolicyVersion>), Failure> {
        let op = op::CreatePolicyVersion {
            name: policy(p, dir)?,
            document: p.str("PolicyDocument")?,
            set_default: p.bool("SetAsDefault")?,
        };
        Ok((Self, vec![op]))
    }

    fn render(self, replies: Vec<VersionCreated>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "VersionId": last(replies)?.version }))
    }
}

/// Makes a version the default.
pub struct SetDefaultPolicyVersion;

impl Action for SetDefaultPolicyVersion {
    const NAME: &'static str = "SetDefaultPolicyVersion";
    const PARAMS: &'static [&'static str] = &["PolicyId", "VersionId"];
    type Op = op::SetDefaultPolicyVersion;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::SetDefaultPolicyVersion>), Failure> {
        let op = op::SetDefaultPolicyVersion {
            name: policy(p, dir)?,
            version: version(p.u64("VersionId")?)?,
        };
        Ok((Self, vec![op]))
    }
}

/// A policy's versions.
pub struct ListPolicyVersions;

impl Action for ListPolicyVersions {
    const NAME: &'static str = "ListPolicyVersions";
    const PARAMS: &'static [&'static str] = &["PolicyId"];
    type Op = op::ListPolicyVersions;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListPolicyVersions>), Failure> {
        let name = policy(p, dir)?;
        Ok((Self, vec![op::ListPolicyVersions { name }]))
    }

    fn render(
        self,
        replies: Vec<Vec<PolicyVersionInfo>>,
        _: &dyn Directory,
    ) -> Result<Value, Failure> {
        let vs = last(replies)?;
        Ok(json!({ "Versions": vs.iter().map(fields::version).collect::<Vec<_>>() }))
    }
}

/// One version with its document.
pub struct GetPolicyVersion;

impl Action for GetPolicyVersion {
    const NAME: &'static str = "GetPolicyVersion";
    const PARAMS: &'static [&'static str] = &["PolicyId", "VersionId"];
    type Op = op::GetPolicyVersion;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::GetPolicyVersion>), Failure> {
        let op = op::GetPolicyVersion {
            name: policy(p, dir)?,
            version: version(p.u64("VersionId")?)?,
        };
        Ok((Self, vec![op]))
    }

    fn render(self, replies: Vec<PolicyVersionInfo>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(json!({ "PolicyVersion": fields::version_detail(&last(replies)?) }))
    }
}

/// Deletes versions other than the default.
pub struct DeletePolicyVersion;

impl Action for DeletePolicyVersion {
    const NAME: &'static str = "DeletePolicyVersion";
    const PARAMS: &'static [&'static str] = &["PolicyId", "VersionId"];
    type Op = op::DeletePolicyVersion;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::DeletePolicyVersion>), Failure> {
        let op = op::DeletePolicyVersion {
            name: policy(p, dir)?,
            versions: p
                .u64_list("VersionId")?
                .into_iter()
                .map(version)
                .collect::<Result<_, _>>()?,
        };
        Ok((Self, vec![op]))
    }
}
