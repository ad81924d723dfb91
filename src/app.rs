//! Starting the daemon: configuration to a running server, and an orderly stop.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ring::rand::SystemRandom;
use thiserror::Error;

use crate::authz::{Authorizer, Publisher, Snapshot};
use crate::catalog::{LoadError, load_dir};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::credentials::{KeyFileError, KeyHasher, Keyring, KeyringError, Pepper};
use crate::metrics::Metrics;
use crate::reload;
use crate::reload::Reloader;
use crate::server::{self, Daemon, ListenError};
use crate::store::{OpenError, Store, Writer};
use crate::systemd;

/// Why the daemon could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The state folder could not be made.
    #[error("cannot create state folder `{path}`: {cause}")]
    StateDir {
        /// The folder.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The pepper is unusable.
    #[error(transparent)]
    Pepper(#[from] KeyFileError),
    /// A sealing key is unusable.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The database is unusable.
    #[error(transparent)]
    Store(#[from] OpenError),
    /// The policy folder has invalid files.
    #[error("invalid custom policies:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Policies(Vec<LoadError>),
    /// The socket could not be set up.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// A thread or runtime could not start.
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    /// Cluster mode could not start (not a `#[from]`: its message is in
    /// this one's, and a source would print it twice).
    #[error("cluster mode: {0}")]
    Cluster(crate::cluster::JoinError),
    /// The decision log could not start.
    #[error("decision log: {0}")]
    DecisionLog(String),
}

impl From<crate::cluster::JoinError> for StartError {
    fn from(e: crate::cluster::JoinError) -> Self {
        Self::Cluster(e)
    }
}

/// Adds the gids of `gateway_groups` (names, from /etc/group) to `gateway_gids`.
fn resolve_gateway_groups(config: &mut Config) {
    for g in &config.gateway_groups {
        match server::gid_of(g) {
            Some(gid) => config.gateway_gids.push(gid),
            None => crate::log_warn!("gateway group `{g}` does not exist; ignored"),
        }
    }
}

/// Runs the daemon until SIGTERM or SIGINT; returns after connections and
/// commits have finished. `activated` is the socket systemd passed, if any
/// (see [`crate::systemd::take_activated_listener`]); without one camd binds
/// `config.socket` itself.
pub async fn run(
    config: Config,
    activated: Option<std::os::unix::net::UnixListener>,
) -> Result<(), StartError> {
    let opened = open(config, activated).await?;
    let running = serve(opened).await;
    stop(running).await;
    Ok(())
}

/// A daemon whose parts are made, not yet serving.
struct Opened {
    daemon: Arc<Daemon>,
    listener: std::os::unix::net::UnixListener,
    socket: SocketFile,
    writer_thread: std::thread::JoinHandle<Store>,
    log_thread: std::thread::JoinHandle<()>,
    replica: Option<crate::cluster::Replica>,
    control: (
        tokio::sync::mpsc::UnboundedSender<reload::Control>,
        tokio::sync::mpsc::UnboundedReceiver<reload::Control>,
    ),
}

/// A daemon that has stopped serving: what is left to end, in order.
struct Stopping {
    daemon: Arc<Daemon>,
    socket: SocketFile,
    writer_thread: std::thread::JoinHandle<Store>,
    log_thread: std::thread::JoinHandle<()>,
    replica: Option<crate::cluster::Replica>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Configuration to the daemon's parts: the state folder, the secrets, the
/// policies, the socket, the store, the cluster, the writer.
async fn open(
    mut config: Config,
    activated: Option<std::os::unix::net::UnixListener>,
) -> Result<Opened, StartError> {
    resolve_gateway_groups(&mut config);
    make_state_dir(&config)?;
    let pepper = Pepper::load_or_create(&config.pepper_path())?;
    let hasher = KeyHasher::new(&pepper);
    drop(pepper);
    let keyring = Arc::new(Keyring::load(&config.state_dir)?);
    let catalog = Arc::new(load_catalog(&config)?);
    // The socket first: a live daemon on it is the clearest reason to refuse.
    let (listener, socket) = listen(&config, activated)?;
    let mut store = Store::open(&config.database_path(), config.limits, config.owner_uin)?;
    store.set_audit_retention(config.audit);
    let clashes = reload::clashes(&catalog, store.state(), &config.policy_dir);
    if !clashes.is_empty() {
        return Err(StartError::Policies(clashes));
    }
    let cluster = match &config.cluster {
        None => None,
        Some(c) => Some(Arc::new(
            Cluster::join(c, &config.state_dir, &mut store, &hasher, &keyring).await?,
        )),
    };
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let metrics = Arc::new(Metrics::new());
    let (decisions, log_thread) =
        crate::decisions::DecisionLog::start(&config.decision_log, metrics.clone())
            .map_err(StartError::DecisionLog)?;
    let publisher = Publisher::new(shared.clone(), catalog.clone(), config.owner_uin)
        .with_metrics(metrics.clone());
    let revisions = publisher.revisions();
    let (writer, writer_thread) = Writer::spawn(store, publisher).map_err(StartError::Runtime)?;
    let replica = match &cluster {
        Some(c) => Some(
            c.spawn_replica(writer.clone())
                .map_err(StartError::Runtime)?,
        ),
        None => None,
    };
    let (control_tx, control_rx) = tokio::sync::mpsc::unbounded_channel();
    let authz = Authorizer::new(shared, hasher.clone(), keyring);
    let policies = Arc::new(Reloader {
        dir: config.policy_dir.clone(),
        catalog: Arc::new(ArcSwap::new(catalog)),
        last: arc_swap::ArcSwapOption::empty(),
        writer: writer.clone(),
        authz: authz.clone(),
        metrics: metrics.clone(),
        decisions: decisions.clone(),
        config_file: config.source.clone(),
    });
    let daemon = Arc::new(Daemon {
        decisions,
        control: control_tx.clone(),
        policies,
        authz,
        writer,
        hasher,
        rng: SystemRandom::new(),
        throttle: server::Throttle::new(config.throttle),
        buffers: server::Budget::new(config.max_buffered_bytes),
        metrics,
        revisions,
        cluster,
        config,
    });
    Ok(Opened {
        daemon,
        listener,
        socket,
        writer_thread,
        log_thread,
        replica,
        control: (control_tx, control_rx),
    })
}

/// Makes the state folder, mode 0700 (also when it already existed, or the
/// umask was loose: it holds the key hashes and the pepper).
fn make_state_dir(config: &Config) -> Result<(), StartError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.state_dir)
        .and_then(|()| {
            std::fs::set_permissions(&config.state_dir, std::fs::Permissions::from_mode(0o700))
        })
        .map_err(|source| StartError::StateDir {
            path: config.state_dir.display().to_string(),
            cause: source,
        })
}

/// The presets and the policy folder's files. In cluster mode every policy
/// that is not a preset lives in etcd (so no two hosts decide differently
/// at one revision): the folder is not read.
fn load_catalog(config: &Config) -> Result<crate::catalog::Catalog, StartError> {
    if config.cluster.is_some() {
        if std::fs::read_dir(&config.policy_dir).is_ok_and(|mut d| d.next().is_some()) {
            crate::log_warn!(
                "cluster mode: policy folder `{}` is not read; publish its files with `camctl policy push`",
                config.policy_dir.display()
            );
        }
        return Ok(crate::catalog::Catalog::presets_only());
    }
    let (catalog, warnings) =
        load_dir(&config.policy_dir, None, server::now_ms()).map_err(StartError::Policies)?;
    for w in warnings {
        crate::log_warn!("{w}");
    }
    Ok(catalog)
}

/// The socket: the one systemd passed (systemd's: camd neither sets its
/// mode nor removes it), or `config.socket`, bound here and removed when
/// the returned guard goes.
fn listen(
    config: &Config,
    activated: Option<std::os::unix::net::UnixListener>,
) -> Result<(std::os::unix::net::UnixListener, SocketFile), StartError> {
    if let Some(l) = activated {
        l.set_nonblocking(true).map_err(StartError::Runtime)?;
        let shown = l
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "the socket systemd passed".into());
        return Ok((l, SocketFile::systemds(format!("{shown} (from systemd)"))));
    }
    let l = server::bind(
        &config.socket,
        config.mode().unwrap_or(0o660),
        config.socket_group.as_deref(),
        config.listen_backlog,
    )?;
    Ok((l, SocketFile::owned(config.socket.clone())))
}

