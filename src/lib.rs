//! camd: Cloud Access Management (CAM) for Chat, on each host.
//!
//! - [`policy`]: the CAM 2.0 policy engine (pure, allocation-free evaluation).

pub mod policy;
