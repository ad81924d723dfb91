//! How camctl shows each reply: as text, or as one JSON value with CAM's
//! field names (`--json`).

use serde_json::{Value, json};

use camd::policy::TimeText;
use camd::protocol::{
    AttachedInfo, AuditInfo, Credentials, Entities, GroupInfo, KeyInfo, PolicyInfo, PolicyKind,
    PolicyStatusInfo, ReloadInfo, ResealInfo, StatusInfo, UserInfo,
};

/// A reply camctl can print.
pub trait Show {
    /// With CAM's field names.
    fn json(&self) -> Value;
    /// For a person.
    fn text(&self) -> String;
}

impl<T: Show> Show for Vec<T> {
    fn json(&self) -> Value {
        Value::Array(self.iter().map(Show::json).collect())
    }
    fn text(&self) -> String {
        self.iter().map(Show::text).collect::<Vec<_>>().join("\n")
    }
}

macro_rules! show {
    ($($t:ty => $json:ident, $text:ident;)*) => {$(
        impl Show for $t {
            fn json(&self) -> Value {
                $json(self)
            }
            fn text(&self) -> String {
                $text(self)
            }
        }
    )*};
}

show! {
    UserInfo => user_json, user_text;
    Credentials => credentials_json, credentials_text;
    GroupInfo => group_json, group_text;
    PolicyInfo => policy_json, policy_text;
    AttachedInfo => attached_json, attached_text;
    KeyInfo => key_json, key_text;
    StatusInfo => status_json, status_text;
    ReloadInfo => reload_json, reload_text;
    PolicyStatusInfo => policy_status_json, policy_status_text;
    AuditInfo => audit_json, audit_text;
    Entities => entities_json, entities_text;
    ResealInfo => reseal_json, reseal_text;
}

/// The metrics text, as is (`--json`: as one string).
impl Show for String {
    fn json(&self) -> Value {
        Value::String(self.clone())
    }
    fn text(&self) -> String {
        self.trim_end().to_string()
    }
}

/// One policy with its document (`policy get`).
pub struct Document<'a>(pub &'a PolicyInfo);

impl Show for Document<'_> {
    fn json(&self) -> Value {
        policy_json(self.0)
    }
    fn text(&self) -> String {
        let p = self.0;
        format!(
            "{} ({})\n{}",
            p.name,
            p.kind,
            p.document.clone().unwrap_or_default()
        )
    }
}

pub(super) fn user_json(u: &UserInfo) -> Value {
    json!({"Uin": u.uin, "Name": u.name, "Remark": u.remark, "ConsoleLogin": u.console_login,
           "NeedResetPassword": u.need_reset_password, "Email": u.email, "PhoneNum": u.phone,
           "CreateTime": u.created_ms, "Groups": u.groups})
}

pub(super) fn user_text(u: &UserInfo) -> String {
    format!(
        "{}\t{}\t{}\tgroups: {}",
        u.uin,
        u.name,
        u.remark,
        u.groups.join(",")
    )
}

fn credentials_json(c: &Credentials) -> Value {
    json!({"Uin": c.uin, "Name": c.name, "LoginLink": c.login_link, "Password": c.password,
           "SecretId": c.secret_id, "SecretKey": c.secret_key})
}

fn credentials_text(c: &Credentials) -> String {
    let mut s = format!("Uin: {}\nUsername: {}\n", c.uin, c.name);
    for (label, v) in [
        ("LoginLink", &c.login_link),
        ("Password", &c.password),
        ("SecretId", &c.secret_id),
        ("SecretKey", &c.secret_key),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("{label}: {v}\n"));
        }
    }
    let shown: Vec<&str> = [
        ("the password", &c.password),
        ("the SecretKey", &c.secret_key),
    ]
    .iter()
    .filter(|(_, v)| v.is_some())
    .map(|(what, _)| *what)
    .collect();
    if !shown.is_empty() {
        s.push_str(&format!(
            "Store these now: {} {} not shown again.",
            shown.join(" and "),
            if shown.len() > 1 { "are" } else { "is" }
        ));
    }
    s.trim_end().to_string()
}

