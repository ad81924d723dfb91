//! The integration test binary: one crate, one module per topic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod abuse;
mod actions_doc;
mod audit;
mod cases;
mod catalogue;
mod cli;
mod clients;
mod cluster;
mod codes;
mod daemon;
mod decision_log;
mod e2e_crash;
mod escalation;
mod etcd_harness;
mod etcd_members;
mod fidelity;
mod hardening;
mod harness;
mod layers;
mod metrics;
mod no_alloc;
mod properties;
mod publication;
mod readme;
mod readme_shell;
mod reference;
mod reload;
mod review3;
mod roles;
mod sdk;
mod signed;
mod soak;
mod steps;
mod store;
mod systemd;
mod wire;