/// Serves until a stop signal: announces readiness, starts the background
/// tasks (watchdog, policy reloads, metrics file, signals), then serves the
/// socket and drains it.
async fn serve(opened: Opened) -> Stopping {
    let Opened {
        daemon,
        listener,
        socket,
        writer_thread,
        log_thread,
        replica,
        control: (control_tx, control_rx),
    } = opened;
    announce(&daemon, &socket);
    let mut tasks = Vec::new();
    if let Some(every) = systemd::watchdog_interval() {
        tasks.push(tokio::spawn(watchdog(daemon.clone(), every)));
    }
    if daemon.cluster.is_none() {
        let policies = daemon.policies.clone();
        tasks.push(tokio::spawn(reload::run(
            policies,
            control_tx.clone(),
            control_rx,
        )));
    } else {
        // Cluster mode reloads nothing from files: a reload request fails
        // at once instead of waiting on a loop that never runs.
        drop(control_rx);
    }
    if let Some(path) = daemon.config.metrics.textfile.clone() {
        tasks.push(tokio::spawn(write_textfile(daemon.clone(), path)));
    }
    // Cluster mode has no reload loop: SIGHUP re-reads `[decision_log]`
    // here (with the log alone: a handle on the writer would keep it from
    // ending at stop).
    let clustered = daemon
        .cluster
        .is_some()
        .then(|| (daemon.decisions.clone(), daemon.config.source.clone()));
    let stop = crate::shutdown::on_signals(move || {
        if let Some((log, file)) = &clustered {
            reload::reload_decision_log(log, file.as_deref());
        }
        let _ = control_tx.send(reload::Control::Reload(None));
    });
    server::serve(daemon.clone(), listener, stop).await;
    Stopping {
        daemon,
        socket,
        writer_thread,
        log_thread,
        replica,
        tasks,
    }
}

