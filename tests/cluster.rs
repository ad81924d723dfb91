//! Cluster mode against real etcd and real camd hosts on loopback: shared
//! truth, conflicting writes, etcd away, a killed leader, a compacted
//! history, a killed host, and a host with other secrets.

use std::time::{Duration, Instant};

use crate::etcd_harness::{converged, etcd, host, shared_secrets, standing};
use crate::harness::{APP, Camd, json, refused, stderr, wait_for};

fn ok(h: &Camd, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["--json"];
    full.extend_from_slice(args);
    let out = h.camctl(&full);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn users(h: &Camd) -> Vec<String> {
    json(&h.camctl(&["--json", "user", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn every_host_decides_with_what_any_host_wrote() {
    let Some(etcd) = etcd("shared", 1) else {
        return;
    };
    let (a, b, c) = (
        host("cl-a", &etcd),
        host("cl-b", &etcd),
        host("cl-c", &etcd),
    );
    let cred = ok(&a, &["user", "add", "alice", "--api-key"]);
    let (id, secret) = (
        cred["SecretId"].as_str().unwrap().to_string(),
        cred["SecretKey"].as_str().unwrap().to_string(),
    );
    ok(&b, &["group", "create", "readers"]);
    ok(&c, &["group", "add-user", "readers", "alice"]);
    ok(
        &a,
        &[
            "policy",
            "attach",
            "QcloudChatReadOnlyAccess",
            "--group",
            "readers",
        ],
    );
    let doc = a.dir.join("deny.json");
    std::fs::write(
        &doc,
        r#"{"version":"2.0","statement":[{"effect":"deny","action":"im:GetGroupInfo","resource":"*"}]}"#,
    )
    .unwrap();
    ok(
        &b,
        &[
            "policy",
            "create",
            "NoInfo",
            "--document",
            doc.to_str().unwrap(),
        ],
    );
    // A host reads its own writes at once; the others within moments.
    for h in [&a, &b, &c] {
        assert!(
            wait_for(Duration::from_secs(5), || h
                .auth(None, &id, &secret, "im:GetGroupList")
                .status
                .code()
                == Some(0)),
            "{}: the key does not decide there",
            h.dir.display()
        );
    }
    ok(&c, &["policy", "attach", "NoInfo", "--user", "alice"]);
    for h in [&a, &b, &c] {
        assert!(wait_for(Duration::from_secs(5), || h
            .auth(None, &id, &secret, "im:GetGroupInfo")
            .status
            .code()
            == Some(1)));
    }
    // Account settings replicate too: password rules set on B hold on A.
    ok(
        &b,
        &["account", "set-password-rules", "--minimum-length", "14"],
    );
    assert!(wait_for(Duration::from_secs(5), || json(&a.camctl(&[
        "--json",
        "account",
        "password-rules"
    ]))["MinimumLength"]
        == 14));
    assert!(converged(&[&a, &b, &c]), "hosts differ");
    // Read your writes elsewhere: a write on A returns its revision; B,
    // asked to decide at least at it, decides with it (without polling).
    let mut on_a = a.client();
    let mut on_b = b.client();
    for i in 0..20 {
        let name = format!("fresh{i}");
        on_a.call(camd::protocol::AddUser {
            name: name.clone(),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..Default::default()
        })
        .unwrap();
        let rev = on_a.revision().expect("a revision");
        let d = on_b
            .authorize_at(
                rev,
                camd::client::by_user(&name, "im:GetGroupInfo", APP, &[]),
            )
            .unwrap();
        assert!(d.allowed, "{name} at {rev}: {d:?}");
    }
    // A revision no host has reached: a clear code after the bounded wait.
    let far = on_a.revision().unwrap() + 1_000_000;
    let e = on_b
        .authorize_at(
            far,
            camd::client::by_user("alice", "im:GetGroupList", APP, &[]),
        )
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some("FailedOperation.ClusterRevisionNotReached"),
        "{e}"
    );
    let s = standing(&a);
    assert_eq!(s["Connected"], true, "{s}");
    assert_eq!(s["Lag"], 0, "{s}");
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn conflicting_writes_from_two_hosts_break_no_invariant() {
    let Some(etcd) = etcd("conflicts", 1) else {
        return;
    };
    let (a, b) = (host("cf-a", &etcd), host("cf-b", &etcd));
    ok(&a, &["user", "add", "shared"]);
    assert!(converged(&[&a, &b]));
    let (sa, sb) = (a.socket.clone(), b.socket.clone());
    let race = |socket: std::path::PathBuf, tag: &'static str| {
        std::thread::spawn(move || {
            let mut c = camd::client::Client::connect(&socket).unwrap();
            let mut won = Vec::new();
            for i in 0..15 {
                // The same names from both hosts.
                let r = c.call(camd::protocol::AddUser {
                    name: format!("same{i}"),
                    ..Default::default()
                });
                if r.is_ok() {
                    won.push(format!("same{i}"));
                }
                // Keys for one user: at most 2 may exist, whoever asks.
                let _ = c.call(camd::protocol::CreateAccessKey {
                    user: Some("shared".into()),
                    description: String::new(),
                });
            }
            (tag, won)
        })
    };
    let (ta, tb) = (race(sa, "a"), race(sb, "b"));
    let (wa, wb) = (ta.join().unwrap().1, tb.join().unwrap().1);
    // Every name was created exactly once, by one host or the other.
    let mut all: Vec<String> = wa.iter().chain(&wb).cloned().collect();
    all.sort();
    let want: Vec<String> = {
        let mut v: Vec<String> = (0..15).map(|i| format!("same{i}")).collect();
        v.sort();
        v
    };
    assert_eq!(all, want, "a: {wa:?} b: {wb:?}");
    assert!(converged(&[&a, &b]), "hosts differ");
    for h in [&a, &b] {
        let keys = json(&h.camctl(&["--json", "key", "list", "shared"]));
        assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
        assert_eq!(users(h).len(), 16);
    }
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn with_etcd_away_decisions_go_on_and_writes_fail_fast() {
    let Some(mut etcd) = etcd("away", 1) else {
        return;
    };
    let (a, b) = (host("aw-a", &etcd), host("aw-b", &etcd));
    ok(
        &a,
        &["user", "add", "bob", "--policy", "QcloudChatReadOnlyAccess"],
    );
    assert!(converged(&[&a, &b]));
    etcd.stop_all();
    for h in [&a, &b] {
        assert_eq!(h.check("bob", "im:GetGroupInfo"), Some(0));
        let began = Instant::now();
        let out = h.camctl(&["user", "add", "carol"]);
        refused(&out, "FailedOperation.ClusterUnavailable");
        assert!(
            began.elapsed() < Duration::from_secs(4),
            "{:?}",
            began.elapsed()
        );
        assert!(!users(h).contains(&"carol".to_string()), "half-applied");
        let out = h.camctl(&["policy", "attach", "AdministratorAccess", "--user", "bob"]);
        refused(&out, "FailedOperation.ClusterUnavailable");
        assert_eq!(h.check("bob", "cam:ListUsers"), Some(1), "half-applied");
    }
    let s = standing(&b);
    assert_eq!(s["Connected"], false, "{s}");
    etcd.start_all();
    assert!(wait_for(Duration::from_secs(10), || a
        .camctl(&["user", "add", "carol"])
        .status
        .success()));
    assert!(wait_for(Duration::from_secs(10), || users(&b)
        .contains(&"carol".to_string())));
    assert!(converged(&[&a, &b]));
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_host_resyncs_after_etcd_compacted_past_it_and_a_killed_host_catches_up() {
    let Some(etcd) = etcd("compact", 1) else {
        return;
    };
    let a = host("cp-a", &etcd);
    let b = host("cp-b", &etcd);
    ok(&a, &["user", "add", "before"]);
    assert!(converged(&[&a, &b]));
    let b_dir = b.dir.clone();
    assert!(b.stop().success());
    for i in 0..20 {
        ok(&a, &["user", "add", &format!("while-away{i}")]);
    }
    ok(&a, &["user", "delete", "before"]);
    etcd.compact_now();
    let b = Camd::start_in(b_dir);
    assert!(converged(&[&a, &b]), "{}", b.log());
    assert!(b.log().contains("resynchronised"), "{}", b.log());
    assert_eq!(users(&b).len(), 20);
    // SIGKILL a host during writes; restarted, it catches up from its revision.
    let c = host("cp-c", &etcd);
    let c_dir = c.dir.clone();
    let writer = {
        let socket = a.socket.clone();
        std::thread::spawn(move || {
            let mut cl = camd::client::Client::connect(&socket).unwrap();
            for i in 0..30 {
                cl.call(camd::protocol::AddUser {
                    name: format!("during{i}"),
                    ..Default::default()
                })
                .unwrap();
            }
        })
    };
    std::thread::sleep(Duration::from_millis(30));
    drop(c); // SIGKILL
    writer.join().unwrap();
    let c = Camd::start_in(c_dir);
    assert!(converged(&[&a, &b, &c]), "{}", c.log());
    assert_eq!(users(&c).len(), 50);
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_host_with_another_pepper_refuses_to_join() {
    let Some(etcd) = etcd("secrets", 1) else {
        return;
    };
    let a = host("sc-a", &etcd);
    ok(&a, &["user", "add", "x"]);
    let endpoints = format!("\"{}\"", etcd.endpoints()[0]);
    let dir = Camd::prepare(
        "sc-b",
        &format!("[cluster]\nendpoints = [{endpoints}]\nprefix = \"/test/\"\n"),
    );
    shared_secrets(&dir.join("state"));
    std::fs::write(dir.join("state/pepper"), [1u8; 32]).unwrap();
    let mut child = Camd::spawn(&dir);
    let status = child.wait().unwrap();
    assert!(!status.success());
    let log = std::fs::read_to_string(dir.join("camd.log")).unwrap();
    assert!(
        log.contains("FailedOperation.ClusterSecretsMismatch") && log.contains("the pepper"),
        "{log}"
    );
    assert!(!log.contains("sealing key differs"), "{log}");
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn killing_the_etcd_leader_loses_no_acknowledged_write() {
    let Some(mut etcd) = etcd("leader", 3) else {
        return;
    };
    let a = host("ld-a", &etcd);
    let b = host("ld-b", &etcd);
    let acked = {
        let socket = a.socket.clone();
        std::thread::spawn(move || {
            let mut cl = camd::client::Client::connect(&socket).unwrap();
            let mut acked = Vec::new();
            let until = Instant::now() + Duration::from_secs(6);
            let mut i = 0;
            // Within the account's 1,000 sub-users, however fast etcd is.
            while Instant::now() < until && i < 600 {
                // Paced, so the leader dies while writes go on.
                std::thread::sleep(Duration::from_millis(5));
                let name = format!("w{i}");
                i += 1;
                if cl
                    .call(camd::protocol::AddUser {
                        name: name.clone(),
                        ..Default::default()
                    })
                    .is_ok()
                {
                    acked.push(name);
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let leader = etcd.leader().expect("a leader");
    etcd.kill_member(leader);
    let acked = acked.join().unwrap();
    assert!(acked.len() > 20, "only {} writes acknowledged", acked.len());
    // Writes resume after the election (which, with other tests' etcd
    // members fsyncing on the same 2 cores, can take a while).
    let mut last = String::new();
    assert!(
        wait_for(Duration::from_secs(30), || {
            let out = a.camctl(&["user", "add", "after-election"]);
            last = stderr(&out);
            out.status.success()
        }),
        "writes did not resume: {last}\n{}",
        a.log()
    );
    assert!(converged(&[&a, &b]));
    for h in [&a, &b] {
        let have = users(h);
        for name in &acked {
            assert!(have.contains(name), "acknowledged {name} is lost");
        }
    }
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn policy_push_publishes_a_folder_to_every_host() {
    let Some(etcd) = etcd("push", 1) else {
        return;
    };
    let (a, b) = (host("ps-a", &etcd), host("ps-b", &etcd));
    // The local policy folder is not read in cluster mode.
    let listed = json(&b.camctl(&["--json", "policy", "list", "--scope", "Local"]));
    assert_eq!(listed, serde_json::json!([]), "{listed}");
    assert!(b.log().contains("is not read"), "{}", b.log());
    let dir = a.dir.join("push");
    std::fs::create_dir_all(&dir).unwrap();
    let send = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#;
    std::fs::write(dir.join("Senders.json"), send).unwrap();
    std::fs::write(
        dir.join("Readers.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:GetGroupInfo","resource":"*"}]}"#,
    )
    .unwrap();
    let push = |h: &Camd| h.camctl(&["--json", "policy", "push", dir.to_str().unwrap()]);
    let results = |out: &std::process::Output| -> Vec<String> {
        json(out)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}:{}",
                    r["PolicyName"].as_str().unwrap(),
                    r["Result"].as_str().unwrap()
                )
            })
            .collect()
    };
    let first = push(&a);
    assert_eq!(results(&first), ["Readers:created", "Senders:created"]);
    // Not a terminal: the progress is a plain line a step, on stderr.
    let progress = String::from_utf8_lossy(&first.stderr);
    assert!(
        progress.contains("camctl: pushing 1/2: Readers")
            && progress.contains("camctl: pushing 2/2: Senders"),
        "{progress}"
    );
    ok(&b, &["user", "add", "s", "--policy", "Senders"]);
    assert_eq!(a.check("s", "im:SendMessage"), Some(0));
    std::fs::write(
        dir.join("Senders.json"),
        r#"{"version":"2.0","statement":[{"effect":"deny","action":"im:SendMessage","resource":"*"}]}"#,
    )
    .unwrap();
    assert_eq!(results(&push(&b)), ["Readers:unchanged", "Senders:updated"]);
    assert!(wait_for(Duration::from_secs(5), || a
        .check("s", "im:SendMessage")
        == Some(1)));
    std::fs::write(dir.join("Broken.json"), "{").unwrap();
    let out = push(&a);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing was pushed"),
        "{}",
        stderr(&out)
    );
    assert!(converged(&[&a, &b]));
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_burst_of_writes_fits_etcds_transaction_limit() {
    // etcd allowing 20 operations per transaction (its default is 128).
    let Some(bin) = crate::harness::tool("etcd") else {
        return;
    };
    let etcd = crate::etcd_members::EtcdCluster::start_in(
        bin,
        crate::harness::temp_dir("etcd-burst"),
        1,
        &["--max-txn-ops", "20"],
    );
    let (a, b) = (host("bu-a", &etcd), host("bu-b", &etcd));
    // 70 clients at once: the writer groups what queues up, at most 8 jobs
    // (17 operations here: users, audit entries, the uin counter).
    let threads: Vec<_> = (0..70)
        .map(|t| {
            let socket = a.socket.clone();
            std::thread::spawn(move || {
                let mut c = camd::client::Client::connect(&socket).unwrap();
                for i in 0..3 {
                    c.call(camd::protocol::AddUser {
                        name: format!("t{t}u{i}"),
                        policies: vec!["QcloudChatReadOnlyAccess".into()],
                        ..Default::default()
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(converged(&[&a, &b]));
    assert_eq!(users(&b).len(), 210);
}

#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_host_authenticates_to_etcd_with_a_password_file() {
    let Some(etcd) = etcd("auth", 1) else {
        return;
    };
    etcd.enable_auth("s3cret-pass");
    // Without credentials etcd refuses; with them camd joins and writes.
    let endpoints = format!("\"{}\"", etcd.endpoints()[0]);
    let dir = Camd::prepare(
        "au-none",
        &format!("[cluster]\nendpoints = [{endpoints}]\nprefix = \"/test/\"\n"),
    );
    shared_secrets(&dir.join("state"));
    let status = Camd::spawn(&dir).wait().unwrap();
    assert!(!status.success());
    let log = std::fs::read_to_string(dir.join("camd.log")).unwrap();
    assert!(
        log.contains("etcd refused: etcdserver: user name is empty"),
        "{log}"
    );
    let dir = Camd::prepare(
        "au-pass",
        &format!(
            "[cluster]\nendpoints = [{endpoints}]\nprefix = \"/test/\"\nuser = \"root\"\npassword_file = \"PASSFILE\"\n"
        ),
    );
    let pass = dir.join("etcd-password");
    std::fs::write(&pass, "s3cret-pass\n").unwrap();
    let toml = std::fs::read_to_string(dir.join("camd.toml")).unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        toml.replace("PASSFILE", pass.to_str().unwrap()),
    )
    .unwrap();
    shared_secrets(&dir.join("state"));
    let h = Camd::start_in(dir);
    ok(&h, &["user", "add", "via-auth"]);
    assert_eq!(standing(&h)["Connected"], true);
    assert!(
        !h.log().contains("s3cret-pass"),
        "the password reached the log"
    );
    assert!(h.stop().success());
}
