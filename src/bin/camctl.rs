//! `camctl`: the operator's command-line client. For now, the local policy
//! tools that need no daemon: `policy lint` and `policy simulate`.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use camd::catalog::{PolicyFileError, read_policy_file};
use camd::policy::{Principal, parse_time_ms};
use camd::simulate::{Simulation, simulate};

/// Exit code for an allowed request or a successful command.
const EXIT_OK: u8 = 0;
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Policies: check and simulate them locally.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check custom policy files; exit 0 when all are valid, 2 otherwise.
    Lint {
        /// Policy files (the policy's name is the file name without `.json`).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Evaluate one request against policies, without a daemon; exit 0 for Allow, 1 for Deny, 2 for an error.
    Simulate(SimulateArgs),
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
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("camctl: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run() -> Result<u8> {
    let cli = Cli::parse();
    match cli.command {
        Command::Policy(PolicyCommand::Lint { files }) => Ok(lint(&files)),
        Command::Policy(PolicyCommand::Simulate(args)) => run_simulate(args),
    }
}

fn lint(files: &[String]) -> u8 {
    let mut code = EXIT_OK;
    for f in files {
        match read_policy_file(std::path::Path::new(f)) {
            Ok(c) => {
                for w in &c.warnings {
                    println!("{f}:{}:{}: {w}", w.position.line, w.position.column);
                }
                println!("{f}: ok");
            }
            Err(PolicyFileError::Invalid { errors, .. }) => {
                code = EXIT_ERROR;
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
            Err(other) => {
                code = EXIT_ERROR;
                println!("{f}: {other}");
            }
        }
    }
    code
}

fn run_simulate(a: SimulateArgs) -> Result<u8> {
    let mut context = Vec::new();
    for kv in &a.context {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("InvalidParameter: context `{kv}` is not of the form KEY=VALUE");
        };
        context.push((k.to_string(), v.to_string()));
    }
    let now_ms = match &a.time {
        Some(t) => parse_time_ms(t)
            .with_context(|| format!("InvalidParameter: time `{t}` is not ISO 8601"))?,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    };
    let sim = Simulation {
        policies: a.policies,
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
    if a.json {
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
