//! CAM's actions on access keys: CreateAccessKey, UpdateAccessKey,
//! DeleteAccessKey, ListAccessKeys.

use serde_json::{Value, json};

use crate::code::Failure;
use crate::protocol::{self as op, Credentials, KeyInfo};

use super::action::{Action, last};
use super::params::bad_value;
use super::{Directory, Params, fields};

/// A key's owner by TargetUin: the root account (`None`), a sub-user, or
/// (absent) the signer.
fn owner(p: &Params, dir: &dyn Directory) -> Result<Option<String>, Failure> {
    let uin = p.opt_u64("TargetUin")?.unwrap_or(dir.signer_uin());
    if uin == dir.owner_uin() {
        Ok(None)
    } else {
        dir.user(uin).map(Some)
    }
}

/// Creates an access key; the SecretKey is in the response, once.
pub struct CreateAccessKey(String);

impl Action for CreateAccessKey {
    const NAME: &'static str = "CreateAccessKey";
    const PARAMS: &'static [&'static str] = &["TargetUin", "Description"];
    type Op = op::CreateAccessKey;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::CreateAccessKey>), Failure> {
        let description = p.text("Description")?;
        Ok((
            Self(description.clone()),
            vec![op::CreateAccessKey {
                user: owner(p, dir)?,
                description,
            }],
        ))
    }

    fn render(self, replies: Vec<Credentials>, _: &dyn Directory) -> Result<Value, Failure> {
        let c = last(replies)?;
        Ok(json!({
            "AccessKey": {
                "AccessKeyId": c.secret_id,
                "SecretAccessKey": c.secret_key,
                "Status": "Active",
                "CreateTime": fields::time(crate::clock::now_ms()),
                "Description": self.0,
            }
        }))
    }
}

/// Enables or disables an access key.
pub struct UpdateAccessKey;

impl Action for UpdateAccessKey {
    const NAME: &'static str = "UpdateAccessKey";
    const PARAMS: &'static [&'static str] = &["AccessKeyId", "Status", "TargetUin"];
    type Op = op::UpdateAccessKey;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::UpdateAccessKey>), Failure> {
        let op = op::UpdateAccessKey {
            secret_id: p.str("AccessKeyId")?,
            active: match p.str("Status")?.as_str() {
                "Active" => true,
                "Inactive" => false,
                _ => return Err(bad_value("Status", "Active or Inactive")),
            },
        };
        Ok((Self, vec![op]))
    }
}

/// Deletes an access key.
pub struct DeleteAccessKey;

impl Action for DeleteAccessKey {
    const NAME: &'static str = "DeleteAccessKey";
    const PARAMS: &'static [&'static str] = &["AccessKeyId", "TargetUin"];
    type Op = op::DeleteAccessKey;

    fn plan(p: &Params, _: &dyn Directory) -> Result<(Self, Vec<op::DeleteAccessKey>), Failure> {
        let secret_id = p.str("AccessKeyId")?;
        Ok((Self, vec![op::DeleteAccessKey { secret_id }]))
    }
}

/// A user's (or the root account's) access keys.
pub struct ListAccessKeys;

impl Action for ListAccessKeys {
    const NAME: &'static str = "ListAccessKeys";
    const PARAMS: &'static [&'static str] = &["TargetUin"];
    type Op = op::ListAccessKeys;

    fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::ListAccessKeys>), Failure> {
        Ok((
            Self,
            vec![op::ListAccessKeys {
                user: owner(p, dir)?,
            }],
        ))
    }

    fn render(self, replies: Vec<Vec<KeyInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let keys: Vec<Value> = last(replies)?
            .iter()
            .map(|k| {
                json!({
                    "AccessKeyId": k.secret_id,
                    "Status": k.status,
                    "CreateTime": fields::time(k.created_ms),
                    "Description": k.description,
                })
            })
            .collect();
        Ok(json!({ "AccessKeys": keys }))
    }
}
