//! `camd-api`: CAM's HTTP API (Tencent Cloud API 3.0, TC3-signed) in front
//! of camd, so Tencent's SDKs and tccli drive camd unchanged. Arguments
//! here; the front is `camd::gateway`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};

use camd::gateway;

#[derive(Parser)]
#[command(
    name = "camd-api",
    version,
    about = "CAM's API over HTTP(S) in front of camd: verification and decisions stay in camd"
)]
struct Args {
    /// camd's socket (else $CAMD_SOCKET, else state/camd.sock, else /run/camd/camd.sock).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Where to listen (ignored when systemd passes a socket).
    #[arg(long, default_value = "127.0.0.1:9443")]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM); without it, plain HTTP on loopback only.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers, to start the
    /// next request, or to finish a TLS handshake.
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Most HTTP connections served at once (more wait in the backlog).
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Most HTTP connections from one client address (more are closed).
    #[arg(long, default_value_t = 64)]
    max_per_client: usize,
    /// Seconds a client may take to send a request's whole body.
    #[arg(long, default_value_t = 10)]
    body_timeout_secs: u64,
    /// Connections to camd shared by every HTTP connection.
    #[arg(long, default_value_t = 32)]
    camd_connections: usize,
    /// A `Host` name to serve (repeatable); default: the listen address
    /// (and localhost on loopback) and, with TLS, the certificate's names.
    /// A request signed for another host is refused.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// Print the shell completion script for SHELL and exit.
    #[arg(long, value_name = "SHELL")]
    completions: Option<clap_complete::Shell>,
    /// Write man pages into DIR and exit.
    #[arg(long, value_name = "DIR")]
    man: Option<PathBuf>,
    /// Write a self-signed certificate and key for these names to --tls-cert
    /// and --tls-key (never overwriting), then exit.
    #[arg(long, value_name = "NAME", num_args = 1.., requires = "tls_cert")]
    self_signed: Vec<String>,
}

fn main() -> ExitCode {
    camd::logging::init_as("camd-api");
    if let Err(e) = camd::process::protect_memory() {
        camd::log_warn!("{e}");
    }
    camd::logging::exit(run())
}

fn write_new(path: &std::path::Path, text: &str, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn run() -> Result<()> {
    let activated = camd::systemd::take_activated_tcp_listener()?;
    let args = Args::parse();
    if camd::manual::serve_flags(Args::command, args.completions, args.man.as_deref())? {
        return Ok(());
    }
    if let (false, Some(cert), Some(key)) =
        (args.self_signed.is_empty(), &args.tls_cert, &args.tls_key)
    {
        let (cert_pem, key_pem) = gateway::self_signed(&args.self_signed)?;
        write_new(key, &key_pem, 0o600)?;
        write_new(cert, &cert_pem, 0o644)?;
        println!("wrote `{}` and `{}`", cert.display(), key.display());
        return Ok(());
    }
    let (tls, leaf) = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => (
            Some(gateway::tls_acceptor(c, k)?),
            Some(gateway::leaf_certificate(c)?),
        ),
        _ => (None, None),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = match activated {
            Some(l) => {
                l.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(l)?
            }
            None => tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("cannot listen on `{}`", args.listen))?,
        };
        let addr = listener.local_addr()?;
        gateway::check_plain(addr, tls.is_some())?;
        let socket = args.socket.unwrap_or_else(camd::client::default_socket);
        let scheme = if tls.is_some() { "https" } else { "http" };
        camd::log_info!(
            "serving CAM's API on {scheme}://{addr}/ for camd at `{}`",
            socket.display()
        );
        camd::systemd::ready(&format!("serving {scheme}://{addr}/"));
        let stop_rx = camd::shutdown::on_signals(|| {
            camd::log_info!("SIGHUP: camd-api has nothing to reload");
        });
        let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
        let limits = gateway::Limits {
            max_connections: args.max_connections,
            max_per_client: args.max_per_client,
            header_timeout: secs(args.header_timeout_secs),
            body_timeout: secs(args.body_timeout_secs),
            camd_connections: args.camd_connections,
            ..gateway::Limits::default()
        };
        let hosts = gateway::Hosts::new(&args.hosts, addr, leaf);
        gateway::serve(listener, tls, socket, hosts, limits, stop_rx).await;
        anyhow::Ok(())
    })
}
