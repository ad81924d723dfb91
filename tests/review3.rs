//! The third adversarial review's attacks, one test per hole, each run as
//! the review ran it: against the real camd (and camd-api), from uid 65534
//! where the attacker is local, and checked by what the attack achieved.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use camd::client::{Call, Client, sign_post};
use camd::protocol::{DeleteUser, SignedPayload};

use crate::harness::{
    APP, Camd, NOBODY, camd_api, effective_uid, hostile_child, json, refused, stderr, wait_for,
};

const UNAUTHORIZED: &str = "AuthFailure.UnauthorizedOperation";

fn root_only(test: &str) -> bool {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: {test} runs camctl as uid 65534 and needs root");
        return false;
    }
    true
}

/// camctl as uid 65534 with an access key.
fn as_key(d: &Camd, key: &(String, String), args: &[&str]) -> std::process::Output {
    let mut full = vec!["--as-key", key.0.as_str()];
    full.extend_from_slice(args);
    d.camctl_as(Some(NOBODY), &[("CAMD_SECRET_KEY", key.1.as_str())], &full)
}

fn write(d: &Camd, name: &str, doc: &str) -> String {
    let path = d.dir.join(name);
    std::fs::write(&path, doc).unwrap();
    path.display().to_string()
}

const EVERYTHING: &str =
    r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#;

/// Hole 1: a removed policy file's attachments must not pass to a new
/// policy of the same name made by someone who may only create policies.
#[test]
fn a_create_policy_right_cannot_revive_a_removed_files_attachments() {
    if !root_only("a_create_policy_right_cannot_revive_a_removed_files_attachments") {
        return;
    }
    let d = Camd::start("review3-dangling");
    std::fs::write(
        d.dir.join("policies/Author.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:CreatePolicy","cam:GetPolicy","cam:ListPolicies"],"resource":"*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        d.dir.join("policies/Retired.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#,
    )
    .unwrap();
    assert!(d.camctl(&["policy", "reload"]).status.success());
    let key = d.user_with_key("author", "Author");
    assert!(
        d.camctl(&["policy", "attach", "Retired", "--user", "author"])
            .status
            .success()
    );
    std::fs::remove_file(d.dir.join("policies/Retired.json")).unwrap();
    assert!(d.camctl(&["policy", "reload"]).status.success());
    // The attack: recreate the removed name as allow-everything.
    let wide = write(&d, "wide.json", EVERYTHING);
    let out = as_key(
        &d,
        &key,
        &["policy", "create", "Retired", "--document", &wide],
    );
    refused(&out, "FailedOperation.PolicyNameInUse");
    assert!(stderr(&out).contains("user `author`"), "{}", stderr(&out));
    refused(
        &as_key(
            &d,
            &key,
            &["user", "add", "boss", "--policy", "AdministratorAccess"],
        ),
        UNAUTHORIZED,
    );
    assert_eq!(d.check("author", "cam:AddUser"), Some(1));
    // A preset's name in other case reads as the preset everywhere.
    refused(
        &as_key(
            &d,
            &key,
            &[
                "policy",
                "create",
                "administratoraccess",
                "--document",
                &wide,
            ],
        ),
        "FailedOperation.PolicyNameInUse",
    );
    // Once the leftover is detached, the name is free again.
    assert!(
        d.camctl(&["policy", "detach", "Retired", "--user", "author"])
            .status
            .success()
    );
    let narrow = write(
        &d,
        "narrow.json",
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:GetGroupInfo","resource":"*"}]}"#,
    );
    let out = as_key(
        &d,
        &key,
        &["policy", "create", "Retired", "--document", &narrow],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(d.check("author", "im:GetGroupInfo"), Some(1));
    assert!(d.stop().success());
}

#[test]
#[ignore = "the hostile side of refusals_cannot_push_changes_out_of_the_audit_trail"]
fn refused_delete_flood_child() {
    let Ok(socket) = std::env::var("CAMD_REVIEW3_SOCKET") else {
        return;
    };
    let mut c = Client::connect(&socket).unwrap();
    let (mut refused, mut throttled, mut other) = (0, 0, 0);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) && refused + throttled + other < 100_000 {
        match c.call(DeleteUser {
            name: "victim".into(),
            force: true,
        }) {
            Err(camd::client::ClientError::Remote(e)) if e.code == UNAUTHORIZED => refused += 1,
            Err(camd::client::ClientError::Remote(e))
                if e.code == "RequestLimitExceeded.AuthThrottled"
                    && e.message.contains("retry in") =>
            {
                throttled += 1
            }
            _ => other += 1,
        }
    }
    println!("\nrefused={refused} throttled={throttled} other={other}");
}

/// Hole 2: a flood of refused requests, with no key, must not evict the
/// changes from the audit trail.
#[test]
fn refusals_cannot_push_changes_out_of_the_audit_trail() {
    if !root_only("refusals_cannot_push_changes_out_of_the_audit_trail") {
        return;
    }
    // A burst of 500 refusals is audited one by one: more than the 100
    // changes kept, which a single trail would have lost to them.
    let d = Camd::start_with(
        "review3-audit",
        "[audit]\nmax_entries = 100\nmax_refusals = 20\n[throttle]\nburst = 500\nrefill_per_sec = 0.01\n",
    );
    assert!(d.camctl(&["user", "add", "victim"]).status.success());
    let socket = d.socket.display().to_string();
    let child = hostile_child(
        "review3::refused_delete_flood_child",
        &[("CAMD_REVIEW3_SOCKET", socket.as_str())],
        1024,
    );
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let counts = text.lines().find(|l| l.starts_with("refused=")).unwrap();
    let field = |name: &str| -> u64 {
        counts
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(field("other"), 0, "{counts}");
    assert!(
        field("throttled") > field("refused"),
        "the flood is throttled: {counts}"
    );
    let entries = json(&d.camctl(&["--json", "audit", "--since", "0"]));
    let entries = entries.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["Action"] == "cam:AddUser" && e["Outcome"] == "ok"),
        "the change survived the flood: {entries:?}"
    );
    let refusals = entries.iter().filter(|e| e["Outcome"] != "ok").count();
    assert_eq!(refusals, 20, "the refusals kept: their own retention");
    assert!(field("refused") >= 500, "{counts}");
    assert!(d.stop().success());
}

