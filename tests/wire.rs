//! Golden vectors of the wire: one sample of every request body and every
//! reply, each as the JSON line and the postcard frame camd reads and
//! writes, pinned in `tests/wire/*.jsonl`. A change to the byte layout
//! fails here; clients in other languages test their codecs against the
//! same files. `CAMD_BLESS=1` rewrites them (only for a deliberate, new
//! variant added at the end).

use std::path::PathBuf;

use camd::protocol::*;
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

fn by_user() -> Authorize {
    Authorize::ByUser {
        user: UserRef::Name(s("alice")),
        action: s("im:SendMessage"),
        resource: s("qcs::im::uin/100000000001:sdkappid/1400000001"),
        context: vec![(s("qcs:ip"), s("10.0.0.1"))],
    }
}

fn by_key() -> Authorize {
    Authorize::ByKey {
        key: KeyAuth {
            secret_id: s("AKIDexample"),
            secret_key: s("secret"),
        },
        action: s("im:GetGroupInfo"),
        resource: s("*"),
        context: Vec::new(),
    }
}

fn signed_http() -> SignedHttp {
    SignedHttp {
        method: s("POST"),
        path: s("/"),
        query: String::new(),
        headers: vec![
            (s("Host"), s("cam.tencentcloudapi.com")),
            (s("X-TC-Action"), s("GetUser")),
        ],
        payload: SignedPayload::Body(b"{\"Name\":\"alice\"}".to_vec()),
    }
}

