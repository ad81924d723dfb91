//! Clients no one here wrote: Tencent's official Python SDK
//! (`tencentcloud-sdk-python-cam` from PyPI, in a virtualenv this test
//! makes) drives the real `camd-api` in front of the real camd, over plain
//! HTTP on loopback and over HTTPS with a test CA.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};

use crate::harness::{Camd, NOBODY, effective_uid, json, stderr, temp_dir, wait_for};

/// A virtualenv with the SDK, made once per target folder; `None` (skip)
/// when Python or PyPI is out of reach and CI does not require it.
pub fn sdk_python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tencentcloud-sdk");
    let python = venv.join("bin/python");
    let ready = venv.join("installed");
    if ready.exists() {
        return Some(python);
    }
    let run = |cmd: &mut Command| cmd.output().map(|o| (o.status.success(), stderr(&o)));
    eprintln!(
        "installing Tencent's Python SDK into {} (pip, once per target folder; about 30 s)",
        venv.display()
    );
    let made =
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).and_then(|(ok, err)| {
            if !ok {
                return Ok((ok, err));
            }
            run(Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "tencentcloud-sdk-python-common",
                "tencentcloud-sdk-python-cam",
            ]))
        });
    match made {
        Ok((true, _)) => {
            std::fs::write(&ready, b"").unwrap();
            Some(python)
        }
        other => {
            assert!(
                std::env::var_os("CAMD_REQUIRE_TOOLS").is_none(),
                "cannot install Tencent's Python SDK into a virtualenv: {other:?}"
            );
            eprintln!("SKIPPED: cannot install Tencent's Python SDK: {other:?}");
            None
        }
    }
}

/// A test CA and a certificate it signs for localhost: (ca.pem, cert.pem, key.pem).
fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "camd test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

/// camd-api on a free loopback port, over TLS with `tls`: the child and its port.
fn camd_api(d: &Camd, tls: Option<(&Path, &Path)>) -> (Child, u16) {
    let Some((cert, key)) = tls else {
        return crate::harness::camd_api(d, &[]);
    };
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let uid = (effective_uid() == 0).then_some(NOBODY);
    crate::harness::camd_api_as(d, &["--tls-cert", cert, "--tls-key", key], uid)
}

