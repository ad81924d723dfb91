//! The daemon's shared state: what every connection handler reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use ring::rand::SystemRandom;

use crate::authz::{Authorizer, Publisher};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::credentials::KeyHasher;
use crate::store::Writer;

/// Everything a connection handler needs.
pub struct Daemon {
    /// The resolved configuration.
    pub config: Config,
    /// Decides requests against the published snapshot.
    pub authz: Authorizer,
    /// The store's writer.
    pub writer: Writer<Publisher>,
    /// The policy catalog (the writer's publisher holds the same one).
    pub catalog: Arc<ArcSwap<Catalog>>,
    /// Hashes new SecretKeys.
    pub hasher: KeyHasher,
    /// Generates credentials.
    pub rng: SystemRandom,
    /// When the daemon started.
    pub started: Instant,
    /// Feeds the reload loop.
    pub control: tokio::sync::mpsc::UnboundedSender<crate::reload::Control>,
    /// The last reload's outcome.
    pub last_reload: arc_swap::ArcSwapOption<crate::reload::Report>,
    /// Throttles failed authentications.
    pub throttle: super::Throttle,
    /// Counts decisions and failed authentications.
    pub counters: Counters,
}

/// Counts since start (shown by `camctl status`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Decisions that allowed.
    pub allows: AtomicU64,
    /// Decisions that denied.
    pub denies: AtomicU64,
    /// Unknown, wrong or disabled keys.
    pub unauthenticated: AtomicU64,
    /// Attempts refused by throttling.
    pub throttled: AtomicU64,
}

impl Counters {
    /// Adds one to `c`.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

impl Daemon {
    /// One line on what the daemon serves, for the log and systemd's `STATUS=`.
    pub fn status_line(&self) -> String {
        let snap = self.authz.snapshot();
        let catalog = self.catalog.load();
        let reload = match self.last_reload.load().as_deref() {
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

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