/// Logs and tells systemd that the daemon is ready, with what to fix.
fn announce(daemon: &Daemon, socket: &SocketFile) {
    crate::log_info!(
        "ready on `{}`: {}",
        socket.shown(),
        daemon.policies.status_line()
    );
    for u in daemon.authz.snapshot().users.values() {
        if u.name
            .as_str()
            .eq_ignore_ascii_case(crate::store::ROOT_NAME)
        {
            crate::log_warn!(
                "sub-user `{}` (uin {}) predates the reservation of that name for the root account; it keeps working, but rename it (`camctl user update {} --new-name ...`)",
                u.name,
                u.uin,
                u.name
            );
        }
    }
    warn_about_sealing(&daemon.authz);
    systemd::ready(&daemon.policies.status_line());
}

/// Ends what serving left: the tasks, the replica, the writer (after its
/// queue), then the socket file.
async fn stop(s: Stopping) {
    for t in &s.tasks {
        t.abort();
    }
    if let Some(r) = s.replica {
        // Its handle on the writer goes with it, so the writer can end.
        tokio::task::spawn_blocking(move || r.stop()).await.ok();
    }
    for t in s.tasks {
        let _ = t.await;
    }
    // The decision log's writer drains its queue and ends.
    s.daemon.decisions.stop();
    let log_thread = s.log_thread;
    tokio::task::spawn_blocking(move || log_thread.join())
        .await
        .ok();
    drop(s.daemon);
    // The writer ends once every handle is gone, after finishing its queue.
    let writer_thread = s.writer_thread;
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await
        .ok();
    drop(s.socket);
    crate::log_info!("stopped");
    systemd::flush(std::time::Duration::from_secs(1));
}

/// The socket file, removed once when this goes (on a stop or a failed
/// start alike); a socket systemd passed is left to systemd.
struct SocketFile {
    owned: Option<std::path::PathBuf>,
    /// The (device, inode) of the file camd bound: another daemon's socket
    /// put at the same path since is left alone.
    identity: Option<(u64, u64)>,
    shown: String,
}

