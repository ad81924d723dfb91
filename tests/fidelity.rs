//! API-managed policies and boundaries against the real daemon, attacked
//! from another uid with delegated keys: a new default version needs both
//! rights, a bounded administrator cannot lift or widen its own boundary,
//! and switching the default version changes decisions in one step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use camd::client::by_user;
use camd::protocol::{CreatePolicy, CreatePolicyVersion, SetDefaultPolicyVersion};

use crate::harness::{APP, Camd, NOBODY, effective_uid, json, refused};

const UNAUTHORIZED: &str = "AuthFailure.UnauthorizedOperation";

/// camctl as uid 65534 (when the tests run as root) with an access key.
fn as_key(d: &Camd, key: &(String, String), args: &[&str]) -> std::process::Output {
    let caller = (effective_uid() == 0).then_some(NOBODY);
    let mut full = vec!["--as-key", key.0.as_str()];
    full.extend_from_slice(args);
    d.camctl_as(caller, &[("CAMD_SECRET_KEY", key.1.as_str())], &full)
}

fn write(d: &Camd, name: &str, doc: &str) -> String {
    let path = d.dir.join(name);
    std::fs::write(&path, doc).unwrap();
    path.display().to_string()
}

#[test]
fn a_new_default_version_needs_both_rights() {
    let d = Camd::start("fidelity-versions");
    let doc = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#;
    let wide = write(
        &d,
        "wide.json",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
    );
    let editor = write(
        &d,
        "Editor.json",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:CreatePolicyVersion","cam:ListPolicyVersions"],"resource":"*"}]}"#,
    );
    assert!(
        d.camctl(&["policy", "create", "Editor", "--document", &editor])
            .status
            .success()
    );
    let mine = write(&d, "mine.json", doc);
    assert!(
        d.camctl(&["policy", "create", "Mine", "--document", &mine])
            .status
            .success()
    );
    let key = d.user_with_key("editor", "Editor");
    assert!(
        d.camctl(&["policy", "attach", "Mine", "--user", "editor"])
            .status
            .success()
    );
    // The attack: add an allow-everything version to a policy attached to
    // oneself and make it the default in the same call.
    refused(
        &as_key(
            &d,
            &key,
            &[
                "policy",
                "version",
                "create",
                "Mine",
                "--document",
                &wide,
                "--set-default",
            ],
        ),
        UNAUTHORIZED,
    );
    let versions = json(&d.camctl(&["--json", "policy", "version", "list", "Mine"]));
    assert_eq!(
        versions.as_array().unwrap().len(),
        1,
        "nothing was created: {versions}"
    );
    // Without --set-default it is a draft that changes no decision.
    let out = as_key(
        &d,
        &key,
        &[
            "--json",
            "policy",
            "version",
            "create",
            "Mine",
            "--document",
            &wide,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    assert_eq!(d.check("editor", "cam:DeleteUser"), Some(1));
    refused(
        &as_key(&d, &key, &["policy", "version", "set-default", "Mine", "2"]),
        UNAUTHORIZED,
    );
    assert_eq!(d.check("editor", "cam:DeleteUser"), Some(1));
    assert!(d.stop().success());
}

#[test]
fn a_bounded_administrator_cannot_lift_or_widen_its_own_boundary() {
    let d = Camd::start("fidelity-boundary");
    let chat_only = write(
        &d,
        "ChatOnly.json",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"*"}]}"#,
    );
    assert!(
        d.camctl(&["policy", "create", "ChatOnly", "--document", &chat_only])
            .status
            .success()
    );
    let key = d.user_with_key("admin2", "AdministratorAccess");
    assert!(
        d.camctl(&["user", "boundary", "set", "admin2", "ChatOnly"])
            .status
            .success()
    );
    // Allowed by AdministratorAccess, outside the boundary: every cam: call.
    for args in [
        vec!["user", "boundary", "delete", "admin2"],
        vec!["user", "boundary", "set", "admin2", "AdministratorAccess"],
        vec![
            "policy",
            "version",
            "create",
            "ChatOnly",
            "--document",
            "/dev/null",
        ],
        vec![
            "policy",
            "detach",
            "AdministratorAccess",
            "--user",
            "admin2",
        ],
        vec![
            "user",
            "add",
            "sidekick",
            "--policy",
            "AdministratorAccess",
            "--api-key",
        ],
    ] {
        let out = as_key(&d, &key, &args);
        refused(&out, UNAUTHORIZED);
        assert!(
            crate::harness::stderr(&out).contains("permissions boundary `ChatOnly` does not"),
            "{args:?}: {}",
            crate::harness::stderr(&out)
        );
    }
    let b = json(&d.camctl(&["--json", "user", "boundary", "get", "admin2"]));
    assert_eq!(b["PolicyName"], "ChatOnly");
    // What the boundary allows still works with the key.
    let out = d.auth(None, &key.0, &key.1, "im:SendMessage");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    // The root account is never bounded.
    assert!(
        d.camctl(&["user", "boundary", "delete", "admin2"])
            .status
            .success()
    );
    assert!(as_key(&d, &key, &["user", "list"]).status.success());
    assert!(d.stop().success());
}

#[test]
fn switching_the_default_version_changes_decisions_in_one_step() {
    let d = Camd::start("fidelity-atomic");
    // Version 1 allows SendMessage and denies GetGroupInfo; version 2 the
    // reverse. Any decision taken against a mix of the two would show.
    let v1 = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"},{"effect":"deny","action":"im:GetGroupInfo","resource":"*"}]}"#;
    let v2 = r#"{"version":"2.0","statement":[{"effect":"deny","action":"im:SendMessage","resource":"*"},{"effect":"allow","action":"im:GetGroupInfo","resource":"*"}]}"#;
    let mut admin = d.client();
    admin
        .call(CreatePolicy {
            name: "Flip".into(),
            document: v1.into(),
            description: String::new(),
            tags: Vec::new(),
        })
        .unwrap();
    admin
        .call(CreatePolicyVersion {
            name: "Flip".into(),
            document: v2.into(),
            set_default: false,
        })
        .unwrap();
    assert!(
        d.camctl(&["user", "add", "flipper", "--policy", "Flip"])
            .status
            .success()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let socket = d.socket.clone();
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = camd::client::Client::connect(&socket).unwrap();
            let mut seen = 0u32;
            while !stop.load(Ordering::Relaxed) {
                for (action, allow_st, deny_st) in
                    [("im:SendMessage", 0, 0), ("im:GetGroupInfo", 1, 1)]
                {
                    let r = c.authorize(by_user("flipper", action, APP, &[])).unwrap();
                    // Allowed by its version's allow statement, or denied by
                    // the other version's deny: never anything else.
                    let ok = (r.allowed && r.reason == "Allow" && r.statement == Some(allow_st))
                        || (!r.allowed
                            && r.reason == "ExplicitDeny"
                            && r.statement == Some(deny_st));
                    assert!(ok, "{action}: {r:?}");
                    seen += 1;
                }
            }
            seen
        })
    };
    for round in 0..60u32 {
        let next = if round % 2 == 0 { 2 } else { 1 };
        admin
            .call(SetDefaultPolicyVersion {
                name: "Flip".into(),
                version: next,
            })
            .unwrap();
        // Read your write: the decision right after the reply uses it.
        let r = admin
            .authorize(by_user("flipper", "im:SendMessage", APP, &[]))
            .unwrap();
        assert_eq!(r.allowed, next == 1, "round {round}: {r:?}");
    }
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();
    assert!(seen > 100, "only {seen} decisions were watched");
    assert!(d.stop().success());
}