/// Every request body, in the list's order; the `match` in `which` makes
/// a new variant a compile error here until it has a sample.
fn requests() -> Vec<Body> {
    let user = || s("alice");
    let group = || s("dev");
    let policy = || s("QcloudIMFullAccess");
    vec![
        Body::Ping,
        Body::Authorize(by_user()),
        Body::Batch(vec![by_user(), by_key()]),
        Body::AddUser(AddUser {
            name: user(),
            remark: s("ops"),
            console_login: true,
            password: None,
            need_reset_password: true,
            use_api: true,
            email: s("a@example.com"),
            phone: s("13800000000"),
            policies: vec![policy()],
        }),
        Body::GetUser(GetUser { name: user() }),
        Body::ListUsers,
        Body::UpdateUser(UpdateUser {
            name: user(),
            new_name: Some(s("alice2")),
            remark: None,
            console_login: Some(false),
            password: None,
            need_reset_password: None,
            email: Some(String::new()),
            phone: None,
        }),
        Body::DeleteUser(DeleteUser {
            name: user(),
            force: true,
        }),
        Body::CreateGroup(CreateGroup {
            name: group(),
            remark: s("developers"),
        }),
        Body::DeleteGroup(DeleteGroup { name: group() }),
        Body::ListGroups,
        Body::AddUserToGroup(AddUserToGroup {
            group: group(),
            user: user(),
        }),
        Body::RemoveUserFromGroup(RemoveUserFromGroup {
            group: group(),
            user: user(),
        }),
        Body::ListUsersForGroup(ListUsersForGroup { group: group() }),
        Body::ListGroupsForUser(ListGroupsForUser { user: user() }),
        Body::ListPolicies,
        Body::GetPolicy(GetPolicy { policy: policy() }),
        Body::AttachUserPolicy(AttachUserPolicy {
            user: user(),
            policy: policy(),
        }),
        Body::DetachUserPolicy(DetachUserPolicy {
            user: user(),
            policy: policy(),
        }),
        Body::AttachGroupPolicy(AttachGroupPolicy {
            group: group(),
            policy: policy(),
        }),
        Body::DetachGroupPolicy(DetachGroupPolicy {
            group: group(),
            policy: policy(),
        }),
        Body::ListAttachedUserPolicies(ListAttachedUserPolicies {
            user: user(),
            all: true,
        }),
        Body::ListAttachedGroupPolicies(ListAttachedGroupPolicies { group: group() }),
        Body::ListEntitiesForPolicy(ListEntitiesForPolicy { policy: policy() }),
        Body::CreateAccessKey(CreateAccessKey {
            user: Some(user()),
            description: String::new(),
        }),
        Body::UpdateAccessKey(UpdateAccessKey {
            secret_id: s("AKIDexample"),
            active: false,
        }),
        Body::DeleteAccessKey(DeleteAccessKey {
            secret_id: s("AKIDexample"),
        }),
        Body::ListAccessKeys(ListAccessKeys { user: None }),
        Body::Status,
        Body::ReloadPolicies,
        Body::PolicyStatus,
        Body::Audit(Audit {
            since: 7,
            limit: 100,
        }),
        Body::GetMetrics,
        Body::AuthorizeSigned(AuthorizeSigned {
            request: signed_http(),
            resource: s("*"),
            context: Vec::new(),
            action: Some(s("im")),
        }),
        Body::CallApi(ApiCall {
            request: signed_http(),
        }),
        Body::KeyReseal,
        Body::CreatePolicy(CreatePolicy {
            name: s("senders"),
            document: s("{\"version\":\"2.0\",\"statement\":[]}"),
            description: s("may send"),
            tags: vec![Tag {
                key: s("team"),
                value: s("chat"),
            }],
        }),
        Body::UpdatePolicy(UpdatePolicy {
            name: s("senders"),
            document: None,
            description: Some(s("may send more")),
            alias: None,
        }),
        Body::DeletePolicy(DeletePolicy { name: s("senders") }),
        Body::CreatePolicyVersion(CreatePolicyVersion {
            name: s("senders"),
            document: s("{}"),
            set_default: true,
        }),
        Body::SetDefaultPolicyVersion(SetDefaultPolicyVersion {
            name: s("senders"),
            version: 2,
        }),
        Body::ListPolicyVersions(ListPolicyVersions { name: s("senders") }),
        Body::GetPolicyVersion(GetPolicyVersion {
            name: s("senders"),
            version: 1,
        }),
        Body::DeletePolicyVersion(DeletePolicyVersion {
            name: s("senders"),
            versions: vec![1, 3],
        }),
        Body::PutUserPermissionsBoundary(PutUserPermissionsBoundary {
            user: user(),
            policy: s("senders"),
        }),
        Body::DeleteUserPermissionsBoundary(DeleteUserPermissionsBoundary { user: user() }),
        Body::GetUserPermissionBoundary(GetUserPermissionBoundary { user: user() }),
        Body::UserPermissions(UserPermissions {
            user: user(),
            service: Some(s("im")),
        }),
        Body::AuthorizeAt(AuthorizeAt {
            min_revision: 42,
            ask: by_user(),
        }),
        Body::GetGroup(GetGroup { name: group() }),
        Body::UpdateGroup(UpdateGroup {
            name: group(),
            remark: Some(s("developers")),
        }),
        Body::GetAccountSummary,
        Body::GetUserAppId,
        Body::DescribeSubAccounts(DescribeSubAccounts {
            uins: vec![100000000002, 100000000003],
        }),
        Body::ListAccounts,
        Body::GetSecurityLastUsed(GetSecurityLastUsed {
            secret_ids: vec![s("AKIDexample")],
        }),
        Body::GetPasswordRules,
        Body::UpdatePasswordRules(UpdatePasswordRules {
            minimum_length: Some(12),
            must_contain: Some(s("Aa0")),
            reuse_limit: Some(3),
            ..UpdatePasswordRules::default()
        }),
        Body::DecisionLogStatus,
        Body::CreateRole(CreateRole {
            name: s("chat-backend"),
            document: s(TRUST),
            description: s("the Chat backends"),
            console_login: false,
            session_duration: 3600,
            tags: vec![Tag {
                key: s("team"),
                value: s("chat"),
            }],
        }),
        Body::GetRole(GetRole {
            role: s("chat-backend"),
        }),
        Body::DescribeRoleList,
        Body::DeleteRole(DeleteRole {
            role: s("chat-backend"),
        }),
        Body::UpdateAssumeRolePolicy(UpdateAssumeRolePolicy {
            role: s("chat-backend"),
            document: s(TRUST),
        }),
        Body::UpdateRoleDescription(UpdateRoleDescription {
            role: s("chat-backend"),
            description: s("senders"),
        }),
        Body::UpdateRoleConsoleLogin(UpdateRoleConsoleLogin {
            role: s("chat-backend"),
            console_login: true,
        }),
        Body::UpdateRoleSessionDuration(UpdateRoleSessionDuration {
            role: s("chat-backend"),
            session_duration: 7200,
        }),
        Body::AttachRolePolicy(AttachRolePolicy {
            role: s("chat-backend"),
            policy: s("QcloudIMFullAccess"),
        }),
        Body::DetachRolePolicy(DetachRolePolicy {
            role: s("chat-backend"),
            policy: s("QcloudIMFullAccess"),
        }),
        Body::ListAttachedRolePolicies(ListAttachedRolePolicies {
            role: s("chat-backend"),
        }),
        Body::PutRolePermissionsBoundary(PutRolePermissionsBoundary {
            role: s("chat-backend"),
            policy: s("QcloudIMReadOnlyAccess"),
        }),
        Body::DeleteRolePermissionsBoundary(DeleteRolePermissionsBoundary {
            role: s("chat-backend"),
        }),
        Body::GetRolePermissionBoundary(GetRolePermissionBoundary {
            role: s("chat-backend"),
        }),
        Body::TagRole(TagRole {
            role: s("chat-backend"),
            tags: vec![Tag {
                key: s("env"),
                value: s("prod"),
            }],
        }),
        Body::UntagRole(UntagRole {
            role: s("chat-backend"),
            keys: vec![s("env")],
        }),
    ]
}