/// The (device, inode) of the file at `path`.
fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

impl SocketFile {
    fn owned(path: std::path::PathBuf) -> Self {
        Self {
            shown: path.display().to_string(),
            identity: identity(&path),
            owned: Some(path),
        }
    }

    fn systemds(shown: String) -> Self {
        Self {
            owned: None,
            identity: None,
            shown,
        }
    }

    fn shown(&self) -> &str {
        &self.shown
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Some(p) = self.owned.take() {
            if self.identity.is_none() || identity(&p) == self.identity {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Feeds systemd's watchdog every `every`, but only while the daemon is
/// healthy: this task runs on the runtime that serves requests (a blocked
/// runtime never gets here), and each ping first makes a round trip through
/// the store's writer thread (a stuck commit never answers). A missed ping
/// lets systemd restart camd.
async fn watchdog(daemon: Arc<Daemon>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats: u32 = 0;
    loop {
        tick.tick().await;
        let healthy = match daemon.writer.ping() {
            Ok(rx) => matches!(tokio::time::timeout(every, rx).await, Ok(Ok(()))),
            Err(_) => false,
        };
        if healthy {
            systemd::watchdog();
            daemon.metrics.watchdog(crate::clock::now_ms());
        } else {
            crate::log_error!(
                "the store writer did not answer within {every:?}; not feeding the watchdog"
            );
        }
        // A fresh STATUS= line now and then (about every 30 s at the usual 15 s interval).
        beats = beats.wrapping_add(1);
        if beats % 4 == 0 {
            systemd::status(&daemon.policies.status_line());
        }
    }
}

/// Rewrites `path` with the metrics every `textfile_interval_secs`, for
/// node_exporter's textfile collector: written beside it and renamed over
/// it, so a reader never sees half a file; the mode of a file already there
/// is kept (0644 otherwise).
async fn write_textfile(daemon: Arc<Daemon>, path: std::path::PathBuf) {
    let every = std::time::Duration::from_secs(daemon.config.metrics.textfile_interval_secs);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let d = &daemon;
        let text =
            match crate::ops::exposition(&d.writer, &d.policies, &d.metrics, d.cluster.as_deref())
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    crate::log_warn!("cannot collect metrics for `{}`: {e}", path.display());
                    continue;
                }
            };
        let target = path.clone();
        let written = tokio::task::spawn_blocking(move || replace_file(&target, text.as_bytes()))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        if let Err(e) = written {
            crate::log_warn!("cannot write metrics to `{}`: {e}", path.display());
        }
    }
}

/// Replaces `path` with `bytes` in one rename, keeping its mode.
fn replace_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    // The umask may have narrowed the mode.
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Names, at every start, the access keys that cannot verify signed
/// requests: made before sealed copies, or sealed under a sealing key camd
/// does not hold (a rotation not finished, or the wrong key file).
fn warn_about_sealing(authz: &Authorizer) {
    let ring = authz.keyring();
    let held = [Some(ring.current_id()), ring.previous_id()];
    let (mut unsealed, mut foreign) = (0usize, 0usize);
    for k in authz.snapshot().keys.values() {
        match &k.sealed {
            None => unsealed += 1,
            Some(s) if !held.contains(&Some(s.key_id)) => foreign += 1,
            Some(_) => {}
        }
    }
    if unsealed > 0 {
        crate::log_warn!(
            "{unsealed} access keys predate sealed copies: they work when presented, but signed (TC3) requests with them are refused; rotate them"
        );
    }
    if foreign > 0 {
        crate::log_warn!(
            "{foreign} access keys are sealed under a sealing key camd does not hold (current {}): signed requests with them fail with {}; restore the key as sealing-key-old and run `camctl key reseal`",
            crate::credentials::hex_id(&ring.current_id()),
            crate::code::Code::SealingKey
        );
    }
    if ring.previous_id().is_some() {
        crate::log_info!(
            "a previous sealing key is loaded: run `camctl key reseal`, then remove sealing-key-old"
        );
    }
}
