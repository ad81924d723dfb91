//! `camctl`: the operator's command-line client, the console's equivalent.
//! `policy lint` and `policy simulate` work without a daemon.

mod account;
mod decisions;
mod managed;
mod progress;
mod remote;
mod roles;
mod secrets;
mod show;
mod signing;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::json;

use camd::catalog::{PolicyFileError, read_policy_file};
use camd::code::Code;
use camd::policy::{Principal, parse_time_ms};
use camd::simulate::{Simulation, simulate};

/// Exit code for an allowed request or a successful command.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code for a denied request.
const EXIT_DENY: u8 = 1;
/// Exit code for any error.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "camctl",
    version,
    about = "Operate camd, the local CAM daemon for Chat"
)]
struct Cli {
    /// camd's socket (else $CAMD_SOCKET, else state/camd.sock, else /run/camd/camd.sock).
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    /// Print one JSON object or array, with CAM field names.
    #[arg(long, global = true)]
    json: bool,
    /// Act with this access key (delegated administration); the SecretKey comes from $CAMD_SECRET_KEY.
    #[arg(long = "as-key", global = true, value_name = "SECRET_ID")]
    as_key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sub-users.
    #[command(subcommand)]
    User(UserCommand),
    /// User groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Policies: list, attach, and check or simulate locally.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Access keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Roles: who may assume each (its trust policy) and what it may do.
    #[command(subcommand)]
    Role(roles::RoleCommand),
    /// The account: counts, AppId, sub-users by uin, every account.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// The daemon's counts and health, with decision counters since start.
    Status {
        /// Wait up to this many seconds for camd to answer (a script that
        /// has just started it), instead of failing at once.
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
    },
    /// The audit trail: admin changes, refused operations, failed and throttled authentications (operator only).
    Audit {
        /// Start at this sequence number (default: the last 50 entries).
        #[arg(long)]
        since: Option<u64>,
        /// Keep printing new entries as they are recorded.
        #[arg(long)]
        follow: bool,
    },
    /// camd's metrics in the Prometheus text format (operator only).
    Metrics,
    /// The decision log: its state, and its records (operator only).
    #[command(subcommand)]
    Decisions(decisions::DecisionsCommand),
    /// Print the shell completion script (bash, zsh, fish, ...).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write man pages for camctl and every subcommand into DIR.
    Man {
        /// Where to write them.
        dir: PathBuf,
    },
    /// Ask camd whether a user may do an action; exit 0 for Allow, 1 for Deny.
    Check {
        /// The user's name.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        ask: AskArgs,
    },
    /// Print the Authorization and X-TC-* headers of a TC3-signed request
    /// (SecretKey from $CAMD_SECRET_KEY or stdin), for testing an integration.
    Sign(SignArgs),
    /// Read a raw HTTP/1.1 request on stdin and ask camd to verify its TC3
    /// signature and decide for the signer; exit 0 for Allow, 1 for Deny.
    Verify(VerifyArgs),
    /// Ask camd with an access key (SecretKey from $CAMD_SECRET_KEY or stdin); exit 0 for Allow, 1 for Deny.
    Auth {
        /// The access key's SecretId.
        #[arg(long)]
        secret_id: String,
        #[command(flatten)]
        ask: AskArgs,
    },
}

#[derive(Args)]
struct SignArgs {
    /// The access key's SecretId.
    #[arg(long)]
    secret_id: String,
    /// The service of the credential scope, e.g. `cam` or `im`.
    #[arg(long)]
    service: String,
    /// X-TC-Action, e.g. `ListUsers` or `SendMessage`.
    #[arg(long)]
    action: String,
    /// The Host header.
    #[arg(long, default_value = "cam.tencentcloudapi.com")]
    host: String,
    /// X-TC-Version.
    #[arg(long, default_value = "2019-01-16")]
    version: String,
    /// X-TC-Region (omitted when empty).
    #[arg(long, default_value = "")]
    region: String,
    /// X-TC-Timestamp, seconds since the epoch (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
    /// Print the whole HTTP/1.1 request (request line, headers, body), as
    /// `camctl verify` reads it, instead of the headers alone.
    #[arg(long)]
    request: bool,
    /// The JSON body.
    #[arg(long, default_value = "{}", conflicts_with = "body_file")]
    body: String,
    /// Read the body from this file.
    #[arg(long)]
    body_file: Option<PathBuf>,
}