/// A TCP connection to 127.0.0.1:`port` from the loopback address `src`.
fn tcp_from(src: [u8; 4], port: u16) -> TcpStream {
    use rustix::net::{AddressFamily, SocketType, bind, connect, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    bind(&fd, &SocketAddrV4::new(Ipv4Addr::from(src), 0)).unwrap();
    connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).unwrap();
    let s = TcpStream::from(fd);
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// A CAM API call signed as Tencent's SDKs sign it, as raw HTTP/1.1.
fn signed_http(id: &str, key: &str, action: &str, host: &str, body: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let req = sign_post(&Call {
        secret_id: id,
        secret_key: key,
        service: "cam",
        action,
        host,
        version: "2019-01-16",
        region: "",
        timestamp: now,
        body: body.as_bytes(),
    })
    .unwrap();
    let mut raw = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &req.headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    let SignedPayload::Body(b) = &req.payload else {
        unreachable!()
    };
    raw.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(b);
    bytes
}

/// One request on a new connection from `src`; the response's body.
fn exchange(src: [u8; 4], port: u16, request: &[u8]) -> String {
    let mut s = tcp_from(src, port);
    s.write_all(request).unwrap();
    read_response(&mut s)
}

/// One HTTP response (with Content-Length) from `s`: its body.
fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                return body.to_string();
            }
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

const ATTACKER: [u8; 4] = [127, 0, 0, 2];
const HONEST: [u8; 4] = [127, 0, 0, 1];

/// Hole 3: made-up SecretIds from one client through camd-api must not
/// lock out every other client of camd-api.
#[test]
fn failed_signatures_through_camd_api_throttle_their_client_not_everyone() {
    // camd-api runs as this test's uid: the operator when root, else a
    // gateway named in the config.
    let d = Camd::start_with(
        "review3-gateway",
        &format!(
            "gateway_uids = [{}]\n[throttle]\nburst = 3\nrefill_per_sec = 0.5\n",
            effective_uid()
        ),
    );
    let keys: Vec<(String, String)> = (0..4)
        .map(|i| d.user_with_key(&format!("reader{i}"), "AdministratorAccess"))
        .collect();
    let (mut api, port) = camd_api(&d, &[]);
    let host = format!("127.0.0.1:{port}");
    for i in 0..12 {
        let forged = signed_http(
            &format!("AKID{:032}", i % 3),
            "madeupmadeupmadeupmadeupmadeup12",
            "ListUsers",
            &host,
            "{}",
        );
        let body = exchange(ATTACKER, port, &forged);
        assert!(
            body.contains("AuthFailure") || body.contains("AuthThrottled"),
            "{body}"
        );
    }
    let throttled = exchange(
        ATTACKER,
        port,
        &signed_http(
            &format!("AKID{:032}", 0),
            "x".repeat(32).as_str(),
            "ListUsers",
            &host,
            "{}",
        ),
    );
    assert!(
        throttled.contains("RequestLimitExceeded.AuthThrottled"),
        "{throttled}"
    );
    assert!(throttled.contains("retry in"), "{throttled}");
    let mut served = 0;
    for (id, key) in keys.iter().cycle().take(16) {
        let body = exchange(
            HONEST,
            port,
            &signed_http(id, key, "ListUsers", &host, "{}"),
        );
        if body.contains("\"Data\"") || body.contains("\"UserInfo\"") || body.contains("reader0") {
            served += 1;
        } else {
            eprintln!("{body}");
        }
    }
    assert_eq!(served, 16, "every honest client is served");
    let _ = api.kill();
    let _ = api.wait();
}

/// Hole 4: slow bodies and idle keep-alive connections without a key must
/// not starve camd-api, nor use up camd's connections for its uid.
#[test]
fn camd_api_cannot_be_starved_of_connections_without_a_key() {
    let d = Camd::start("review3-starve");
    let key = d.user_with_key("ops", "AdministratorAccess");
    let (mut api, port) = camd_api(
        &d,
        &[
            "--max-connections",
            "400",
            "--max-per-client",
            "16",
            "--body-timeout-secs",
            "2",
        ],
    );
    let host = format!("127.0.0.1:{port}");
    // (a) Connections that send the headers and one byte of a large body.
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut s = tcp_from(ATTACKER, port);
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
        );
        if s.write_all(head.as_bytes()).is_ok() {
            slow.push(s);
        }
    }
    // (b) 300 idle keep-alive connections from as many addresses, each
    // after one request without an Authorization header: before the pool,
    // each held a camd connection (camd allows 256 per uid).
    let mut idle = Vec::new();
    for i in 0..300u32 {
        let mut s = tcp_from([127, 0, 1 + (i / 200) as u8, 1 + (i % 200) as u8], port);
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        s.write_all(req.as_bytes()).unwrap();
        let body = read_response(&mut s);
        assert!(body.contains("AuthFailure"), "{body}");
        idle.push(s);
    }
    let started = Instant::now();
    let body = exchange(
        HONEST,
        port,
        &signed_http(&key.0, &key.1, "ListUsers", &host, "{}"),
    );
    assert!(
        body.contains("\"ops\""),
        "an honest call is served at once: {body}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // camd holds at most the pool's connections for camd-api.
    let camd_fds = crate::harness::fds(d.child.id());
    assert!(camd_fds < 64, "camd holds {camd_fds} descriptors");
    // The slow bodies are cut off at their deadline (16 of them; the
    // others were closed at once as over their address's share).
    std::thread::sleep(Duration::from_millis(2500));
    let (mut cut_off, mut closed) = (0, 0);
    for s in slow.iter_mut() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => closed += 1,
            Ok(n) if String::from_utf8_lossy(&buf[..n]).contains("did not arrive within") => {
                cut_off += 1
            }
            Ok(n) => panic!("unexpected: {}", String::from_utf8_lossy(&buf[..n])),
            // Closed at accept with the client's bytes unread: a reset.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(e) => panic!("a slow body was still held after its deadline: {e}"),
        }
    }
    assert_eq!(cut_off, 16, "{closed} closed");
    assert_eq!(closed, slow.len() - 16);
    let _ = api.kill();
    let _ = api.wait();
}

