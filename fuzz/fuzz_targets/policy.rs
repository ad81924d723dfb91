//! Fuzz target: the policy parser and validator on any text; a document it
//! accepts is then evaluated on a few requests (which must never panic, and
//! must deny when the policy has no allow statement).
#![no_main]

use std::sync::Arc;

use camd::policy::{Effect, Policy, PolicySet, Principal, Request};
use libfuzzer_sys::fuzz_target;

const REQUESTS: [(&str, &str); 4] = [
    ("im:SendMessage", "qcs::im::uin/1:sdkappid/21"),
    ("im:GetGroupInfo", "*"),
    ("cam:AddUser", "qcs::cam::uin/1:user/a"),
    ("IM:DESTROYGROUP", "qcs::im:ap-guangzhou:uin/1:sdkappid/2"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(compiled) = Policy::parse("Fuzzed", text) else {
        return;
    };
    let any_allow = compiled
        .policy
        .statements
        .iter()
        .any(|s| s.effect == Effect::Allow);
    let set = PolicySet::new([Arc::new(compiled.policy)]);
    let ctx = [("qcs:ip", "10.1.2.3"), ("im:n", "x")];
    let principal = Principal {
        uin: 2,
        owner_uin: 1,
    };
    for (a, r) in REQUESTS {
        let req = Request::new(a, r, principal, 1_800_000_000_000, &ctx).expect("a valid request");
        let d = set.evaluate(&req);
        assert!(any_allow || !d.is_allowed());
    }
});