pub(super) fn group_json(g: &GroupInfo) -> Value {
    json!({"GroupName": g.name, "Remark": g.remark, "CreateTime": g.created_ms, "UserCount": g.members})
}

fn group_text(g: &GroupInfo) -> String {
    format!("{}\t{} members\t{}", g.name, g.members, g.remark)
}

fn policy_json(p: &PolicyInfo) -> Value {
    json!({"PolicyName": p.name, "Type": p.kind, "Description": p.description, "PolicyDocument": p.document,
           "Attachments": p.attachments, "Tags": p.tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
           "Alias": p.alias})
}

fn policy_text(p: &PolicyInfo) -> String {
    let kind = match p.kind {
        PolicyKind::Preset => "Preset",
        PolicyKind::File => "Custom (file-managed)",
        PolicyKind::Managed => "Custom (API-managed)",
    };
    format!("{}\t{}\t{}", p.name, kind, p.description)
}

fn attached_json(a: &AttachedInfo) -> Value {
    json!({"PolicyName": a.policy, "GroupName": a.via_group, "AddTime": a.attached_ms})
}

fn attached_text(a: &AttachedInfo) -> String {
    match &a.via_group {
        Some(g) => format!("{}\t(via group `{g}`)", a.policy),
        None => a.policy.clone(),
    }
}

fn entities_json(e: &Entities) -> Value {
    json!({"Users": e.users, "Groups": e.groups})
}

fn entities_text(e: &Entities) -> String {
    format!(
        "users: {}\ngroups: {}",
        e.users.join(", "),
        e.groups.join(", ")
    )
}

pub(super) fn key_json(k: &KeyInfo) -> Value {
    json!({"SecretId": k.secret_id, "Uin": k.owner, "Status": k.status, "CreateTime": k.created_ms, "LastUsedTime": k.last_used_ms,
           "Description": k.description})
}

pub(super) fn key_text(k: &KeyInfo) -> String {
    let used = k.last_used_ms.map_or_else(
        || "never used".to_string(),
        |ms| format!("last used {}", TimeText::new(ms).as_str()),
    );
    format!("{}\t{}\t{used}", k.secret_id, k.status)
}

fn status_json(s: &StatusInfo) -> Value {
    json!({"Version": s.version, "OwnerUin": s.owner_uin, "Users": s.users, "Groups": s.groups, "AccessKeys": s.keys,
           "Attachments": s.attachments, "CustomPolicies": s.custom_policies,
           "DanglingAttachments": s.dangling.iter().map(|(e, p)| json!({"Entity": e, "PolicyName": p})).collect::<Vec<_>>(),
           "Generation": s.generation, "UptimeSeconds": s.uptime_secs,
           "Decisions": {"Allow": s.allows, "Deny": s.denies, "Unauthenticated": s.unauthenticated, "Throttled": s.throttled},
           "Cluster": s.cluster.as_ref().map(|c| json!({"Endpoints": c.endpoints, "Connected": c.connected,
               "AppliedRevision": c.applied_revision, "EtcdRevision": c.etcd_revision, "Lag": c.lag,
               "StateHash": c.state_hash, "ReplicaAgeSeconds": c.age_secs,
               "Quarantined": c.quarantined}))})
}

fn status_text(s: &StatusInfo) -> String {
    let mut t = format!(
        "camd {} (owner uin {}), up {} s\nusers {}, groups {}, access keys {}, attachments {}, custom policies {}",
        s.version,
        s.owner_uin,
        s.uptime_secs,
        s.users,
        s.groups,
        s.keys,
        s.attachments,
        s.custom_policies
    );
    t.push_str(&format!(
        "\ndecisions since start: {} allowed, {} denied; {} unauthenticated, {} throttled",
        s.allows, s.denies, s.unauthenticated, s.throttled
    ));
    for (e, p) in &s.dangling {
        t.push_str(&format!(
            "\ndangling: {e} has policy `{p}`, which is not loaded"
        ));
    }
    if let Some(c) = &s.cluster {
        t.push_str(&format!(
            "\ncluster: {} ({}), applied revision {}, etcd revision {}, lag {}, last heard from etcd {} s ago",
            c.endpoints.join(","),
            if c.connected {
                "connected"
            } else {
                "NOT connected: deciding from the last known state"
            },
            c.applied_revision,
            c.etcd_revision,
            c.lag,
            c.age_secs
        ));
        for q in &c.quarantined {
            t.push_str(&format!("\nquarantined (not applied): {q}"));
        }
    }
    t
}