/// Hole 5 (the host part): a request signed for another host is not served.
#[test]
fn camd_api_serves_only_its_own_host_names() {
    let d = Camd::start("review3-host");
    let key = d.user_with_key("ops", "AdministratorAccess");
    let (mut api, port) = camd_api(&d, &[]);
    let evil = exchange(
        HONEST,
        port,
        &signed_http(&key.0, &key.1, "ListUsers", "evil.example", "{}"),
    );
    assert!(evil.contains("InvalidParameter.HostNotServed"), "{evil}");
    let ok = exchange(
        HONEST,
        port,
        &signed_http(
            &key.0,
            &key.1,
            "ListUsers",
            &format!("localhost:{port}"),
            "{}",
        ),
    );
    assert!(ok.contains("\"ops\""), "{ok}");
    let _ = api.kill();
    let _ = api.wait();
    let (mut api, port) = camd_api(&d, &["--host", "cam.internal"]);
    let default = exchange(
        HONEST,
        port,
        &signed_http(
            &key.0,
            &key.1,
            "ListUsers",
            &format!("127.0.0.1:{port}"),
            "{}",
        ),
    );
    assert!(default.contains("HostNotServed"), "{default}");
    let named = exchange(
        HONEST,
        port,
        &signed_http(&key.0, &key.1, "ListUsers", "cam.internal", "{}"),
    );
    assert!(named.contains("\"ops\""), "{named}");
    let _ = api.kill();
    let _ = api.wait();
}

/// Hole 6: a signer must not pick the service its call is decided for.
#[test]
fn a_signer_cannot_pick_the_service_of_an_authorize_signed_decision() {
    let d = Camd::start("review3-service");
    std::fs::write(
        d.dir.join("policies/CamReader.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:Get*","cam:List*"],"resource":"*"}]}"#,
    )
    .unwrap();
    assert!(d.camctl(&["policy", "reload"]).status.success());
    let key = d.user_with_key("reader", "CamReader");
    let raw = signed_http(
        &key.0,
        &key.1,
        "GetGroupInfo",
        "chat.example",
        r#"{"GroupId":"g"}"#,
    );
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "--resource", APP];
        args.extend_from_slice(extra);
        d.camctl_fed(None, &[], &args, Some(&raw))
    };
    // The asking service is im: a signature scoped to cam is refused.
    let out = verify(&["--service", "im"]);
    refused(&out, "AuthFailure");
    assert!(
        stderr(&out).contains("`cam` is not `im`"),
        "{}",
        stderr(&out)
    );
    // Naming nothing is refused too (the review's Allow came from here).
    let mut c = d.client();
    let req = String::from_utf8(raw.clone()).unwrap();
    let request = camd::protocol::SignedHttp {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: req
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        payload: SignedPayload::Body(br#"{"GroupId":"g"}"#.to_vec()),
    };
    let e = c
        .authorize_signed(camd::client::signed(request, APP, None, &[]))
        .unwrap_err();
    assert!(e.to_string().contains("MissingParameter"), "{e}");
    // Signed as the SDKs sign (x-tc-action not covered), for im: the
    // service alone does not let the request pick its action ...
    let sdk = sdk_signed(&key.0, &key.1, "im", "GetGroupInfo", r#"{"GroupId":"g"}"#);
    let e = c
        .authorize_signed(camd::client::signed(sdk.clone(), APP, Some("im"), &[]))
        .unwrap_err();
    assert!(e.to_string().contains("does not cover x-tc-action"), "{e}");
    // ... the stated action is decided (a cam reader may not).
    let decided = c
        .authorize_signed(camd::client::signed(sdk, APP, Some("im:GetGroupInfo"), &[]))
        .unwrap();
    assert!(!decided.allowed);
    assert!(d.stop().success());
}

/// Hole 11: camd and camd-api are not dumpable, and every unit sets LimitCORE=0.
#[test]
fn key_material_never_reaches_a_core_dump() {
    if !root_only("key_material_never_reaches_a_core_dump") {
        return;
    }
    // A process that is not dumpable has its /proc files owned by root,
    // whoever it runs as: run camd as uid 65534 and look.
    let dir = Camd::prepare("review3-core", "");
    Command::new("chown")
        .args(["-R", "65534:65534", dir.to_str().unwrap()])
        .status()
        .unwrap();
    let log = std::fs::File::create(dir.join("camd.log")).unwrap();
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_camd"))
        .args(["--config", dir.join("camd.toml").to_str().unwrap()])
        .stderr(log)
        .uid(NOBODY)
        .gid(NOBODY)
        .spawn()
        .unwrap();
    let socket = dir.join("camd.sock");
    assert!(wait_for(Duration::from_secs(10), || socket.exists()));
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(format!("/proc/{}/status", child.id()))
        .unwrap()
        .uid();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(owner, 0, "camd running as 65534 is not dumpable");
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    // camd-api's group is one the installed config names as a gateway.
    let api = std::fs::read_to_string(units.join("camd-api.service")).unwrap();
    assert!(api.lines().any(|l| l.trim() == "Group=camd-gateway"));
    let sysusers = std::fs::read_to_string(units.join("camd.sysusers")).unwrap();
    assert!(sysusers.lines().any(|l| l.starts_with("g camd-gateway")));
    let installed = std::fs::read_to_string(units.join("../config/installed.toml")).unwrap();
    let cfg: toml::Value = toml::from_str(&installed).unwrap();
    assert_eq!(cfg["gateway_groups"][0].as_str(), Some("camd-gateway"));
    for unit in ["camd.service", "camd-api.service"] {
        let text = std::fs::read_to_string(units.join(unit)).unwrap();
        assert!(text.lines().any(|l| l.trim() == "LimitCORE=0"), "{unit}");
        assert!(
            text.lines().any(|l| l.trim() == "MemorySwapMax=0"),
            "{unit}"
        );
    }
}

/// Hole 13: `--as-key` from the operator's uid acts as that key, or is refused.
#[test]
fn as_key_from_a_root_shell_acts_as_the_key() {
    if !root_only("as_key_from_a_root_shell_acts_as_the_key") {
        return;
    }
    let d = Camd::start("review3-askey");
    let out = d.camctl_as(
        None,
        &[("CAMD_SECRET_KEY", "wrong")],
        &["--as-key", "AKIDnothing", "user", "add", "x"],
    );
    refused(&out, "AuthFailure");
    let reader = d.user_with_key("reader", "QcloudChatReadOnlyAccess");
    let out = d.camctl_as(
        None,
        &[("CAMD_SECRET_KEY", reader.1.as_str())],
        &["--as-key", reader.0.as_str(), "user", "add", "y"],
    );
    refused(&out, UNAUTHORIZED);
    let users = json(&d.camctl(&["--json", "user", "list"]));
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    let audit = json(&d.camctl(&["--json", "audit", "--since", "0"]));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["Action"] == "cam:AddUser"
                && e["Actor"].as_str().unwrap().contains(&reader.0)
                && e["Outcome"] == UNAUTHORIZED),
        "{audit}"
    );
    assert!(d.stop().success());
}

