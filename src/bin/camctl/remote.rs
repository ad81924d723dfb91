//! camctl's commands that talk to camd: each builds a request, prints the
//! reply (text, or JSON with CAM field names) and picks the exit code.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::{Value, json};

use camd::client::{Client, ClientError, by_key, by_user};
use camd::code::Code;
use camd::policy::TimeText;
use camd::protocol::{
    AddUser, AttachedInfo, AuditInfo, Body, Credentials, Decision, GroupInfo, KeyAuth, KeyInfo,
    PolicyInfo, ReloadInfo, Reply, StatusInfo, UpdateUser, UserInfo,
};

use super::{
    AskArgs, Command, EXIT_DENY, EXIT_ERROR, EXIT_OK, GroupCommand, KeyCommand, PasswordArgs,
    PolicyCommand, Target, UserCommand, parse_context,
};

/// Where the systemd units put camd's socket.
const INSTALLED_SOCKET: &str = "/run/camd/camd.sock";

/// The socket: the flag, else $CAMD_SOCKET, else the embedded default's
/// (or the installed one, when only that exists).
fn socket(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("CAMD_SOCKET").map(PathBuf::from))
        .unwrap_or_else(|| {
            // The embedded default's socket, or the installed one when only it exists.
            let local = PathBuf::from("state/camd.sock");
            let installed = PathBuf::from(INSTALLED_SOCKET);
            if !local.exists() && installed.exists() {
                installed
            } else {
                local
            }
        })
}

fn secret_from_env_or_stdin() -> Result<String> {
    if let Ok(k) = std::env::var("CAMD_SECRET_KEY") {
        return Ok(k);
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the SecretKey from stdin")?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!(
            "{ip}: no SecretKey: set CAMD_SECRET_KEY or pipe it on stdin",
            ip = Code::InvalidParameter
        );
    }
    Ok(s)
}

struct Out {
    json: bool,
}

impl Out {
    fn print(&self, v: Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{v}");
        } else {
            println!("{}", text());
        }
    }
}

fn remote(e: ClientError) -> anyhow::Error {
    anyhow!(e)
}

pub fn run(
    command: Command,
    socket_flag: Option<PathBuf>,
    json: bool,
    as_key: Option<String>,
) -> Result<u8> {
    let path = socket(socket_flag);
    let mut client = Client::connect(&path).map_err(remote)?;
    if let Some(id) = as_key {
        let secret = std::env::var("CAMD_SECRET_KEY").map_err(|_| {
            anyhow!(
                "{ip}: --as-key needs the SecretKey in CAMD_SECRET_KEY",
                ip = Code::InvalidParameter
            )
        })?;
        client = client.with_key(KeyAuth {
            secret_id: id,
            secret_key: secret,
        });
    }
    let out = Out { json };
    match command {
        Command::User(c) => user(&mut client, &out, c),
        Command::Group(c) => group(&mut client, &out, c),
        Command::Policy(c) => policy(&mut client, &out, c),
        Command::Key(c) => key(&mut client, &out, c),
        Command::Status => match client.call(Body::Status).map_err(remote)? {
            Reply::Status(s) => {
                out.print(status_json(&s), || status_text(&s));
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        Command::Audit { since, follow } => audit(&mut client, &out, since, follow),
        Command::Check { user, ask } => {
            decide(&mut client, &out, &ask, |a, r, c| by_user(&user, a, r, c))
        }
        Command::Auth { secret_id, ask } => {
            let secret = secret_from_env_or_stdin()?;
            decide(&mut client, &out, &ask, |a, r, c| {
                by_key(&secret_id, &secret, a, r, c)
            })
        }
    }
}

fn decide(
    client: &mut Client,
    out: &Out,
    ask: &AskArgs,
    build: impl FnOnce(&str, &str, &[(&str, &str)]) -> camd::protocol::Authorize,
) -> Result<u8> {
    let ctx = parse_context(&ask.context)?;
    let pairs: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let d: Decision = client
        .authorize(build(&ask.action, &ask.resource, &pairs))
        .map_err(remote)?;
    out.print(
        json!({"Decision": if d.allowed {"Allow"} else {"Deny"}, "Reason": d.reason, "PolicyName": d.policy,
               "StatementIndex": d.statement, "Uin": d.uin}),
        || {
            let verdict = if d.allowed { "Allow" } else { "Deny" };
            let why = match (d.reason.as_str(), &d.policy, d.statement) {
                (_, Some(p), Some(s)) => format!("{} by policy `{p}` statement[{s}]", d.reason),
                ("ImplicitDeny", _, _) => "no statement allows it (implicit deny)".to_string(),
                ("Root", _, _) => "the root account is allowed everything".to_string(),
                (r, _, _) => r.to_string(),
            };
            format!("{verdict}: {why}")
        },
    );
    Ok(if d.allowed { EXIT_OK } else { EXIT_DENY })
}

fn user_json(u: &UserInfo) -> Value {
    json!({"Uin": u.uin, "Name": u.name, "Remark": u.remark, "ConsoleLogin": u.console_login,
           "NeedResetPassword": u.need_reset_password, "Email": u.email, "PhoneNum": u.phone,
           "CreateTime": u.created_ms, "Groups": u.groups})
}

fn user_text(u: &UserInfo) -> String {
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
    s.push_str("Store these now: the password and SecretKey are not shown again.");
    s
}

/// The chosen password, from stdin or $CAMD_PASSWORD, never from an argument.
fn chosen_password(p: &PasswordArgs) -> Result<Option<String>> {
    if p.password.is_some() {
        bail!(
            "{ip}: --password would put the password on the command line, where any local user can read it; use --password-stdin, or --password-env with CAMD_PASSWORD",
            ip = Code::InvalidParameter
        );
    }
    if p.password_env {
        return std::env::var("CAMD_PASSWORD").map(Some).map_err(|_| {
            anyhow!(
                "{ip}: --password-env needs the password in CAMD_PASSWORD",
                ip = Code::InvalidParameter
            )
        });
    }
    if p.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            bail!(
                "{ip}: --password-stdin read no password",
                ip = Code::InvalidParameter
            );
        }
        return Ok(Some(pw));
    }
    Ok(None)
}

