//! Tencent Cloud API 3.0 services over camd's operations (CAM, version
//! 2019-01-16): each action is one [`Action`] (its parameters with CAM's
//! names and types, the admin requests it plans, how it renders their
//! typed replies as CAM's response fields), listed once in its
//! [`Service`]. Pure translation: the server verifies the signature,
//! executes the requests as the signer, and resolves ids through a
//! [`Directory`].

mod account;
mod action;
mod attachments;
mod boundaries;
pub mod fields;
mod groups;
mod ids;
mod keys;
mod params;
mod policies;
mod roles;
mod service;
mod users;
mod versions;

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::GroupInfo;

pub use action::{Action, Entry, Out, Plan, last};
pub use groups::MAX_MEMBERSHIP_ITEMS;
pub use ids::{group_id, policy_id};
pub use params::{Paging, Params};
pub use policies::parse_scope;
pub use roles::role_info;
pub use service::{CAM, SERVICES, Service};

/// What translating needs to know of camd's state: names behind CAM's ids.
pub trait Directory {
    /// The root account's uin.
    fn owner_uin(&self) -> u64;
    /// The uin of the key that signed the call.
    fn signer_uin(&self) -> u64;
    /// A sub-user's name.
    fn user_name(&self, uin: u64) -> Option<String>;
    /// A sub-user's uin.
    fn user_uin(&self, name: &str) -> Option<u64>;
    /// A group, by GroupId.
    fn group_by_id(&self, id: u64) -> Option<GroupInfo>;
    /// A group, by name.
    fn group_by_name(&self, name: &str) -> Option<GroupInfo>;
    /// A policy's name, by PolicyId.
    fn policy_name(&self, id: u64) -> Option<String>;
    /// A role's name, by RoleId.
    fn role_name(&self, id: u64) -> Option<String>;

    /// A role's name, or `RoleNotExist`.
    fn role(&self, id: u64) -> Result<String, Failure> {
        self.role_name(id)
            .ok_or_else(|| Failure::new(Code::RoleNotExist, format!("no role has RoleId {id}")))
    }

    /// A sub-user's name, or `UserNotExist`.
    fn user(&self, uin: u64) -> Result<String, Failure> {
        self.user_name(uin)
            .ok_or_else(|| Failure::new(Code::UserNotExist, format!("no sub-user has uin {uin}")))
    }

    /// A group's name, or `GroupNotExist`.
    fn group(&self, id: u64) -> Result<String, Failure> {
        self.group_by_id(id)
            .map(|g| g.name)
            .ok_or_else(|| Failure::new(Code::GroupNotExist, format!("no group has GroupId {id}")))
    }

    /// A policy's name, or `PolicyIdNotFound`.
    fn policy(&self, id: u64) -> Result<String, Failure> {
        self.policy_name(id).ok_or_else(|| {
            Failure::new(
                Code::PolicyIdNotFound,
                format!("no policy has PolicyId {id}"),
            )
        })
    }
}

/// A random RequestId in the UUID (version 4) form CAM uses.
pub fn request_id(rng: &dyn ring::rand::SecureRandom) -> String {
    let mut b = [0u8; 16];
    let _ = rng.fill(&mut b);
    if let Some(x) = b.get_mut(6) {
        *x = (*x & 0x0f) | 0x40;
    }
    if let Some(x) = b.get_mut(8) {
        *x = (*x & 0x3f) | 0x80;
    }
    let hex = crate::credentials::tc3::hex(&b);
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// The response to a call that succeeded: `fields` and the RequestId.
pub fn answer(mut fields: Value, request_id: &str) -> String {
    if let Value::Object(m) = &mut fields {
        m.insert("RequestId".into(), Value::String(request_id.into()));
    }
    json!({ "Response": fields }).to_string()
}

/// The response to a call that failed.
pub fn error(failure: &Failure, request_id: &str) -> String {
    json!({
        "Response": {
            "Error": { "Code": failure.code.as_str(), "Message": failure.message },
            "RequestId": request_id,
        }
    })
    .to_string()
}