/// Hole 7: pathological wildcards and long resources must not make
/// decisions slow for everyone.
#[test]
fn a_pathological_wildcard_does_not_slow_other_decisions() {
    let d = Camd::start("review3-wildcard");
    // 50 policies of the review's shape (each under CAM's 6,144 characters),
    // all on one user: some with its 5,900-byte run, most with a 500-byte
    // one, shorter than the 980-byte resources below (matching at each
    // place, as before the fix, costs 500 x 1,000 steps per statement).
    for i in 0..50 {
        let run = if i % 10 == 0 { 5900 } else { 500 };
        let resource = format!("qcs::im::uin/100000000001:sdkappid/*{}b*", "a".repeat(run));
        std::fs::write(
            d.dir.join(format!("policies/Slow{i}.json")),
            format!(
                r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"im:SendMessage","resource":"{resource}"}}]}}"#
            ),
        )
        .unwrap();
    }
    assert!(d.camctl(&["policy", "reload"]).status.success());
    assert!(d.camctl(&["user", "add", "slow"]).status.success());
    for i in 0..50 {
        let p = format!("Slow{i}");
        assert!(
            d.camctl(&["policy", "attach", &p, "--user", "slow"])
                .status
                .success()
        );
    }
    assert!(
        d.camctl(&["user", "add", "fast", "--policy", "QcloudAVCFullAccess"])
            .status
            .success()
    );
    // A long resource (the review's was 1 MB; this camd's frames are at
    // most 64 KiB) is refused, naming the limit.
    let mut c = d.client();
    let huge = format!("qcs::im::uin/100000000001:sdkappid/{}", "a".repeat(60_000));
    let e = c
        .authorize(camd::client::by_user("slow", "im:SendMessage", &huge, &[]))
        .unwrap_err();
    assert!(e.to_string().contains("the limit is 1024"), "{e}");
    // The longest resource accepted, from two attacking connections.
    let long = format!("qcs::im::uin/100000000001:sdkappid/{}", "a".repeat(980));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..2)
        .map(|_| {
            let (socket, long, stop) = (d.socket.clone(), long.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(&socket).unwrap();
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let d =
                        c.authorize(camd::client::by_user("slow", "im:SendMessage", &long, &[]));
                    assert!(!d.unwrap().allowed);
                    n += 1;
                }
                n
            })
        })
        .collect();
    // A normal client keeps being answered (the review's got 4 answers in 20 s).
    let mut answered = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let d = c
            .authorize(camd::client::by_user("fast", "im:SendMessage", APP, &[]))
            .unwrap();
        assert!(d.allowed);
        answered += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let attacks: u64 = attackers.into_iter().map(|t| t.join().unwrap()).sum();
    eprintln!("normal client: {answered} answers in 3 s; attackers: {attacks} decisions");
    assert!(answered > 300, "{answered} answers in 3 s");
    assert!(
        attacks > 300,
        "the attack's own decisions are fast too: {attacks}"
    );
    assert!(d.stop().success());
}

/// Connections that each send all but the last byte of a 64 KiB frame.
fn unfinished_frames(socket: &std::path::Path, n: usize) -> Vec<std::os::unix::net::UnixStream> {
    let hello = camd::protocol::encode_hello(camd::protocol::PROTOCOL_VERSION);
    let len: u32 = 65_536;
    let mut held = Vec::new();
    for _ in 0..n {
        let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
            continue;
        };
        let mut bytes = hello.to_vec();
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7u8, len as usize - 1));
        s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        if s.write_all(&bytes).is_ok() {
            held.push(s);
        }
    }
    held
}

#[test]
#[ignore = "the hostile side of unfinished_frames_are_bounded_and_released"]
fn unfinished_frames_child() {
    let Ok(socket) = std::env::var("CAMD_REVIEW3_SOCKET") else {
        return;
    };
    let held = unfinished_frames(std::path::Path::new(&socket), 250);
    println!("\nACTIVE {}", held.len());
    std::thread::sleep(Duration::from_secs(30));
}

