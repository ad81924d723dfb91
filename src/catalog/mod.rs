//! Policies by name: the presets and the operator's custom policy files.

mod file;
mod set;

pub use file::{PolicyFileError, policy_name_of, read_policy_file};
pub use set::Catalog;
