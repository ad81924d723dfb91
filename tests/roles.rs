//! CAM roles against the real daemon: their rules (trust policies, limits,
//! codes) through camctl, kept across a restart; and each role right
//! attacked as uid 65534 with a delegated key that lacks it.

use crate::harness::{Camd, NOBODY, effective_uid, json, refused, stderr};

const OWNER: u64 = 100_000_000_001;

/// A delegated role administrator: creates and reads roles, attaches only
/// the Chat read-only preset, never touches trust policies.
const ROLE_ADMIN: &str = r#"{"version":"2.0","statement":[
  {"effect":"allow","action":["cam:CreateRole","cam:GetRole","cam:DescribeRoleList","cam:GetUserAppId","cam:GetUser"],"resource":"*"},
  {"effect":"allow","action":"cam:AttachRolePolicy","resource":"qcs::cam::uin/100000000001:roleName/*",
   "condition":{"string_equal":{"cam:policy_name":"QcloudChatReadOnlyAccess"}}}]}"#;

fn trust(who: &str) -> String {
    format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":["qcs::cam::uin/{OWNER}:{who}"]}}}}]}}"#
    )
}

fn ok(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
}

#[test]
fn roles_keep_their_rules_and_survive_a_restart() {
    let d = Camd::start("roles");
    ok(&d.camctl(&["user", "add", "alice"]));
    let out = d.camctl(&[
        "--json",
        "role",
        "create",
        "chat-backend",
        "--trusted-user",
        "alice",
        "--description",
        "the Chat backends",
        "--session-duration",
        "3600",
        "--tag",
        "team=chat",
    ]);
    ok(&out);
    let made = json(&out);
    let id: u64 = made["RoleId"].as_str().unwrap().parse().unwrap();
    assert!(id >= 1 << 62, "CAM's RoleIds are 2^62 plus a number: {id}");
    ok(&d.camctl(&["role", "attach", "chat-backend", "QcloudChatReadOnlyAccess"]));
    ok(&d.camctl(&[
        "role",
        "set-boundary",
        "chat-backend",
        "QcloudAVCFullAccess",
    ]));

    // The trust policy's rules, each with CAM's code.
    let dir = d.dir.clone();
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cases = [
        (trust("uin/299999999999"), "ResourceNotFound.UserNotExist"),
        (
            trust("root").replace(&OWNER.to_string(), "100000000002"),
            "InvalidParameter.PrincipalQcsError",
        ),
        (
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole"}]}"#
                .to_string(),
            "InvalidParameter.PrincipalError",
        ),
        (
            trust("root").replace("name/sts:AssumeRole", "name/cam:ListUsers"),
            "InvalidParameter.ActionError",
        ),
    ];
    for (i, (doc, code)) in cases.iter().enumerate() {
        let path = file(&format!("trust-{i}.json"), doc);
        refused(&d.camctl(&["role", "create", "r", "--trust", &path]), code);
    }
    let good = file("trust-root.json", &trust("root"));
    refused(
        &d.camctl(&["role", "create", "chat-backend", "--trust", &good]),
        "InvalidParameter.RoleNameInUse",
    );
    refused(
        &d.camctl(&["role", "create", "bad name", "--trust", &good]),
        "InvalidParameter.RoleNameError",
    );
    let long = "x".repeat(301);
    refused(
        &d.camctl(&[
            "role",
            "create",
            "r",
            "--trust",
            &good,
            "--description",
            &long,
        ]),
        "InvalidParameter.DescriptionLengthOverlimit",
    );
    refused(
        &d.camctl(&[
            "role",
            "update",
            "chat-backend",
            "--session-duration",
            "43201",
        ]),
        "InvalidParameterValue",
    );
    // An identity policy may not name a principal.
    let identity = file(
        "identity.json",
        &trust("root").replace("name/sts:AssumeRole", "name/im:SendMessage"),
    );
    refused(
        &d.camctl(&["policy", "create", "P", "--document", &identity]),
        "InvalidParameter.PrincipalError",
    );
    // A policy a role holds is in use.
    let p = file(
        "p.json",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"*"}]}"#,
    );
    ok(&d.camctl(&["policy", "create", "P", "--document", &p]));
    ok(&d.camctl(&["role", "attach", "chat-backend", "P"]));
    refused(
        &d.camctl(&["policy", "delete", "P"]),
        "FailedOperation.PolicyInUse",
    );

    let before = json(&d.camctl(&["--json", "role", "get", "chat-backend"]));
    assert!(d.stop().success());
    let d = Camd::start_in(dir);
    let after = json(&d.camctl(&["--json", "role", "get", "chat-backend"]));
    assert_eq!(before, after, "a role is kept as it was");
    assert_eq!(after["PermissionsBoundary"], "QcloudAVCFullAccess");
    assert_eq!(
        after["Tags"],
        serde_json::json!([{"Key": "team", "Value": "chat"}])
    );
    let attached = json(&d.camctl(&["--json", "role", "policies", "chat-backend"]));
    let names: Vec<&str> = attached
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["PolicyName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["QcloudChatReadOnlyAccess", "P"]);
    let summary = json(&d.camctl(&["--json", "account", "summary"]));
    assert_eq!(summary["Roles"], 1);

    ok(&d.camctl(&["role", "delete", "chat-backend"]));
    ok(&d.camctl(&["policy", "delete", "P"]));
    refused(
        &d.camctl(&["role", "get", "chat-backend"]),
        "InvalidParameter.RoleNotExist",
    );
}

