//! The privilege escalations an adversarial review found, each run as the
//! attack itself: camctl as uid 65534 with a delegated key, against the real
//! daemon. Every one of these succeeded before the fix.

use std::process::Output;

use serde_json::Value;

use crate::harness::NOBODY;
use crate::harness::{Camd, effective_uid, json, stderr};

/// A delegated administrator's policies, written before camd starts.
const POLICIES: &[(&str, &str)] = &[
    (
        "AddUserOnly",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:AddUser","resource":"*"}]}"#,
    ),
    (
        "KeyAdmin",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:CreateAccessKey","cam:ListAccessKeys","cam:UpdateAccessKey","cam:DeleteAccessKey"],"resource":"*"}]}"#,
    ),
    (
        "RootByName",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:CreateAccessKey","cam:ListAccessKeys"],"resource":"qcs::cam::uin/100000000001:user/root"}]}"#,
    ),
    (
        "NoReadOnlyAttach",
        r#"{"version":"2.0","statement":[
          {"effect":"allow","action":["cam:AttachUserPolicy","cam:GetPolicy","cam:ListEntitiesForPolicy"],"resource":"*"},
          {"effect":"deny","action":"cam:AttachUserPolicy","resource":"*","condition":{"string_equal":{"cam:policy_name":"QcloudChatReadOnlyAccess"}}},
          {"effect":"deny","action":["cam:GetPolicy","cam:ListEntitiesForPolicy"],"resource":"qcs::cam::uin/100000000001:policy/QcloudChatReadOnlyAccess"}]}"#,
    ),
];

/// camd with the policies above, a delegated user per policy (each with a
/// key), and a way to run camctl as uid 65534 with one of those keys.
struct Scene {
    d: Camd,
    keys: Vec<(String, String, String)>,
}

impl Scene {
    fn start(name: &str) -> Option<Self> {
        if effective_uid() != 0 {
            eprintln!("SKIPPED: needs root to run the attacker as another uid");
            return None;
        }
        let dir = Camd::prepare(name, "");
        for (p, doc) in POLICIES {
            std::fs::write(dir.join(format!("policies/{p}.json")), doc).unwrap();
        }
        let d = Camd::start_in(dir);
        let mut keys = Vec::new();
        for (user, policy) in [
            ("hiring", "AddUserOnly"),
            ("delegate", "UserAdmin"),
            ("keyadmin", "KeyAdmin"),
            ("attacher", "NoReadOnlyAttach"),
        ] {
            let (id, key) = d.user_with_key(user, policy);
            keys.push((user.to_string(), id, key));
        }
        Some(Self { d, keys })
    }

    /// camctl as uid 65534 acting with `user`'s key.
    fn as_(&self, user: &str, args: &[&str]) -> Output {
        let (_, id, secret) = self.keys.iter().find(|(u, ..)| u == user).unwrap();
        let mut full = vec!["--as-key", id.as_str()];
        full.extend_from_slice(args);
        self.d
            .camctl_as(Some(NOBODY), &[("CAMD_SECRET_KEY", secret.as_str())], &full)
    }

    fn users(&self) -> Vec<String> {
        json(&self.d.camctl(&["--json", "user", "list"]))
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["Name"].as_str().unwrap().to_string())
            .collect()
    }

    fn refused(&self, out: &Output, code: &str) {
        crate::harness::refused(out, code);
    }
}

