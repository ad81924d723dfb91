//! Hot reload of custom policies. The folder watcher, SIGHUP and
//! `camctl policy reload` all send one `Control` event into one loop, which
//! debounces bursts, loads and checks the whole folder, and either swaps in
//! the new catalog (and every affected user's compiled policies, in one
//! snapshot) or keeps the last good set and says why.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, oneshot};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::authz::{Authorizer, Publisher};
use crate::catalog::{Catalog, Diff, LoadError, load_dir};
use crate::clock::now_ms;
use crate::store::{ReconfigureError, State, Writer};

/// Quiet time after a file event (or an explicit reload) before reloading,
/// so a burst is one reload.
pub const DEBOUNCE: Duration = Duration::from_millis(50);
/// How often a missing or broken watcher is tried again.
const REWATCH: Duration = Duration::from_secs(2);

/// What feeds the reload loop.
#[derive(Debug)]
pub enum Control {
    /// Something changed in the policy folder (or the watcher lost events).
    FolderChanged,
    /// The watcher reported an error and must be recreated.
    WatcherFailed(String),
    /// SIGHUP or a request; the report goes to the sender, if any.
    Reload(Option<oneshot::Sender<Arc<Report>>>),
}

/// The outcome of one reload.
#[derive(Debug, Clone)]
pub struct Report {
    /// True when the new set is in use.
    pub applied: bool,
    /// Added, changed and removed custom policies (when applied).
    pub diff: Diff,
    /// Every problem, by file (when rejected).
    pub errors: Vec<LoadError>,
    /// When it finished (ms since the epoch).
    pub at_ms: i64,
}

/// The policy set in use and how it got there: what the reload loop
/// changes, and what admin operations and the status line read.
pub struct Reloader {
    /// The policy folder.
    pub dir: PathBuf,
    /// The catalog in use (the writer's publisher holds the same one).
    pub catalog: Arc<ArcSwap<Catalog>>,
    /// The last reload's outcome, since start.
    pub last: ArcSwapOption<Report>,
    /// Installs a new catalog (one snapshot swap).
    pub writer: Writer<Publisher>,
    /// For the status line's counts.
    pub authz: Authorizer,
    /// Counts reloads.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The decision log, whose `[decision_log]` an explicit reload re-reads.
    pub decisions: Arc<crate::decisions::DecisionLog>,
    /// The config file it is re-read from (`None`: the embedded default).
    pub config_file: Option<PathBuf>,
}

impl Reloader {
    /// One line on what the daemon serves, for the log and systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        let snap = self.authz.snapshot();
        let catalog = self.catalog.load();
        let reload = match self.last.load().as_deref() {
            None => String::new(),
            Some(r) if r.applied => format!(
                "; last reload applied at {}",
                crate::policy::TimeText::new(r.at_ms).as_str()
            ),
            Some(_) => "; last reload REJECTED (see `camctl policy status`)".into(),
        };
        format!(
            "serving {} users, {} access keys, {} custom policies{reload}",
            snap.users.len(),
            snap.keys.len(),
            catalog.custom().count()
        )
    }
}

fn watch(
    dir: &Path,
    tx: &mpsc::UnboundedSender<Control>,
) -> Result<RecommendedWatcher, notify::Error> {
    let events = tx.clone();
    let mut w = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        let control = match e {
            // Reading the files during a reload generates access events; only
            // changes (and lost events) matter.
            Ok(ev)
                if !ev.need_rescan()
                    && matches!(
                        ev.kind,
                        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
                    ) =>
            {
                return;
            }
            Ok(_) => Control::FolderChanged,
            Err(err) => Control::WatcherFailed(err.to_string()),
        };
        let _ = events.send(control);
    })?;
    w.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(w)
}

/// Policy files whose names API-managed policies have (a name cannot be
/// both): one error per file.
pub fn clashes(catalog: &Catalog, state: &State, dir: &Path) -> Vec<LoadError> {
    catalog
        .custom()
        .filter(|p| state.policies().contains_key(&p.name))
        .map(|p| clash(dir, &p.name))
        .collect()
}

