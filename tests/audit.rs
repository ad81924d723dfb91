//! The audit trail, decision counters and failed-authentication throttling,
//! against the real daemon through `camctl`.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Camd, effective_uid, json};

fn audit(d: &Camd, since: Option<u64>) -> Vec<Value> {
    let since = since.map(|s| s.to_string());
    let mut args = vec!["--json", "audit"];
    if let Some(s) = &since {
        args.extend(["--since", s.as_str()]);
    }
    let out = d.camctl(&args);
    assert_eq!(out.status.code(), Some(0));
    json(&out).as_array().unwrap().clone()
}

#[test]
fn admin_changes_and_failed_auth_are_audited_in_order_without_secrets() {
    let d = Camd::start("audit-trail");
    let out = d.camctl(&[
        "--json",
        "user",
        "add",
        "ops",
        "--console-login",
        "--api-key",
        "--policy",
        "QcloudAVCFullAccess",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let cred = json(&out);
    let (id, secret, password) = (
        cred["SecretId"].as_str().unwrap().to_string(),
        cred["SecretKey"].as_str().unwrap().to_string(),
        cred["Password"].as_str().unwrap().to_string(),
    );
    assert_eq!(d.camctl(&["group", "create", "g1"]).status.code(), Some(0));
    assert_eq!(
        d.camctl(&["group", "add-user", "g1", "ops"]).status.code(),
        Some(0)
    );
    // A failing change is audited with its code; a read is not audited.
    assert_eq!(d.camctl(&["user", "get", "nobody"]).status.code(), Some(2));
    assert_eq!(
        d.camctl(&["user", "delete", "nobody"]).status.code(),
        Some(2)
    );
    // A failed authentication, with the real SecretId and a wrong key.
    assert_eq!(
        d.auth(None, &id, "wrong", "im:SendMessage").status.code(),
        Some(2)
    );
    assert_eq!(
        d.auth(None, &id, &secret, "im:SendMessage").status.code(),
        Some(0)
    );

    let entries = audit(&d, Some(0));
    let rows: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["Action"].as_str().unwrap().to_string(),
                e["Outcome"].as_str().unwrap().to_string(),
                e["Actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let me = format!("uid {}", effective_uid());
    assert_eq!(
        rows,
        [
            ("cam:AddUser", "ok"),
            ("cam:CreateGroup", "ok"),
            ("cam:AddUserToGroup", "ok"),
            ("cam:DeleteUser", "ResourceNotFound.UserNotExist"),
            ("auth:Failure", "AuthFailure.InvalidAuthorization"),
        ]
        .map(|(a, o)| (a.to_string(), o.to_string(), me.clone()))
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e["Seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(
        entries[0]["Target"]
            .as_str()
            .unwrap()
            .ends_with(":user/ops")
    );
    assert_eq!(entries[4]["Target"].as_str(), Some(id.as_str()));
    let times: Vec<i64> = entries
        .iter()
        .map(|e| e["Time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // --since pages; the text form prints a line per entry.
    assert_eq!(audit(&d, Some(4)).len(), 2);
    let text = d.camctl(&["audit"]);
    assert_eq!(String::from_utf8_lossy(&text.stdout).lines().count(), 5);

    // Counters in status.
    let st = json(&d.camctl(&["--json", "status"]));
    assert_eq!(st["Decisions"]["Unauthenticated"], 1);
    assert_eq!(st["Decisions"]["Allow"], 1);

    // The trail survives a restart, and holds no secret.
    let dir = d.dir.clone();
    assert!(d.stop().success());
    let d = Camd::start_in(dir);
    assert_eq!(audit(&d, Some(0)).len(), 5);
    let raw = serde_json::to_string(&audit(&d, Some(0))).unwrap();
    assert!(!raw.contains(&secret) && !raw.contains(&password));
    let db = std::fs::read(d.dir.join("state/camd.redb")).unwrap();
    let log = d.log();
    for s in [&secret, &password] {
        assert!(!db.windows(s.len()).any(|w| w == s.as_bytes()));
        assert!(!log.contains(s.as_str()), "a secret in the log");
    }
}

#[test]
fn refused_operations_by_other_uids_are_audited_and_the_trail_is_operator_only() {
    if effective_uid() != 0 {
        eprintln!("not root: cannot run camctl as another uid");
        return;
    }
    let d = Camd::start("audit-refused");
    let nobody = Some(65534);
    let out = d.camctl_as(nobody, &[], &["user", "add", "intruder"]);
    assert_eq!(out.status.code(), Some(2));
    // Reads refused are not audited (they change nothing).
    assert_eq!(
        d.camctl_as(nobody, &[], &["user", "list"]).status.code(),
        Some(2)
    );
    let out = d.camctl_as(nobody, &[], &["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AuthFailure.UnauthorizedOperation"));
    let entries = audit(&d, None);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["Actor"], "uid 65534");
    assert_eq!(entries[0]["Action"], "cam:AddUser");
    assert_eq!(entries[0]["Outcome"], "AuthFailure.UnauthorizedOperation");
}

#[test]
fn retention_keeps_the_newest_entries() {
    let d = Camd::start_with("audit-retention", "[audit]\nmax_entries = 20\n");
    for i in 0..30 {
        let name = format!("g{i}");
        assert_eq!(d.camctl(&["group", "create", &name]).status.code(), Some(0));
    }
    let entries = audit(&d, Some(0));
    assert_eq!(entries.len(), 20);
    assert_eq!(entries[0]["Seq"], 11);
    assert_eq!(entries[19]["Seq"], 30);
    assert!(
        entries[19]["Target"]
            .as_str()
            .unwrap()
            .ends_with(":group/g29")
    );
}

#[test]
fn follow_prints_new_entries_as_they_come() {
    let d = Camd::start("audit-follow");
    let mut follow = Command::new(env!("CARGO_BIN_EXE_camctl"))
        .arg("--socket")
        .arg(&d.socket)
        .args(["--json", "audit", "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(follow.stdout.take().unwrap()).lines();
    let start = Instant::now();
    assert_eq!(
        d.camctl(&["group", "create", "late"]).status.code(),
        Some(0)
    );
    let line = lines.next().unwrap().unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["Action"], "cam:CreateGroup");
    assert!(start.elapsed() < Duration::from_secs(5));
    let _ = follow.kill();
    let _ = follow.wait();
}

#[test]
fn failed_authentications_are_throttled_per_uid_without_slowing_others() {
    if effective_uid() != 0 {
        eprintln!("not root: cannot run camctl as another uid");
        return;
    }
    let d = Camd::start_with(
        "audit-throttle",
        "[throttle]\nburst = 3\nrefill_per_sec = 0.5\n",
    );
    let out = d.camctl(&[
        "--json",
        "user",
        "add",
        "svc",
        "--api-key",
        "--policy",
        "QcloudAVCFullAccess",
    ]);
    let cred = json(&out);
    let (id, secret) = (
        cred["SecretId"].as_str().unwrap().to_string(),
        cred["SecretKey"].as_str().unwrap().to_string(),
    );
    let attacker = Some(65534);
    for _ in 0..3 {
        let out = d.auth(attacker, &id, "guess", "im:SendMessage");
        assert!(String::from_utf8_lossy(&out.stderr).contains("AuthFailure.InvalidAuthorization"));
    }
    // The attacker is now refused without its key being checked, even the right one...
    for _ in 0..5 {
        let out = d.auth(attacker, &id, &secret, "im:SendMessage");
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("RequestLimitExceeded.AuthThrottled"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // ...while the key's owner, from another uid, is served at once.
    let out = d.auth(None, &id, &secret, "im:SendMessage");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // After refilling (2 s per token), the attacker may try again.
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(
        d.auth(attacker, &id, &secret, "im:SendMessage")
            .status
            .code(),
        Some(0)
    );

    let st = json(&d.camctl(&["--json", "status"]));
    assert_eq!(st["Decisions"]["Throttled"], 5);
    assert_eq!(st["Decisions"]["Unauthenticated"], 3);
    let entries = audit(&d, Some(0));
    let throttled: Vec<&Value> = entries
        .iter()
        .filter(|e| e["Action"] == "auth:Throttled")
        .collect();
    // Audited at most once a second per uid.
    assert!(!throttled.is_empty() && throttled.len() <= 2, "{entries:?}");
    assert_eq!(
        throttled[0]["Outcome"],
        "RequestLimitExceeded.AuthThrottled"
    );
    assert_eq!(throttled[0]["Actor"], "uid 65534");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["Action"] == "auth:Failure")
            .count(),
        3
    );
}
