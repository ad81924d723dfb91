//! Reading one custom policy file: the name comes from the file name, the
//! document from its content.

use crate::code::Code;
use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::policy::{Compiled, Policy, PolicyErrors, is_valid_policy_name};

/// Files larger than this are refused without reading them whole (a
/// 6,144-character document is at most 24 KiB of UTF-8).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Why a policy file could not be used.
#[derive(Debug, Error)]
pub enum PolicyFileError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file name gives no valid policy name.
    #[error(
        "{code}: file `{path}` gives policy name `{name}`; a name is 1-128 characters of `A-Za-z0-9+=,.@_-`",
        code = Code::PolicyNameError
    )]
    Name {
        /// The file.
        path: PathBuf,
        /// The name it would give.
        name: String,
    },
    /// The file is too large to be a policy.
    #[error(
        "{code}: file `{path}` is {size} bytes; a policy document is at most 6144 characters",
        code = Code::PolicyDocumentLengthOverLimit
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The file is not UTF-8.
    #[error("{code}: file `{path}` is not UTF-8 text", code = Code::PolicyDocumentError)]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The document is invalid.
    #[error("invalid policy `{path}`: {errors}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every error in it.
        errors: PolicyErrors,
    },
}

/// The policy name a file gives: its name without the `.json` extension.
pub fn policy_name_of(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match file.strip_suffix(".json") {
        Some(stem) => stem.to_string(),
        None => file,
    }
}

/// Reads, checks and compiles one policy file.
pub fn read_policy_file(path: &Path) -> Result<Compiled, PolicyFileError> {
    read_policy_file_with_text(path).map(|(c, _)| c)
}

/// Like [`read_policy_file`], also returning the text as read.
pub fn read_policy_file_with_text(path: &Path) -> Result<(Compiled, String), PolicyFileError> {
    let (name, text) = read_policy_text(path)?;
    compile_policy_text(path, &name, text)
}

/// Compiles text read by [`read_policy_text`].
pub fn compile_policy_text(
    path: &Path,
    name: &str,
    text: String,
) -> Result<(Compiled, String), PolicyFileError> {
    match Policy::parse(name, &text) {
        Ok(c) => Ok((c, text)),
        Err(errors) => Err(PolicyFileError::Invalid {
            path: path.to_path_buf(),
            errors,
        }),
    }
}

/// Reads a policy file's name and text, with the name, size and UTF-8 checks, without compiling it.
pub fn read_policy_text(path: &Path) -> Result<(String, String), PolicyFileError> {
    let name = policy_name_of(path);
    if !is_valid_policy_name(&name) {
        return Err(PolicyFileError::Name {
            path: path.to_path_buf(),
            name,
        });
    }
    let io = |source| PolicyFileError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(PolicyFileError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| PolicyFileError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    Ok((name, text))
}
