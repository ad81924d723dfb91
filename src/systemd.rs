//! systemd integration: the listening socket systemd passes (`LISTEN_FDS`),
//! and readiness, status, reload, stop and watchdog notifications
//! (`NOTIFY_SOCKET`). Without systemd every call here does nothing.

use std::os::unix::net::UnixListener;
use std::sync::OnceLock;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use sd_notify::NotifyState;

/// The one socket systemd passed, taken with `take` (`what` names its
/// kind, `unit` the socket unit, for the errors).
fn take_one<T>(
    what: &str,
    unit: &str,
    take: impl FnOnce(&mut listenfd::ListenFd) -> std::io::Result<Option<T>>,
) -> std::io::Result<Option<T>> {
    let mut fds = listenfd::ListenFd::from_env();
    match fds.len() {
        0 => Ok(None),
        1 => take(&mut fds).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("the socket systemd passed is not a {what} stream listener: {e}"),
            )
        }),
        n => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("systemd passed {n} sockets; {unit} must declare exactly one"),
        )),
    }
}

/// Takes the Unix listening socket systemd passed, if any. Must run before
/// any thread starts: it clears `LISTEN_FDS`/`LISTEN_PID` from the
/// environment so children do not inherit them.
pub fn take_activated_listener() -> std::io::Result<Option<UnixListener>> {
    take_one("Unix", "camd.socket", |fds| fds.take_unix_listener(0))
}

/// Takes the TCP listening socket systemd passed (`camd-api.socket`), if
/// any; like [`take_activated_listener`], before any thread starts.
pub fn take_activated_tcp_listener() -> std::io::Result<Option<std::net::TcpListener>> {
    take_one("TCP", "camd-api.socket", |fds| fds.take_tcp_listener(0))
}

/// Notifications waiting for the notifier thread; beyond this they are dropped.
const QUEUE: usize = 64;

enum Job {
    Send(Vec<String>),
    Flush(std::sync::mpsc::Sender<()>),
}

/// The notifier thread's queue. A datagram send to a notify socket whose
/// reader is slow blocks; on its own thread that never stalls the runtime
/// that serves requests.
fn queue() -> Option<&'static SyncSender<Job>> {
    static QUEUE_TX: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    QUEUE_TX
        .get_or_init(|| {
            std::env::var_os("NOTIFY_SOCKET")?;
            let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
            let spawned = std::thread::Builder::new()
                .name("camd-notify".into())
                .spawn(move || {
                    let mut warned = false;
                    for job in rx {
                        match job {
                            Job::Send(lines) => {
                                let states: Vec<NotifyState<'_>> =
                                    lines.iter().map(|l| NotifyState::Custom(l)).collect();
                                if let Err(e) = sd_notify::notify(&states) {
                                    if !warned {
                                        crate::log_warn!("cannot notify systemd: {e}");
                                        warned = true;
                                    }
                                }
                            }
                            Job::Flush(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                });
            match spawned {
                Ok(_) => Some(tx),
                Err(e) => {
                    crate::log_warn!("cannot start the systemd notifier thread: {e}");
                    None
                }
            }
        })
        .as_ref()
}

fn send(states: &[NotifyState<'_>]) {
    let Some(q) = queue() else { return };
    let lines = states.iter().map(ToString::to_string).collect();
    if q.try_send(Job::Send(lines)).is_err() {
        crate::log_debug!("systemd notification dropped: the notify socket is not being read");
    }
}

/// Waits (up to `within`) until every queued notification has been sent:
/// call before exiting so `STOPPING=1` is not lost.
pub fn flush(within: Duration) {
    let Some(q) = queue() else { return };
    let (tx, rx) = std::sync::mpsc::channel();
    if q.try_send(Job::Flush(tx)).is_ok() {
        let _ = rx.recv_timeout(within);
    }
}

/// Startup is finished: the socket accepts and the snapshot is loaded.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A new `STATUS=` line.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// A reload is starting (followed by [`ready`] when it ends).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[
            NotifyState::Reloading,
            now,
            NotifyState::Status("reloading policies"),
        ]),
        Err(_) => send(&[
            NotifyState::Reloading,
            NotifyState::Status("reloading policies"),
        ]),
    }
}

/// Shutdown has begun.
pub fn stopping() {
    send(&[
        NotifyState::Stopping,
        NotifyState::Status("stopping: finishing in-flight requests"),
    ]);
}

/// The service is healthy (send at least every [`watchdog_interval`]).
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to send [`watchdog`]: half of `WATCHDOG_USEC`, when systemd set
/// it for this process.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|d| !d.is_zero())
        .map(|d| d / 2)
}
