//! The daemon's shared state: what every connection handler reads.

use std::sync::Arc;

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
    /// Feeds the reload loop.
    pub control: tokio::sync::mpsc::UnboundedSender<crate::reload::Control>,
    /// Throttles failed authentications.
    pub throttle: super::Throttle,
    /// The bytes of requests buffered across all connections.
    pub buffers: Arc<super::Budget>,
    /// Decisions, admin operations, reloads, commits and connections, for
    /// `camctl status` and Prometheus.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The revision of each snapshot published (what `AuthorizeAt` awaits).
    pub revisions: tokio::sync::watch::Receiver<i64>,
    /// Cluster mode's replica (`None`: standalone).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Records decisions (off unless configured).
    pub decisions: Arc<crate::decisions::DecisionLog>,
}