/// The console's CSV file, opened before anything is created: mode 0600,
/// never overwriting, never through a symbolic link. Removed again if the
/// user cannot be created.
struct CsvFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl CsvFile {
    fn create(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nofollow())
            .open(path)
            .map_err(|e| {
                let why = match e.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        "already exists (or is a link); refusing to overwrite".to_string()
                    }
                    std::io::ErrorKind::NotFound => "is in a folder that does not exist".into(),
                    _ => format!("cannot be created: {e}"),
                };
                anyhow!(
                    "{ip}: credentials file `{path}` {why}; nothing was created",
                    ip = Code::InvalidParameter,
                    path = path.display()
                )
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    fn write(mut self, c: &Credentials) -> Result<()> {
        let Some(mut f) = self.file.take() else {
            bail!("the credentials file was already written");
        };
        write_csv(&mut f, c)?;
        // Written: keep it.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for CsvFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `O_NOFOLLOW`: `create_new` already refuses an existing link; this also
/// says so where the platform would otherwise follow one.
fn nofollow() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// The console's CSV layout.
fn write_csv(f: &mut std::fs::File, c: &Credentials) -> Result<()> {
    let field = |v: &Option<String>| v.clone().unwrap_or_default().replace('"', "\"\"");
    let text = format!(
        "LoginLink,Username,Password,SecretId,SecretKey\n\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"\n",
        field(&c.login_link),
        c.name.replace('"', "\"\""),
        field(&c.password),
        field(&c.secret_id),
        field(&c.secret_key)
    );
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn done(out: &Out, what: String) -> Result<u8> {
    out.print(json!({"Result": "Done", "Message": what}), || what.clone());
    Ok(EXIT_OK)
}

fn user(client: &mut Client, out: &Out, c: UserCommand) -> Result<u8> {
    match c {
        UserCommand::Add {
            name,
            remark,
            console_login,
            password,
            need_reset_password,
            api_key,
            policies,
            email,
            phone,
            credentials_csv,
        } => {
            let password = chosen_password(&password)?;
            if password.is_some() && !console_login {
                bail!(
                    "{ip}: a console password needs --console-login",
                    ip = Code::InvalidParameter
                );
            }
            let csv = credentials_csv
                .as_deref()
                .map(CsvFile::create)
                .transpose()?;
            let body = Body::AddUser(AddUser {
                name,
                remark,
                console_login,
                password,
                need_reset_password,
                use_api: api_key,
                email,
                phone,
                policies,
            });
            match client.call(body).map_err(remote)? {
                Reply::Credentials(cred) => {
                    if let Some(f) = csv {
                        f.write(&cred)?;
                    }
                    out.print(credentials_json(&cred), || credentials_text(&cred));
                    Ok(EXIT_OK)
                }
                other => bail!("unexpected reply {other:?}"),
            }
        }
        UserCommand::Get { name } => match client.call(Body::GetUser(name)).map_err(remote)? {
            Reply::User(u) => {
                out.print(user_json(&u), || user_text(&u));
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        UserCommand::List => match client.call(Body::ListUsers).map_err(remote)? {
            Reply::Users(us) => {
                out.print(Value::Array(us.iter().map(user_json).collect()), || {
                    us.iter().map(user_text).collect::<Vec<_>>().join("\n")
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        UserCommand::Update {
            name,
            new_name,
            remark,
            console_login,
            password,
            need_reset_password,
            email,
            phone,
        } => {
            let password = chosen_password(&password)?;
            let body = Body::UpdateUser(UpdateUser {
                name,
                new_name,
                remark,
                console_login,
                password,
                need_reset_password,
                email,
                phone,
            });
            match client.call(body).map_err(remote)? {
                Reply::User(u) => {
                    out.print(user_json(&u), || user_text(&u));
                    Ok(EXIT_OK)
                }
                other => bail!("unexpected reply {other:?}"),
            }
        }
        UserCommand::Delete { name, force } => {
            client
                .call(Body::DeleteUser {
                    name: name.clone(),
                    force,
                })
                .map_err(remote)?;
            done(out, format!("deleted user `{name}`"))
        }
    }
}

fn group_json(g: &GroupInfo) -> Value {
    json!({"GroupName": g.name, "Remark": g.remark, "CreateTime": g.created_ms, "UserCount": g.members})
}

fn group(client: &mut Client, out: &Out, c: GroupCommand) -> Result<u8> {
    match c {
        GroupCommand::Create { name, remark } => {
            client
                .call(Body::CreateGroup {
                    name: name.clone(),
                    remark,
                })
                .map_err(remote)?;
            done(out, format!("created group `{name}`"))
        }
        GroupCommand::Delete { name } => {
            client
                .call(Body::DeleteGroup(name.clone()))
                .map_err(remote)?;
            done(out, format!("deleted group `{name}`"))
        }
        GroupCommand::List => match client.call(Body::ListGroups).map_err(remote)? {
            Reply::Groups(gs) => {
                out.print(Value::Array(gs.iter().map(group_json).collect()), || {
                    gs.iter()
                        .map(|g| format!("{}\t{} members\t{}", g.name, g.members, g.remark))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        GroupCommand::AddUser { group, user } => {
            client
                .call(Body::AddUserToGroup {
                    group: group.clone(),
                    user: user.clone(),
                })
                .map_err(remote)?;
            done(out, format!("added `{user}` to group `{group}`"))
        }
        GroupCommand::RemoveUser { group, user } => {
            client
                .call(Body::RemoveUserFromGroup {
                    group: group.clone(),
                    user: user.clone(),
                })
                .map_err(remote)?;
            done(out, format!("removed `{user}` from group `{group}`"))
        }
        GroupCommand::Members { group } => match client
            .call(Body::ListUsersForGroup(group))
            .map_err(remote)?
        {
            Reply::Users(us) => {
                out.print(Value::Array(us.iter().map(user_json).collect()), || {
                    us.iter().map(user_text).collect::<Vec<_>>().join("\n")
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
    }
}

fn policy_json(p: &PolicyInfo) -> Value {
    json!({"PolicyName": p.name, "Type": p.kind, "Description": p.description, "PolicyDocument": p.document})
}

fn attached_json(a: &AttachedInfo) -> Value {
    json!({"PolicyName": a.policy, "GroupName": a.via_group, "AddTime": a.attached_ms})
}

fn policy(client: &mut Client, out: &Out, c: PolicyCommand) -> Result<u8> {
    match c {
        PolicyCommand::List => match client.call(Body::ListPolicies).map_err(remote)? {
            Reply::Policies(ps) => {
                out.print(Value::Array(ps.iter().map(policy_json).collect()), || {
                    ps.iter()
                        .map(|p| format!("{}\t{}\t{}", p.name, p.kind, p.description))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        PolicyCommand::Get { name } => match client.call(Body::GetPolicy(name)).map_err(remote)? {
            Reply::Policies(ps) => {
                let p = ps.first().ok_or_else(|| anyhow!("empty reply"))?;
                out.print(policy_json(p), || {
                    format!(
                        "{} ({})\n{}",
                        p.name,
                        p.kind,
                        p.document.clone().unwrap_or_default()
                    )
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        PolicyCommand::Attach { name, target } => attach(client, out, name, target, true),
        PolicyCommand::Detach { name, target } => attach(client, out, name, target, false),
        PolicyCommand::Attached { target, all } => {
            let body = match target {
                Target { user: Some(u), .. } => Body::ListAttachedUserPolicies { user: u, all },
                Target { group: Some(g), .. } => Body::ListAttachedGroupPolicies(g),
                _ => bail!("{ip}: give --user or --group", ip = Code::InvalidParameter),
            };
            match client.call(body).map_err(remote)? {
                Reply::Attached(a) => {
                    out.print(Value::Array(a.iter().map(attached_json).collect()), || {
                        a.iter()
                            .map(|x| match &x.via_group {
                                Some(g) => format!("{}\t(via group `{g}`)", x.policy),
                                None => x.policy.clone(),
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                    Ok(EXIT_OK)
                }
                other => bail!("unexpected reply {other:?}"),
            }
        }
        PolicyCommand::Entities { name } => match client
            .call(Body::ListEntitiesForPolicy(name))
            .map_err(remote)?
        {
            Reply::Entities { users, groups } => {
                out.print(json!({"Users": users, "Groups": groups}), || {
                    format!("users: {}\ngroups: {}", users.join(", "), groups.join(", "))
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        PolicyCommand::Reload => match client.call(Body::ReloadPolicies).map_err(remote)? {
            Reply::Reload(r) => {
                out.print(reload_json(&r), || reload_text(&r));
                Ok(if r.applied { EXIT_OK } else { EXIT_ERROR })
            }
            other => bail!("unexpected reply {other:?}"),
        },
        PolicyCommand::Status => match client.call(Body::PolicyStatus).map_err(remote)? {
            Reply::PolicyStatus(s) => {
                let v = json!({
                    "Policies": s.policies.iter().map(|p| json!({"PolicyName": p.name, "Type": p.kind, "Hash": p.hash, "LoadTime": p.loaded_ms})).collect::<Vec<_>>(),
                    "LastReload": s.last_reload.as_ref().map(reload_json),
                    "DanglingAttachments": s.dangling.iter().map(|(e, p)| json!({"Entity": e, "PolicyName": p})).collect::<Vec<_>>(),
                });
                out.print(v, || {
                    let mut t: Vec<String> = s
                        .policies
                        .iter()
                        .map(|p| {
                            format!(
                                "{}\t{}\t{}\tloaded {}",
                                p.name,
                                p.kind,
                                p.hash.get(..12).unwrap_or(&p.hash),
                                p.loaded_ms
                            )
                        })
                        .collect();
                    match &s.last_reload {
                        Some(r) => t.push(format!("last reload: {}", reload_text(r))),
                        None => t.push("last reload: none since start".into()),
                    }
                    t.extend(s.dangling.iter().map(|(e, p)| {
                        format!("dangling: {e} has policy `{p}`, which is not loaded")
                    }));
                    t.join("\n")
                });
                Ok(EXIT_OK)
            }
            other => bail!("unexpected reply {other:?}"),
        },
        PolicyCommand::Lint { .. } | PolicyCommand::Simulate(_) => Ok(EXIT_ERROR),
    }
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
        t.push_str(&format!(
            "\n{}:{}:{}: {}{at}: {}",
            e.file, e.line, e.column, e.code, e.message
        ));
    }
    t
}

/// Attaches (or detaches) a policy to a user or a group.
fn attach(client: &mut Client, out: &Out, policy: String, target: Target, on: bool) -> Result<u8> {
    let (body, whom) = match (target, on) {
        (
            Target {
                user: Some(user), ..
            },
            true,
        ) => (
            Body::AttachUserPolicy {
                user: user.clone(),
                policy: policy.clone(),
            },
            format!("user `{user}`"),
        ),
        (
            Target {
                user: Some(user), ..
            },
            false,
        ) => (
            Body::DetachUserPolicy {
                user: user.clone(),
                policy: policy.clone(),
            },
            format!("user `{user}`"),
        ),
        (
            Target {
                group: Some(group), ..
            },
            true,
        ) => (
            Body::AttachGroupPolicy {
                group: group.clone(),
                policy: policy.clone(),
            },
            format!("group `{group}`"),
        ),
        (
            Target {
                group: Some(group), ..
            },
            false,
        ) => (
            Body::DetachGroupPolicy {
                group: group.clone(),
                policy: policy.clone(),
            },
            format!("group `{group}`"),
        ),
        _ => bail!("{ip}: give --user or --group", ip = Code::InvalidParameter),
    };
    client.call(body).map_err(remote)?;
    done(
        out,
        if on {
            format!("attached `{policy}` to {whom}")
        } else {
            format!("detached `{policy}` from {whom}")
        },
    )
}

fn key_json(k: &KeyInfo) -> Value {
    json!({"SecretId": k.secret_id, "Uin": k.owner, "Status": k.status, "CreateTime": k.created_ms, "LastUsedTime": k.last_used_ms})
}

fn key(client: &mut Client, out: &Out, c: KeyCommand) -> Result<u8> {
    match c {
        KeyCommand::Create { user, .. } => {
            match client.call(Body::CreateAccessKey(user)).map_err(remote)? {
                Reply::Credentials(cred) => {
                    out.print(credentials_json(&cred), || credentials_text(&cred));
                    Ok(EXIT_OK)
                }
                other => bail!("unexpected reply {other:?}"),
            }
        }
        KeyCommand::List { user, .. } => {
            match client.call(Body::ListAccessKeys(user)).map_err(remote)? {
                Reply::Keys(ks) => {
                    out.print(Value::Array(ks.iter().map(key_json).collect()), || {
                        ks.iter()
                            .map(|k| format!("{}\t{}", k.secret_id, k.status))
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                    Ok(EXIT_OK)
                }
                other => bail!("unexpected reply {other:?}"),
            }
        }
        KeyCommand::Disable { id } | KeyCommand::Enable { id } if id.is_empty() => {
            bail!("{ip}: empty SecretId", ip = Code::InvalidParameter)
        }
        KeyCommand::Disable { id } => set_key(client, out, id, false),
        KeyCommand::Enable { id } => set_key(client, out, id, true),
        KeyCommand::Delete { id } => {
            client
                .call(Body::DeleteAccessKey(id.clone()))
                .map_err(remote)?;
            done(out, format!("deleted access key `{id}`"))
        }
    }
}

fn set_key(client: &mut Client, out: &Out, secret_id: String, active: bool) -> Result<u8> {
    match client
        .call(Body::UpdateAccessKey { secret_id, active })
        .map_err(remote)?
    {
        Reply::Key(k) => {
            out.print(key_json(&k), || format!("{}\t{}", k.secret_id, k.status));
            Ok(EXIT_OK)
        }
        other => bail!("unexpected reply {other:?}"),
    }
}

/// Entries per audit request.
const AUDIT_PAGE: u32 = 1000;

fn audit_page(client: &mut Client, since: u64) -> Result<Vec<AuditInfo>> {
    match client
        .call(Body::Audit {
            since,
            limit: AUDIT_PAGE,
        })
        .map_err(remote)?
    {
        Reply::Audit(a) => Ok(a),
        other => bail!("unexpected reply {other:?}"),
    }
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

fn audit(client: &mut Client, out: &Out, since: Option<u64>, follow: bool) -> Result<u8> {
    // Without --since: the last 50 entries. Read all pages, keep the tail.
    let mut next = since.unwrap_or(0);
    let mut entries = Vec::new();
    loop {
        let page = audit_page(client, next)?;
        let full = page.len() == AUDIT_PAGE as usize;
        if let Some(last) = page.last() {
            next = last.seq + 1;
        }
        entries.extend(page);
        if since.is_none() && entries.len() > 50 {
            entries.drain(..entries.len() - 50);
        }
        if !full {
            break;
        }
    }
    if follow {
        loop {
            for e in &entries {
                if out.json {
                    println!("{}", audit_json(e));
                } else {
                    println!("{}", audit_text(e));
                }
            }
            std::io::Write::flush(&mut std::io::stdout())?;
            std::thread::sleep(std::time::Duration::from_millis(250));
            entries = audit_page(client, next)?;
            if let Some(last) = entries.last() {
                next = last.seq + 1;
            }
        }
    }
    out.print(
        Value::Array(entries.iter().map(audit_json).collect()),
        || {
            entries
                .iter()
                .map(audit_text)
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
    Ok(EXIT_OK)
}

fn status_json(s: &StatusInfo) -> Value {
    json!({"Version": s.version, "OwnerUin": s.owner_uin, "Users": s.users, "Groups": s.groups, "AccessKeys": s.keys,
           "Attachments": s.attachments, "CustomPolicies": s.custom_policies,
           "DanglingAttachments": s.dangling.iter().map(|(e, p)| json!({"Entity": e, "PolicyName": p})).collect::<Vec<_>>(),
           "Generation": s.generation, "UptimeSeconds": s.uptime_secs,
           "Decisions": {"Allow": s.allows, "Deny": s.denies, "Unauthenticated": s.unauthenticated, "Throttled": s.throttled}})
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
    t
}
