//! CAM's own API (Tencent Cloud API 3.0, version 2019-01-16) over camd's
//! operations: each action's parameters, with CAM's names and types,
//! become the same admin requests the socket runs, and their replies
//! become CAM's response fields. Pure translation: the server verifies the
//! signature, executes the requests as the signer, and resolves ids
//! through a [`Directory`].

mod actions;
mod custom;
mod ids;
mod params;
mod views;

use serde_json::{Value, json};

use crate::code::{Code, Failure};
use crate::protocol::{Body, GroupInfo, Reply};

pub use actions::{ACTIONS, parse_scope, plan};
pub use custom::CUSTOM_ACTIONS;
pub use ids::{group_id, policy_id};
pub use params::{Paging, Params};
pub use views::{listed, render};

/// The API version camd serves.
pub const VERSION: &str = "2019-01-16";
/// The service in the credential scope of a CAM API call.
pub const SERVICE: &str = "cam";

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
}

/// The requests one call runs, in order, and how their replies are shown.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Admin requests, run in order; the first failure stops the call.
    pub bodies: Vec<Body>,
    /// How the replies become the response.
    pub view: views::View,
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

/// The failure of a reply that is not the shape an action expects (a bug).
pub fn unexpected(reply: &Reply) -> Failure {
    Failure::new(
        Code::Dispatch,
        format!("unexpected reply {:?}", std::mem::discriminant(reply)),
    )
}