/// The position of `b`'s variant in the list (no wildcard: a new variant
/// does not compile until it is sampled above).
fn which(b: &Body) -> usize {
    match b {
        Body::Ping => 0,
        Body::Authorize(_) => 1,
        Body::Batch(_) => 2,
        Body::AddUser(_) => 3,
        Body::GetUser(_) => 4,
        Body::ListUsers => 5,
        Body::UpdateUser(_) => 6,
        Body::DeleteUser(_) => 7,
        Body::CreateGroup(_) => 8,
        Body::DeleteGroup(_) => 9,
        Body::ListGroups => 10,
        Body::AddUserToGroup(_) => 11,
        Body::RemoveUserFromGroup(_) => 12,
        Body::ListUsersForGroup(_) => 13,
        Body::ListGroupsForUser(_) => 14,
        Body::ListPolicies => 15,
        Body::GetPolicy(_) => 16,
        Body::AttachUserPolicy(_) => 17,
        Body::DetachUserPolicy(_) => 18,
        Body::AttachGroupPolicy(_) => 19,
        Body::DetachGroupPolicy(_) => 20,
        Body::ListAttachedUserPolicies(_) => 21,
        Body::ListAttachedGroupPolicies(_) => 22,
        Body::ListEntitiesForPolicy(_) => 23,
        Body::CreateAccessKey(_) => 24,
        Body::UpdateAccessKey(_) => 25,
        Body::DeleteAccessKey(_) => 26,
        Body::ListAccessKeys(_) => 27,
        Body::Status => 28,
        Body::ReloadPolicies => 29,
        Body::PolicyStatus => 30,
        Body::Audit(_) => 31,
        Body::GetMetrics => 32,
        Body::AuthorizeSigned(_) => 33,
        Body::CallApi(_) => 34,
        Body::KeyReseal => 35,
        Body::CreatePolicy(_) => 36,
        Body::UpdatePolicy(_) => 37,
        Body::DeletePolicy(_) => 38,
        Body::CreatePolicyVersion(_) => 39,
        Body::SetDefaultPolicyVersion(_) => 40,
        Body::ListPolicyVersions(_) => 41,
        Body::GetPolicyVersion(_) => 42,
        Body::DeletePolicyVersion(_) => 43,
        Body::PutUserPermissionsBoundary(_) => 44,
        Body::DeleteUserPermissionsBoundary(_) => 45,
        Body::GetUserPermissionBoundary(_) => 46,
        Body::UserPermissions(_) => 47,
        Body::AuthorizeAt(_) => 48,
        Body::GetGroup(_) => 49,
        Body::UpdateGroup(_) => 50,
        Body::GetAccountSummary => 51,
        Body::GetUserAppId => 52,
        Body::DescribeSubAccounts(_) => 53,
        Body::ListAccounts => 54,
        Body::GetSecurityLastUsed(_) => 55,
        Body::GetPasswordRules => 56,
        Body::UpdatePasswordRules(_) => 57,
        Body::DecisionLogStatus => 58,
        Body::CreateRole(_) => 59,
        Body::GetRole(_) => 60,
        Body::DescribeRoleList => 61,
        Body::DeleteRole(_) => 62,
        Body::UpdateAssumeRolePolicy(_) => 63,
        Body::UpdateRoleDescription(_) => 64,
        Body::UpdateRoleConsoleLogin(_) => 65,
        Body::UpdateRoleSessionDuration(_) => 66,
        Body::AttachRolePolicy(_) => 67,
        Body::DetachRolePolicy(_) => 68,
        Body::ListAttachedRolePolicies(_) => 69,
        Body::PutRolePermissionsBoundary(_) => 70,
        Body::DeleteRolePermissionsBoundary(_) => 71,
        Body::GetRolePermissionBoundary(_) => 72,
        Body::TagRole(_) => 73,
        Body::UntagRole(_) => 74,
    }
}

