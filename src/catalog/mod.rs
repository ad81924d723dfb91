//! Policies by name: the presets and the operator's custom policy files.

mod file;

pub use file::{PolicyFileError, policy_name_of, read_policy_file};
