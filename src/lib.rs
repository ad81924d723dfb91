//! camd: Cloud Access Management (CAM) for Chat, on each host.
//!
//! - [`policy`]: the CAM 2.0 policy engine (pure, allocation-free evaluation).
//! - [`catalog`]: policies by name, presets and custom policy files.
//! - [`simulate`]: evaluating one request against named policies, as `camctl policy simulate` does.

pub mod api;
pub mod app;
pub mod authz;
pub mod catalog;
pub mod client;
pub mod clock;
pub mod cluster;
pub mod code;
pub mod config;
pub mod credentials;
pub mod decisions;
pub mod etcd;
pub mod gateway;
pub mod logging;
pub mod manual;
pub mod metrics;
pub mod ops;
pub mod policy;
pub mod process;
pub mod protocol;
pub mod reload;
pub mod server;
pub mod shutdown;
pub mod simulate;
pub mod store;
pub mod systemd;
