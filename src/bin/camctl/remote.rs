//! camctl's commands that talk to camd: each becomes one typed operation,
//! whose reply is printed as text or JSON (`show.rs`) with its exit code.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use serde_json::json;

use camd::client::{Client, ClientError, by_key, by_user, signed};
use camd::code::Code;
use camd::protocol::{
    AddUser, AddUserToGroup, AttachGroupPolicy, AttachUserPolicy, Audit, AuditInfo,
    CreateAccessKey, CreateGroup, Decision, DeleteAccessKey, DeleteGroup, DeleteUser,
    DetachGroupPolicy, DetachUserPolicy, Done, GetMetrics, GetPolicy, GetUser, KeyAuth, KeyReseal,
    ListAccessKeys, ListAttachedGroupPolicies, ListAttachedUserPolicies, ListEntitiesForPolicy,
    ListGroups, ListPolicies, ListUsers, ListUsersForGroup, Op, PolicyStatus, ReloadPolicies,
    RemoveUserFromGroup, Status, UpdateAccessKey, UpdateUser,
};

use camd::api;
use camd::protocol::{
    CreatePolicy, DeletePolicy, GetGroup, GetSecurityLastUsed, UpdateGroup, UpdatePolicy,
    UserPermissions,
};

use super::managed::{self, BoundaryOp, VersionOp};
use super::secrets::{CsvFile, chosen_password, secret_from_env_or_stdin};
use super::show::{Document, Show};
use super::{
    AddUserArgs, AskArgs, Command, EXIT_DENY, EXIT_ERROR, EXIT_OK, GroupCommand, KeyCommand,
    PolicyCommand, Target, UserCommand, VerifyArgs, parse_context,
};

/// The socket: the flag, else the default (`client::default_socket`).
fn socket(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(camd::client::default_socket)
}

pub(super) struct Out {
    json: bool,
}

impl Out {
    pub(super) fn print(&self, v: &impl Show) {
        self.print_at(v, None);
    }

    /// Prints `v`; in cluster mode a write's reply also names the revision
    /// it made (`Revision`), which `check`/`auth --at-revision` on any
    /// other host can wait for.
    fn print_at(&self, v: &impl Show, revision: Option<i64>) {
        if self.json {
            let mut j = v.json();
            if let (Some(r), Some(o)) = (revision, j.as_object_mut()) {
                o.insert("Revision".into(), json!(r));
            }
            println!("{j}");
        } else {
            println!("{}", v.text());
            if let Some(r) = revision {
                println!("Revision: {r}");
            }
        }
    }

    pub(super) fn done(&self, what: String, revision: Option<i64>) {
        if self.json {
            let mut j = json!({"Result": "Done", "Message": what});
            if let (Some(r), Some(o)) = (revision, j.as_object_mut()) {
                o.insert("Revision".into(), json!(r));
            }
            println!("{j}");
        } else {
            println!("{what}");
            if let Some(r) = revision {
                println!("Revision: {r}");
            }
        }
    }
}

pub(super) fn remote(e: ClientError) -> anyhow::Error {
    match &e {
        ClientError::Io { cause, .. }
            if matches!(
                cause.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            anyhow!(
                "{e}; is camd running? start it (`cargo run --release --bin camd` in the source folder, or `systemctl start camd.socket`), or name its socket with --socket or CAMD_SOCKET"
            )
        }
        _ => anyhow!(e),
    }
}

/// Calls `op` and prints its reply.
pub(super) fn show<O: Op>(client: &mut Client, out: &Out, op: O) -> Result<u8>
where
    O::Reply: Show,
{
    out.print(&client.call(op).map_err(remote)?);
    Ok(EXIT_OK)
}

/// Calls the write `op` and prints its reply, with the revision it made in
/// cluster mode.
pub(super) fn show_write<O: Op>(client: &mut Client, out: &Out, op: O) -> Result<u8>
where
    O::Reply: Show,
{
    let reply = client.call(op).map_err(remote)?;
    out.print_at(&reply, client.revision());
    Ok(EXIT_OK)
}

