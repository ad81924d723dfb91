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

/// camctl as the operator with `$CAMD_PASSWORD` set.
fn with_password(d: &Camd, password: &str, args: &[&str]) -> std::process::Output {
    d.camctl_as(None, &[("CAMD_PASSWORD", password)], args)
}

#[test]
fn password_rules_apply_wherever_a_password_is_set_and_survive_a_restart() {
    let d = Camd::start("catalogue-password-rules");
    let rules = json(&d.camctl(&["--json", "account", "password-rules"]));
    assert_eq!(rules["MinimumLength"], 8, "{rules}");
    assert_eq!(rules["MustContain"], "Aa0#", "{rules}");
    // Out of range: refused, naming the rule.
    let out = d.camctl(&["account", "set-password-rules", "--minimum-length", "40"]);
    refused(&out, "InvalidParameter.PasswordRuleError");
    assert!(stderr(&out).contains("MinimumLength"), "{}", stderr(&out));
    let out = d.camctl(&[
        "account",
        "set-password-rules",
        "--minimum-length",
        "12",
        "--must-contain",
        "a0",
        "--reuse-limit",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let add = |d: &Camd, name: &str, pw: &str| {
        with_password(
            d,
            pw,
            &["user", "add", name, "--console-login", "--password-env"],
        )
    };
    // Once 8 characters with every class sufficed; now 12 of lower case and digits.
    refused(
        &add(&d, "short", "Good-Pass1"),
        "InvalidParameter.PasswordViolatedRules",
    );
    refused(
        &add(&d, "nodigit", "onlylowercaseletters"),
        "InvalidParameter.PasswordViolatedRules",
    );
    let out = add(&d, "carol", "lowercase1234");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The last two passwords may not come back; a third may.
    let update = |pw: &str| with_password(&d, pw, &["user", "update", "carol", "--password-env"]);
    refused(
        &update("lowercase1234"),
        "InvalidParameter.PasswordViolatedRules",
    );
    assert_eq!(update("lowercase5678").status.code(), Some(0));
    refused(
        &update("lowercase1234"),
        "InvalidParameter.PasswordViolatedRules",
    );
    assert_eq!(update("lowercase9012").status.code(), Some(0));
    assert_eq!(update("lowercase1234").status.code(), Some(0));
    // The rules are stored: a restart keeps them, with who changed them.
    let dir = d.dir.clone();
    assert!(d.stop().success());
    let d = Camd::start_in(dir);
    let rules = json(&d.camctl(&["--json", "account", "password-rules"]));
    assert_eq!(
        (
            &rules["MinimumLength"],
            &rules["MustContain"],
            &rules["ReusePasswordLimit"]
        ),
        (
            &serde_json::json!(12),
            &serde_json::json!("a0"),
            &serde_json::json!(2)
        ),
        "{rules}"
    );
    // Who changed them, by uin as CAM names a modifier: the operator acts
    // as the root account.
    assert_eq!(rules["Modifier"], "100000000001", "{rules}");
    refused(
        &add(&d, "dave", "Good-Pass1"),
        "InvalidParameter.PasswordViolatedRules",
    );
}

#[test]
fn groups_tags_aliases_and_key_use_round_trip() {
    let d = Camd::start("catalogue-round-trip");
    for args in [
        vec!["user", "add", "alice"],
        vec!["group", "create", "dev", "--remark", "developers"],
        vec!["group", "add-user", "dev", "alice"],
        vec!["group", "update", "dev", "--remark", "chat developers"],
    ] {
        let out = d.camctl(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let g = json(&d.camctl(&["--json", "group", "get", "dev"]));
    assert_eq!(g["Remark"], "chat developers", "{g}");
    assert_eq!(g["Members"][0]["Name"], "alice", "{g}");
    refused(
        &d.camctl(&["group", "get", "nope"]),
        "ResourceNotFound.GroupNotExist",
    );
    // Tags on a new policy, an alias on a preset.
    let doc = d.dir.join("senders.json");
    std::fs::write(
        &doc,
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#,
    )
    .unwrap();
    let doc = doc.to_str().unwrap();
    let out = d.camctl(&[
        "policy",
        "create",
        "Senders",
        "--document",
        doc,
        "--tag",
        "team=chat",
        "--tag",
        "env=prod",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = d.camctl(&[
        "policy",
        "create",
        "Twice",
        "--document",
        doc,
        "--tag",
        "a=1",
        "--tag",
        "a=2",
    ]);
    refused(&out, "InvalidParameter.TagParamError");
    let p = json(&d.camctl(&["--json", "policy", "get", "Senders"]));
    assert_eq!(
        p["Tags"],
        serde_json::json!([{"Key": "team", "Value": "chat"}, {"Key": "env", "Value": "prod"}]),
        "{p}"
    );
    let out = d.camctl(&[
        "policy",
        "update",
        "QcloudAVCFullAccess",
        "--alias",
        "chat admins",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let p = json(&d.camctl(&["--json", "policy", "get", "QcloudAVCFullAccess"]));
    assert_eq!(p["Alias"], "chat admins", "{p}");
    refused(
        &d.camctl(&["policy", "update", "Senders", "--alias", "x"]),
        "InvalidParameterValue",
    );
    // A key's description, and its last use once it is used.
    let k = json(&d.camctl(&[
        "--json",
        "key",
        "create",
        "alice",
        "--description",
        "deploy",
    ]));
    let id = k["SecretId"].as_str().unwrap().to_string();
    let secret = k["SecretKey"].as_str().unwrap().to_string();
    let used = json(&d.camctl(&["--json", "key", "last-used", &id]));
    assert_eq!(used[0]["LastUsedTime"], serde_json::Value::Null, "{used}");
    assert_eq!(used[0]["Description"], "deploy", "{used}");
    let out = d.camctl_as(
        None,
        &[("CAMD_SECRET_KEY", secret.as_str())],
        &[
            "auth",
            "--secret-id",
            &id,
            "--action",
            "im:SendMessage",
            "--resource",
            "*",
        ],
    );
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    // Custom policies: the harness's UserAdmin file and Senders.
    let summary = json(&d.camctl(&["--json", "account", "summary"]));
    assert_eq!(
        summary,
        serde_json::json!({"Policies": 2, "Roles": 0, "User": 1, "Group": 1, "Member": 1})
    );
    let by_uin = json(&d.camctl(&[
        "--json",
        "account",
        "users",
        &uin_of(&d, "alice").to_string(),
        "1",
    ]));
    assert_eq!(by_uin.as_array().unwrap().len(), 1, "{by_uin}");
}

/// GetSecurityLastUsed needs the right on each key's owner: a delegate
/// allowed it for alice's keys learns nothing of bob's.
#[test]
fn key_use_is_shown_only_for_keys_the_caller_may_read() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run the caller as another uid");
        return;
    }
    let d = Camd::start("catalogue-last-used");
    for u in ["alice", "bob"] {
        assert_eq!(d.camctl(&["user", "add", u]).status.code(), Some(0));
    }
    let key_of = |u: &str| {
        json(&d.camctl(&["--json", "key", "create", u]))["SecretId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (alice_key, bob_key) = (key_of("alice"), key_of("bob"));
    std::fs::write(
        d.dir.join("policies/AliceKeys.json"),
        format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"cam:GetSecurityLastUsed","resource":"{OWNER}:user/alice"}}]}}"#
        ),
    )
    .unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let (id, secret) = d.user_with_key("auditor", "AliceKeys");
    let as_ = |keys: &[&str]| {
        let mut args = vec!["--as-key", id.as_str(), "--json", "key", "last-used"];
        args.extend_from_slice(keys);
        d.camctl_as(Some(NOBODY), &[("CAMD_SECRET_KEY", secret.as_str())], &args)
    };
    let out = as_(&[&alice_key]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)[0]["SecretId"], alice_key.as_str());
    // All or nothing: one key of bob's refuses the whole call.
    refused(
        &as_(&[&alice_key, &bob_key]),
        "AuthFailure.UnauthorizedOperation",
    );
}
