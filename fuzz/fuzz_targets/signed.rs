//! Fuzz target: a TC3 Authorization header and a CAM API call's action and
//! JSON body (one line each, then the body), through the signature checks
//! and the CAM API translation. Neither may panic, whatever the bytes.
#![no_main]

use camd::api::{CAM, Directory};
use camd::credentials::tc3::{Payload, Signed, check, parse_authorization};
use camd::protocol::GroupInfo;
use libfuzzer_sys::fuzz_target;

struct Names;

impl Directory for Names {
    fn owner_uin(&self) -> u64 {
        100_000_000_001
    }
    fn signer_uin(&self) -> u64 {
        200_000_000_001
    }
    fn user_name(&self, uin: u64) -> Option<String> {
        (uin == 200_000_000_001).then(|| "alice".into())
    }
    fn user_uin(&self, name: &str) -> Option<u64> {
        (name == "alice").then_some(200_000_000_001)
    }
    fn group_by_id(&self, id: u64) -> Option<GroupInfo> {
        (id == camd::api::group_id("ops")).then(|| self.group_by_name("ops")).flatten()
    }
    fn group_by_name(&self, name: &str) -> Option<GroupInfo> {
        (name == "ops").then(|| GroupInfo {
            name: "ops".into(),
            remark: String::new(),
            created_ms: 0,
            members: 1,
        })
    }
    fn policy_name(&self, id: u64) -> Option<String> {
        (id == 1).then(|| "AdministratorAccess".into())
    }
    fn role_name(&self, id: u64) -> Option<String> {
        (id == (1 << 62) + 1).then(|| "chat-backend".into())
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let auth = parts.next().unwrap_or_default();
    let action = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let headers: Vec<(String, String)> = [
        ("Authorization", auth),
        ("Content-Type", "application/json"),
        ("Host", "h"),
        ("X-TC-Timestamp", "1795000000"),
        ("X-TC-Action", action),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signed = Signed {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: Payload::Bytes(body.as_bytes()),
    };
    let _ = parse_authorization(auth);
    let _ = check(&signed, None, 1_795_000_000, 300);
    let _ = check(&signed, Some("cam"), i64::MAX, i64::MAX);
    let _ = CAM.plan(action, body.as_bytes(), &Names);
});
