//! The real `camd` binary on a temporary socket and state folder, driven
//! through the client library and through `camctl`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use camd::client::{Client, ClientError, by_key, by_user};
use camd::protocol::{
    AddUser, AddUserToGroup, AskRef, AttachGroupPolicy, AttachUserPolicy, Body, CreateAccessKey,
    CreateGroup, Credentials, Decision, DeleteAccessKey, DeleteGroup, DeleteUser,
    DetachGroupPolicy, DetachUserPolicy, GetPolicy, GetUser, HELLO_LEN, ListAccessKeys,
    ListAttachedGroupPolicies, ListAttachedUserPolicies, ListEntitiesForPolicy, ListGroups,
    ListGroupsForUser, ListPolicies, ListUsers, ListUsersForGroup, RemoveUserFromGroup, Reply,
    Request, Status, UpdateAccessKey, UpdateUser, WireError, encode_hello, encode_request,
};
use serde_json::Value;

use crate::harness::{APP, Camd, NOBODY, USER_ADMIN, effective_uid, json, refused, stderr};

#[test]
fn seed_workflow_1_a_new_user_and_their_credentials() {
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
    let out = d.auth(None, id, secret, "im:SendMessage");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

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

#[test]
fn seed_workflows_2_and_3_grant_and_remove_chat_permissions() {
    let d = Camd::start("daemon-seed-grant");
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

    let out = d.camctl(&["user", "add", "chat-ops", "--policy", "QcloudAVCFullAccess"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
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
    refused(&out, "ResourceNotFound.UserNotExist");
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

/// The CAM code of a failed call.
fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    r.unwrap_err().code().unwrap().to_string()
}

fn add_user(c: &mut Client, name: &str, use_api: bool) -> Credentials {
    c.call(AddUser {
        name: name.into(),
        use_api,
        ..AddUser::default()
    })
    .unwrap()
}

#[test]
fn user_operations_and_their_errors() {
    let d = Camd::start("daemon-users");
    let mut c = d.client();
    let alice = add_user(&mut c, "alice", true);
    assert!(alice.secret_key.is_some() && alice.password.is_none());
    let again = c.call(AddUser {
        name: "alice".into(),
        ..AddUser::default()
    });
    assert_eq!(code(again), "InvalidParameter.SubUserNameInUse");
    let weak = c.call(AddUser {
        name: "x".into(),
        console_login: true,
        password: Some("weak".into()),
        ..AddUser::default()
    });
    assert_eq!(code(weak), "InvalidParameter.PasswordViolatedRules");
    let got = c
        .call(GetUser {
            name: "alice".into(),
        })
        .unwrap();
    assert_eq!(got.name, "alice");
    assert_eq!(c.call(ListUsers).unwrap().len(), 1);
    let updated = c
        .call(UpdateUser {
            name: "alice".into(),
            remark: Some("lead".into()),
            password: Some("Str0ng-Pass".into()),
            ..UpdateUser::default()
        })
        .unwrap();
    assert_eq!(updated.remark, "lead");
    let missing = c.call(UpdateUser {
        name: "zed".into(),
        ..UpdateUser::default()
    });
    assert_eq!(code(missing), "ResourceNotFound.UserNotExist");
    let status = c.call(Status).unwrap();
    assert_eq!(
        (status.users, status.keys, status.custom_policies),
        (1, 1, 1)
    );
}

#[test]
fn groups_attachments_and_their_effect_on_decisions() {
    let d = Camd::start("daemon-groups");
    let mut c = d.client();
    add_user(&mut c, "alice", false);
    let ops = || CreateGroup {
        name: "ops".into(),
        remark: String::new(),
    };
    c.call(ops()).unwrap();
    assert_eq!(code(c.call(ops())), "InvalidParameter.GroupNameInUse");
    let member = || AddUserToGroup {
        group: "ops".into(),
        user: "alice".into(),
    };
    c.call(member()).unwrap();
    assert_eq!(c.call(ListGroups).unwrap()[0].members, 1);
    let members = c
        .call(ListUsersForGroup {
            group: "ops".into(),
        })
        .unwrap();
    assert_eq!(members[0].name, "alice");
    let groups = c
        .call(ListGroupsForUser {
            user: "alice".into(),
        })
        .unwrap();
    assert_eq!(groups, ["ops"]);
    c.call(AttachGroupPolicy {
        group: "ops".into(),
        policy: "QcloudAVCFullAccess".into(),
    })
    .unwrap();
    // An alias attaches its preset.
    c.call(AttachUserPolicy {
        user: "alice".into(),
        policy: "QcloudIMReadOnlyAccess".into(),
    })
    .unwrap();
    let unknown = c.call(AttachUserPolicy {
        user: "alice".into(),
        policy: "Nope".into(),
    });
    assert_eq!(code(unknown), "ResourceNotFound.PolicyIdNotFound");
    let all = c
        .call(ListAttachedUserPolicies {
            user: "alice".into(),
            all: true,
        })
        .unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|x| (x.policy.as_str(), x.via_group.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("QcloudChatReadOnlyAccess", None),
            ("QcloudAVCFullAccess", Some("ops"))
        ]
    );
    let on_group = c.call(ListAttachedGroupPolicies {
        group: "ops".into(),
    });
    assert_eq!(on_group.unwrap().len(), 1);
    let entities = c
        .call(ListEntitiesForPolicy {
            policy: "QcloudAVCFullAccess".into(),
        })
        .unwrap();
    assert_eq!(entities.groups, ["ops"]);

    let send = by_user("alice", "im:SendMessage", APP, &[]);
    let d1 = c.authorize(send.clone()).unwrap();
    assert!(d1.allowed && d1.policy.as_deref() == Some("QcloudAVCFullAccess"));
    c.call(DetachGroupPolicy {
        group: "ops".into(),
        policy: "QcloudAVCFullAccess".into(),
    })
    .unwrap();
    assert!(!c.authorize(send).unwrap().allowed);
    c.call(RemoveUserFromGroup {
        group: "ops".into(),
        user: "alice".into(),
    })
    .unwrap();
    c.call(DeleteGroup { name: "ops".into() }).unwrap();
    let gone = c.call(DeleteGroup { name: "ops".into() });
    assert_eq!(code(gone), "ResourceNotFound.GroupNotExist");
    c.call(DetachUserPolicy {
        user: "alice".into(),
        policy: "QcloudChatReadOnlyAccess".into(),
    })
    .unwrap();
}

#[test]
fn policies_are_listed_and_shown_with_their_documents() {
    let d = Camd::start("daemon-policies");
    let mut c = d.client();
    let all = c.call(ListPolicies).unwrap();
    assert!(
        all.iter()
            .any(|p| p.name == "UserAdmin" && p.kind == camd::protocol::PolicyKind::File)
    );
    let one = c
        .call(GetPolicy {
            policy: "UserAdmin".into(),
        })
        .unwrap();
    assert_eq!(one[0].document.as_deref(), Some(USER_ADMIN));
    let unknown = c.call(GetPolicy {
        policy: "Nope".into(),
    });
    assert_eq!(code(unknown), "ResourceNotFound.PolicyIdNotFound");
}

#[test]
fn access_keys_authenticate_until_disabled_or_deleted() {
    let d = Camd::start("daemon-keys");
    let mut c = d.client();
    let alice = add_user(&mut c, "alice", true);
    let (id, secret) = (alice.secret_id.unwrap(), alice.secret_key.unwrap());
    c.call(AttachUserPolicy {
        user: "alice".into(),
        policy: "QcloudAVCFullAccess".into(),
    })
    .unwrap();
    let send = |secret: &str| by_key(&id, secret, "im:SendMessage", APP, &[]);
    assert!(c.authorize(send(&secret)).unwrap().allowed);
    let second = || CreateAccessKey {
        user: Some("alice".into()),
        description: String::new(),
    };
    c.call(second()).unwrap();
    assert_eq!(code(c.call(second())), "OperationDenied.AccessKeyOverLimit");
    let keys = c.call(ListAccessKeys {
        user: Some("alice".into()),
    });
    assert_eq!(keys.unwrap().len(), 2);
    let off = c
        .call(UpdateAccessKey {
            secret_id: id.clone(),
            active: false,
        })
        .unwrap();
    assert_eq!(off.status, "Inactive");
    assert_eq!(
        code(c.authorize(send(&secret))),
        "AuthFailure.InvalidAuthorization"
    );
    assert_eq!(
        code(c.authorize(send("wrong"))),
        "AuthFailure.InvalidAuthorization"
    );
    let keep = c.call(DeleteUser {
        name: "alice".into(),
        force: false,
    });
    assert_eq!(code(keep), "OperationDenied.HaveKeys");
    c.call(DeleteAccessKey {
        secret_id: id.clone(),
    })
    .unwrap();
    let gone = c.call(DeleteAccessKey {
        secret_id: id.clone(),
    });
    assert_eq!(code(gone), "ResourceNotFound.SecretNotExist");
    c.call(DeleteUser {
        name: "alice".into(),
        force: true,
    })
    .unwrap();
    // The root account's key decides as the root account.
    let root = c
        .call(CreateAccessKey {
            user: None,
            description: String::new(),
        })
        .unwrap();
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
}

#[test]
fn malformed_questions_are_errors_with_codes() {
    let d = Camd::start("daemon-bad-questions");
    let mut c = d.client();
    let nobody = c.authorize(by_user("nobody", "im:SendMessage", APP, &[]));
    assert_eq!(code(nobody), "ResourceNotFound.UserNotExist");
    add_user(&mut c, "bob", false);
    let no_service = c.authorize(by_user("bob", "SendMessage", APP, &[]));
    assert_eq!(code(no_service), "InvalidParameter");
    let bad_resource = c.authorize(by_user("bob", "im:SendMessage", "app", &[]));
    assert_eq!(code(bad_resource), "InvalidParameter");
    assert!(c.ping().is_ok());
}

/// A user with the UserAdmin policy and a key: (SecretId, SecretKey).
fn user_admin(d: &Camd) -> (String, String) {
    let mut c = d.client();
    c.call(AddUser {
        name: "admin1".into(),
        policies: vec!["UserAdmin".into()],
        ..AddUser::default()
    })
    .unwrap();
    let key = c
        .call(CreateAccessKey {
            user: Some("admin1".into()),
            description: String::new(),
        })
        .unwrap();
    (key.secret_id.unwrap(), key.secret_key.unwrap())
}

/// This process is the operator; the rules for everyone else are shown by
/// running camctl as another uid, which needs root.
#[test]
fn peers_without_a_key_may_only_ask_for_decisions() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run camctl as another uid");
        return;
    }
    let d = Camd::start("daemon-keyless");
    let (id, _) = user_admin(&d);
    let nobody = NOBODY;
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
    refused(&out, "AuthFailure.UnauthorizedOperation");
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
}