/// Hole 8: unfinished frames from many peers pin at most the daemon's
/// buffer budget, are closed at their deadline, and their memory goes.
#[test]
fn unfinished_frames_are_bounded_and_released() {
    if !root_only("unfinished_frames_are_bounded_and_released") {
        return;
    }
    let d = Camd::start_with(
        "review3-frames",
        "max_buffered_bytes = 8388608\nframe_timeout_secs = 2\n",
    );
    let pid = d.child.id();
    assert!(d.client().ping().is_ok());
    let base_rss = crate::harness::rss_kb(pid);
    let base_fds = crate::harness::settled_fds(pid);
    // 250 connections from uid 65534 and 250 from this uid: 31 MiB of
    // unfinished frames against a budget of 8 MiB.
    let socket = d.socket.display().to_string();
    let mut child = hostile_child(
        "review3::unfinished_frames_child",
        &[("CAMD_REVIEW3_SOCKET", socket.as_str())],
        1024,
    );
    let mine = unfinished_frames(&d.socket, 250);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    assert!(
        lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("ACTIVE"))
    );
    let mut peak = crate::harness::rss_kb(pid);
    // A normal client is served meanwhile.
    let mut c = d.client();
    for _ in 0..50 {
        assert!(c.ping().is_ok());
        peak = peak.max(crate::harness::rss_kb(pid));
    }
    let closed = wait_for(Duration::from_secs(10), || {
        peak = peak.max(crate::harness::rss_kb(pid));
        crate::harness::fds(pid) <= base_fds + 1
    });
    let after = crate::harness::rss_kb(pid);
    let _ = child.kill();
    let _ = child.wait();
    drop(mine);
    eprintln!(
        "unfinished frames: RSS {} -> peak {} -> after {} KB",
        base_rss, peak, after
    );
    assert!(
        closed,
        "connections still open: {}",
        crate::harness::fds(pid)
    );
    assert!(
        peak < base_rss + 24 * 1024,
        "peak {peak} KB from {base_rss} KB"
    );
    assert!(
        after < base_rss + 16 * 1024,
        "after {after} KB from {base_rss} KB"
    );
    assert!(d.client().ping().is_ok());
}

/// A TCP proxy to etcd that can cut its links as a partition does: while
/// cut, connections open on both sides stay open and silent (their etcd
/// side is closed, as etcd drops a stream it cannot write to), and new
/// ones hang; once healed, new connections pass and the cut ones stay dead.
struct Partition {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Partition {
    fn to(target: u16) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (cut.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut dead = Vec::new();
            while !s.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                if c.load(Ordering::Relaxed) {
                    dead.push(client);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                    (upstream.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    let (c, s) = (c.clone(), s.clone());
                    let (keep_client, keep_up) =
                        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    std::thread::spawn(move || {
                        from.set_read_timeout(Some(Duration::from_millis(50)))
                            .unwrap();
                        let mut buf = [0u8; 16384];
                        loop {
                            if c.load(Ordering::Relaxed) || s.load(Ordering::Relaxed) {
                                // The link is cut: etcd's side goes, this
                                // side is held open and silent for good.
                                let _ = keep_up.shutdown(std::net::Shutdown::Both);
                                while !s.load(Ordering::Relaxed) {
                                    std::thread::sleep(Duration::from_millis(50));
                                }
                                drop(keep_client);
                                return;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => return,
                                Ok(_) if c.load(Ordering::Relaxed) => {}
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        return;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => return,
                            }
                        }
                    });
                }
            }
        });
        Self { port, cut, stop }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Hole 12: a host cut off from etcd for a few seconds applies what was
/// written meanwhile once healed, says how old its replica is, and (when
/// configured) refuses to decide from a replica older than allowed.
#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_partitioned_host_catches_up_after_healing() {
    let Some(etcd) = crate::etcd_harness::etcd("review3-partition", 1) else {
        return;
    };
    let a = crate::etcd_harness::host("review3-partition-a", &etcd);
    let etcd_port: u16 = etcd.endpoints()[0]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let link = Partition::to(etcd_port);
    let dir = Camd::prepare(
        "review3-partition-b",
        &format!(
            "[cluster]\nendpoints = [\"http://127.0.0.1:{}\"]\nprefix = \"/test/\"\ntimeout_ms = 1500\nmax_staleness_secs = 10\n",
            link.port
        ),
    );
    crate::etcd_members::shared_secrets(&dir.join("state"));
    let b = Camd::start_in(dir);
    assert!(
        a.camctl(&["user", "add", "alice", "--policy", "QcloudAVCFullAccess"])
            .status
            .success()
    );
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    assert_eq!(b.check("alice", "im:SendMessage"), Some(0));

    link.set_cut(true);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        a.camctl(&["policy", "detach", "QcloudAVCFullAccess", "--user", "alice"])
            .status
            .success()
    );
    // Cut off, B decides from what it has, and says how old it is.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        b.check("alice", "im:SendMessage"),
        Some(0),
        "B still has the old state"
    );
    let st = crate::etcd_harness::standing(&b);
    assert!(st["ReplicaAgeSeconds"].as_u64().unwrap() >= 2, "{st}");
    // Past max_staleness_secs it refuses to decide.
    let refused_stale = wait_for(Duration::from_secs(20), || {
        let out = b.camctl(&[
            "check",
            "--user",
            "alice",
            "--action",
            "im:SendMessage",
            "--resource",
            APP,
        ]);
        stderr(&out).contains("FailedOperation.ClusterReplicaStale")
    });
    assert!(
        refused_stale,
        "a replica older than max_staleness_secs does not decide"
    );
    link.set_cut(false);
    // Healed: B applies the detach, and what is written afterwards.
    assert!(
        wait_for(Duration::from_secs(15), || b
            .check("alice", "im:SendMessage")
            == Some(1)),
        "B still allows alice after healing: {}",
        crate::etcd_harness::standing(&b)
    );
    assert!(a.camctl(&["user", "add", "bob"]).status.success());
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    let st = crate::etcd_harness::standing(&b);
    assert_eq!(st["Connected"], true, "{st}");
    assert!(st["ReplicaAgeSeconds"].as_u64().unwrap() <= 10, "{st}");
    drop(link);
}

