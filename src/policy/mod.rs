//! The CAM 2.0 policy engine: documents, validation with CAM error codes,
//! wildcard patterns, conditions, compiled evaluation, presets and the action
//! catalogue. Pure: no I/O, no async, no allocation while evaluating.

mod action;
pub mod actions;
mod checker;
mod cidr;
mod condition;
mod decision;
mod document;
mod error;
mod escalation;
pub mod json;
mod pattern;
pub mod permissions;
mod prefilter;
pub mod preset;
mod request;
mod resource;
mod set;
mod statement;
mod time;
mod trust;

pub use action::{ActionBits, ActionPattern};
pub use decision::{Decision, Reason, StatementRef};
pub use document::{Compiled, MAX_DOCUMENT_CHARS, Policy, is_valid_policy_name};
pub use error::{Code, PolicyError, PolicyErrors, PolicyWarning, Position, Severity};
pub use request::{Principal, Request, RequestError, ResourceRef};
pub use set::PolicySet;
pub use statement::{Effect, Statement};
pub use time::{TimeText, parse_ms as parse_time_ms};
pub use trust::{TrustPolicy, TrustStatement, Trusted};
