//! Signed requests against the real daemon: `camctl sign` makes a
//! TC3-HMAC-SHA256 request, `camctl verify` (run as another uid) hands it
//! to camd as received, and camd verifies, identifies and decides in one
//! round trip; every failure has Tencent Cloud's code. Then the sealing
//! key's rotation, with the daemon restarted in between.

use crate::harness::{APP, Camd, NOBODY, effective_uid, json, stderr};

/// A sub-user with Chat's read-only preset and a key: (SecretId, SecretKey).
fn chat_service(d: &Camd) -> (String, String) {
    d.user_with_key("chatsvc", "QcloudChatReadOnlyAccess")
}

/// A raw HTTP request signed by `camctl sign` (`extra`: more sign flags).
fn signed_request(d: &Camd, id: &str, key: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "sign",
        "--secret-id",
        id,
        "--service",
        "im",
        "--action",
        "GetGroupInfo",
        "--host",
        "chat.example",
        "--body",
        body,
    ];
    args.extend_from_slice(extra);
    let out = d.camctl_as(None, &[("CAMD_SECRET_KEY", key)], &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let headers = String::from_utf8(out.stdout).unwrap();
    let mut raw = String::from("POST / HTTP/1.1\r\n");
    for line in headers.lines() {
        raw.push_str(line);
        raw.push_str("\r\n");
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    raw.into_bytes()
}

/// `camctl verify` as `uid` on `raw`: (exit code, stdout, stderr).
fn verify(d: &Camd, uid: Option<u32>, raw: &[u8], extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["verify", "--resource", APP];
    if !extra.contains(&"--action") {
        args.extend_from_slice(&["--service", "im"]);
    }
    args.extend_from_slice(extra);
    let out = d.camctl_fed(uid, &[], &args, Some(raw));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

fn refused_with(r: (Option<i32>, String, String), code: &str) {
    assert_eq!(r.0, Some(2), "{r:?}");
    assert!(r.2.contains(code), "expected {code}: {r:?}");
}

#[test]
fn a_signed_request_is_verified_identified_and_decided_in_one_round_trip() {
    let d = Camd::start("signed-verify");
    let (id, key) = chat_service(&d);
    let body = r#"{"GroupId":"@TGS#1"}"#;
    let raw = signed_request(&d, &id, &key, body, &[]);
    let caller = (effective_uid() == 0).then_some(NOBODY);

    // im:GetGroupInfo (the default: scope's service, X-TC-Action) is read-only.
    let (code, out, err) = verify(&d, caller, &raw, &["--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Decision"], "Allow");
    assert_eq!(v["PolicyName"], "QcloudChatReadOnlyAccess");
    assert_eq!(v["Uin"], 200_000_000_001u64);
    // An explicit action overrides it; the same signature, a Deny.
    assert_eq!(
        verify(&d, caller, &raw, &["--action", "im:SendMessage"]).0,
        Some(1)
    );

    // One changed byte in the body, a wrong key, a stale timestamp, an unknown key.
    let tampered = String::from_utf8(raw.clone())
        .unwrap()
        .replace("TGS#1", "TGS#2");
    refused_with(
        verify(&d, caller, tampered.as_bytes(), &[]),
        "AuthFailure.SignatureFailure",
    );
    let wrong = signed_request(&d, &id, "wrongwrongwrongwrongwrongwrong12", body, &[]);
    refused_with(
        verify(&d, caller, &wrong, &[]),
        "AuthFailure.SignatureFailure",
    );
    let old = (camd::clock::now_ms() / 1000 - 1000).to_string();
    let stale = signed_request(&d, &id, &key, body, &["--timestamp", &old]);
    refused_with(
        verify(&d, caller, &stale, &[]),
        "AuthFailure.SignatureExpire",
    );
    let unknown = signed_request(&d, "AKIDnotakeyofthisdaemonxxxxxxxxxxxxx", &key, body, &[]);
    refused_with(
        verify(&d, caller, &unknown, &[]),
        "AuthFailure.SecretIdNotFound",
    );
    let garbled = String::from_utf8(raw.clone())
        .unwrap()
        .replace("Credential=", "Cred=");
    refused_with(
        verify(&d, caller, garbled.as_bytes(), &[]),
        "AuthFailure.InvalidAuthorization",
    );

    // A disabled key is refused though its signature is good (its cached
    // signing key goes with its old state), and works again once enabled.
    assert_eq!(d.camctl(&["key", "disable", &id]).status.code(), Some(0));
    refused_with(
        verify(&d, caller, &raw, &[]),
        "AuthFailure.SecretIdNotFound",
    );
    assert_eq!(d.camctl(&["key", "enable", &id]).status.code(), Some(0));
    assert_eq!(verify(&d, caller, &raw, &[]).0, Some(0));

    // Failed signatures are audited with their code, the SecretKey never.
    let audit = d.camctl(&["--json", "audit", "--since", "0"]);
    let text = String::from_utf8_lossy(&audit.stdout).into_owned();
    assert!(text.contains("AuthFailure.SignatureFailure"), "{text}");
    assert!(!text.contains(&key) && !d.log().contains(&key));
}

#[test]
fn rotating_the_sealing_key_reseals_every_key_in_one_step() {
    let d = Camd::start("signed-reseal");
    let (id, key) = chat_service(&d);
    let body = "{}";
    let state = d.dir.join("state");
    let dir = d.dir.clone();
    assert!(d.stop().success());

    // The operator's rotation: the old key aside, camd makes a new one and
    // reads both; signatures keep verifying throughout.
    std::fs::rename(state.join("sealing-key"), state.join("sealing-key-old")).unwrap();
    let d = Camd::start_in(dir.clone());
    let raw = || signed_request(&d, &id, &key, body, &[]);
    assert_eq!(verify(&d, None, &raw(), &[]).0, Some(0));
    let refused = d.camctl_as(
        Some(NOBODY).filter(|_| effective_uid() == 0),
        &[],
        &["key", "reseal"],
    );
    if effective_uid() == 0 {
        assert_eq!(
            refused.status.code(),
            Some(2),
            "a peer that is not the operator re-sealed"
        );
    }
    let out = d.camctl(&["--json", "key", "reseal"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        (v["Resealed"].as_u64(), v["AlreadyCurrent"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(json(&d.camctl(&["--json", "key", "reseal"]))["Resealed"], 0);
    assert!(d.stop().success());

    // Without the old key, every sealed copy still opens: it was re-sealed.
    std::fs::remove_file(state.join("sealing-key-old")).unwrap();
    let d = Camd::start_in(dir.clone());
    assert_eq!(
        verify(&d, None, &signed_request(&d, &id, &key, body, &[]), &[]).0,
        Some(0)
    );
    assert!(d.stop().success());

    // A sealing key that is not the one: a clear error, never a wrong answer.
    std::fs::remove_file(state.join("sealing-key")).unwrap();
    let d = Camd::start_in(dir);
    let r = verify(&d, None, &signed_request(&d, &id, &key, body, &[]), &[]);
    refused_with(r, "InternalError.SealingKey");
    assert!(
        d.log()
            .contains("sealed under a sealing key camd does not hold"),
        "{}",
        d.log()
    );
    // Presented keys do not need the sealed copy.
    assert_eq!(
        d.auth(None, &id, &key, "im:GetGroupInfo").status.code(),
        Some(0)
    );
}