#[derive(Args)]
struct VerifyArgs {
    /// The resource, e.g. `qcs::im::uin/100000000001:sdkappid/1400000001`.
    #[arg(long)]
    resource: String,
    /// The action, e.g. `im:SendMessage`; or give `--service`.
    #[arg(long, required_unless_present = "service", conflicts_with = "service")]
    action: Option<String>,
    /// The asking service (`im`): the action is `<service>:<X-TC-Action>`,
    /// and the signature's scope must name this service.
    #[arg(long)]
    service: Option<String>,
    /// Request context `KEY=VALUE`; give a key twice for several values.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
}

#[derive(Args)]
struct AskArgs {
    /// The action, e.g. `im:SendMessage`.
    #[arg(long)]
    action: String,
    /// The resource, e.g. `qcs::im::uin/100000000001:sdkappid/1400000001`, or `*`.
    #[arg(long)]
    resource: String,
    /// Request context `KEY=VALUE`; give a key twice for several values.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Cluster mode: decide once this host has the revision a write printed
    /// (`Revision`), waiting for it if needed.
    #[arg(long, value_name = "REVISION")]
    at_revision: Option<i64>,
}

/// `camctl user add`'s arguments.
#[derive(clap::Args)]
struct AddUserArgs {
    /// Unique name.
    name: String,
    /// Free text.
    #[arg(long, default_value = "")]
    remark: String,
    /// Allow console login (a password is generated unless given).
    #[arg(long)]
    console_login: bool,
    #[command(flatten)]
    password: PasswordArgs,
    /// Must change the password at first login.
    #[arg(long)]
    need_reset_password: bool,
    /// Create an access key (SecretId/SecretKey).
    #[arg(long)]
    api_key: bool,
    /// Attach a policy; repeat for several.
    #[arg(long = "policy")]
    policies: Vec<String>,
    /// Contact e-mail.
    #[arg(long, default_value = "")]
    email: String,
    /// Contact phone.
    #[arg(long, default_value = "")]
    phone: String,
    /// Write the credentials as the console's CSV file (mode 0600; never overwrites).
    #[arg(long)]
    credentials_csv: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a sub-user and print their credentials once.
    Add(AddUserArgs),
    /// Show a user.
    Get {
        /// The user.
        name: String,
    },
    /// List users.
    List,
    /// Change a user.
    Update {
        /// The user.
        name: String,
        /// A new name.
        #[arg(long)]
        new_name: Option<String>,
        /// A new remark.
        #[arg(long)]
        remark: Option<String>,
        /// Console login on or off.
        #[arg(long)]
        console_login: Option<bool>,
        #[command(flatten)]
        password: PasswordArgs,
        /// Must change the password at next login.
        #[arg(long)]
        need_reset_password: Option<bool>,
        /// A new e-mail.
        #[arg(long)]
        email: Option<String>,
        /// A new phone.
        #[arg(long)]
        phone: Option<String>,
    },
    /// Delete a user (with --force, also their access keys).
    Delete {
        /// The user.
        name: String,
        /// Also delete their access keys.
        #[arg(long)]
        force: bool,
    },
    /// A user's permissions boundary.
    #[command(subcommand)]
    Boundary(managed::BoundaryCommand),
    /// What a user may do: per catalogued action, whether, on which
    /// resources, under which conditions, and from where.
    Permissions {
        /// The user.
        name: String,
        /// Only this service's actions (`im`, `cam`).
        #[arg(long)]
        service: Option<String>,
        /// Only the actions the user may do, on some resource at least
        /// (Allowed or Partly).
        #[arg(long)]
        allowed_only: bool,
    },
}

