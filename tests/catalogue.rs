//! Tencent's catalogue against the real daemon: a delegated key whose
//! policy names a sub-user in CAM's own form (`qcs::cam::uin/OWNER:uin/SUBUIN`)
//! is governed by it exactly as by `user/NAME`, allows and denies alike.

use crate::harness::{Camd, NOBODY, effective_uid, json, refused, stderr};

const OWNER: &str = "qcs::cam::uin/100000000001";

fn uin_of(d: &Camd, name: &str) -> u64 {
    json(&d.camctl(&["--json", "user", "get", name]))["Uin"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_sub_user_named_by_uin_is_the_same_user_as_by_name() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run the caller as another uid");
        return;
    }
    let d = Camd::start("catalogue-uin-form");
    for u in ["alice", "bob"] {
        assert_eq!(d.camctl(&["user", "add", u]).status.code(), Some(0));
    }
    let (alice, bob) = (uin_of(&d, "alice"), uin_of(&d, "bob"));
    std::fs::write(
        d.dir.join("policies/ByUin.json"),
        format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"cam:GetUser","resource":"{OWNER}:uin/{alice}"}}]}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        d.dir.join("policies/AllButBob.json"),
        format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"cam:GetUser","resource":"{OWNER}:user/*"}},{{"effect":"deny","action":"cam:GetUser","resource":"{OWNER}:uin/{bob}"}}]}}"#
        ),
    )
    .unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let (by_uin, by_uin_secret) = d.user_with_key("byuin", "ByUin");
    let (all_but, all_but_secret) = d.user_with_key("allbutbob", "AllButBob");
    let as_ = |id: &str, secret: &str, user: &str| {
        d.camctl_as(
            Some(NOBODY),
            &[("CAMD_SECRET_KEY", secret)],
            &["--as-key", id, "user", "get", user],
        )
    };
    // The allow in CAM's form grants what `user/alice` would.
    let out = as_(&by_uin, &by_uin_secret, "alice");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    refused(
        &as_(&by_uin, &by_uin_secret, "bob"),
        "AuthFailure.UnauthorizedOperation",
    );
    // A deny in CAM's form beats an allow by name: no name gets around it.
    let out = as_(&all_but, &all_but_secret, "alice");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    refused(
        &as_(&all_but, &all_but_secret, "bob"),
        "AuthFailure.UnauthorizedOperation",
    );
}