fn decision() -> Decision {
    Decision {
        allowed: true,
        reason: s("Allow"),
        policy: Some(s("QcloudIMFullAccess")),
        statement: Some(0),
        uin: 100000000002,
    }
}

fn user_info() -> UserInfo {
    UserInfo {
        uin: 100000000002,
        name: s("alice"),
        remark: s("ops"),
        console_login: true,
        need_reset_password: false,
        email: s("a@example.com"),
        phone: String::new(),
        created_ms: 1_764_633_600_000,
        groups: vec![s("dev")],
    }
}

fn reload_info() -> ReloadInfo {
    ReloadInfo {
        applied: false,
        added: 1,
        changed: 0,
        removed: 2,
        errors: vec![ReloadProblem {
            file: s("senders.json"),
            code: s("InvalidParameter.PolicyDocumentError"),
            path: s("statement[0].action"),
            line: 3,
            column: 14,
            message: s("unknown action"),
        }],
        at_ms: 1_764_633_600_000,
    }
}

fn grant() -> GrantInfo {
    GrantInfo {
        policy: s("senders"),
        statement: 0,
        via: s("group dev"),
        resources: vec![s("*")],
        conditions: vec![s("ip_equal qcs:ip 10.0.0.0/8")],
    }
}

fn version_info() -> PolicyVersionInfo {
    PolicyVersionInfo {
        version: 2,
        is_default: true,
        created_ms: 1_764_633_600_000,
        document: s("{}"),
    }
}

