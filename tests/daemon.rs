//! The real `camd` binary on a temporary socket and state folder, driven
//! through the client library and through `camctl`.

use crate::harness::{APP, Camd, USER_ADMIN, effective_uid, json, stderr};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use camd::client::{by_key, by_user};
use camd::protocol::{
    AddUser, AddUserToGroup, AttachGroupPolicy, AttachUserPolicy, Body, CreateAccessKey,
    CreateGroup, Credentials, DeleteAccessKey, DeleteGroup, DeleteUser, DetachGroupPolicy,
    DetachUserPolicy, GetPolicy, GetUser, HELLO_LEN, ListAccessKeys, ListAttachedGroupPolicies,
    ListAttachedUserPolicies, ListEntitiesForPolicy, ListGroupsForUser, ListUsersForGroup,
    RemoveUserFromGroup, Reply, Request, UpdateAccessKey, UpdateUser, encode_hello, encode_request,
};
use serde_json::Value;

#[test]
fn seed_workflows_through_camctl() {
    let d = Camd::start("daemon-seed");
    // 1. Create a sub-user with Chat permissions and hand over the credentials.
    let out = d.camctl(&[
        "--json",
        "user",
        "add",
        "chat-ops",
        "--console-login",
        "--api-key",
        "--policy",
        "QcloudAVCFullAccess",
        "--credentials-csv",
        "chat-ops.csv",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cred = json(&out);
    for f in ["LoginLink", "Name", "Password", "SecretId", "SecretKey"] {
        assert!(cred[f].is_string(), "{f} missing: {cred}");
    }
    let csv = std::fs::read_to_string(d.dir.join("chat-ops.csv")).unwrap();
    assert!(csv.starts_with("LoginLink,Username,Password,SecretId,SecretKey\n"));
    assert!(csv.contains(cred["SecretKey"].as_str().unwrap()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(d.dir.join("chat-ops.csv"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let again = d.camctl(&["user", "add", "other", "--credentials-csv", "chat-ops.csv"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));

    // The key works against camd.
    let (id, secret) = (
        cred["SecretId"].as_str().unwrap(),
        cred["SecretKey"].as_str().unwrap(),
    );
    let out = d.camctl_as(
        None,
        &[("CAMD_SECRET_KEY", secret)],
        &[
            "auth",
            "--secret-id",
            id,
            "--action",
            "im:SendMessage",
            "--resource",
            APP,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // 2. Grant Chat read-only to an existing sub-user.
    assert_eq!(d.camctl(&["user", "add", "viewer"]).status.code(), Some(0));
    let check = |user: &str, action: &str| d.check(user, action);
    assert_eq!(check("viewer", "im:GetGroupInfo"), Some(1));
    assert_eq!(
        d.camctl(&[
            "policy",
            "attach",
            "QcloudChatReadOnlyAccess",
            "--user",
            "viewer"
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(check("viewer", "im:GetGroupInfo"), Some(0));
    assert_eq!(check("viewer", "im:SendMessage"), Some(1));
    // 3. Remove it again.
    assert_eq!(
        d.camctl(&[
            "policy",
            "detach",
            "QcloudChatReadOnlyAccess",
            "--user",
            "viewer"
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(check("viewer", "im:GetGroupInfo"), Some(1));

    let out = d.camctl(&[
        "--json",
        "check",
        "--user",
        "chat-ops",
        "--action",
        "im:DestroyGroup",
        "--resource",
        APP,
    ]);
    let v = json(&out);
    assert_eq!(
        (v["Decision"].as_str(), v["PolicyName"].as_str()),
        (Some("Allow"), Some("QcloudAVCFullAccess"))
    );

    // Errors carry the CAM code and exit 2.
    let out = d.camctl(&["user", "get", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ResourceNotFound.UserNotExist"),
        "{}",
        stderr(&out)
    );

    // No secret reached the log or the database file.
    assert_eq!(d.stop().code(), Some(0));
    let log = std::fs::read_to_string(d_dir("daemon-seed").join("camd.log")).unwrap();
    let db = std::fs::read(d_dir("daemon-seed").join("state/camd.redb")).unwrap();
    for s in [
        cred["SecretKey"].as_str().unwrap(),
        cred["Password"].as_str().unwrap(),
    ] {
        assert!(!log.contains(s), "a secret is in the log");
        assert!(
            !db.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret is in the database"
        );
    }
}

fn d_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("camd-test-{name}-{}", std::process::id()))
}

fn credentials(r: Reply) -> Credentials {
    match r {
        Reply::Credentials(c) => c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_admin_operation_and_its_errors() {
    let d = Camd::start("daemon-admin");
    let mut c = d.client();
    let code =
        |r: Result<Reply, camd::client::ClientError>| r.unwrap_err().code().unwrap().to_string();

    let alice = credentials(
        c.call_body(Body::AddUser(AddUser {
            name: "alice".into(),
            use_api: true,
            ..AddUser::default()
        }))
        .unwrap(),
    );
    assert!(alice.secret_key.is_some() && alice.password.is_none());
    assert_eq!(
        code(c.call_body(Body::AddUser(AddUser {
            name: "alice".into(),
            ..AddUser::default()
        }))),
        "InvalidParameter.SubUserNameInUse"
    );
    assert_eq!(
        code(c.call_body(Body::AddUser(AddUser {
            name: "x".into(),
            console_login: true,
            password: Some("weak".into()),
            ..AddUser::default()
        }))),
        "InvalidParameter.PasswordViolatedRules"
    );
    assert!(
        matches!(c.call_body(Body::GetUser(GetUser { name: "alice".into() })).unwrap(), Reply::User(u) if u.name == "alice")
    );
    assert!(matches!(c.call_body(Body::ListUsers).unwrap(), Reply::Users(u) if u.len() == 1));
    assert!(
        matches!(c.call_body(Body::UpdateUser(UpdateUser { name: "alice".into(), remark: Some("lead".into()), password: Some("Str0ng-Pass".into()), ..UpdateUser::default() })).unwrap(), Reply::User(u) if u.remark == "lead")
    );
    assert_eq!(
        code(c.call_body(Body::UpdateUser(UpdateUser {
            name: "zed".into(),
            ..UpdateUser::default()
        }))),
        "ResourceNotFound.UserNotExist"
    );

    c.call_body(Body::CreateGroup(CreateGroup {
        name: "ops".into(),
        remark: String::new(),
    }))
    .unwrap();
    assert_eq!(
        code(c.call_body(Body::CreateGroup(CreateGroup {
            name: "ops".into(),
            remark: String::new()
        }))),
        "InvalidParameter.GroupNameInUse"
    );
    c.call_body(Body::AddUserToGroup(AddUserToGroup {
        group: "ops".into(),
        user: "alice".into(),
    }))
    .unwrap();
    assert!(
        matches!(c.call_body(Body::ListGroups).unwrap(), Reply::Groups(g) if g[0].members == 1)
    );
    assert!(
        matches!(c.call_body(Body::ListUsersForGroup(ListUsersForGroup { group: "ops".into() })).unwrap(), Reply::Users(u) if u[0].name == "alice")
    );
    assert!(
        matches!(c.call_body(Body::ListGroupsForUser(ListGroupsForUser { user: "alice".into() })).unwrap(), Reply::Names(n) if n == vec!["ops".to_string()])
    );
    c.call_body(Body::AttachGroupPolicy(AttachGroupPolicy {
        group: "ops".into(),
        policy: "QcloudAVCFullAccess".into(),
    }))
    .unwrap();
    c.call_body(Body::AttachUserPolicy(AttachUserPolicy {
        user: "alice".into(),
        policy: "QcloudIMReadOnlyAccess".into(),
    }))
    .unwrap();
    assert_eq!(
        code(c.call_body(Body::AttachUserPolicy(AttachUserPolicy {
            user: "alice".into(),
            policy: "Nope".into()
        }))),
        "ResourceNotFound.PolicyIdNotFound"
    );
    match c
        .call_body(Body::ListAttachedUserPolicies(ListAttachedUserPolicies {
            user: "alice".into(),
            all: true,
        }))
        .unwrap()
    {
        Reply::Attached(a) => {
            let names: Vec<_> = a
                .iter()
                .map(|x| (x.policy.as_str(), x.via_group.as_deref()))
                .collect();
            assert_eq!(
                names,
                vec![
                    ("QcloudChatReadOnlyAccess", None),
                    ("QcloudAVCFullAccess", Some("ops"))
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(c.call_body(Body::ListAttachedGroupPolicies(ListAttachedGroupPolicies { group: "ops".into() })).unwrap(), Reply::Attached(a) if a.len() == 1)
    );
    assert!(
        matches!(c.call_body(Body::ListEntitiesForPolicy(ListEntitiesForPolicy { policy: "QcloudAVCFullAccess".into() })).unwrap(), Reply::Entities { groups, .. } if groups == vec!["ops".to_string()])
    );
    assert!(
        matches!(c.call_body(Body::ListPolicies).unwrap(), Reply::Policies(p) if p.iter().any(|p| p.name == "UserAdmin" && p.kind == "Custom"))
    );
    assert!(
        matches!(c.call_body(Body::GetPolicy(GetPolicy { policy: "UserAdmin".into() })).unwrap(), Reply::Policies(p) if p[0].document.as_deref() == Some(USER_ADMIN))
    );
    assert_eq!(
        code(c.call_body(Body::GetPolicy(GetPolicy {
            policy: "Nope".into()
        }))),
        "ResourceNotFound.PolicyIdNotFound"
    );

    let d1 = c
        .authorize(by_user("alice", "im:SendMessage", APP, &[]))
        .unwrap();
    assert!(d1.allowed && d1.policy.as_deref() == Some("QcloudAVCFullAccess"));
    c.call_body(Body::DetachGroupPolicy(DetachGroupPolicy {
        group: "ops".into(),
        policy: "QcloudAVCFullAccess".into(),
    }))
    .unwrap();
    assert!(
        !c.authorize(by_user("alice", "im:SendMessage", APP, &[]))
            .unwrap()
            .allowed
    );
    c.call_body(Body::RemoveUserFromGroup(RemoveUserFromGroup {
        group: "ops".into(),
        user: "alice".into(),
    }))
    .unwrap();
    c.call_body(Body::DeleteGroup(DeleteGroup { name: "ops".into() }))
        .unwrap();
    assert_eq!(
        code(c.call_body(Body::DeleteGroup(DeleteGroup { name: "ops".into() }))),
        "ResourceNotFound.GroupNotExist"
    );
    c.call_body(Body::DetachUserPolicy(DetachUserPolicy {
        user: "alice".into(),
        policy: "QcloudChatReadOnlyAccess".into(),
    }))
    .unwrap();

    // Keys.
    let id = alice.secret_id.clone().unwrap();
    let secret = alice.secret_key.clone().unwrap();
    c.call_body(Body::AttachUserPolicy(AttachUserPolicy {
        user: "alice".into(),
        policy: "QcloudAVCFullAccess".into(),
    }))
    .unwrap();
    assert!(
        c.authorize(by_key(&id, &secret, "im:SendMessage", APP, &[]))
            .unwrap()
            .allowed
    );
    credentials(
        c.call_body(Body::CreateAccessKey(CreateAccessKey {
            user: Some("alice".into()),
        }))
        .unwrap(),
    );
    assert_eq!(
        code(c.call_body(Body::CreateAccessKey(CreateAccessKey {
            user: Some("alice".into())
        }))),
        "OperationDenied.AccessKeyOverLimit"
    );
    assert!(
        matches!(c.call_body(Body::ListAccessKeys(ListAccessKeys { user: Some("alice".into()) })).unwrap(), Reply::Keys(k) if k.len() == 2)
    );
    assert!(
        matches!(c.call_body(Body::UpdateAccessKey(UpdateAccessKey { secret_id: id.clone(), active: false })).unwrap(), Reply::Key(k) if k.status == "Inactive")
    );
    assert_eq!(
        code(c.call_body(Body::Authorize(by_key(
            &id,
            &secret,
            "im:SendMessage",
            APP,
            &[]
        )))),
        "AuthFailure.InvalidAuthorization"
    );
    assert_eq!(
        code(c.call_body(Body::Authorize(by_key(
            &id,
            "wrong",
            "im:SendMessage",
            APP,
            &[]
        )))),
        "AuthFailure.InvalidAuthorization"
    );
    assert_eq!(
        code(c.call_body(Body::DeleteUser(DeleteUser {
            name: "alice".into(),
            force: false
        }))),
        "OperationDenied.HaveKeys"
    );
    c.call_body(Body::DeleteAccessKey(DeleteAccessKey {
        secret_id: id.clone(),
    }))
    .unwrap();
    assert_eq!(
        code(c.call_body(Body::DeleteAccessKey(DeleteAccessKey { secret_id: id }))),
        "ResourceNotFound.SecretNotExist"
    );
    c.call_body(Body::DeleteUser(DeleteUser {
        name: "alice".into(),
        force: true,
    }))
    .unwrap();
    let root = credentials(
        c.call_body(Body::CreateAccessKey(CreateAccessKey { user: None }))
            .unwrap(),
    );
    let rd = c
        .authorize(by_key(
            root.secret_id.as_deref().unwrap(),
            root.secret_key.as_deref().unwrap(),
            "cam:DeleteUser",
            "*",
            &[],
        ))
        .unwrap();
    assert_eq!(rd.reason, "Root");
    match c.call_body(Body::Status).unwrap() {
        Reply::Status(s) => assert_eq!((s.users, s.keys, s.custom_policies), (0, 1, 1)),
        other => panic!("{other:?}"),
    }
    // Bad requests are errors with codes, not crashes.
    assert_eq!(
        code(c.call_body(Body::Authorize(by_user(
            "nobody",
            "im:SendMessage",
            APP,
            &[]
        )))),
        "ResourceNotFound.UserNotExist"
    );
    c.call_body(Body::AddUser(AddUser {
        name: "bob".into(),
        ..AddUser::default()
    }))
    .unwrap();
    assert_eq!(
        code(c.call_body(Body::Authorize(by_user("bob", "SendMessage", APP, &[])))),
        "InvalidParameter"
    );
    assert_eq!(
        code(c.call_body(Body::Authorize(by_user(
            "bob",
            "im:SendMessage",
            "app",
            &[]
        )))),
        "InvalidParameter"
    );
}

#[test]
fn delegated_administration_and_peer_credentials() {
    let d = Camd::start("daemon-delegated");
    let mut c = d.client();
    credentials(
        c.call_body(Body::AddUser(AddUser {
            name: "admin1".into(),
            policies: vec!["UserAdmin".into()],
            ..AddUser::default()
        }))
        .unwrap(),
    );
    let key = credentials(
        c.call_body(Body::CreateAccessKey(CreateAccessKey {
            user: Some("admin1".into()),
        }))
        .unwrap(),
    );
    let (id, secret) = (key.secret_id.unwrap(), key.secret_key.unwrap());

    // This process is the operator; the rules for everyone else are shown
    // by running camctl as another uid, which needs root.
    if effective_uid() != 0 {
        eprintln!("not root: skipping the other-uid half of this test");
        return;
    }
    let nobody = 65534;
    // Another uid may query...
    let out = d.camctl_as(
        Some(nobody),
        &[],
        &[
            "check",
            "--user",
            "admin1",
            "--action",
            "cam:AddUser",
            "--resource",
            "*",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // ...but may not administer without a key.
    let out = d.camctl_as(Some(nobody), &[], &["user", "add", "intruder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AuthFailure.UnauthorizedOperation"),
        "{}",
        stderr(&out)
    );
    // With admin1's key: what UserAdmin allows, and nothing else.
    let env = [("CAMD_SECRET_KEY", secret.as_str())];
    let as_admin = |args: &[&str]| {
        let mut full = vec!["--as-key", id.as_str()];
        full.extend_from_slice(args);
        d.camctl_as(Some(nobody), &env, &full)
    };
    assert_eq!(as_admin(&["user", "add", "newbie"]).status.code(), Some(0));
    assert_eq!(
        as_admin(&[
            "policy",
            "attach",
            "QcloudAVCFullAccess",
            "--user",
            "newbie"
        ])
        .status
        .code(),
        Some(0)
    );
    let out = as_admin(&[
        "policy",
        "attach",
        "AdministratorAccess",
        "--user",
        "newbie",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AuthFailure.UnauthorizedOperation"),
        "{}",
        stderr(&out)
    );
    let out = as_admin(&["user", "delete", "newbie"]);
    assert!(
        stderr(&out).contains("AuthFailure.UnauthorizedOperation"),
        "{}",
        stderr(&out)
    );
    let out = d.camctl_as(
        Some(nobody),
        &[("CAMD_SECRET_KEY", "wrong")],
        &["--as-key", &id, "user", "list"],
    );
    assert!(
        stderr(&out).contains("AuthFailure.InvalidAuthorization"),
        "{}",
        stderr(&out)
    );
    // Every admin operation tried by a keyless non-operator fails.
    for args in [
        vec!["user", "list"],
        vec!["user", "delete", "admin1", "--force"],
        vec!["group", "create", "g"],
        vec!["group", "list"],
        vec![
            "policy",
            "attach",
            "AdministratorAccess",
            "--user",
            "admin1",
        ],
        vec!["key", "create", "admin1"],
        vec!["key", "list", "admin1"],
        vec!["key", "disable", &id],
        vec!["status"],
        vec!["policy", "list"],
    ] {
        let out = d.camctl_as(Some(nobody), &[], &args);
        assert_eq!(out.status.code(), Some(2), "{args:?} succeeded");
    }
    assert!(matches!(
        c.call_body(Body::GetUser(GetUser {
            name: "newbie".into()
        }))
        .unwrap(),
        Reply::User(_)
    ));
}

#[test]
fn restart_keeps_state_and_second_daemon_is_refused() {
    let d = Camd::start("daemon-restart");
    let mut c = d.client();
    let cred = credentials(
        c.call_body(Body::AddUser(AddUser {
            name: "alice".into(),
            use_api: true,
            policies: vec!["QcloudAVCFullAccess".into()],
            ..AddUser::default()
        }))
        .unwrap(),
    );
    c.call_body(Body::CreateGroup(CreateGroup {
        name: "ops".into(),
        remark: String::new(),
    }))
    .unwrap();

    // A second camd on the same socket refuses to start.
    let mut second = Camd::spawn(&d.dir);
    let status = second.wait().unwrap();
    assert!(!status.success());
    assert!(
        d.log().contains("another camd is already serving"),
        "{}",
        d.log()
    );

    let dir = d.dir.clone();
    assert_eq!(d.stop().code(), Some(0));
    // A stale socket file (from a crash) is replaced.
    drop(std::os::unix::net::UnixListener::bind(dir.join("camd.sock")).ok());
    let d = Camd::start_in(dir);
    let mut c = d.client();
    let decision = c
        .authorize(by_key(
            cred.secret_id.as_deref().unwrap(),
            cred.secret_key.as_deref().unwrap(),
            "im:SendMessage",
            APP,
            &[],
        ))
        .unwrap();
    assert!(decision.allowed);
    assert!(matches!(c.call_body(Body::ListGroups).unwrap(), Reply::Groups(g) if g.len() == 1));
}

#[test]
fn bad_frames_never_hurt_the_daemon() {
    let d = Camd::start("daemon-frames");
    let raw = || UnixStream::connect(&d.socket).unwrap();
    let read_all = |mut s: UnixStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut v = Vec::new();
        let _ = s.read_to_end(&mut v);
        v
    };
    // Garbage instead of a hello: closed.
    let mut s = raw();
    s.write_all(b"GARBAGE GARBAGE").unwrap();
    assert!(read_all(s).is_empty());
    // A wrong version: camd answers with its own, then closes.
    let mut s = raw();
    s.write_all(&encode_hello(999)).unwrap();
    let got = read_all(s);
    assert_eq!(got, encode_hello(camd::protocol::PROTOCOL_VERSION).to_vec());
    // An oversized frame: an error reply, then closed.
    let mut s = raw();
    s.write_all(&encode_hello(1)).unwrap();
    s.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let got = read_all(s);
    assert!(got.len() > HELLO_LEN + 4, "expected an error reply");
    // A truncated frame: closed.
    let mut s = raw();
    s.write_all(&encode_hello(1)).unwrap();
    s.write_all(&[0, 0, 0, 50, 1, 2, 3]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_all(s).len(), HELLO_LEN);
    // A malformed but well-framed request: an error reply, and the connection goes on.
    let mut s = raw();
    s.write_all(&encode_hello(1)).unwrap();
    s.write_all(&[0, 0, 0, 3, 0xff, 0xff, 0xff]).unwrap();
    s.write_all(
        &encode_request(&Request {
            id: 9,
            auth: None,
            body: Body::Ping,
        })
        .unwrap(),
    )
    .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let got = read_all(s);
    let mut at = HELLO_LEN;
    let mut responses = Vec::new();
    while at + 4 <= got.len() {
        let len = u32::from_be_bytes(got[at..at + 4].try_into().unwrap()) as usize;
        responses.push(camd::protocol::decode_response(&got[at + 4..at + 4 + len]).unwrap());
        at += 4 + len;
    }
    assert_eq!(responses.len(), 2);
    assert_eq!(
        responses[0].result.as_ref().unwrap_err().code,
        "InvalidParameter.MalformedRequest"
    );
    assert_eq!(responses[1].id, 9);
    // JSON lines: a good request, a malformed one, and the connection goes on.
    let mut s = raw();
    s.write_all(b"{\"id\":1,\"auth\":null,\"body\":\"Ping\"}\n{not json}\n{\"id\":2,\"auth\":null,\"body\":{\"Authorize\":{\"ByUser\":{\"user\":{\"Name\":\"nobody\"},\"action\":\"im:SendMessage\",\"resource\":\"*\",\"context\":[]}}}}\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let lines: Vec<Value> = BufReader::new(s)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["result"]["Ok"]["Pong"], 1);
    assert_eq!(
        lines[1]["result"]["Err"]["code"],
        "InvalidParameter.MalformedRequest"
    );
    assert_eq!(
        lines[2]["result"]["Err"]["code"],
        "ResourceNotFound.UserNotExist"
    );
    // A silent connection is closed after the idle timeout; others are served meanwhile.
    let silent = raw();
    let mut c = d.client();
    assert_eq!(c.ping().unwrap(), 1);
    let start = Instant::now();
    assert!(read_all(silent).is_empty());
    assert!(start.elapsed() < Duration::from_secs(9));
    // Still alive.
    assert_eq!(d.client().ping().unwrap(), 1);
    assert!(d.stop().success());
}

#[test]
fn ten_thousand_pipelined_requests_on_one_connection() {
    let d = Camd::start("daemon-pipeline");
    let mut c = d.client();
    c.call_body(Body::AddUser(AddUser {
        name: "alice".into(),
        policies: vec!["QcloudChatReadOnlyAccess".into()],
        ..AddUser::default()
    }))
    .unwrap();
    let actions = ["im:GetGroupInfo", "im:SendMessage"];
    let bodies: Vec<Body> = (0..10_000)
        .map(|i| Body::Authorize(by_user("alice", actions[i % 2], APP, &[])))
        .collect();
    let replies = c.pipeline(bodies).unwrap();
    assert_eq!(replies.len(), 10_000);
    for (i, r) in replies.into_iter().enumerate() {
        match r.unwrap() {
            Reply::Decision(dec) => assert_eq!(dec.allowed, i % 2 == 0, "request {i}"),
            other => panic!("{other:?}"),
        }
    }
    // A batch in one frame, mixing users and keys.
    let items = vec![
        by_user("alice", "im:GetGroupInfo", APP, &[]),
        by_user("nobody", "im:GetGroupInfo", APP, &[]),
        by_key("AKIDx", "y", "im:GetGroupInfo", APP, &[]),
    ];
    let out = c.authorize_batch(items).unwrap();
    assert!(out[0].as_ref().unwrap().allowed);
    assert_eq!(
        out[1].as_ref().unwrap_err().code,
        "ResourceNotFound.UserNotExist"
    );
    assert_eq!(
        out[2].as_ref().unwrap_err().code,
        "AuthFailure.InvalidAuthorization"
    );
}
