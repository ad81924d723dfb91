//! Starting the daemon: configuration to a running server, and an orderly stop.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::sync::Arc;

use arc_swap::ArcSwap;
use ring::rand::SystemRandom;
use thiserror::Error;
use tokio::sync::watch;

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
    /// Cluster mode could not start.
    #[error("cluster mode: {0}")]
    Cluster(String),
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
    mut config: Config,
    activated: Option<std::os::unix::net::UnixListener>,
) -> Result<(), StartError> {
    resolve_gateway_groups(&mut config);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.state_dir)
        .and_then(|()| {
            // Also when it already existed, or the umask was loose: the
            // folder holds the key hashes and the pepper.
            std::fs::set_permissions(&config.state_dir, std::fs::Permissions::from_mode(0o700))
        })
        .map_err(|source| StartError::StateDir {
            path: config.state_dir.display().to_string(),
            cause: source,
        })?;
    let pepper = Pepper::load_or_create(&config.pepper_path())?;
    let hasher = KeyHasher::new(&pepper);
    drop(pepper);
    let keyring = Arc::new(Keyring::load(&config.state_dir)?);
    // In cluster mode every policy that is not a preset lives in etcd (so
    // no two hosts decide differently at one revision): the folder is not read.
    let (catalog, warnings) = if config.cluster.is_some() {
        if std::fs::read_dir(&config.policy_dir).is_ok_and(|mut d| d.next().is_some()) {
            crate::log_warn!(
                "cluster mode: policy folder `{}` is not read; publish its files with `camctl policy push`",
                config.policy_dir.display()
            );
        }
        (crate::catalog::Catalog::presets_only(), Vec::new())
    } else {
        load_dir(&config.policy_dir, None, server::now_ms()).map_err(StartError::Policies)?
    };
    for w in warnings {
        crate::log_warn!("{w}");
    }
    let catalog = Arc::new(catalog);
    // The socket first: a live daemon on it is the clearest reason to refuse.
    // A socket systemd passed belongs to systemd: camd neither sets its mode
    // nor removes it.
    let owns_socket = activated.is_none();
    let (listener, socket_shown) = match activated {
        Some(l) => {
            l.set_nonblocking(true).map_err(StartError::Runtime)?;
            let shown = l
                .local_addr()
                .ok()
                .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
                .unwrap_or_else(|| "the socket systemd passed".into());
            (l, format!("{shown} (from systemd)"))
        }
        None => (
            server::bind(
                &config.socket,
                config.mode().unwrap_or(0o660),
                config.socket_group.as_deref(),
                config.listen_backlog,
            )?,
            config.socket.display().to_string(),
        ),
    };
    let mut store = match Store::open(&config.database_path(), config.limits, config.owner_uin) {
        Ok(mut s) => {
            s.set_audit_retention(config.audit);
            s
        }
        Err(e) => {
            if owns_socket {
                let _ = std::fs::remove_file(&config.socket);
            }
            return Err(e.into());
        }
    };
    let clashes = reload::clashes(&catalog, store.state(), &config.policy_dir);
    if !clashes.is_empty() {
        if owns_socket {
            let _ = std::fs::remove_file(&config.socket);
        }
        return Err(StartError::Policies(clashes));
    }
    let cluster = match &config.cluster {
        None => None,
        Some(c) => {
            let joined = Cluster::join(c, &config.state_dir, &mut store, &hasher, &keyring).await;
            match joined {
                Ok(cl) => Some(Arc::new(cl)),
                Err(e) => {
                    if owns_socket {
                        let _ = std::fs::remove_file(&config.socket);
                    }
                    return Err(StartError::Cluster(e));
                }
            }
        }
    };
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let metrics = Arc::new(Metrics::new());
    let publisher = Publisher::new(shared.clone(), catalog.clone(), config.owner_uin)
        .with_metrics(metrics.clone());
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
    });
    let daemon = Arc::new(Daemon {
        control: control_tx.clone(),
        policies: policies.clone(),
        authz,
        writer,
        hasher,
        rng: SystemRandom::new(),
        throttle: server::Throttle::new(config.throttle),
        buffers: server::Budget::new(config.max_buffered_bytes),
        metrics: metrics.clone(),
        cluster,
        config,
    });
    crate::log_info!(
        "ready on `{socket_shown}`: {}",
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
    let watchdog =
        systemd::watchdog_interval().map(|every| tokio::spawn(watchdog(daemon.clone(), every)));

    let reloader = if daemon.cluster.is_some() {
        tokio::spawn(async move { drop((policies, control_rx)) })
    } else {
        tokio::spawn(reload::run(policies, control_tx.clone(), control_rx))
    };
    let textfile = daemon
        .config
        .metrics
        .textfile
        .clone()
        .map(|path| tokio::spawn(write_textfile(daemon.clone(), path)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => {
                    let _ = control_tx.send(reload::Control::Reload(None));
                }
            }
        }
        crate::log_info!("stopping: finishing in-flight requests");
        systemd::stopping();
        let _ = stop_tx.send(true);
    });
    server::serve(daemon.clone(), listener, stop_rx).await;
    signals.abort();
    reloader.abort();
    if let Some(r) = replica {
        // Its handle on the writer goes with it, so the writer can end.
        tokio::task::spawn_blocking(move || r.stop()).await.ok();
    }
    if let Some(t) = textfile {
        t.abort();
    }
    if let Some(w) = watchdog {
        w.abort();
    }
    let _ = reloader.await;
    let socket = daemon.config.socket.clone();
    drop(daemon);
    // The writer ends once every handle is gone, after finishing its queue.
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await
        .ok();
    if owns_socket {
        let _ = std::fs::remove_file(&socket);
    }
    crate::log_info!("stopped");
    systemd::flush(std::time::Duration::from_secs(1));
    Ok(())
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