/// The error of policy file `name` taking an API-managed policy's name.
fn clash(dir: &Path, name: &str) -> LoadError {
    LoadError {
        path: dir.join(format!("{name}.json")),
        problems: vec![crate::catalog::Problem {
            code: crate::code::Code::PolicyNameInUse,
            json_path: String::new(),
            line: 0,
            column: 0,
            message: format!(
                "policy `{name}` is managed through the API; a file cannot take its name"
            ),
        }],
    }
}

/// Loads the folder and applies it if it is valid.
pub async fn reload_once(daemon: &Reloader) -> Report {
    let previous = daemon.catalog.load_full();
    let dir = daemon.dir.clone();
    let prev = previous.clone();
    let loaded = tokio::task::spawn_blocking(move || load_dir(&dir, Some(&prev), now_ms())).await;
    let report = match loaded {
        Ok(Ok((catalog, warnings))) => {
            for w in warnings {
                crate::log_warn!("{w}");
            }
            let diff = previous.diff(&catalog);
            if diff == Diff::default() {
                // Nothing changed: keep the running snapshot as it is.
                return Report {
                    applied: true,
                    diff,
                    errors: Vec::new(),
                    at_ms: now_ms(),
                };
            }
            install(daemon, catalog, diff).await
        }
        Ok(Err(errors)) => rejected(errors),
        Err(e) => rejected(vec![reload_failed(&daemon.dir, &e)]),
    };
    log_report(&report);
    report
}

/// Installs a changed catalog (with `diff` from the one in use), unless a
/// policy file takes an API-managed policy's name.
async fn install(daemon: &Reloader, catalog: Catalog, diff: Diff) -> Report {
    let catalog = Arc::new(catalog);
    let outcome = set_catalog(daemon, catalog.clone()).await;
    let applied = outcome.is_ok();
    if applied {
        daemon.catalog.store(catalog);
    }
    Report {
        applied,
        diff: if applied { diff } else { Diff::default() },
        errors: match outcome {
            Ok(()) => Vec::new(),
            Err(ReconfigureError::Clashes(names)) => {
                names.iter().map(|n| clash(&daemon.dir, n)).collect()
            }
            Err(e @ ReconfigureError::Stopped) => vec![reload_failed(&daemon.dir, &e)],
        },
        at_ms: now_ms(),
    }
}

/// Has the writer install `for_writer` in the publisher (one snapshot
/// swap); refused with the clashing names, one a line, when policy files
/// take API-managed policies' names.
async fn set_catalog(daemon: &Reloader, for_writer: Arc<Catalog>) -> Result<(), ReconfigureError> {
    let dir = daemon.dir.clone();
    match daemon
        .writer
        .reconfigure(Box::new(move |p: &mut Publisher, state: &State| {
            let clashes = clashes(&for_writer, state, &dir);
            if !clashes.is_empty() {
                let names: Vec<String> = for_writer
                    .custom()
                    .filter(|c| state.policies().contains_key(&c.name))
                    .map(|c| c.name.clone())
                    .collect();
                return Err(ReconfigureError::Clashes(names));
            }
            p.set_catalog(for_writer);
            Ok(())
        })) {
        Ok(done) => done.await.unwrap_or(Err(ReconfigureError::Stopped)),
        Err(_) => Err(ReconfigureError::Stopped),
    }
}

/// A reload that failed for a reason of camd's own, not the folder's.
fn reload_failed(dir: &std::path::Path, e: &dyn std::fmt::Display) -> LoadError {
    LoadError {
        path: dir.to_path_buf(),
        problems: vec![crate::catalog::Problem {
            code: crate::code::Code::Reload,
            json_path: String::new(),
            line: 0,
            column: 0,
            message: e.to_string(),
        }],
    }
}

/// The report of a folder that was not applied, for `errors`.
fn rejected(errors: Vec<LoadError>) -> Report {
    Report {
        applied: false,
        diff: Diff::default(),
        errors,
        at_ms: now_ms(),
    }
}

