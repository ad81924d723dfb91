//! The stop both daemons obey: SIGTERM or SIGINT ends them (after telling
//! systemd), SIGHUP calls the daemon's own hook (camd reloads its policies).

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Spawns the signal task; the receiver turns true once a stop signal came.
pub fn on_signals(mut on_hup: impl FnMut() + Send + 'static) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            crate::log_error!(
                "cannot install signal handlers: SIGTERM will not stop this process cleanly"
            );
            // The sender lives on (dropping it would read as a stop).
            std::future::pending::<()>().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => on_hup(),
            }
        }
        crate::log_info!("stopping: finishing in-flight requests");
        crate::systemd::stopping();
        let _ = tx.send(true);
        // Kept until the process ends, so the receiver sees no closed channel.
        std::future::pending::<()>().await;
    });
    rx
}
