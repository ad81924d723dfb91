//! The filesystem Unix socket: replacing a stale file safely, refusing to
//! start beside a live daemon, and setting mode and group.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use thiserror::Error;

/// Why the socket could not be set up.
#[derive(Debug, Error)]
pub enum ListenError {
    /// Another daemon answers on the path.
    #[error("another camd is already serving `{0}`; stop it first")]
    InUse(String),
    /// Some system call failed.
    #[error("socket `{path}`: {cause}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The configured group does not exist.
    #[error("socket group `{0}` does not exist in /etc/group")]
    NoGroup(String),
}

pub use crate::process::gid_of;

/// Binds `path` (replacing a stale socket file), listens with room for
/// `backlog` pending connections, then sets `mode` and `group`.
pub fn bind(
    path: &Path,
    mode: u32,
    group: Option<&str>,
    backlog: u32,
) -> Result<std::os::unix::net::UnixListener, ListenError> {
    let shown = path.display().to_string();
    let io = |source| ListenError::Io {
        path: shown.clone(),
        cause: source,
    };
    if path.exists() {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => return Err(ListenError::InUse(shown)),
            Err(_) => {
                let meta = std::fs::symlink_metadata(path).map_err(io)?;
                use std::os::unix::fs::FileTypeExt;
                if !meta.file_type().is_socket() {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "a file that is not a socket is in the way",
                    )));
                }
                std::fs::remove_file(path).map_err(io)?;
            }
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(io)?;
    // std listens with the kernel's maximum; listening again sets ours.
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    rustix::net::listen(&listener, backlog).map_err(|e| io(e.into()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
    if let Some(g) = group {
        let gid = gid_of(g).ok_or_else(|| ListenError::NoGroup(g.to_string()))?;
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(io)?;
    }
    listener.set_nonblocking(true).map_err(io)?;
    Ok(listener)
}