/// A chosen console password: never an argument (any local user can read
/// a command line), only stdin or the environment.
#[derive(Args)]
struct PasswordArgs {
    /// Read the console password (8-32 characters: upper, lower, digit,
    /// symbol) from the first line of stdin.
    #[arg(long, conflicts_with = "password_env")]
    password_stdin: bool,
    /// Take the console password from $CAMD_PASSWORD.
    #[arg(long)]
    password_env: bool,
    /// Refused: a password on the command line is readable by any local user.
    #[arg(long, hide = true, value_name = "PASSWORD")]
    password: Option<String>,
}

/// `KEY=VALUE` as a tag.
fn parse_tag(s: &str) -> Result<camd::protocol::Tag, String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("tag `{s}` is not KEY=VALUE"))?;
    Ok(camd::protocol::Tag {
        key: key.to_string(),
        value: value.to_string(),
    })
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group.
    Create {
        /// Unique name.
        name: String,
        /// Free text.
        #[arg(long, default_value = "")]
        remark: String,
    },
    /// Delete a group (its memberships and attachments go with it).
    Delete {
        /// The group.
        name: String,
    },
    /// List groups.
    List,
    /// Add a user to a group.
    AddUser {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// List a group's members.
    Members {
        /// The group.
        group: String,
    },
    /// Show a group with its members.
    Get {
        /// The group.
        name: String,
    },
    /// Change a group's remark.
    Update {
        /// The group.
        name: String,
        /// A new remark.
        #[arg(long)]
        remark: Option<String>,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// A user.
    #[arg(long)]
    user: Option<String>,
    /// A group.
    #[arg(long)]
    group: Option<String>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// List preset, file-managed and API-managed policies.
    List {
        /// `All`, `QCS` (presets) or `Local` (custom).
        #[arg(long, default_value = "All")]
        scope: String,
        /// Only policies whose name or description contains this.
        #[arg(long)]
        keyword: Option<String>,
    },
    /// Create an API-managed custom policy (its document becomes version 1).
    Create {
        /// Unique name.
        name: String,
        /// The document (a JSON file).
        #[arg(long)]
        document: PathBuf,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// A tag, KEY=VALUE (repeat for more; at most 50).
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<camd::protocol::Tag>,
    },
    /// Replace an API-managed policy's default version (and/or
    /// description), or set a preset's alias.
    Update {
        /// The policy.
        name: String,
        /// The new document (a JSON file).
        #[arg(long)]
        document: Option<PathBuf>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// A preset policy's alias (its remark; empty clears it).
        #[arg(long)]
        alias: Option<String>,
    },
    /// Delete an API-managed policy nothing uses.
    Delete {
        /// The policy.
        name: String,
    },
    /// An API-managed policy's versions.
    #[command(subcommand)]
    Version(managed::VersionCommand),
    /// Publish a policy folder as API-managed policies (new names created,
    /// changed documents replace their default version): how cluster mode
    /// takes policy files.
    Push {
        /// The folder of `*.json` policy files.
        dir: PathBuf,
    },
    /// Which catalogued actions change for which resources from OLD to NEW
    /// (files, policy names, or NAME:VERSION); exit 0 when none, 1 otherwise.
    Diff {
        /// The policy before.
        old: String,
        /// The policy after.
        new: String,
    },
    /// Show a policy and its document.
    Get {
        /// The policy.
        name: String,
    },
    /// Attach ("Associate") a policy to a user or group.
    Attach {
        /// The policy.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Detach ("Unassociate") a policy from a user or group.
    Detach {
        /// The policy.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Policies attached to a user (--all: also through groups) or a group.
    Attached {
        #[command(flatten)]
        target: Target,
        /// Include policies attached through the user's groups.
        #[arg(long)]
        all: bool,
    },
    /// Users and groups a policy is attached to.
    Entities {
        /// The policy.
        name: String,
    },
    /// Reload the custom policy folder and print the outcome; exit 0 when applied, 2 when rejected.
    Reload,
    /// The loaded policies (with content hashes and load times), the last reload, dangling attachments.
    Status,
    /// Check custom policy files; exit 0 when all are valid, 2 otherwise.
    Lint {
        /// Policy files (the policy's name is the file name without `.json`).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Evaluate one request against policies, without a daemon; exit 0 for Allow, 1 for Deny, 2 for an error.
    Simulate(SimulateArgs),
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an access key for a user (or, with --root, the root account) and print it once.
    Create {
        /// The user.
        #[arg(required_unless_present_any = ["root", "user_flag"], conflicts_with = "user_flag")]
        user: Option<String>,
        /// The user, named as `policy attach --user` names one.
        #[arg(long = "user", value_name = "USER")]
        user_flag: Option<String>,
        /// For the root account.
        #[arg(long, conflicts_with_all = ["user", "user_flag"])]
        root: bool,
        /// Free text (at most 1024 characters).
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List a user's (or, with --root, the root account's) access keys.
    List {
        /// The user.
        #[arg(required_unless_present_any = ["root", "user_flag"], conflicts_with = "user_flag")]
        user: Option<String>,
        /// The user, named as `policy attach --user` names one.
        #[arg(long = "user", value_name = "USER")]
        user_flag: Option<String>,
        /// The root account's keys.
        #[arg(long, conflicts_with_all = ["user", "user_flag"])]
        root: bool,
    },
    /// Disable an access key.
    Disable {
        /// The SecretId.
        id: String,
    },
    /// Enable an access key.
    Enable {
        /// The SecretId.
        id: String,
    },
    /// Delete an access key.
    Delete {
        /// The SecretId.
        id: String,
    },
    /// When access keys were last used (at most 10).
    LastUsed {
        /// The SecretIds.
        #[arg(required = true, num_args = 1..=10)]
        ids: Vec<String>,
    },
    /// Re-seal every SecretKey under the current sealing key (operator
    /// only), after a rotation: `mv sealing-key sealing-key-old`, restart
    /// camd (it makes a new key and reads both), run this, delete the old one.
    Reseal,
}

#[derive(Args)]
struct SimulateArgs {
    /// A policy file or a preset name; repeat for several.
    #[arg(long = "policy", required = true)]
    policies: Vec<String>,
    /// The action, e.g. `im:SendMessage`.
    #[arg(long)]
    action: String,
    /// The resource, e.g. `qcs::im::uin/100000000001:sdkappid/1400000001`, or `*`.
    #[arg(long)]
    resource: String,
    /// The caller's uin.
    #[arg(long, default_value_t = 200000000001)]
    uin: u64,
    /// The root account's uin (a caller with this uin is the root account).
    #[arg(long, default_value_t = 100000000001)]
    owner_uin: u64,
    /// Request context `KEY=VALUE`; give a key twice for several values.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// `qcs:current_time` as ISO 8601 (default: now).
    #[arg(long)]
    time: Option<String>,
    /// Where a `--policy NAME` that is not a preset or a file is looked
    /// for (`NAME.json`); then camd is asked for an API-managed one.
    #[arg(long, value_name = "DIR", default_value = "config/policies")]
    policy_dir: PathBuf,
}

/// The commands that never talk to camd, and the options of talking to it
/// that their help leaves out (`--socket`, `--as-key`; both still parse).
const OFFLINE: &[(&[&str], &[&str])] = &[
    (&["policy", "lint"], &["socket", "as_key"]),
    (&["policy", "simulate"], &["as_key"]),
    (&["policy", "diff"], &["as_key"]),
    (&["sign"], &["socket", "as_key"]),
    (&["completions"], &["socket", "as_key"]),
    (&["man"], &["socket", "as_key"]),
];

/// camctl's command line, with the options of talking to camd hidden from
/// the help of the commands that do not.
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // Built first, so the global options are in every subcommand.
    cmd.build();
    for (path, hidden) in OFFLINE {
        let mut at = Some(&mut cmd);
        for name in *path {
            at = at.and_then(|c| c.find_subcommand_mut(name));
        }
        if let Some(sub) = at {
            let taken = std::mem::replace(sub, clap::Command::new("camctl"));
            *sub = taken.mut_args(|a| {
                let hide = hidden.contains(&a.get_id().as_str()) || a.is_hide_set();
                a.hide(hide)
            });
        }
    }
    cmd
}

fn main() -> ExitCode {
    // camctl holds SecretKeys and passwords it reads or prints; a failure
    // here (an old kernel) is not worth refusing a command for.
    let _ = camd::process::protect_memory();
    quiet_on_closed_pipe();
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let text = format!("{e:#}");
            if std::env::args().skip(1).any(|a| a == "--json") {
                println!("{}", error_json(&text));
            }
            eprintln!("camctl: {text}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// A reader that stopped reading (`camctl policy list | head`) is not an
/// error: print!'s panic on a closed stdout ends camctl quietly, as a
/// SIGPIPE would.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.contains("Broken pipe") || text.contains("BrokenPipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// An error as `--json` prints it: `{"Error": {"Code", "Message"}}` with
/// the CAM code the message starts with (`null` when it has none).
fn error_json(text: &str) -> serde_json::Value {
    let (code, message) = match text.split_once(": ") {
        Some((c, m)) if camd::code::Code::parse(c).is_some() => (Some(c), m),
        _ => (None, text),
    };
    serde_json::json!({"Error": {"Code": code, "Message": message}})
}

fn run() -> Result<u8> {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Policy(PolicyCommand::Lint { files }) => Ok(lint(&files, cli.json)),
        Command::Policy(PolicyCommand::Simulate(args)) => {
            let socket = cli.socket.clone();
            run_simulate(args, socket, cli.json)
        }
        Command::Policy(PolicyCommand::Diff { old, new }) => {
            let socket = cli.socket.unwrap_or_else(camd::client::default_socket);
            managed::policy_diff(&socket, &old, &new, cli.json)
        }
        Command::Sign(args) => signing::sign(&args, cli.json),
        Command::Completions { shell } => {
            camd::manual::completions(command(), shell, &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        Command::Man { dir } => {
            camd::manual::man_pages(&command(), &dir)
                .with_context(|| format!("cannot write man pages into `{}`", dir.display()))?;
            Ok(EXIT_OK)
        }
        command => remote::run(command, cli.socket, cli.json, cli.as_key),
    }
}

/// `KEY=VALUE` pairs.
fn parse_context(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!(
                "{ip}: context `{kv}` is not of the form KEY=VALUE",
                ip = Code::InvalidParameter
            ),
        })
        .collect()
}

/// `camctl policy lint`: every file checked; with `--json` one array, a
/// file an object (`File`, `Ok`, `Warnings`, `Errors` with CAM codes).
fn lint(files: &[String], json: bool) -> u8 {
    let mut code = EXIT_OK;
    let mut shown = Vec::new();
    for f in files {
        let read = read_policy_file(std::path::Path::new(f));
        if read.is_err() {
            code = EXIT_ERROR;
        }
        if json {
            shown.push(lint_json(f, read));
        } else {
            lint_text(f, read);
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(shown));
    }
    code
}

fn lint_text(f: &str, read: Result<camd::policy::Compiled, PolicyFileError>) {
    match read {
        Ok(c) => {
            for w in &c.warnings {
                println!("{f}:{}:{}: {w}", w.position.line, w.position.column);
            }
            println!("{f}: ok");
        }
        Err(PolicyFileError::Invalid { errors, .. }) => {
            for e in &errors.0 {
                let at = if e.path.is_empty() {
                    String::new()
                } else {
                    format!(" at `{}`", e.path)
                };
                println!(
                    "{f}:{}:{}: {}{at}: {}",
                    e.position.line, e.position.column, e.code, e.message
                );
            }
        }
        Err(other) => println!("{f}: {other}"),
    }
}

fn lint_json(f: &str, read: Result<camd::policy::Compiled, PolicyFileError>) -> serde_json::Value {
    let path = std::path::Path::new(f);
    let (warnings, problems) = match read {
        Ok(c) => (c.warnings, Vec::new()),
        Err(e) => (Vec::new(), camd::catalog::problems_of(path, e).problems),
    };
    serde_json::json!({
        "File": f,
        "Ok": problems.is_empty(),
        "Warnings": warnings.iter().map(|w| serde_json::json!({
            "Severity": w.severity.as_str(), "Path": w.path, "Line": w.position.line, "Column": w.position.column,
            "Message": w.message,
        })).collect::<Vec<_>>(),
        "Errors": problems.iter().map(|p| serde_json::json!({
            "Code": p.code.as_str(), "Path": p.json_path, "Line": p.line, "Column": p.column,
            "Message": p.message,
        })).collect::<Vec<_>>(),
    })
}

/// The documents of `specs` that are neither presets, files nor in the
/// policy folder, fetched from camd (API-managed policies, or camd's own
/// files); camd is asked only when there are some, and only for them.
fn fetched_documents(
    specs: &[String],
    dir: &std::path::Path,
    socket: Option<PathBuf>,
) -> Result<Vec<(String, String)>> {
    let remote: Vec<&String> = specs
        .iter()
        .filter(|s| camd::simulate::local_source(s, Some(dir)).is_err())
        .collect();
    if remote.is_empty() {
        return Ok(Vec::new());
    }
    let socket = socket.unwrap_or_else(camd::client::default_socket);
    // Without a daemon the simulation names the policy it could not find.
    let Ok(mut client) = camd::client::Client::connect(&socket) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in remote {
        match client.call(camd::protocol::GetPolicy {
            policy: name.clone(),
        }) {
            Ok(found) => {
                if let Some(d) = found.into_iter().next().and_then(|p| p.document) {
                    out.push((name.clone(), d));
                }
            }
            Err(e) if e.code() == Some(Code::PolicyIdNotFound.as_str()) => {}
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        }
    }
    Ok(out)
}

fn run_simulate(a: SimulateArgs, socket: Option<PathBuf>, json: bool) -> Result<u8> {
    let documents = fetched_documents(&a.policies, &a.policy_dir, socket)?;
    let context = parse_context(&a.context)?;
    let now_ms = match &a.time {
        Some(t) => parse_time_ms(t).with_context(|| {
            format!(
                "{ip}: time `{t}` is not ISO 8601",
                ip = Code::InvalidParameter
            )
        })?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    };
    let sim = Simulation {
        policies: a.policies,
        policy_dir: Some(a.policy_dir),
        documents,
        action: a.action,
        resource: a.resource,
        principal: Principal {
            uin: a.uin,
            owner_uin: a.owner_uin,
        },
        now_ms,
        context,
    };
    let out = simulate(&sim)?;
    for w in &out.warnings {
        eprintln!("camctl: {w}");
    }
    if json {
        println!(
            "{}",
            json!({
                "Decision": if out.allowed { "Allow" } else { "Deny" },
                "Reason": out.reason,
                "PolicyName": out.policy_name,
                "StatementIndex": out.statement_index,
                "Message": out.message,
            })
        );
    } else {
        println!("{}", out.message);
    }
    Ok(if out.allowed { EXIT_OK } else { EXIT_DENY })
}
