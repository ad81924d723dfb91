//! The daemon's shared state: what every connection handler reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ring::rand::SystemRandom;

use crate::authz::{Authorizer, Publisher};
use crate::config::Config;
use crate::credentials::KeyHasher;
use crate::store::Writer;

pub use crate::clock::now_ms;

/// Everything a connection handler needs.
pub struct Daemon {
    /// The resolved configuration.
    pub config: Config,
    /// Decides requests against the published snapshot.
    pub authz: Authorizer,
    /// The store's writer.
    pub writer: Writer<Publisher>,
    /// The policy set in use and its last reload (shared with the reload loop).
    pub policies: Arc<crate::reload::Reloader>,
    /// Hashes new SecretKeys.
    pub hasher: KeyHasher,
    /// Generates credentials.
    pub rng: SystemRandom,
    /// When the daemon started.
    pub started: Instant,
    /// Feeds the reload loop.
    pub control: tokio::sync::mpsc::UnboundedSender<crate::reload::Control>,
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