/// Logs a reload's outcome: what changed, or every error.
fn log_report(report: &Report) {
    if report.applied {
        let d = report.diff;
        crate::log_info!(
            "policies reloaded: {} added, {} changed, {} removed",
            d.added,
            d.changed,
            d.removed
        );
    } else {
        let all: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        crate::log_error!(
            "policy reload rejected; the last good set stays in use:\n{}",
            all.join("\n")
        );
    }
}

/// A watcher's error in words (notify's own Display reads `No path was
/// found. about ["…"]`).
fn describe(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::PathNotFound => "the folder does not exist".into(),
        notify::ErrorKind::Io(io) => io.to_string(),
        notify::ErrorKind::MaxFilesWatch => {
            "the system's limit of watched files is reached (fs.inotify.max_user_watches)".into()
        }
        notify::ErrorKind::Generic(m) => m.clone(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Re-reads `[decision_log]` from the config file and puts it in force;
/// a bad section changes nothing and the log and `camctl status` say why.
pub fn reload_decision_log(log: &crate::decisions::DecisionLog, config_file: Option<&Path>) {
    let Some(path) = config_file else {
        return;
    };
    let outcome = crate::config::read_decision_log(path)
        .map_err(|e| e.to_string())
        .and_then(|c| log.reconfigure(&c));
    match outcome {
        Ok(true) => crate::log_info!("decision log reconfigured from `{}`", path.display()),
        Ok(false) => {}
        Err(e) => {
            crate::log_error!("decision log configuration rejected; the last good one stays: {e}");
            log.rejected(e);
        }
    }
}

/// The reload loop: runs until the channel closes.
pub async fn run(
    daemon: Arc<Reloader>,
    tx: mpsc::UnboundedSender<Control>,
    mut rx: mpsc::UnboundedReceiver<Control>,
) {
    let dir = daemon.dir.clone();
    let mut watcher = match watch(&dir, &tx) {
        Ok(w) => Some(w),
        Err(e) => {
            crate::log_error!(
                "cannot watch policy folder `{}`: {}; retrying every {} s",
                dir.display(),
                describe(&e),
                REWATCH.as_secs()
            );
            None
        }
    };
    let mut rewatch = tokio::time::interval(REWATCH);
    loop {
        let first = tokio::select! {
            c = rx.recv() => match c {
                Some(c) => c,
                None => return,
            },
            _ = rewatch.tick(), if watcher.is_none() => {
                if let Ok(w) = watch(&dir, &tx) {
                    crate::log_info!("watching policy folder `{}` again", dir.display());
                    watcher = Some(w);
                    Control::FolderChanged
                } else {
                    continue;
                }
            }
        };
        let mut waiters = Vec::new();
        // SIGHUP and `camctl policy reload` are reloads systemd should see.
        let mut explicit = false;
        let mut pending = Some(first);
        // Debounce: gather everything that arrives within the quiet time.
        loop {
            match pending.take() {
                Some(Control::Reload(w)) => {
                    explicit = true;
                    waiters.extend(w);
                }
                Some(Control::WatcherFailed(why)) => {
                    crate::log_warn!(
                        "policy folder watcher failed ({why}); recreating it and reloading"
                    );
                    drop(watcher.take());
                    watcher = watch(&dir, &tx).ok();
                }
                Some(Control::FolderChanged) | None => {}
            }
            match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                Ok(Some(c)) => pending = Some(c),
                Ok(None) | Err(_) => break,
            }
        }
        if explicit {
            crate::systemd::reloading();
            reload_decision_log(&daemon.decisions, daemon.config_file.as_deref());
        }
        let report = Arc::new(reload_once(&daemon).await);
        daemon.last.store(Some(report.clone()));
        daemon.metrics.reload(report.applied, report.at_ms);
        if explicit {
            crate::systemd::ready(&daemon.status_line());
        } else {
            crate::systemd::status(&daemon.status_line());
        }
        for w in waiters {
            let _ = w.send(report.clone());
        }
    }
}
