//! `camd`: the daemon. Arguments and configuration here; everything else in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};

use camd::config::Config;

#[derive(Parser)]
#[command(
    name = "camd",
    version,
    about = "Local Cloud Access Management (CAM) daemon for Chat"
)]
struct Args {
    /// Configuration file (default: the embedded one, state under ./state).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Unix socket path.
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Folder for the database and the pepper.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Folder of custom policy files.
    #[arg(long)]
    policy_dir: Option<PathBuf>,
    /// The root account's uin.
    #[arg(long)]
    owner_uin: Option<u64>,
    /// Cluster mode: etcd client URLs, comma-separated (other options in
    /// the config's `[cluster]`).
    #[arg(long, value_name = "URL[,URL...]", value_delimiter = ',')]
    etcd: Vec<String>,
    /// Print the shell completion script for SHELL and exit.
    #[arg(long, value_name = "SHELL")]
    completions: Option<clap_complete::Shell>,
    /// Write man pages into DIR and exit.
    #[arg(long, value_name = "DIR")]
    man: Option<PathBuf>,
}

fn main() -> ExitCode {
    camd::logging::init();
    if let Err(e) = camd::process::protect_memory() {
        camd::log_warn!("{e}");
    }
    camd::logging::exit(run())
}

fn run() -> Result<()> {
    let args = Args::parse();
    if camd::manual::serve_flags(Args::command, args.completions, args.man.as_deref())? {
        return Ok(());
    }
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(s) = args.socket {
        config.socket = s;
    }
    if let Some(s) = args.state_dir {
        config.state_dir = s;
    }
    if let Some(p) = args.policy_dir {
        config.policy_dir = p;
    }
    if let Some(o) = args.owner_uin {
        config.owner_uin = o;
    }
    if !args.etcd.is_empty() {
        match &mut config.cluster {
            Some(c) => c.endpoints = args.etcd,
            None => config.cluster = Some(camd::config::ClusterConfig::with_endpoints(args.etcd)),
        }
    }
    config.check()?;
    // Before any thread exists: this clears LISTEN_FDS/LISTEN_PID.
    let activated = camd::systemd::take_activated_listener()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(camd::app::run(config, activated))?;
    Ok(())
}