#[test]
fn delegated_keys_administer_what_their_policies_allow() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run camctl as another uid");
        return;
    }
    let d = Camd::start("daemon-delegated");
    let (id, secret) = user_admin(&d);
    let nobody = NOBODY;
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
    refused(&out, "AuthFailure.UnauthorizedOperation");
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
    let newbie = d.client().call(GetUser {
        name: "newbie".into(),
    });
    assert_eq!(newbie.unwrap().name, "newbie");
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
            traceparent: None,
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

/// `Client::decide_batches`: pipelined batches of borrowed questions, each
/// answer read in place from its frame, agree with the owned path; a batch
/// refused whole is reported once the others were answered, and the
/// connection goes on.
#[test]
fn batches_read_in_place_agree_with_the_owned_path() {
    let d = Camd::start_with("daemon-batches-in-place", "max_batch_items = 50\n");
    let mut c = d.client();
    c.call_body(Body::AddUser(AddUser {
        name: "alice".into(),
        policies: vec!["QcloudChatReadOnlyAccess".into()],
        ..AddUser::default()
    }))
    .unwrap();
    let owned = vec![
        by_user("alice", "im:GetGroupInfo", APP, &[]),
        by_user("alice", "im:SendMessage", APP, &[]),
        by_user("nobody", "im:GetGroupInfo", APP, &[]),
        by_key(
            "AKIDx",
            "y",
            "im:GetGroupInfo",
            APP,
            &[("qcs:ip", "10.0.0.1")],
        ),
        by_user("alice", "not an action", APP, &[]),
    ];
    let expected = c.authorize_batch(owned.clone()).unwrap();
    let asks: Vec<AskRef<'_>> = owned.iter().map(AskRef::of).collect();
    let too_many: Vec<AskRef<'_>> = (0..51).map(|i| asks[i % asks.len()].clone()).collect();
    let batches: Vec<&[AskRef<'_>]> = vec![&asks, &asks, &too_many, &asks];
    let mut seen: Vec<(usize, Result<Decision, WireError>)> = Vec::new();
    let err = c
        .decide_batches(&batches, |b, a| {
            seen.push((b, a.map(|d| d.to_owned()).map_err(|e| e.to_owned())));
        })
        .unwrap_err();
    assert_eq!(err.code(), Some("LimitExceeded.BatchSize"), "{err}");
    assert_eq!(seen.len(), 3 * asks.len());
    for (i, (batch, answer)) in seen.iter().enumerate() {
        assert_eq!(*batch, [0, 1, 3][i / asks.len()]);
        assert_eq!(answer, &expected[i % asks.len()], "answer {i}");
    }
    assert!(seen[0].1.as_ref().unwrap().allowed);
    assert!(!seen[1].1.as_ref().unwrap().allowed);
    // The same connection answers on, through both paths.
    c.decide_batches(&[&asks[..1]], |_, a| assert!(a.unwrap().allowed))
        .unwrap();
    assert_eq!(c.ping().unwrap(), 1);
    assert!(d.stop().success());
}

/// On its stop camd removes the socket file it bound, and only that one:
/// a socket another daemon has put at the path since is left in place.
#[test]
fn a_stop_removes_its_own_socket_and_no_other() {
    let d = Camd::start("socket-own");
    let socket = d.socket.clone();
    assert!(d.stop().success());
    assert!(!socket.exists(), "the socket camd bound is gone");

    let d = Camd::start("socket-other");
    let socket = d.socket.clone();
    std::fs::remove_file(&socket).unwrap();
    let other = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    assert!(d.stop().success());
    assert!(socket.exists(), "another daemon's socket at the path stays");
    drop(other);
}