#[test]
fn each_role_right_is_checked_for_a_delegated_key() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run the attacker as another uid");
        return;
    }
    let dir = Camd::prepare("roles-attack", "");
    std::fs::write(dir.join("policies/RoleAdmin.json"), ROLE_ADMIN).unwrap();
    let d = Camd::start_in(dir);
    let (id, secret) = d.user_with_key("roleadmin", "RoleAdmin");
    ok(&d.camctl(&["user", "add", "alice"]));
    let as_admin = |args: &[&str]| {
        let mut full = vec!["--as-key", id.as_str()];
        full.extend_from_slice(args);
        d.camctl_as(Some(NOBODY), &[("CAMD_SECRET_KEY", secret.as_str())], &full)
    };
    // Without a key, another uid is no operator.
    refused(
        &d.camctl_as(Some(NOBODY), &[], &["role", "list"]),
        "AuthFailure.UnauthorizedOperation",
    );
    ok(&as_admin(&[
        "role",
        "create",
        "senders",
        "--trusted-user",
        "alice",
    ]));
    ok(&as_admin(&[
        "role",
        "attach",
        "senders",
        "QcloudChatReadOnlyAccess",
    ]));
    // Each right it lacks is refused, and nothing changes.
    for (args, what) in [
        (
            vec!["role", "attach", "senders", "AdministratorAccess"],
            "a policy beyond its cam:policy_name",
        ),
        (
            vec!["role", "update", "senders", "--trusted-user", "roleadmin"],
            "its own name in the trust policy",
        ),
        (
            vec!["role", "set-boundary", "senders", "QcloudAVCFullAccess"],
            "a boundary",
        ),
        (vec!["role", "delete", "senders"], "a deletion"),
        (vec!["role", "tag", "senders", "k=v"], "a tag"),
    ] {
        let out = as_admin(&args);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        refused(&out, "AuthFailure.UnauthorizedOperation");
    }
    let role = json(&d.camctl(&["--json", "role", "get", "senders"]));
    assert!(role["PermissionsBoundary"].is_null(), "{role}");
    assert!(role["Tags"].as_array().unwrap().is_empty(), "{role}");
    assert!(
        !role["PolicyDocument"].as_str().unwrap().contains(&format!(
            "uin/{}",
            json(&d.camctl(&["--json", "user", "get", "roleadmin"]))["Uin"]
        )),
        "{role}"
    );
    let attached = json(&d.camctl(&["--json", "role", "policies", "senders"]));
    assert_eq!(attached.as_array().unwrap().len(), 1, "{attached}");
}