/// Every reply, in `Reply`'s order.
fn replies() -> Vec<Reply> {
    let key = KeyInfo {
        secret_id: s("AKIDexample"),
        owner: 100000000002,
        status: s("Active"),
        created_ms: 1_764_633_600_000,
        last_used_ms: Some(1_764_633_700_000),
        description: s("deploy key"),
    };
    vec![
        Reply::Pong(PROTOCOL_VERSION),
        Reply::Decision(decision()),
        Reply::Decisions(vec![
            Ok(decision()),
            Err(WireError {
                code: s("ResourceNotFound.UserNotExist"),
                message: s("no user `bob`"),
            }),
        ]),
        Reply::Done,
        Reply::Credentials(Credentials {
            uin: 100000000002,
            name: s("alice"),
            login_link: Some(s("http://127.0.0.1:8443/console/login?account=1")),
            password: Some(s("pw")),
            secret_id: Some(s("AKIDexample")),
            secret_key: Some(s("secret")),
        }),
        Reply::User(user_info()),
        Reply::Users(vec![user_info()]),
        Reply::Groups(vec![GroupInfo {
            name: s("dev"),
            remark: s("developers"),
            created_ms: 1_764_633_600_000,
            members: 3,
        }]),
        Reply::Names(vec![s("dev"), s("ops")]),
        Reply::Policies(vec![PolicyInfo {
            name: s("senders"),
            kind: PolicyKind::File,
            description: s("may send"),
            document: Some(s("{}")),
            created_ms: 1_764_633_600_000,
            updated_ms: 1_764_633_700_000,
            attachments: 2,
            boundaries: 1,
            tags: vec![Tag {
                key: s("team"),
                value: s("chat"),
            }],
            alias: String::new(),
        }]),
        Reply::Attached(vec![AttachedInfo {
            policy: s("senders"),
            via_group: Some(s("dev")),
            attached_ms: 1_764_633_600_000,
        }]),
        Reply::Entities {
            users: vec![s("alice")],
            groups: vec![s("dev")],
        },
        Reply::Key(key.clone()),
        Reply::Keys(vec![key]),
        Reply::Status(StatusInfo {
            version: s("0.1.0"),
            owner_uin: 100000000001,
            users: 2,
            groups: 1,
            keys: 3,
            attachments: 4,
            custom_policies: 5,
            dangling: vec![(s("user alice"), s("gone"))],
            generation: 9,
            uptime_secs: 60,
            allows: 10,
            denies: 11,
            unauthenticated: 1,
            throttled: 0,
            cluster: Some(ClusterInfo {
                endpoints: vec![s("http://127.0.0.1:2379")],
                connected: true,
                applied_revision: 40,
                etcd_revision: 41,
                lag: 1,
                state_hash: s("ab"),
                age_secs: 2,
                quarantined: vec![s("camd/users/x: not sealed")],
            }),
        }),
        Reply::Reload(reload_info()),
        Reply::PolicyStatus(PolicyStatusInfo {
            policies: vec![LoadedPolicy {
                name: s("senders"),
                kind: PolicyKind::File,
                hash: s("ab"),
                loaded_ms: 1_764_633_600_000,
            }],
            last_reload: Some(reload_info()),
            dangling: Vec::new(),
        }),
        Reply::Audit(vec![AuditInfo {
            seq: 1,
            at_ms: 1_764_633_600_000,
            actor: s("uid 0"),
            action: s("cam:AddUser"),
            target: s("alice"),
            outcome: s("ok"),
        }]),
        Reply::Metrics(s("camd_up 1\n")),
        Reply::Api(ApiAnswer {
            json: s("{\"Response\":{\"RequestId\":\"x\"}}"),
        }),
        Reply::Resealed(ResealInfo {
            sealing_key: s("0a"),
            resealed: 2,
            current: 1,
            unsealed: vec![s("AKIDold")],
        }),
        Reply::VersionCreated(VersionCreated { version: 3 }),
        Reply::Versions(vec![version_info()]),
        Reply::Version(version_info()),
        Reply::Boundary(BoundaryInfo {
            policy: Some(s("senders")),
            kind: Some(PolicyKind::File),
            document: Some(s("{}")),
        }),
        Reply::Permissions(vec![ActionPermission {
            action: s("im:SendMessage"),
            access: s("Write"),
            allow: vec![grant()],
            deny: Vec::new(),
            boundary: Some(vec![grant()]),
        }]),
        Reply::GroupDetail(GroupDetail {
            group: GroupInfo {
                name: s("dev"),
                remark: s("developers"),
                created_ms: 1_764_633_600_000,
                members: 1,
            },
            members: vec![user_info()],
        }),
        Reply::AccountSummary(AccountSummary {
            policies: 4,
            roles: 0,
            users: 2,
            groups: 1,
            members: 1,
        }),
        Reply::AppId(AppIdInfo {
            owner_uin: 100000000001,
            app_id: 1250000000,
        }),
        Reply::PasswordRules(PasswordRulesInfo {
            minimum_length: 12,
            must_contain: s("Aa0"),
            force_change_days: 90,
            reuse_limit: 3,
            retry_limit: 5,
            expiration_invalidation: 2,
            updated_ms: 1_764_633_600_000,
            modifier: s("uid 0"),
        }),
        Reply::DecisionLog(camd::protocol::DecisionLogInfo {
            on: true,
            file: Some(s("/var/log/camd/decisions.log")),
            sample: 1,
            sinks: vec![camd::protocol::SinkInfo {
                kind: s("file"),
                target: s("/var/log/camd/decisions.log"),
                up: false,
                written: 10,
                failed: 2,
                error: Some(s("no space left on device")),
                error_at_ms: 1_767_225_600_000,
            }],
            rejected: None,
            queued: 0,
            dropped_queue_full: 3,
            dropped_sink_failed: 2,
        }),
        Reply::Role(role()),
        Reply::Roles(vec![role()]),
    ]
}

