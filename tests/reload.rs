//! Hot reload against the real daemon: edits of every kind become visible
//! within a second, a burst of rewrites ends in the final content, a bad edit
//! changes nothing, and decisions during reloads are always old-or-new.

use std::path::Path;
use std::time::{Duration, Instant};

use camd::client::by_user;
use camd::protocol::{AddUser, Body, Reply};
use serde_json::Value;

use crate::harness::{APP, Camd};

fn allow(actions: &str) -> String {
    format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":{actions},"resource":"*"}}]}}"#
    )
}

/// Polls until `f` holds; returns how long it took, failing after `limit`.
fn within(limit: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if f() {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn write_atomically(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[test]
fn every_kind_of_edit_is_visible_within_a_second() {
    let d = Camd::start("reload-edits");
    let dir = d.dir.join("policies");
    let second = Duration::from_secs(1);
    std::fs::write(dir.join("Chat.json"), allow(r#""im:Send*""#)).unwrap();
    let mut c = d.client();
    within(second, "new file loaded", || {
        c.call_body(Body::AddUser(AddUser {
            name: "bob".into(),
            policies: vec!["Chat".into()],
            ..AddUser::default()
        }))
        .is_ok()
    });
    assert_eq!(d.check("bob", "im:SendMessage"), Some(0));
    // In place (truncate and write).
    std::fs::write(dir.join("Chat.json"), allow(r#""im:Get*""#)).unwrap();
    within(second, "in-place write", || {
        d.check("bob", "im:SendMessage") == Some(1)
    });
    assert_eq!(d.check("bob", "im:GetGroupInfo"), Some(0));
    // Renamed over (editors, config management).
    write_atomically(&dir, "Chat.json", &allow(r#"["im:Send*","im:Get*"]"#));
    within(second, "rename over", || {
        d.check("bob", "im:SendMessage") == Some(0)
    });
    // Deleted: the attachment stays, dangling, and grants nothing.
    std::fs::remove_file(dir.join("Chat.json")).unwrap();
    within(second, "delete", || {
        d.check("bob", "im:GetGroupInfo") == Some(1)
    });
    let status: Value =
        serde_json::from_slice(&d.camctl(&["--json", "policy", "status"]).stdout).unwrap();
    assert_eq!(
        status["DanglingAttachments"][0]["PolicyName"], "Chat",
        "{status}"
    );
    // Restored: effective again.
    std::fs::write(dir.join("Chat.json"), allow(r#""im:Get*""#)).unwrap();
    within(second, "restore", || {
        d.check("bob", "im:GetGroupInfo") == Some(0)
    });
    // Files that are not policies are ignored.
    for junk in [".Chat.json.swp", "Chat.json~", "notes.txt", "#Chat.json#"] {
        std::fs::write(dir.join(junk), "not json").unwrap();
    }
    let out = d.camctl(&["policy", "reload"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_burst_of_rewrites_ends_in_the_final_content() {
    let d = Camd::start("reload-burst");
    let dir = d.dir.join("policies");
    let doc = |i: usize| {
        format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"im:SendMessage","resource":"qcs::im::uin/100000000001:sdkappid/{i}"}}]}}"#
        )
    };
    std::fs::write(dir.join("Burst.json"), doc(0)).unwrap();
    let mut c = d.client();
    within(Duration::from_secs(2), "first load", || {
        c.call_body(Body::AddUser(AddUser {
            name: "eve".into(),
            policies: vec!["Burst".into()],
            ..AddUser::default()
        }))
        .is_ok()
    });
    let n = 1000;
    for i in 1..=n {
        if i % 2 == 0 {
            write_atomically(&dir, "Burst.json", &doc(i));
        } else {
            std::fs::write(dir.join("Burst.json"), doc(i)).unwrap();
        }
    }
    let app = |i: usize| format!("qcs::im::uin/100000000001:sdkappid/{i}");
    within(Duration::from_secs(2), "final content loaded", || {
        c.authorize(by_user("eve", "im:SendMessage", &app(n), &[]))
            .unwrap()
            .allowed
    });
    assert!(
        !c.authorize(by_user("eve", "im:SendMessage", &app(n - 1), &[]))
            .unwrap()
            .allowed
    );
    let status: Value =
        serde_json::from_slice(&d.camctl(&["--json", "policy", "status"]).stdout).unwrap();
    let hash = status["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["PolicyName"] == "Burst")
        .unwrap()["Hash"]
        .clone();
    let want: String = ring::digest::digest(&ring::digest::SHA256, doc(n).as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hash, want);
}

#[test]
fn an_invalid_edit_changes_nothing_until_fixed() {
    let d = Camd::start("reload-invalid");
    let dir = d.dir.join("policies");
    std::fs::write(dir.join("Chat.json"), allow(r#""im:Send*""#)).unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let mut c = d.client();
    c.call_body(Body::AddUser(AddUser {
        name: "bob".into(),
        policies: vec!["Chat".into()],
        ..AddUser::default()
    }))
    .unwrap();
    let asks = [
        "im:SendMessage",
        "im:SendGroupMessage",
        "im:GetGroupInfo",
        "im:DestroyGroup",
    ];
    let decide = |c: &mut camd::client::Client| -> Vec<bool> {
        asks.iter()
            .map(|a| c.authorize(by_user("bob", a, APP, &[])).unwrap().allowed)
            .collect()
    };
    let before = decide(&mut c);
    std::fs::write(dir.join("Chat.json"), "{\"version\": \"2.0\",\n \"statement\": [{\"effect\": \"allow\", \"action\": \"im:Nope\", \"resource\": \"*\"}]}").unwrap();
    std::fs::write(dir.join("Other.json"), "not json at all").unwrap();
    let out = d.camctl(&["policy", "reload"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Chat.json:2:46: InvalidParameter.ActionNotExist at `statement[0].action`"),
        "{text}"
    );
    assert!(
        text.contains("Other.json:1:1: InvalidParameter.PolicyDocumentError"),
        "{text}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        decide(&mut c),
        before,
        "a rejected reload changed decisions"
    );
    let status: Value =
        serde_json::from_slice(&d.camctl(&["--json", "policy", "status"]).stdout).unwrap();
    assert_eq!(status["LastReload"]["Result"], "Rejected");
    assert!(d.log().contains("policy reload rejected"));
    // Fixing the files applies them.
    std::fs::remove_file(dir.join("Other.json")).unwrap();
    std::fs::write(dir.join("Chat.json"), allow(r#""im:Get*""#)).unwrap();
    let out = d.camctl(&["--json", "policy", "reload"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(decide(&mut c), vec![false, false, true, false]);
    // A custom policy may not take a preset's name.
    std::fs::write(dir.join("AdministratorAccess.json"), allow(r#""im:Get*""#)).unwrap();
    let out = d.camctl(&["policy", "reload"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("InvalidParameter.PolicyNameInUse"));
}

#[test]
fn decisions_during_reloads_are_old_or_new() {
    let d = Camd::start("reload-loop");
    let dir = d.dir.join("policies");
    // Both versions allow SendMessage by statement 0; they differ on SendGroupMessage.
    let a =
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:Send*","resource":"*"}]}"#;
    let b = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:Send*","resource":"*"},{"effect":"deny","action":"im:SendGroupMessage","resource":"*"}]}"#;
    std::fs::write(dir.join("Flip.json"), a).unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let mut c = d.client();
    for u in ["u1", "u2"] {
        c.call_body(Body::AddUser(AddUser {
            name: u.into(),
            policies: vec!["Flip".into()],
            ..AddUser::default()
        }))
        .unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let dir = dir.clone();
        let socket = d.socket.clone();
        std::thread::spawn(move || {
            let mut c = camd::client::Client::connect(&socket).unwrap();
            let mut reloads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                write_atomically(&dir, "Flip.json", if reloads % 2 == 0 { b } else { a });
                if let Reply::Reload(r) = c.call_body(Body::ReloadPolicies).unwrap() {
                    assert!(r.applied);
                }
                reloads += 1;
            }
            reloads
        })
    };
    let (mut allowed_group, mut denied_group) = (0, 0);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        for u in ["u1", "u2"] {
            let send = c.authorize(by_user(u, "im:SendMessage", APP, &[])).unwrap();
            assert!(
                send.allowed && send.policy.as_deref() == Some("Flip") && send.statement == Some(0),
                "{send:?}"
            );
            let group = c
                .authorize(by_user(u, "im:SendGroupMessage", APP, &[]))
                .unwrap();
            match (group.allowed, group.reason.as_str(), group.statement) {
                (true, "Allow", Some(0)) => allowed_group += 1,
                (false, "ExplicitDeny", Some(1)) => denied_group += 1,
                other => panic!("a decision matching neither version: {other:?}"),
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reloads = flipper.join().unwrap();
    assert!(
        reloads > 10 && allowed_group > 0 && denied_group > 0,
        "{reloads} reloads, {allowed_group}/{denied_group}"
    );
}
