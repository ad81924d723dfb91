//! Loading the custom policy folder: every `*.json` file is one policy named
//! after the file; hidden files and editor leftovers are ignored. All files
//! are checked before any is used.

use crate::code::Code;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::digest;

use crate::policy::{Policy, Severity, preset};

use super::file::{PolicyFileError, compile_policy_text, read_policy_text};
use super::set::{Catalog, PolicyMeta};

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The CAM error code.
    pub code: Code,
    /// The JSON path in the document (empty for the file as a whole).
    pub json_path: String,
    /// Line, from 1 (0 when not about a place in the text).
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

/// A policy file (or the folder) that could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The file (or the folder).
    pub path: PathBuf,
    /// Every problem found in it.
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.path.display())?;
            // A problem of the whole file has no position.
            if p.line > 0 {
                write!(f, ":{}:{}", p.line, p.column)?;
            }
            write!(f, ": {}", p.code)?;
            if !p.json_path.is_empty() {
                write!(f, " at `{}`", p.json_path)?;
            }
            write!(f, ": {}", without_code(&p.message, p.code.as_str()))?;
        }
        Ok(())
    }
}

/// `message` without the code it may start with (it is printed once, before).
pub fn without_code<'m>(message: &'m str, code: &str) -> &'m str {
    message
        .strip_prefix(code)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
}

fn whole_file(path: &Path, code: Code, message: String) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            code,
            json_path: String::new(),
            line: 0,
            column: 0,
            message,
        }],
    }
}

/// A policy file's error as problems with their codes (whole-file
/// problems have no position).
pub fn problems_of(path: &Path, e: PolicyFileError) -> LoadError {
    match e {
        PolicyFileError::Invalid { errors, .. } => LoadError {
            path: path.to_path_buf(),
            problems: errors
                .0
                .into_iter()
                .map(|e| Problem {
                    code: e.code,
                    json_path: e.path,
                    line: e.position.line,
                    column: e.position.column,
                    message: e.message,
                })
                .collect(),
        },
        PolicyFileError::Name { .. } => whole_file(path, Code::PolicyNameError, e.to_string()),
        PolicyFileError::TooLarge { .. } => {
            whole_file(path, Code::PolicyDocumentLengthOverLimit, e.to_string())
        }
        PolicyFileError::NotUtf8 { .. } => {
            whole_file(path, Code::PolicyDocumentError, e.to_string())
        }
        PolicyFileError::Io { .. } => whole_file(path, Code::Io, e.to_string()),
    }
}

/// True for files the loader reads: `*.json`, not hidden, not a swap file.
pub fn is_policy_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && !name.starts_with('#') && name.ends_with(".json") && path.is_file()
}

/// Reads every policy file in `dir`; a missing folder means no custom
/// policies. Either every file is valid and a catalog comes back (with
/// warnings), or every error does. `previous` keeps load times of unchanged
/// policies.
pub fn load_dir(
    dir: &Path,
    previous: Option<&Catalog>,
    now_ms: i64,
) -> Result<(Catalog, Vec<String>), Vec<LoadError>> {
    let Some(paths) = policy_paths(dir)? else {
        return Ok((Catalog::presets_only(), Vec::new()));
    };
    let mut policies = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut meta = BTreeMap::new();
    for path in paths {
        match load_file(&path, previous, now_ms, &mut warnings) {
            Ok((name, m, policy)) => {
                meta.insert(name, m);
                policies.push(policy);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok((Catalog::with_custom(policies).with_meta(meta), warnings))
    } else {
        Err(errors)
    }
}

/// The policy files in `dir`, sorted; `None` when the folder does not exist.
fn policy_paths(dir: &Path) -> Result<Option<Vec<PathBuf>>, Vec<LoadError>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => {
            return Err(vec![whole_file(
                dir,
                Code::Io,
                format!("cannot read policy folder: {e}"),
            )]);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_policy_file(p))
        .collect();
    paths.sort();
    Ok(Some(paths))
}

/// Reads and checks one policy file: its name, what the catalog remembers
/// of it, and the policy (compiled again only when the file changed; its
/// warnings go to `warnings`).
fn load_file(
    path: &Path,
    previous: Option<&Catalog>,
    now_ms: i64,
    warnings: &mut Vec<String>,
) -> Result<(String, PolicyMeta, Arc<Policy>), LoadError> {
    let (name, text) = read_policy_text(path).map_err(|e| problems_of(path, e))?;
    if preset::canonical_name(&name).is_some() {
        return Err(whole_file(
            path,
            Code::PolicyNameInUse,
            format!("`{name}` is a preset policy's name; a custom policy may not take it"),
        ));
    }
    let hash = sha256_hex(&text);
    // An unchanged file keeps its compiled policy and load time: a reload
    // costs a read and a hash per file, and a compile only per change.
    let (policy, loaded_ms) = match unchanged(previous, &name, &hash) {
        Some(x) => x,
        None => compile_file(path, &name, &text, now_ms, warnings)?,
    };
    let meta = PolicyMeta {
        hash,
        loaded_ms,
        source: Arc::from(text.as_str()),
    };
    Ok((name, meta, policy))
}

/// The SHA-256 of `text`, in lowercase hex.
fn sha256_hex(text: &str) -> String {
    digest::digest(&digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The policy `previous` holds for `name` and when it was loaded, if its
/// file's hash is still `hash`.
fn unchanged(previous: Option<&Catalog>, name: &str, hash: &str) -> Option<(Arc<Policy>, i64)> {
    previous.and_then(|p| {
        let m = p.meta(name).filter(|m| m.hash == hash)?;
        Some((p.get(name)?, m.loaded_ms))
    })
}

/// Compiles a new or changed file's text, loaded at `now_ms`; its warnings
/// go to `warnings`, each with the file's path.
fn compile_file(
    path: &Path,
    name: &str,
    text: &str,
    now_ms: i64,
    warnings: &mut Vec<String>,
) -> Result<(Arc<Policy>, i64), LoadError> {
    match compile_policy_text(path, name, text.to_owned()) {
        Ok((c, _)) => {
            // Notes are for `camctl policy lint`, not the daemon's log.
            warnings.extend(
                c.warnings
                    .iter()
                    .filter(|w| w.severity == Severity::Warning)
                    .map(|w| format!("{}: {w}", path.display())),
            );
            Ok((Arc::new(c.policy), now_ms))
        }
        Err(e) => Err(problems_of(path, e)),
    }
}