/// The trust policy of the samples.
const TRUST: &str = r#"{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/100000000001:uin/200000000001"]}}]}"#;

fn role() -> RoleInfo {
    RoleInfo {
        id: 4_611_686_018_427_844_696,
        name: s("chat-backend"),
        document: s(TRUST),
        description: s("the Chat backends"),
        console_login: false,
        session_duration: 3600,
        tags: vec![Tag {
            key: s("team"),
            value: s("chat"),
        }],
        created_ms: 1_764_633_600_000,
        updated_ms: 1_764_633_600_000,
        boundary: Some(s("QcloudIMReadOnlyAccess")),
    }
}

/// The position of `r`'s variant in `Reply` (no wildcard, as in `which`).
fn which_reply(r: &Reply) -> usize {
    match r {
        Reply::Pong(_) => 0,
        Reply::Decision(_) => 1,
        Reply::Decisions(_) => 2,
        Reply::Done => 3,
        Reply::Credentials(_) => 4,
        Reply::User(_) => 5,
        Reply::Users(_) => 6,
        Reply::Groups(_) => 7,
        Reply::Names(_) => 8,
        Reply::Policies(_) => 9,
        Reply::Attached(_) => 10,
        Reply::Entities { .. } => 11,
        Reply::Key(_) => 12,
        Reply::Keys(_) => 13,
        Reply::Status(_) => 14,
        Reply::Reload(_) => 15,
        Reply::PolicyStatus(_) => 16,
        Reply::Audit(_) => 17,
        Reply::Metrics(_) => 18,
        Reply::Api(_) => 19,
        Reply::Resealed(_) => 20,
        Reply::VersionCreated(_) => 21,
        Reply::Versions(_) => 22,
        Reply::Version(_) => 23,
        Reply::Boundary(_) => 24,
        Reply::Permissions(_) => 25,
        Reply::GroupDetail(_) => 26,
        Reply::AccountSummary(_) => 27,
        Reply::AppId(_) => 28,
        Reply::PasswordRules(_) => 29,
        Reply::DecisionLog(_) => 30,
        Reply::Role(_) => 31,
        Reply::Roles(_) => 32,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One vector line: the value's name, its JSON line exactly as sent
/// (without the newline), its postcard frame (length header included).
fn line(name: &str, json: &[u8], frame: &[u8]) -> String {
    let json = std::str::from_utf8(json).unwrap().trim_end_matches('\n');
    json!({ "name": name, "json": json, "postcard": hex(frame) }).to_string()
}

fn variant(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

fn request_lines() -> Vec<String> {
    requests()
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let r = Request {
                id: i as u64 + 1,
                auth: (i % 2 == 1).then(|| KeyAuth {
                    secret_id: s("AKIDadmin"),
                    secret_key: s("adminsecret"),
                }),
                body,
                traceparent: None,
            };
            let json = serde_json::to_vec(&r).unwrap();
            let frame = encode_request(&r).unwrap();
            assert_eq!(json_request(&json).unwrap(), r, "JSON round trip");
            let len = frame.len();
            assert_eq!(
                decode_request(&frame[4..len]).unwrap(),
                r,
                "postcard round trip"
            );
            let name = variant(&serde_json::to_value(&r.body).unwrap());
            line(&name, &json, &frame)
        })
        .collect()
}

fn reply_lines() -> Vec<String> {
    let mut out: Vec<String> = replies()
        .into_iter()
        .enumerate()
        .map(|(i, reply)| {
            let r = Response {
                id: i as u64 + 1,
                result: Ok(reply),
                revision: (i % 3 == 0).then_some(40 + i as i64),
                decision_id: None,
            };
            let json = json_response(&r);
            let frame = encode_response(&r).unwrap();
            assert_eq!(
                decode_response(&frame[4..]).unwrap(),
                r,
                "postcard round trip"
            );
            let Ok(reply) = &r.result else { unreachable!() };
            let name = variant(&serde_json::to_value(reply).unwrap());
            line(&name, &json, &frame)
        })
        .collect();
    let failed = Response {
        id: 99,
        result: Err(WireError {
            code: s("AuthFailure.SecretIdNotFound"),
            message: s("no access key `AKIDnone`"),
        }),
        revision: None,
        decision_id: None,
    };
    out.push(line(
        "Error",
        &json_response(&failed),
        &encode_response(&failed).unwrap(),
    ));
    out
}

fn check(file: &str, lines: Vec<String>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wire")
        .join(file);
    let text = lines.join("\n") + "\n";
    if std::env::var_os("CAMD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap();
    for (i, (want, got)) in pinned.lines().zip(text.lines()).enumerate() {
        assert_eq!(got, want, "{file} line {}: the wire changed", i + 1);
    }
    assert_eq!(
        pinned.lines().count(),
        text.lines().count(),
        "{file}: a vector was added or removed"
    );
}

#[test]
fn every_request_body_is_pinned_in_both_encodings() {
    let all = requests();
    let mut seen: Vec<usize> = all.iter().map(which).collect();
    assert_eq!(
        seen,
        (0..all.len()).collect::<Vec<_>>(),
        "samples in list order"
    );
    seen.dedup();
    assert_eq!(seen.len(), 75);
    check("requests.jsonl", request_lines());
}

#[test]
fn every_reply_is_pinned_in_both_encodings() {
    let all = replies();
    let seen: Vec<usize> = all.iter().map(which_reply).collect();
    assert_eq!(
        seen,
        (0..33).collect::<Vec<_>>(),
        "one sample per reply, in order"
    );
    check("replies.jsonl", reply_lines());
}

#[test]
fn policy_kinds_cross_the_wire_by_their_old_names() {
    for (k, name) in [
        (PolicyKind::Preset, "Preset"),
        (PolicyKind::File, "Custom"),
        (PolicyKind::Managed, "Api"),
    ] {
        assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{name}\""));
        assert_eq!(
            postcard::to_stdvec(&k).unwrap(),
            postcard::to_stdvec(name).unwrap()
        );
        assert_eq!(
            serde_json::from_str::<PolicyKind>(&format!("\"{name}\"")).unwrap(),
            k
        );
    }
    let err = serde_json::from_str::<PolicyKind>("\"Role\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown policy kind `Role`"),
        "{err}"
    );
}
