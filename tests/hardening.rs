//! The resource holes an adversarial review found, each run as the attack
//! against the real daemon: clients that never read their replies, a
//! password on the command line, a credentials file that cannot be written,
//! loose file modes; plus the review's attacks that already failed (odd
//! resource strings, the disable/delete race, throttling under rotation).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use camd::client::{Client, by_key};
use camd::protocol::{
    Authorize, Body, PROTOCOL_VERSION, Reply, Request, UserRef, encode_hello, encode_request,
};

use crate::harness::{APP, Camd, effective_uid};
use crate::harness::{NOBODY, hostile_child, json, stderr};
use crate::harness::{fds, rss_kb, settled_fds};

fn users(d: &Camd) -> Vec<String> {
    json(&d.camctl(&["--json", "user", "list"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Name"].as_str().unwrap().to_string())
        .collect()
}

/// A batch of `n` small decisions in one frame (about 28 bytes each, as in
/// the review: 37,000 fit in 1 MB).
fn batch_frame(id: u64, n: usize) -> Vec<u8> {
    let one = Authorize::ByUser {
        user: UserRef::Uin(200_000_000_001),
        action: "im:X".into(),
        resource: "*".into(),
        context: Vec::new(),
    };
    encode_request(&Request {
        id,
        auth: None,
        body: Body::Batch(vec![one; n]),
        traceparent: None,
    })
    .unwrap()
}

#[test]
#[ignore = "the hostile side of clients_that_never_read_are_bounded_and_closed"]
fn never_reading_child() {
    let Ok(socket) = std::env::var("CAMD_HARDEN_SOCKET") else {
        return;
    };
    // Half the connections send the review's 37,000-decision batch (three
    // times), half ten batches at the limit (replies enough to fill the
    // socket's buffers); none ever reads a reply.
    let over = batch_frame(1, 37_000);
    let at_limit = batch_frame(2, 4096);
    let hello = encode_hello(PROTOCOL_VERSION);
    let mut threads = Vec::new();
    for i in 0..100 {
        let (frame, times) = if i % 2 == 0 {
            (over.clone(), 3)
        } else {
            (at_limit.clone(), 10)
        };
        let socket = socket.clone();
        threads.push(std::thread::spawn(move || {
            let Ok(mut s) = UnixStream::connect(&socket) else {
                return;
            };
            let _ = s.write_all(&hello);
            for _ in 0..times {
                if s.write_all(&frame).is_err() {
                    break;
                }
            }
            // Keep the socket open, never reading, until killed.
            std::thread::sleep(Duration::from_secs(3600));
        }));
    }
    std::thread::sleep(Duration::from_millis(1000));
    println!("ACTIVE noread");
    for t in threads {
        let _ = t.join();
    }
}

/// Hole 4: 100 connections sending 1 MB batches and never reading took camd
/// from 16 MB to 770 MB, and were held long past the idle timeout.
#[test]
fn clients_that_never_read_are_bounded_and_closed() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run the hostile side as another uid");
        return;
    }
    let dir = Camd::prepare("harden-noread", "");
    let toml = std::fs::read_to_string(dir.join("camd.toml")).unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        toml.replace("max_frame_bytes = 65536", "max_frame_bytes = 1048576"),
    )
    .unwrap();
    let d = Camd::start_in(dir);
    let pid = d.child.id();
    // Warm up, then the baseline.
    let mut c = d.client();
    match c.call_body(Body::Batch(Vec::new())).unwrap() {
        Reply::Decisions(v) => assert!(v.is_empty()),
        other => panic!("{other:?}"),
    }
    // Over the limit: refused whole, and the connection goes on.
    let err = c
        .call_body(Body::Batch(vec![
            camd::client::by_user(
                "nobody",
                "im:X",
                "*",
                &[]
            );
            4097
        ]))
        .unwrap_err();
    assert_eq!(err.code(), Some("LimitExceeded.BatchSize"), "{err}");
    assert!(c.ping().is_ok());
    drop(c);
    let (base_rss, base_fds) = (rss_kb(pid), settled_fds(pid));

    let mut child = hostile_child(
        "hardening::never_reading_child",
        &[("CAMD_HARDEN_SOCKET", d.socket.to_str().unwrap())],
        1024,
    );
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("ACTIVE"))
        .expect("the attacker started");
    let active = Instant::now();
    // The idle timeout is 5 s: every connection must be closed about then
    // (twice that allows for a loaded machine; before the fix they were
    // never closed), while the attacker still holds its end.
    let mut peak_rss = rss_kb(pid);
    let mut closed_after = None;
    while active.elapsed() < Duration::from_secs(20) {
        peak_rss = peak_rss.max(rss_kb(pid));
        if fds(pid) <= base_fds {
            closed_after = Some(active.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let grown_mb = peak_rss.saturating_sub(base_rss) / 1024;
    eprintln!(
        "100 never-reading connections: RSS {} -> peak {} MB (+{grown_mb} MB), closed after {closed_after:?}",
        base_rss / 1024,
        peak_rss / 1024
    );
    assert!(grown_mb <= 200, "RSS grew by {grown_mb} MB");
    let closed = closed_after.expect("connections still held 20 s after the attack started");
    assert!(closed <= Duration::from_secs(10), "closed after {closed:?}");
    assert!(d.client().ping().is_ok());
}

/// Hole 5: `--password P` put the password in /proc/*/cmdline.
#[test]
fn passwords_never_travel_on_the_command_line() {
    let d = Camd::start("harden-password");
    let pw = "Chosen-Passw0rd!";
    let out = d.camctl(&[
        "user",
        "add",
        "cmdline",
        "--console-login",
        "--password",
        pw,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );
    let out = d.camctl(&["user", "update", "cmdline", "--password", pw]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!users(&d).contains(&"cmdline".to_string()));
    // From stdin, and from the environment: a chosen password is taken (and,
    // as CAM's AddUser does, not echoed back: it is the caller's already).
    let out = d.camctl_fed(
        None,
        &[],
        &[
            "--json",
            "user",
            "add",
            "piped",
            "--console-login",
            "--password-stdin",
        ],
        Some(format!("{pw}\n").as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(json(&out)["Password"].is_null(), "{}", json(&out));
    assert!(json(&out)["LoginLink"].is_string());
    let out = d.camctl_as(
        None,
        &[("CAMD_PASSWORD", pw)],
        &[
            "--json",
            "user",
            "add",
            "env",
            "--console-login",
            "--password-env",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(json(&out)["Password"].is_null(), "{}", json(&out));
    let out = d.camctl_fed(
        None,
        &[],
        &["user", "update", "piped", "--password-stdin"],
        Some(b"weak\n"),
    );
    assert!(
        stderr(&out).contains("InvalidParameter.PasswordViolatedRules"),
        "{}",
        stderr(&out)
    );
    let out = d.camctl(&["user", "add", "nologin", "--password-env"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Hole 6: a credentials file that could not be written left a user with an
/// active key whose SecretKey nobody ever saw.
#[test]
fn a_credentials_file_that_cannot_be_written_creates_nothing() {
    let d = Camd::start("harden-csv");
    let dangling = d.dir.join("dangling.csv");
    std::os::unix::fs::symlink(d.dir.join("elsewhere.csv"), &dangling).unwrap();
    for (user, path) in [
        ("viasymlink", dangling.clone()),
        ("nofolder", d.dir.join("missing/creds.csv")),
    ] {
        let out = d.camctl(&[
            "user",
            "add",
            user,
            "--api-key",
            "--credentials-csv",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{user}");
        assert!(
            stderr(&out).contains("InvalidParameter"),
            "{}",
            stderr(&out)
        );
        assert!(!users(&d).contains(&user.to_string()), "{user} was created");
    }
    assert!(!d.dir.join("elsewhere.csv").exists());
    // When camd refuses, the file opened for it is removed again.
    let taken = d.dir.join("taken.csv");
    assert_eq!(d.camctl(&["user", "add", "taken"]).status.code(), Some(0));
    let out = d.camctl(&[
        "user",
        "add",
        "taken",
        "--credentials-csv",
        taken.to_str().unwrap(),
    ]);
    assert!(stderr(&out).contains("InvalidParameter.SubUserNameInUse"));
    assert!(!taken.exists());
    // And when it works: the console's CSV, 0600.
    let good = d.dir.join("good.csv");
    let out = d.camctl(&[
        "user",
        "add",
        "good",
        "--api-key",
        "--credentials-csv",
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata(&good).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&good).unwrap();
    assert!(text.starts_with("LoginLink,Username,Password,SecretId,SecretKey\n"));
    assert!(text.contains("\"good\""));
}

/// Hole 7: under the default layout the state folder was 0755 and the
/// database 0644, readable by every local user.
#[test]
fn state_is_private_whatever_the_umask() {
    let dir = Camd::prepare("harden-modes", "");
    // A folder left 0755 by an older camd, and a loose umask.
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::set_permissions(dir.join("state"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = std::fs::File::create(dir.join("camd.log")).unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" --config \"$1\"")
        .arg(env!("CARGO_BIN_EXE_camd"))
        .arg(dir.join("camd.toml"))
        .stderr(log)
        .spawn()
        .unwrap();
    let socket = dir.join("camd.sock");
    let d = Camd { child, dir, socket };
    d.wait_ready();
    let mode = |p: &str| {
        std::fs::metadata(d.dir.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("state"), 0o700);
    assert_eq!(mode("state/camd.redb"), 0o600);
    assert_eq!(mode("state/pepper"), 0o600);
    if effective_uid() == 0 {
        // The attack: another local user reading the hashes.
        let out = Command::new("cat")
            .arg(d.dir.join("state/camd.redb"))
            .uid(NOBODY)
            .gid(NOBODY)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
    }
}

const ONE_APP: &str = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"qcs::im::uin/100000000001:sdkappid/1400000001"}]}"#;

/// Resource strings that resemble the allowed app are all denied.
#[test]
fn look_alike_resources_are_denied() {
    let d = Camd::start("harden-resources");
    let (id, secret) = one_app_user(&d, "app");
    let ask = |resource: &str| {
        let mut c = d.client();
        c.authorize(by_key(&id, &secret, "im:SendMessage", resource, &[]))
            .map(|dec| dec.allowed)
    };
    assert_eq!(ask(APP).ok(), Some(true));
    let huge = format!("{APP}{}", "1".repeat(100_000));
    for resource in [
        "qcs::im::uin/100000000001:SDKAPPID/1400000001",
        "qcs::IM::uin/100000000001:sdkappid/1400000001",
        "QCS::im::uin/100000000001:sdkappid/1400000001",
        "qcs::im::uin/100000000001:sdkappid/1400000001/..",
        "qcs::im::uin/100000000001:sdkappid/../sdkappid/1400000001",
        "qcs::im::uin/100000000001:sdkappid/1400000001/x",
        "qcs::im::uin/100000000001:sdkappid/1400000001:x",
        "qcs::im::uin/100000000001:sdkappid/14000000010",
        "qcs::im::uin/100000000001:sdkappid/1400000001\0",
        "qcs::im::uin/100000000001:sdkappid/\u{0}1400000001",
        "qcs::im::uin/100000000001:sdk\u{430}ppid/1400000001",
        "qcs::im::uin/100000000001:sdkappid/\u{ff11}400000001",
        "qcs::im::uin/100000000001:sdkappid/1400000001\u{200b}",
        " qcs::im::uin/100000000001:sdkappid/1400000001",
        huge.as_str(),
    ] {
        let got = ask(resource);
        assert_ne!(got.as_ref().ok(), Some(&true), "{resource:?} allowed");
    }
}

/// Once disabling or deleting a key is acknowledged, no decision asked after
/// it allows, while another thread asks as fast as it can.
#[test]
fn no_allow_after_a_disable_or_delete_is_acknowledged() {
    let d = Camd::start("harden-race");
    for round in 0..10 {
        let (id, secret) = one_app_user(&d, &format!("racer{round}"));
        let acked: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let asker = {
            let (acked, stop, socket) = (acked.clone(), stop.clone(), d.socket.clone());
            let (id, secret) = (id.clone(), secret.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(&socket).unwrap();
                let (mut late_allows, mut asked) = (0, 0);
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let allowed = c
                        .authorize(by_key(&id, &secret, "im:SendMessage", APP, &[]))
                        .is_ok_and(|dec| dec.allowed);
                    asked += 1;
                    let after_ack = acked.lock().unwrap().is_some_and(|t| sent > t);
                    if allowed && after_ack {
                        late_allows += 1;
                    }
                }
                (late_allows, asked)
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        let args = if round % 2 == 0 {
            vec!["key", "disable", id.as_str()]
        } else {
            vec!["key", "delete", id.as_str()]
        };
        assert_eq!(d.camctl(&args).status.code(), Some(0));
        *acked.lock().unwrap() = Some(Instant::now());
        std::thread::sleep(Duration::from_millis(30));
        stop.store(true, Ordering::Relaxed);
        let (late, asked) = asker.join().unwrap();
        assert!(asked > 0);
        assert_eq!(
            late, 0,
            "round {round}: {late} allows after the acknowledgement"
        );
    }
}

/// A user allowed on one app only, with a key.
fn one_app_user(d: &Camd, name: &str) -> (String, String) {
    if !d.dir.join("policies/OneApp.json").exists() {
        std::fs::write(d.dir.join("policies/OneApp.json"), ONE_APP).unwrap();
        assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    }
    d.user_with_key(name, "OneApp")
}

/// A guesser that rotates made-up SecretIds is throttled all the same, and
/// learns nothing from the refusals.
#[test]
fn throttling_holds_under_secret_id_rotation() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run the guesser as another uid");
        return;
    }
    let d = Camd::start_with(
        "harden-rotation",
        "[throttle]\nburst = 3\nrefill_per_sec = 0.2\n",
    );
    let (id, secret) = one_app_user(&d, "app");
    let mut codes = Vec::new();
    for i in 0..8 {
        let made_up = format!("AKID{i:032}");
        let out = d.auth(Some(NOBODY), &made_up, "guess", "im:SendMessage");
        codes.push(stderr(&out));
    }
    let (failed, throttled) = codes.split_at(3);
    assert!(
        failed
            .iter()
            .all(|c| c.contains("AuthFailure.InvalidAuthorization")),
        "{codes:?}"
    );
    assert!(
        throttled
            .iter()
            .all(|c| c.contains("RequestLimitExceeded.AuthThrottled")),
        "{codes:?}"
    );
    let auth = |uid: Option<u32>| d.auth(uid, &id, &secret, "im:SendMessage");
    // Even the right key is refused to the guessing uid now...
    let out = auth(Some(NOBODY));
    assert!(stderr(&out).contains("RequestLimitExceeded.AuthThrottled"));
    // ...but not to its owner on another uid.
    let out = auth(None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