#[test]
#[cfg_attr(
    camd_missing_venv,
    ignore = "needs python3 with venv: apt-get install python3-venv (.ci/run installs it)"
)]
fn tencents_own_sdk_drives_camd_over_http_and_https() {
    let Some(python) = sdk_python() else {
        return;
    };
    let d = Camd::start("sdk");
    let admin = d.user_with_key("ops", "AdministratorAccess");
    let weak = d.user_with_key("reader", "QcloudChatReadOnlyAccess");
    let (ca, cert, key) = test_ca(&d.dir);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/cam_calls.py");
    // Over HTTP camd-api runs as this test's uid (root in CI: camd's
    // operator, which a signed call must never borrow); over HTTPS as uid
    // 65534, an ordinary peer, as its unit runs it.
    for tls in [false, true] {
        let (mut api, port) = camd_api(&d, tls.then_some((cert.as_path(), key.as_path())));
        let (host, protocol) = if tls {
            ("localhost", "https")
        } else {
            ("127.0.0.1", "http")
        };
        let out = Command::new(&python)
            .arg(&script)
            .args([&format!("{host}:{port}"), protocol, ca.to_str().unwrap()])
            .args([&admin.0, &admin.1, &weak.0, &weak.1])
            .output()
            .unwrap();
        let _ = api.kill();
        let _ = api.wait();
        assert!(out.status.success(), "{protocol}: {}", stderr(&out));
        let v = json(&out);
        let name = format!("sdk-{protocol}");
        assert_eq!(v["added"]["Name"], name.as_str(), "{v}");
        assert_eq!(v["added"]["HasKey"], true);
        assert_eq!(
            v["attached"],
            serde_json::json!(["QcloudChatReadOnlyAccess"])
        );
        assert_eq!(v["after_detach"], serde_json::json!([]));
        assert_eq!(v["keys"], serde_json::json!(["Active"]));
        assert_eq!(v["users"], serde_json::json!(["ops", "reader", name]));
        assert_eq!(v["after_delete"], serde_json::json!(["ops", "reader"]));
        assert_eq!(v["weak_create_group"], "AuthFailure.UnauthorizedOperation");
        assert_eq!(v["weak_list_users"], "AuthFailure.UnauthorizedOperation");
        assert_eq!(v["wrong_key"], "AuthFailure.SignatureFailure");
        assert_eq!(v["unknown_action"], "InvalidAction");
        assert_eq!(v["bad_parameter"], "InvalidParameter");
        assert_eq!(v["bad_value"], "InvalidParameterValue");
        assert_eq!(v["replayed"], "AuthFailure.SignatureFailure");
        assert_eq!(v["missing_parameter"], "MissingParameter");
        assert_eq!(v["no_such_user"], "ResourceNotFound.UserNotExist");
        assert_eq!(v["captured_once"], "reader");
        assert_eq!(
            v["policy"],
            serde_json::json!({"Name": format!("sdk-policy-{protocol}"), "Type": 1, "Same": true})
        );
        assert_eq!(v["bad_document"], "InvalidParameter.ActionNotExist");
        assert_eq!(v["versions"], serde_json::json!([[1, 0], [2, 1]]));
        assert_eq!(v["v2_is_send_only"], true);
        assert_eq!(
            v["delete_default"],
            "FailedOperation.PolicyVersionAlreadyDefault"
        );
        assert_eq!(v["boundary"], format!("sdk-policy-{protocol}"));
        assert_eq!(v["delete_in_use"], "FailedOperation.PolicyInUse");
        assert_eq!(
            v["after_delete_policy"],
            "ResourceNotFound.PolicyIdNotFound"
        );
        assert_eq!(v["reader_still_there"], true);
        let owner = d.camctl(&["--json", "account", "app-id"]);
        let owner = json(&owner)["OwnerUin"].as_u64().unwrap();
        assert_eq!(
            v["role"],
            serde_json::json!({"Name": format!("sdk-role-{protocol}"), "SameId": true,
                "ConsoleLogin": 1, "SessionDuration": 7200, "Tags": [["team", "chat"]],
                "Trusts": true, "Arn": format!("qcs::cam::uin/{owner}:roleName/sdk-role-{protocol}"),
                "Attached": ["QcloudChatReadOnlyAccess"]})
        );
        assert_eq!(
            v["role_without_principal"],
            "InvalidParameter.PrincipalError"
        );
        assert_eq!(v["after_delete_role"], "InvalidParameter.RoleNotExist");
    }
    // Every change the SDK made is in the audit trail, signed by the admin's key.
    let audit = String::from_utf8(d.camctl(&["audit", "--since", "0"]).stdout).unwrap();
    assert!(audit.contains(&format!("signed by {}", admin.0)), "{audit}");
    // Signing counts as using the key: its last use is kept (flushed at stop).
    let dir = d.dir.clone();
    assert!(d.stop().success());
    let d = Camd::start_in(dir);
    let keys = json(&d.camctl(&["--json", "key", "list", "ops"]));
    assert!(keys[0]["LastUsedTime"].as_i64().is_some(), "{keys}");
}

/// The response fields of Tencent's models that camd leaves out on purpose:
/// (action, field) for a field of the response itself, (struct, field) for
/// a field of a struct the response holds, wherever that struct appears.
const ALLOWED_MISSING: &[(&str, &str)] = &[
    // Returned only when camd generates a password: the script's user has no console login.
    ("AddUser", "Password"),
    // camd sends no SMS, so there is no phone number to verify.
    ("AddUser", "PhoneNumVerifyLink"),
    // An attachment records when, not who: the audit trail has who attached it.
    ("AttachPolicyInfo", "OperateOwnerUin"),
    // As OperateOwnerUin.
    ("AttachPolicyInfo", "OperateUin"),
    // As OperateOwnerUin.
    ("AttachPolicyInfo", "OperateUinType"),
];

