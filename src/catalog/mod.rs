//! Policies by name: the presets and the operator's custom policy files.

mod dir;
mod file;
mod set;

pub use dir::{LoadError, Problem, is_policy_file, load_dir, problems_of};
pub use file::{
    PolicyFileError, compile_policy_text, policy_name_of, read_policy_file,
    read_policy_file_with_text, read_policy_text,
};
pub use set::{Catalog, Diff, PolicyMeta};