/// etcd's client port.
fn etcd_port(etcd: &crate::etcd_members::EtcdCluster) -> u16 {
    etcd.endpoints()[0]
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `etcdctl put KEY VALUE`, over etcd's JSON gateway.
fn etcd_put(etcd: &crate::etcd_members::EtcdCluster, key: &str, value: &[u8]) {
    let body = format!(
        r#"{{"key":"{}","value":"{}"}}"#,
        b64(key.as_bytes()),
        b64(value)
    );
    let out = crate::etcd_members::post(etcd_port(etcd), "/v3/kv/put", &body, None);
    assert!(out.contains("header"), "{out}");
}

/// `etcdctl del KEY`.
fn etcd_del(etcd: &crate::etcd_members::EtcdCluster, key: &str) {
    let body = format!(r#"{{"key":"{}"}}"#, b64(key.as_bytes()));
    crate::etcd_members::post(etcd_port(etcd), "/v3/kv/deleterange", &body, None);
}

/// `etcdctl get KEY`: the raw value.
fn etcd_get(etcd: &crate::etcd_members::EtcdCluster, key: &str) -> Vec<u8> {
    use base64::Engine;
    let body = format!(r#"{{"key":"{}"}}"#, b64(key.as_bytes()));
    let out = crate::etcd_members::post(etcd_port(etcd), "/v3/kv/range", &body, None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(v["kvs"][0]["value"].as_str().unwrap())
        .unwrap()
}

fn quarantined(h: &Camd) -> Vec<String> {
    crate::etcd_harness::standing(h)["Quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap().to_string())
        .collect()
}

/// Hole 9: one undecodable record in etcd is quarantined: reported,
/// skipped, replication goes on, a new host still joins, and the key is
/// read again once fixed.
#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn an_undecodable_record_in_etcd_is_quarantined_and_replication_goes_on() {
    let Some(etcd) = crate::etcd_harness::etcd("review3-garbage", 1) else {
        return;
    };
    let a = crate::etcd_harness::host("review3-garbage-a", &etcd);
    let b = crate::etcd_harness::host("review3-garbage-b", &etcd);
    assert!(a.camctl(&["user", "add", "alice"]).status.success());
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    let bad = "/test/s/u/00000000299999999999";
    etcd_put(&etcd, bad, b"garbage");
    assert!(wait_for(Duration::from_secs(10), || quarantined(&b)
        .iter()
        .any(|q| q.starts_with(bad))));
    let metrics = String::from_utf8(b.camctl(&["metrics"]).stdout).unwrap();
    assert!(
        metrics.contains("camd_cluster_quarantined_records 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("camd_cluster_replica_age_seconds"),
        "{metrics}"
    );
    // Writes and replication go on.
    let out = a.camctl(&["user", "add", "bob"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(wait_for(Duration::from_secs(10), || b
        .camctl(&["user", "get", "bob"])
        .status
        .success()));
    // A new host joins, leaving the record out.
    let c = crate::etcd_harness::host("review3-garbage-c", &etcd);
    assert!(c.camctl(&["user", "get", "bob"]).status.success());
    assert!(
        quarantined(&c).iter().any(|q| q.starts_with(bad)),
        "{:?}",
        quarantined(&c)
    );
    assert!(crate::etcd_harness::converged(&[&a, &b, &c]));
    // Fixed (deleted), it is no longer reported, and B writes again.
    etcd_del(&etcd, bad);
    assert!(
        wait_for(Duration::from_secs(10), || quarantined(&b).is_empty()),
        "{:?}",
        quarantined(&b)
    );
    assert!(b.camctl(&["user", "add", "carol"]).status.success());
    assert!(crate::etcd_harness::converged(&[&a, &b, &c]));
    assert_eq!(
        b.log()
            .matches("quarantined `/test/s/u/00000000299999999999`")
            .count(),
        1,
        "logged once"
    );
}

/// Hole 10: write access to etcd is not root: a record rewritten, or an old
/// record put back, is refused by every host, and grants nothing.
#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_rewritten_or_replayed_record_in_etcd_grants_nothing() {
    let Some(etcd) = crate::etcd_harness::etcd("review3-forge", 1) else {
        return;
    };
    let a = crate::etcd_harness::host("review3-forge-a", &etcd);
    let b = crate::etcd_harness::host("review3-forge-b", &etcd);
    let key = a.user_with_key("victim", "QcloudChatReadOnlyAccess");
    assert!(
        a.camctl(&["user", "add", "mallory", "--policy", "AdministratorAccess"])
            .status
            .success()
    );
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    let mallory = json(&a.camctl(&["--json", "user", "get", "mallory"]))["Uin"]
        .as_u64()
        .unwrap();
    let mallory_key = format!("/test/s/u/{mallory:020}");
    let sealed_admin = etcd_get(&etcd, &mallory_key);
    // (a) The review's attack: the key record rewritten so that its owner
    // is the root account (a key record is variant 3, then the key).
    let key_path = format!("/test/s/k/{}", key.0);
    let original = etcd_get(&etcd, &key_path);
    let payload = &original[45..];
    assert_eq!(payload[0], 3, "a version-4 key record");
    let mut k: camd::store::Key = postcard::from_bytes(&payload[1..]).unwrap();
    k.owner = 100000000001;
    let mut forged = vec![3u8];
    forged.extend(postcard::to_stdvec(&k).unwrap());
    // As a plain value, and inside the original envelope.
    etcd_put(&etcd, &key_path, &forged);
    let mut enveloped = original[..45].to_vec();
    enveloped.extend_from_slice(&forged);
    etcd_put(&etcd, &key_path, &enveloped);
    assert!(wait_for(Duration::from_secs(10), || quarantined(&b)
        .iter()
        .any(|q| q.starts_with(&key_path))));
    // The key still acts as its owner, on both hosts.
    for h in [&a, &b] {
        let out = h.camctl_as(
            None,
            &[("CAMD_SECRET_KEY", key.1.as_str())],
            &[
                "--as-key",
                key.0.as_str(),
                "user",
                "add",
                "boss",
                "--policy",
                "AdministratorAccess",
            ],
        );
        refused(&out, UNAUTHORIZED);
    }
    // (b) An old record put back: mallory loses AdministratorAccess, then
    // the sealed record from before is written again.
    assert!(
        a.camctl(&[
            "policy",
            "detach",
            "AdministratorAccess",
            "--user",
            "mallory"
        ])
        .status
        .success()
    );
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    etcd_put(&etcd, &mallory_key, &sealed_admin);
    assert!(wait_for(Duration::from_secs(10), || quarantined(&b)
        .iter()
        .any(|q| q.contains("old record put back"))));
    std::thread::sleep(Duration::from_millis(300));
    for h in [&a, &b] {
        let out = h.camctl(&[
            "check",
            "--user",
            "mallory",
            "--action",
            "cam:AddUser",
            "--resource",
            "*",
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{} {:?} {}",
            stderr(&out),
            quarantined(h),
            String::from_utf8_lossy(&h.camctl(&["user", "list"]).stdout)
        );
    }
    // (c) A bare delete of a record is refused too.
    let victim = json(&a.camctl(&["--json", "user", "get", "victim"]))["Uin"]
        .as_u64()
        .unwrap();
    let victim_key = format!("/test/s/u/{victim:020}");
    etcd_del(&etcd, &victim_key);
    assert!(wait_for(Duration::from_secs(10), || quarantined(&b)
        .iter()
        .any(|q| q.contains("deleted outside camd"))));
    assert!(b.camctl(&["user", "get", "victim"]).status.success());
    // A new host refuses to join a state with an old record put back.
    let dir = Camd::prepare(
        "review3-forge-c",
        &format!(
            "[cluster]\nendpoints = [\"{}\"]\nprefix = \"/test/\"\ntimeout_ms = 3000\n",
            etcd.endpoints()[0]
        ),
    );
    crate::etcd_members::shared_secrets(&dir.join("state"));
    let mut c = Camd::spawn(&dir);
    let exited = wait_for(Duration::from_secs(20), || c.try_wait().unwrap().is_some());
    let log = std::fs::read_to_string(dir.join("camd.log")).unwrap_or_default();
    let _ = c.kill();
    assert!(exited, "the new host joined: {log}");
    assert!(log.contains("old records put back"), "{log}");
}

/// A CAM API call signed as Tencent's Python SDK signs it (`content-type`
/// and `host` only: the action is not signed), as camd-api hands it to camd.
fn sdk_signed_call(id: &str, key: &str, action: &str, body: &str) -> camd::protocol::ApiCall {
    camd::protocol::ApiCall {
        request: sdk_signed(id, key, "cam", action, body),
    }
}

/// A request signed as Tencent's Python SDK signs it, for `service`.
fn sdk_signed(
    id: &str,
    key: &str,
    service: &str,
    action: &str,
    body: &str,
) -> camd::protocol::SignedHttp {
    use camd::credentials::tc3::{Payload, Signed, ToSign, sign};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("Host".to_string(), "cam.tencentcloudapi.com".to_string()),
        ("X-TC-Action".to_string(), action.to_string()),
        ("X-TC-Timestamp".to_string(), now.to_string()),
        ("X-TC-Version".to_string(), "2019-01-16".to_string()),
    ];
    let authorization = sign(
        key,
        &ToSign {
            secret_id: id,
            service,
            timestamp: now,
            request: Signed {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                payload: Payload::Bytes(body.as_bytes()),
            },
            signed: &["content-type", "host"],
        },
    )
    .unwrap();
    headers.insert(0, ("Authorization".to_string(), authorization));
    camd::protocol::SignedHttp {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers,
        payload: SignedPayload::Body(body.as_bytes().to_vec()),
    }
}

/// The same captured call with another `X-TC-Action`.
fn as_action(call: &camd::protocol::ApiCall, action: &str) -> camd::protocol::ApiCall {
    let mut c = call.clone();
    for (k, v) in &mut c.request.headers {
        if k == "X-TC-Action" {
            *v = action.to_string();
        }
    }
    c
}

fn api_answer(c: &mut Client, call: camd::protocol::ApiCall) -> String {
    c.call(call).unwrap().json
}

/// Hole 5: a captured signed call never runs as another action, also after
/// a restart.
#[test]
fn a_captured_call_never_runs_as_another_action() {
    let d = Camd::start("review3-replay");
    let key = d.user_with_key("ops", "AdministratorAccess");
    assert!(d.camctl(&["user", "add", "b"]).status.success());
    let get = sdk_signed_call(&key.0, &key.1, "GetUser", r#"{"Name":"b"}"#);
    let first = api_answer(&mut d.client(), get.clone());
    assert!(first.contains("\"Name\":\"b\""), "{first}");
    // Within the same process (as before the fix).
    let replay = api_answer(&mut d.client(), as_action(&get, "DeleteUser"));
    assert!(replay.contains("AuthFailure.SignatureFailure"), "{replay}");
    // After a restart.
    let dir = d.dir.clone();
    assert!(d.stop().success());
    let d = Camd::start_in(dir);
    let replay = api_answer(&mut d.client(), as_action(&get, "DeleteUser"));
    assert!(replay.contains("AuthFailure.SignatureFailure"), "{replay}");
    assert!(
        d.camctl(&["user", "get", "b"]).status.success(),
        "b survived"
    );
    // The same call again is still served (an honest client's retry).
    assert!(api_answer(&mut d.client(), get).contains("\"Name\":\"b\""));
    assert!(d.stop().success());
}

/// Hole 5, on another cluster host.
#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn a_captured_call_never_runs_as_another_action_on_another_host() {
    let Some(etcd) = crate::etcd_harness::etcd("review3-replay", 1) else {
        return;
    };
    let a = crate::etcd_harness::host("review3-replay-a", &etcd);
    let b = crate::etcd_harness::host("review3-replay-b", &etcd);
    let key = a.user_with_key("ops", "AdministratorAccess");
    assert!(a.camctl(&["user", "add", "victim1"]).status.success());
    assert!(crate::etcd_harness::converged(&[&a, &b]));
    let get = sdk_signed_call(&key.0, &key.1, "GetUser", r#"{"Name":"victim1"}"#);
    assert!(api_answer(&mut a.client(), get.clone()).contains("victim1"));
    let replay = api_answer(&mut b.client(), as_action(&get, "DeleteUser"));
    assert!(replay.contains("AuthFailure.SignatureFailure"), "{replay}");
    assert!(b.camctl(&["user", "get", "victim1"]).status.success());
    assert!(a.camctl(&["user", "get", "victim1"]).status.success());
}

fn commits(d: &Camd) -> u64 {
    let text = String::from_utf8(d.camctl(&["metrics"]).stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("camd_store_commit_duration_seconds_count "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Low: one AddUserToGroup call with thousands of identical items is
/// refused; duplicates are taken once, and a call's memberships commit
/// together.
#[test]
fn add_user_to_group_items_are_bounded_deduplicated_and_committed_together() {
    let d = Camd::start("review3-members");
    let key = d.user_with_key("ops", "AdministratorAccess");
    assert!(d.camctl(&["group", "create", "team"]).status.success());
    let gid = camd::api::group_id("team");
    let mut uins = Vec::new();
    for i in 0..20 {
        let name = format!("m{i}");
        let out = d.camctl(&["--json", "user", "add", &name]);
        uins.push(json(&out)["Uin"].as_u64().unwrap());
    }
    let item = |uin: u64| format!(r#"{{"GroupId":{gid},"Uid":{uin}}}"#);
    // The review sent 4,500; this camd's frames hold about 1,400.
    let flood = format!(r#"{{"Info":[{}]}}"#, vec![item(uins[0]); 1000].join(","));
    let answer = api_answer(
        &mut d.client(),
        sdk_signed_call(&key.0, &key.1, "AddUserToGroup", &flood),
    );
    assert!(
        answer.contains("InvalidParameterValue") && answer.contains("at most 100"),
        "{answer}"
    );
    let same = format!(r#"{{"Info":[{}]}}"#, vec![item(uins[0]); 100].join(","));
    let answer = api_answer(
        &mut d.client(),
        sdk_signed_call(&key.0, &key.1, "AddUserToGroup", &same),
    );
    assert!(!answer.contains("Error"), "{answer}");
    let trail = json(&d.camctl(&["--json", "audit", "--since", "0"]));
    let adds = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Action"] == "cam:AddUserToGroup")
        .count();
    assert_eq!(adds, 1, "one membership, one entry");
    // A call of one membership, then one of 18: the 18 commit together
    // (the call's other bookkeeping, its signature and key use, is the same).
    let call = |items: &[u64]| {
        let items: Vec<String> = items.iter().map(|u| item(*u)).collect();
        let before = commits(&d);
        let body = format!(r#"{{"Info":[{}]}}"#, items.join(","));
        let answer = api_answer(
            &mut d.client(),
            sdk_signed_call(&key.0, &key.1, "AddUserToGroup", &body),
        );
        assert!(!answer.contains("Error"), "{answer}");
        std::thread::sleep(Duration::from_millis(1200));
        commits(&d) - before
    };
    let one = call(&uins[1..2]);
    let many = call(&uins[2..]);
    assert!(
        many <= one + 1,
        "18 memberships took {many} commits, one took {one}"
    );
    let members = json(&d.camctl(&["--json", "group", "members", "team"]));
    assert_eq!(members.as_array().unwrap().len(), 20, "{members}");
    assert!(d.stop().success());
}

/// Low: PolicyStatus and Status name the users and groups holding
/// dangling attachments only to callers that may read them.
#[test]
fn dangling_attachments_are_shown_only_to_who_may_read_their_holders() {
    if !root_only("dangling_attachments_are_shown_only_to_who_may_read_their_holders") {
        return;
    }
    let d = Camd::start("review3-dangling-view");
    std::fs::write(
        d.dir.join("policies/Lister.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:ListPolicies","cam:ListUsers"],"resource":"*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        d.dir.join("policies/Gone.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:SendMessage","resource":"*"}]}"#,
    )
    .unwrap();
    assert!(d.camctl(&["policy", "reload"]).status.success());
    let key = d.user_with_key("lister", "Lister");
    assert!(
        d.camctl(&["user", "add", "secretive", "--policy", "Gone"])
            .status
            .success()
    );
    std::fs::remove_file(d.dir.join("policies/Gone.json")).unwrap();
    assert!(d.camctl(&["policy", "reload"]).status.success());
    for args in [["--json", "policy", "status"], ["--json", "status", ""]] {
        let args: Vec<&str> = args.iter().copied().filter(|a| !a.is_empty()).collect();
        let theirs = json(&as_key(&d, &key, &args));
        assert_eq!(
            theirs["DanglingAttachments"].as_array().unwrap().len(),
            0,
            "{theirs}"
        );
        let mine = json(&d.camctl(&args));
        assert_eq!(
            mine["DanglingAttachments"].as_array().unwrap().len(),
            1,
            "{mine}"
        );
    }
    assert!(d.stop().success());
}