/// Hole 1: `cam:AddUser` alone created a user with AdministratorAccess and
/// a key; a deny on attaching AdministratorAccess was bypassed the same way.
#[test]
fn add_user_grants_nothing_beyond_the_rights_for_each_effect() {
    let Some(s) = Scene::start("esc-adduser") else {
        return;
    };
    let before = s.users();
    let unauthorized = "AuthFailure.UnauthorizedOperation";
    for args in [
        // Only cam:AddUser: no policies, no key.
        vec!["user", "add", "evil", "--policy", "AdministratorAccess"],
        vec!["user", "add", "evil", "--api-key"],
        vec![
            "user",
            "add",
            "evil",
            "--api-key",
            "--policy",
            "AdministratorAccess",
        ],
    ] {
        s.refused(&s.as_("hiring", &args), unauthorized);
    }
    // UserAdmin allows attaching except AdministratorAccess: AddUser may not
    // get around the deny.
    let out = s.as_(
        "delegate",
        &[
            "user",
            "add",
            "evil2",
            "--api-key",
            "--policy",
            "QcloudAVCFullAccess",
            "--policy",
            "AdministratorAccess",
        ],
    );
    s.refused(&out, unauthorized);
    // All or nothing: nothing was created by any refused attempt.
    assert_eq!(s.users(), before);
    // What each key is allowed still works (the refusals are not blanket).
    let out = s.as_("hiring", &["user", "add", "plain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = s.as_(
        "delegate",
        &[
            "--json",
            "user",
            "add",
            "helper",
            "--api-key",
            "--policy",
            "QcloudAVCFullAccess",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(json(&out)["SecretKey"].is_string());
    // The refusals are in the audit trail under the effect that failed.
    let trail = json(&s.d.camctl(&["--json", "audit", "--since", "0"]));
    let refused = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Action"] == "cam:AddUser" && e["Outcome"] == unauthorized)
        .count();
    assert_eq!(refused, 4, "{trail}");
}

/// Hole 1, the rename: `cam:UpdateUser` on one name does not move a user
/// under a name the caller has no right to.
#[test]
fn a_rename_needs_the_right_on_the_new_name() {
    let Some(s) = Scene::start("esc-rename") else {
        return;
    };
    let out = s.d.camctl(&["user", "add", "alice"]);
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(
        s.d.dir.join("policies/RenameAlice.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:UpdateUser","resource":"qcs::cam::uin/100000000001:user/alice"}]}"#,
    )
    .unwrap();
    assert_eq!(s.d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let out =
        s.d.camctl(&["policy", "attach", "RenameAlice", "--user", "hiring"]);
    assert_eq!(out.status.code(), Some(0));
    let out = s.as_(
        "hiring",
        &["user", "update", "alice", "--new-name", "mallory"],
    );
    s.refused(&out, "AuthFailure.UnauthorizedOperation");
    let out = s.as_("hiring", &["user", "update", "alice", "--remark", "ok"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(s.users().contains(&"alice".to_string()));
}

/// Hole 2: a sub-user named `root`, or `cam:CreateAccessKey` on every user,
/// reached the root account's keys.
#[test]
fn the_root_accounts_keys_are_the_operators_alone() {
    let Some(s) = Scene::start("esc-root") else {
        return;
    };
    // No sub-user may be called root, in any case, nor be renamed to it.
    for name in ["root", "Root", "ROOT"] {
        let out = s.d.camctl(&["user", "add", name]);
        s.refused(&out, "InvalidParameter.SubUserNameInUse");
    }
    let out =
        s.d.camctl(&["user", "update", "hiring", "--new-name", "root"]);
    s.refused(&out, "InvalidParameter.SubUserNameInUse");
    let out = s.d.camctl(&["--json", "key", "create", "--root"]);
    assert_eq!(out.status.code(), Some(0));
    let root_key = json(&out)["SecretId"].as_str().unwrap().to_string();
    // A policy on every user, or on `user/root`, reaches no root key.
    let out =
        s.d.camctl(&["policy", "attach", "RootByName", "--user", "keyadmin"]);
    assert_eq!(out.status.code(), Some(0));
    let unauthorized = "AuthFailure.UnauthorizedOperation";
    for args in [
        vec!["key", "create", "--root"],
        vec!["key", "list", "--root"],
        vec!["key", "disable", &root_key],
        vec!["key", "delete", &root_key],
    ] {
        s.refused(&s.as_("keyadmin", &args), unauthorized);
    }
    let root_keys = json(&s.d.camctl(&["--json", "key", "list", "--root"]));
    assert_eq!(root_keys.as_array().unwrap().len(), 1, "{root_keys}");
    assert_eq!(root_keys[0]["Status"], "Active");
    // The same key still manages sub-users' keys.
    let out = s.as_("keyadmin", &["key", "create", "plainuser"]);
    assert!(
        stderr(&out).contains("ResourceNotFound.UserNotExist"),
        "{}",
        stderr(&out)
    );
    let out = s.as_("keyadmin", &["key", "list", "hiring"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Hole 3: a deny on `cam:policy_name` (and on a policy's resource) was
/// bypassed by the preset's old alias.
#[test]
fn an_alias_is_governed_by_its_presets_rules() {
    let Some(s) = Scene::start("esc-alias") else {
        return;
    };
    let out = s.d.camctl(&["user", "add", "target"]);
    assert_eq!(out.status.code(), Some(0));
    let unauthorized = "AuthFailure.UnauthorizedOperation";
    for name in ["QcloudChatReadOnlyAccess", "QcloudIMReadOnlyAccess"] {
        let out = s.as_("attacher", &["policy", "attach", name, "--user", "target"]);
        s.refused(&out, unauthorized);
        s.refused(&s.as_("attacher", &["policy", "get", name]), unauthorized);
        s.refused(
            &s.as_("attacher", &["policy", "entities", name]),
            unauthorized,
        );
    }
    let attached = json(&s.d.camctl(&["--json", "policy", "attached", "--user", "target"]));
    assert_eq!(attached, Value::Array(Vec::new()));
    // Not a blanket refusal: another preset attaches.
    let out = s.as_(
        "attacher",
        &[
            "policy",
            "attach",
            "QcloudAVCFullAccess",
            "--user",
            "target",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Hole 8: a policy that lets its holder raise its own rights is reported
/// by `camctl policy lint`, which still accepts it.
#[test]
fn lint_warns_about_escalation_paths() {
    let dir = crate::harness::temp_dir("esc-lint");
    let risky = dir.join("Risky.json");
    std::fs::write(
        &risky,
        r#"{"version":"2.0","statement":[
          {"effect":"allow","action":"cam:ListUsers","resource":"*"},
          {"effect":"allow","action":["cam:AddUser","cam:AttachUserPolicy"],"resource":"qcs::cam::uin/100000000001:user/*"},
          {"effect":"allow","action":"cam:CreateAccessKey","resource":"*"}]}"#,
    )
    .unwrap();
    let bounded = dir.join("Bounded.json");
    std::fs::write(
        &bounded,
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"cam:AttachUserPolicy","resource":"*","condition":{"string_equal":{"cam:policy_name":"QcloudChatReadOnlyAccess"}}}]}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_camctl"))
        .args(["policy", "lint"])
        .arg(&risky)
        .arg(&bounded)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let warned: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("privilege escalation"))
        .collect();
    assert_eq!(warned.len(), 2, "{text}");
    assert!(warned[0].contains("Risky.json:3:") && warned[0].contains("statement[1]"));
    assert!(warned[0].contains("cam:AttachUserPolicy") && warned[0].contains("cam:AddUser"));
    assert!(warned[1].contains("statement[2]") && warned[1].contains("cam:CreateAccessKey"));
    assert!(text.contains("Bounded.json: ok"));
}

/// Hole 2, on upgrade: a sub-user called `root` made by an older camd (the
/// rules now refuse the name, so it is written into the store directly, as
/// that camd did) keeps working, is named in a warning at every start, and
/// can be renamed away.
#[test]
fn a_legacy_sub_user_named_root_keeps_working_and_is_flagged() {
    use camd::store::{AuditNote, Limits, Store, User, Writer};
    let dir = Camd::prepare("esc-legacy-root", "");
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let store = Store::open(
        &dir.join("state/camd.redb"),
        Limits::default(),
        100000000001,
    )
    .unwrap();
    let shared = std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(
        camd::authz::Snapshot::default(),
    ));
    let catalog = std::sync::Arc::new(camd::catalog::Catalog::presets_only());
    let publisher = camd::authz::Publisher::new(shared, catalog, 100000000001);
    let (writer, thread) = Writer::spawn(store, publisher).unwrap();
    let note = AuditNote {
        actor: "an older camd".into(),
        action: "cam:AddUser".into(),
        target: String::new(),
        outcome: None,
    };
    let legacy = move |s: &mut camd::store::State,
                       _: &camd::store::Ctx<'_>,
                       ch: &mut camd::store::Changes| {
        s.insert_user(User {
            uin: 200000000001,
            name: "root".into(),
            remark: String::new(),
            console_login: false,
            password: None,
            need_reset_password: false,
            email: String::new(),
            phone: String::new(),
            created_ms: 0,
            groups: Vec::new(),
            policies: vec![camd::store::Attachment {
                policy: "QcloudChatReadOnlyAccess".into(),
                attached_ms: 0,
            }],
            boundary: None,
            password_set_ms: 0,
            password_history: Vec::new(),
        });
        ch.users.insert(200000000001);
        ch.affected.insert(200000000001);
        Ok(())
    };
    writer
        .change(note, legacy)
        .unwrap()
        .blocking_recv()
        .unwrap()
        .unwrap();
    drop(writer);
    thread.join().unwrap();

    let d = Camd::start_in(dir);
    assert!(
        d.log()
            .contains("sub-user `root` (uin 200000000001) predates"),
        "{}",
        d.log()
    );
    // It still decides by its name, and it is not the root account.
    assert_eq!(d.check("root", "im:GetGroupInfo"), Some(0));
    assert_eq!(d.check("root", "im:SendMessage"), Some(1));
    let out = d.camctl(&["user", "update", "root", "--new-name", "legacy-root"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    assert_eq!(d.check("legacy-root", "im:GetGroupInfo"), Some(0));
    // Renamed: no warning at the next start.
    let dir = d.dir.clone();
    assert!(d.stop().success());
    std::fs::remove_file(dir.join("camd.log")).unwrap();
    let d = Camd::start_in(dir);
    assert!(!d.log().contains("predates"), "{}", d.log());
}
