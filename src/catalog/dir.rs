//! Loading the custom policy folder: every `*.json` file is one policy named
//! after the file; hidden files and editor leftovers are ignored. All files
//! are checked before any is used.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::policy::preset;

use super::file::{PolicyFileError, read_policy_file_with_text};
use super::set::Catalog;

/// A policy file that could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    /// The file (or the folder).
    pub path: PathBuf,
    /// Why.
    pub error: String,
}

/// True for files the loader reads: `*.json`, not hidden, not a swap file.
pub fn is_policy_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && !name.starts_with('#') && name.ends_with(".json") && path.is_file()
}

/// Reads every policy file in `dir`; a missing folder means no custom policies.
/// Either every file is valid and a catalog comes back, or every error does.
pub fn load_dir(dir: &Path) -> Result<(Catalog, Vec<String>), Vec<LoadError>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Catalog::presets_only(), Vec::new()));
        }
        Err(e) => {
            return Err(vec![LoadError {
                path: dir.to_path_buf(),
                error: format!("cannot read policy folder: {e}"),
            }]);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_policy_file(p))
        .collect();
    paths.sort();
    let mut policies = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut sources = Vec::new();
    for path in paths {
        match read_policy_file_with_text(&path) {
            Ok((c, text)) => {
                if preset::canonical_name(&c.policy.name).is_some() {
                    errors.push(LoadError {
                        path: path.clone(),
                        error: format!(
                            "InvalidParameter.PolicyNameInUse: `{}` is a preset policy's name; a custom policy may not take it",
                            c.policy.name
                        ),
                    });
                    continue;
                }
                warnings.extend(
                    c.warnings
                        .iter()
                        .map(|w| format!("{}: {w}", path.display())),
                );
                sources.push((c.policy.name.clone(), Arc::from(text.as_str())));
                policies.push(Arc::new(c.policy));
            }
            Err(e) => errors.push(LoadError {
                error: match &e {
                    PolicyFileError::Invalid { errors, .. } => errors.to_string(),
                    other => other.to_string(),
                },
                path,
            }),
        }
    }
    if errors.is_empty() {
        Ok((
            Catalog::with_custom(policies).with_sources(sources),
            warnings,
        ))
    } else {
        Err(errors)
    }
}