/// Tencent's own SDK models (every action of tencentcloud-sdk-python-cam's
/// CamClient) against camd-api: which actions it serves, that it takes
/// every request parameter of those, and that its answers carry every
/// response field (tests/sdk/model_coverage.py).
#[test]
#[cfg_attr(
    camd_missing_venv,
    ignore = "needs python3 with venv: apt-get install python3-venv (.ci/run installs it)"
)]
fn tencents_sdk_models_are_covered() {
    let Some(python) = sdk_python() else {
        return;
    };
    let d = Camd::start("sdk-models");
    let admin = d.user_with_key("ops", "AdministratorAccess");
    let (mut api, port) = crate::harness::camd_api(&d, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/model_coverage.py");
    let out = Command::new(&python)
        .arg(&script)
        .args([&format!("127.0.0.1:{port}"), "http", "none"])
        .args([&admin.0, &admin.1])
        .output()
        .unwrap();
    let _ = api.kill();
    let _ = api.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let names = |key: &str| -> Vec<String> {
        let list = v[key].as_array().unwrap().iter();
        list.map(|n| n.as_str().unwrap().to_string()).collect()
    };
    let served = names("served");
    eprintln!(
        "camd-api serves {} of {} actions of Tencent's CAM SDK model",
        served.len(),
        v["total"]
    );
    for action in &served {
        let checked = &v["checked_fields"][action];
        let missing = &v["missing_fields"][action];
        match checked.as_u64() {
            Some(n) if missing.is_null() => eprintln!("  {action}: {n} response fields checked"),
            Some(n) => eprintln!("  {action}: {n} response fields checked, missing {missing}"),
            None => eprintln!("  {action}: parameters checked, not called to succeed"),
        }
    }
    eprintln!("not served: {}", names("not_served").join(", "));
    for key in ["wrong_types", "empty_lists"] {
        if v[key].as_object().is_some_and(|m| !m.is_empty()) {
            eprintln!("{key}: {}", v[key]);
        }
    }

    assert_eq!(
        v["unknown_parameters"],
        serde_json::json!({}),
        "request parameters of Tencent's model that camd-api refuses"
    );
    assert_eq!(
        v["errors"],
        serde_json::json!({}),
        "calls that failed, so their parameters or fields went unchecked"
    );
    let mut unexpected = Vec::new();
    let mut allowed = std::collections::BTreeSet::new();
    for (action, fields) in v["missing_fields"].as_object().unwrap() {
        for field in fields.as_array().unwrap() {
            let field = field.as_str().unwrap();
            let key = field.split_once('.').unwrap_or((action.as_str(), field));
            match ALLOWED_MISSING.iter().find(|&&a| a == key) {
                Some(entry) => {
                    allowed.insert(*entry);
                }
                None => unexpected.push(format!("{action}: {field}")),
            }
        }
    }
    let stale: Vec<_> = ALLOWED_MISSING
        .iter()
        .filter(|e| !allowed.contains(*e))
        .collect();
    assert!(
        stale.is_empty(),
        "ALLOWED_MISSING entries that are no longer missing (drop them): {stale:?}"
    );
    assert_eq!(
        v["wrong_types"],
        serde_json::json!({}),
        "response fields whose type is not the model's"
    );
    assert!(
        unexpected.is_empty(),
        "response fields of Tencent's model that camd-api leaves out: {unexpected:#?}"
    );
    assert!(served.len() >= 37, "{served:?}");
}

#[test]
fn plain_http_is_served_on_loopback_only() {
    let dir = temp_dir("api-plain");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_camd-api"))
        .args([
            "--socket",
            dir.join("camd.sock").to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("loopback only"), "{}", stderr(&out));
}

/// A client that starts a request and never finishes its headers is cut
/// off after the header timeout, and does not hold the front.
#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use std::io::{Read, Write};
    let d = Camd::start("api-slow");
    let log = d.dir.join("api.log");
    let mut api = Command::new(env!("CARGO_BIN_EXE_camd-api"))
        .args([
            "--socket",
            d.socket.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--header-timeout-secs", "1"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut port = None;
    wait_for(Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        port = text
            .split("://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse::<u16>().ok());
        port.is_some()
    });
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port.unwrap())).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let closed = s.read_to_end(&mut rest).is_ok();
    let _ = api.kill();
    let _ = api.wait();
    assert!(closed, "the connection was still open after 8 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        started.elapsed()
    );
}