fn reload_json(r: &ReloadInfo) -> Value {
    json!({"Result": if r.applied {"Applied"} else {"Rejected"}, "Added": r.added, "Changed": r.changed, "Removed": r.removed,
           "Time": r.at_ms,
           "Errors": r.errors.iter().map(|e| json!({"File": e.file, "Code": e.code, "Path": e.path, "Line": e.line, "Column": e.column, "Message": e.message})).collect::<Vec<_>>()})
}

fn reload_text(r: &ReloadInfo) -> String {
    if r.applied {
        return format!(
            "applied: {} added, {} changed, {} removed",
            r.added, r.changed, r.removed
        );
    }
    let mut t = String::from("rejected; the last good set stays in use:");
    for e in &r.errors {
        let at = if e.path.is_empty() {
            String::new()
        } else {
            format!(" at `{}`", e.path)
        };
        let position = if e.line > 0 {
            format!(":{}:{}", e.line, e.column)
        } else {
            String::new()
        };
        let message = e
            .message
            .strip_prefix(e.code.as_str())
            .and_then(|m| m.strip_prefix(": "))
            .unwrap_or(&e.message);
        t.push_str(&format!(
            "\n{}{position}: {}{at}: {message}",
            e.file, e.code
        ));
    }
    t
}

fn policy_status_json(s: &PolicyStatusInfo) -> Value {
    json!({
        "Policies": s.policies.iter().map(|p| json!({"PolicyName": p.name, "Type": p.kind, "Hash": p.hash, "LoadTime": p.loaded_ms})).collect::<Vec<_>>(),
        "LastReload": s.last_reload.as_ref().map(reload_json),
        "DanglingAttachments": s.dangling.iter().map(|(e, p)| json!({"Entity": e, "PolicyName": p})).collect::<Vec<_>>(),
    })
}

fn policy_status_text(s: &PolicyStatusInfo) -> String {
    let mut t: Vec<String> = s
        .policies
        .iter()
        .map(|p| {
            let loaded = if p.loaded_ms > 0 {
                format!("loaded {}", TimeText::new(p.loaded_ms).as_str())
            } else {
                "built in".to_string()
            };
            format!(
                "{}\t{}\t{}\t{loaded}",
                p.name,
                p.kind,
                p.hash.get(..12).unwrap_or(&p.hash),
            )
        })
        .collect();
    match &s.last_reload {
        Some(r) => t.push(format!("last reload: {}", reload_text(r))),
        None => t.push("last reload: none since start".into()),
    }
    t.extend(
        s.dangling
            .iter()
            .map(|(e, p)| format!("dangling: {e} has policy `{p}`, which is not loaded")),
    );
    t.join("\n")
}

fn audit_json(e: &AuditInfo) -> Value {
    json!({"Seq": e.seq, "Time": e.at_ms, "Actor": e.actor, "Action": e.action, "Target": e.target, "Outcome": e.outcome})
}

fn audit_text(e: &AuditInfo) -> String {
    format!(
        "{:>8}  {}  {:<28} {:<24} {}  {}",
        e.seq,
        TimeText::new(e.at_ms).as_str(),
        e.actor,
        e.action,
        e.outcome,
        e.target
    )
}

fn reseal_json(r: &ResealInfo) -> Value {
    json!({"SealingKey": r.sealing_key, "Resealed": r.resealed, "AlreadyCurrent": r.current,
           "Unsealed": r.unsealed})
}

fn reseal_text(r: &ResealInfo) -> String {
    let mut s = format!(
        "re-sealed {} access keys under sealing key {} ({} already were)",
        r.resealed, r.sealing_key, r.current
    );
    if !r.unsealed.is_empty() {
        s.push_str(&format!(
            "\n{} keys predate sealed copies and cannot verify signed requests; rotate them: {}",
            r.unsealed.len(),
            r.unsealed.join(", ")
        ));
    }
    s
}