/// Calls `op`, whose reply is `Done`, and says what was done.
pub(super) fn done<O: Op<Reply = Done>>(
    client: &mut Client,
    out: &Out,
    op: O,
    what: String,
) -> Result<u8> {
    client.call(op).map_err(remote)?;
    out.done(what, client.revision());
    Ok(EXIT_OK)
}

/// Connects once camd answers a ping, trying for up to `secs` seconds.
fn connect_within(path: &std::path::Path, secs: u64) -> Result<Client> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let tried = Client::connect(path).and_then(|mut c| c.ping().map(|_| c));
        match tried {
            Ok(c) => return Ok(c),
            Err(e) if std::time::Instant::now() >= deadline => return Err(remote(e)),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
}

pub fn run(
    command: Command,
    socket_flag: Option<PathBuf>,
    json: bool,
    as_key: Option<String>,
) -> Result<u8> {
    let path = socket(socket_flag);
    let mut client = match command {
        Command::Status { wait: Some(secs) } => connect_within(&path, secs)?,
        _ => Client::connect(&path).map_err(remote)?,
    };
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
    let c = &mut client;
    match command {
        Command::User(cmd) => user(c, &out, cmd),
        Command::Group(cmd) => group(c, &out, cmd),
        Command::Policy(cmd) => policy(c, &out, cmd),
        Command::Key(cmd) => key(c, &out, cmd),
        Command::Status { .. } => show(c, &out, Status),
        Command::Account(cmd) => super::account::run(c, &out, cmd),
        Command::Role(cmd) => super::roles::run(c, &out, cmd),
        Command::Metrics => show(c, &out, GetMetrics),
        Command::Decisions(cmd) => super::decisions::run(c, &out, cmd),
        Command::Completions { .. } | Command::Man { .. } => Ok(EXIT_ERROR),
        Command::Audit { since, follow } => audit(c, &out, since, follow),
        Command::Verify(args) => verify(c, &out, args),
        Command::Sign(_) => Ok(EXIT_ERROR),
        Command::Check { user, ask } => decide(c, &out, &ask, |a, r, x| by_user(&user, a, r, x)),
        Command::Auth { secret_id, ask } => {
            let secret = secret_from_env_or_stdin()?;
            decide(c, &out, &ask, |a, r, x| {
                by_key(&secret_id, &secret, a, r, x)
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
    let question = build(&ask.action, &ask.resource, &pairs);
    let d: Decision = match ask.at_revision {
        Some(r) => client.authorize_at(r, question),
        None => client.authorize(question),
    }
    .map_err(remote)?;
    Ok(verdict(out, &d, client.last_decision_id()))
}

/// Prints a decision; its exit code.
fn verdict(out: &Out, d: &Decision, id: Option<camd::protocol::DecisionId>) -> u8 {
    let text = || {
        let verdict = if d.allowed { "Allow" } else { "Deny" };
        let why = match (d.reason.as_str(), &d.policy, d.statement) {
            (_, Some(p), Some(s)) => format!("{} by policy `{p}` statement[{s}]", d.reason),
            ("ImplicitDeny", _, _) => "no statement allows it (implicit deny)".to_string(),
            ("OutsideBoundary", Some(p), None) => {
                format!("OutsideBoundary: the permissions boundary `{p}` does not allow it")
            }
            ("Root", _, _) => "the root account is allowed everything".to_string(),
            (r, _, _) => r.to_string(),
        };
        format!("{verdict}: {why}")
    };
    if out.json {
        let mut j = json!({"Decision": if d.allowed {"Allow"} else {"Deny"}, "Reason": d.reason, "PolicyName": d.policy,
                   "StatementIndex": d.statement, "Uin": d.uin});
        if let (Some(id), Some(o)) = (id, j.as_object_mut()) {
            o.insert("DecisionId".into(), json!(id.to_string()));
        }
        println!("{j}");
    } else {
        println!("{}", text());
    }
    if d.allowed { EXIT_OK } else { EXIT_DENY }
}

/// `camctl verify`: a raw HTTP request from stdin, verified and decided by camd.
fn verify(client: &mut Client, out: &Out, args: VerifyArgs) -> Result<u8> {
    let request = super::signing::read_http(&mut std::io::stdin().lock())?;
    let ctx = parse_context(&args.context)?;
    let pairs: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let d = client
        .authorize_signed(signed(
            request,
            &args.resource,
            args.action.as_deref().or(args.service.as_deref()),
            &pairs,
        ))
        .map_err(remote)?;
    Ok(verdict(out, &d, client.last_decision_id()))
}

fn user(client: &mut Client, out: &Out, c: UserCommand) -> Result<u8> {
    match c {
        UserCommand::Add(args) => user_add(client, out, args),
        UserCommand::Get { name } => show(client, out, GetUser { name }),
        UserCommand::List => show(client, out, ListUsers),
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
            let op = UpdateUser {
                name,
                new_name,
                remark,
                console_login,
                password,
                need_reset_password,
                email,
                phone,
            };
            show(client, out, op)
        }
        UserCommand::Delete { name, force } => {
            let what = format!("deleted user `{name}`");
            done(client, out, DeleteUser { name, force }, what)
        }
        UserCommand::Boundary(b) => user_boundary(client, out, b),
        UserCommand::Permissions {
            name,
            service,
            allowed_only,
        } => {
            let mut all = client
                .call(UserPermissions {
                    user: name,
                    service,
                })
                .map_err(remote)?;
            if allowed_only {
                let denied = camd::policy::permissions::Access::Denied.as_str();
                all.retain(|p| p.access != denied);
            }
            out.print(&all);
            Ok(EXIT_OK)
        }
    }
}

/// `camctl user add`: the credentials printed once (and written to the
/// CSV file, if asked).
fn user_add(client: &mut Client, out: &Out, a: AddUserArgs) -> Result<u8> {
    let password = chosen_password(&a.password)?;
    if password.is_some() && !a.console_login {
        bail!(
            "{ip}: a console password needs --console-login",
            ip = Code::InvalidParameter
        );
    }
    let csv = a
        .credentials_csv
        .as_deref()
        .map(CsvFile::create)
        .transpose()?;
    let cred = client
        .call(AddUser {
            name: a.name,
            remark: a.remark,
            console_login: a.console_login,
            password,
            need_reset_password: a.need_reset_password,
            use_api: a.api_key,
            email: a.email,
            phone: a.phone,
            policies: a.policies,
        })
        .map_err(remote)?;
    if let Some(f) = csv {
        f.write(&cred)?;
    }
    out.print_at(&cred, client.revision());
    Ok(EXIT_OK)
}

/// `camctl user boundary set|get|delete`.
fn user_boundary(client: &mut Client, out: &Out, b: managed::BoundaryCommand) -> Result<u8> {
    match managed::boundary_request(b) {
        BoundaryOp::Set(op) => {
            let what = format!("user `{}` is bounded by `{}`", op.user, op.policy);
            done(client, out, op, what)
        }
        BoundaryOp::Get(op) => show(client, out, op),
        BoundaryOp::Delete(op) => {
            let what = format!("user `{}` has no permissions boundary", op.user);
            done(client, out, op, what)
        }
    }
}

fn group(client: &mut Client, out: &Out, c: GroupCommand) -> Result<u8> {
    match c {
        GroupCommand::Create { name, remark } => {
            let what = format!("created group `{name}`");
            done(client, out, CreateGroup { name, remark }, what)
        }
        GroupCommand::Delete { name } => {
            let what = format!("deleted group `{name}`");
            done(client, out, DeleteGroup { name }, what)
        }
        GroupCommand::List => show(client, out, ListGroups),
        GroupCommand::AddUser { group, user } => {
            let what = format!("added `{user}` to group `{group}`");
            done(client, out, AddUserToGroup { group, user }, what)
        }
        GroupCommand::RemoveUser { group, user } => {
            let what = format!("removed `{user}` from group `{group}`");
            done(client, out, RemoveUserFromGroup { group, user }, what)
        }
        GroupCommand::Members { group } => show(client, out, ListUsersForGroup { group }),
        GroupCommand::Get { name } => show(client, out, GetGroup { name }),
        GroupCommand::Update { name, remark } => {
            let what = format!("updated group `{name}`");
            done(client, out, UpdateGroup { name, remark }, what)
        }
    }
}

fn policy(client: &mut Client, out: &Out, c: PolicyCommand) -> Result<u8> {
    match c {
        PolicyCommand::List { scope, keyword } => policy_list(client, out, &scope, keyword),
        PolicyCommand::Create {
            name,
            document,
            description,
            tags,
        } => {
            let what = format!("created policy `{name}` (version 1)");
            let document = managed::read_document(&document)?;
            let op = CreatePolicy {
                name,
                document,
                description,
                tags,
            };
            done(client, out, op, what)
        }
        PolicyCommand::Update {
            name,
            document,
            description,
            alias,
        } => {
            let what = format!("updated policy `{name}`");
            let document = document.map(|d| managed::read_document(&d)).transpose()?;
            let op = UpdatePolicy {
                name,
                document,
                description,
                alias,
            };
            done(client, out, op, what)
        }
        PolicyCommand::Delete { name } => {
            let what = format!("deleted policy `{name}`");
            done(client, out, DeletePolicy { name }, what)
        }
        PolicyCommand::Push { dir } => managed::push(client, &dir, out.json),
        PolicyCommand::Version(v) => policy_version(client, out, v),
        PolicyCommand::Get { name } => {
            let found = client.call(GetPolicy { policy: name }).map_err(remote)?;
            let p = found
                .first()
                .ok_or_else(|| anyhow!("camd returned no policy"))?;
            out.print(&Document(p));
            Ok(EXIT_OK)
        }
        PolicyCommand::Attach { name, target } => attach(client, out, name, target),
        PolicyCommand::Detach { name, target } => detach(client, out, name, target),
        PolicyCommand::Attached { target, all } => match target {
            Target {
                user: Some(user), ..
            } => show(client, out, ListAttachedUserPolicies { user, all }),
            Target {
                group: Some(group), ..
            } => show(client, out, ListAttachedGroupPolicies { group }),
            _ => bail!("{ip}: give --user or --group", ip = Code::InvalidParameter),
        },
        PolicyCommand::Entities { name } => {
            show(client, out, ListEntitiesForPolicy { policy: name })
        }
        PolicyCommand::Reload => {
            let r = client.call(ReloadPolicies).map_err(remote)?;
            out.print(&r);
            Ok(if r.applied { EXIT_OK } else { EXIT_ERROR })
        }
        PolicyCommand::Status => show(client, out, PolicyStatus),
        PolicyCommand::Lint { .. } | PolicyCommand::Simulate(_) | PolicyCommand::Diff { .. } => {
            Ok(EXIT_ERROR)
        }
    }
}

/// `camctl policy list`: by Scope and keyword, as ListPolicies filters.
fn policy_list(client: &mut Client, out: &Out, scope: &str, keyword: Option<String>) -> Result<u8> {
    let all = client.call(ListPolicies).map_err(remote)?;
    let scope = api::parse_scope(Some(scope)).map_err(|e| anyhow!("{e}"))?;
    let keyword = keyword.unwrap_or_default();
    let shown: Vec<_> = all
        .into_iter()
        .filter(|p| api::fields::listed(p, scope, &keyword))
        .collect();
    out.print(&shown);
    Ok(EXIT_OK)
}

/// `camctl policy version create|list|get|set-default|delete`.
fn policy_version(client: &mut Client, out: &Out, v: managed::VersionCommand) -> Result<u8> {
    match managed::version_request(v)? {
        VersionOp::Create(op) => show(client, out, op),
        VersionOp::List(op) => show(client, out, op),
        VersionOp::Get(op) => show(client, out, op),
        VersionOp::SetDefault(op) => {
            let what = format!("version {} of `{}` is the default", op.version, op.name);
            done(client, out, op, what)
        }
        VersionOp::Delete(op) => {
            let what = format!("deleted versions {:?} of `{}`", op.versions, op.name);
            done(client, out, op, what)
        }
    }
}

/// Attaches ("Associate") a policy to a user or a group.
fn attach(client: &mut Client, out: &Out, policy: String, target: Target) -> Result<u8> {
    match target {
        Target {
            user: Some(user), ..
        } => {
            let what = format!("attached `{policy}` to user `{user}`");
            done(client, out, AttachUserPolicy { user, policy }, what)
        }
        Target {
            group: Some(group), ..
        } => {
            let what = format!("attached `{policy}` to group `{group}`");
            done(client, out, AttachGroupPolicy { group, policy }, what)
        }
        _ => bail!("{ip}: give --user or --group", ip = Code::InvalidParameter),
    }
}

/// Detaches ("Unassociate") a policy from a user or a group.
fn detach(client: &mut Client, out: &Out, policy: String, target: Target) -> Result<u8> {
    match target {
        Target {
            user: Some(user), ..
        } => {
            let what = format!("detached `{policy}` from user `{user}`");
            done(client, out, DetachUserPolicy { user, policy }, what)
        }
        Target {
            group: Some(group), ..
        } => {
            let what = format!("detached `{policy}` from group `{group}`");
            done(client, out, DetachGroupPolicy { group, policy }, what)
        }
        _ => bail!("{ip}: give --user or --group", ip = Code::InvalidParameter),
    }
}

fn key(client: &mut Client, out: &Out, c: KeyCommand) -> Result<u8> {
    match c {
        KeyCommand::Create {
            user,
            user_flag,
            description,
            ..
        } => show_write(
            client,
            out,
            CreateAccessKey {
                user: user.or(user_flag),
                description,
            },
        ),
        KeyCommand::List {
            user, user_flag, ..
        } => show(
            client,
            out,
            ListAccessKeys {
                user: user.or(user_flag),
            },
        ),
        KeyCommand::Disable { id } | KeyCommand::Enable { id } if id.is_empty() => {
            bail!("{ip}: empty SecretId", ip = Code::InvalidParameter)
        }
        KeyCommand::Disable { id } => show(
            client,
            out,
            UpdateAccessKey {
                secret_id: id,
                active: false,
            },
        ),
        KeyCommand::Enable { id } => show(
            client,
            out,
            UpdateAccessKey {
                secret_id: id,
                active: true,
            },
        ),
        KeyCommand::Delete { id } => {
            let what = format!("deleted access key `{id}`");
            done(client, out, DeleteAccessKey { secret_id: id }, what)
        }
        KeyCommand::Reseal => {
            let wait =
                super::progress::Waiting::new("resealing every sealed SecretKey in one commit");
            let shown = show(client, out, KeyReseal);
            wait.finish();
            shown
        }
        KeyCommand::LastUsed { ids } => show(client, out, GetSecurityLastUsed { secret_ids: ids }),
    }
}

/// Entries per audit request.
const AUDIT_PAGE: u32 = 1000;

fn audit_page(client: &mut Client, since: u64) -> Result<Vec<AuditInfo>> {
    client
        .call(Audit {
            since,
            limit: AUDIT_PAGE,
        })
        .map_err(remote)
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
                out.print(e);
            }
            std::io::Write::flush(&mut std::io::stdout())?;
            std::thread::sleep(std::time::Duration::from_millis(250));
            entries = audit_page(client, next)?;
            if let Some(last) = entries.last() {
                next = last.seq + 1;
            }
        }
    }
    out.print(&entries);
    Ok(EXIT_OK)
}
