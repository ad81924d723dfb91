//! 32-byte secret key files (the pepper, the sealing keys): read from
//! `$CREDENTIALS_DIRECTORY` when systemd passes them, else from the state
//! folder, created there (0600, synced) on first start.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Bytes in a key file.
pub const KEY_FILE_LEN: usize = 32;

/// The bytes of a key file, wiped on drop.
pub type KeyBytes = Zeroizing<[u8; KEY_FILE_LEN]>;

/// Why a key file could not be loaded.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// Reading or creating the file failed.
    #[error("key file `{path}`: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error(
        "key file `{path}` has mode {mode:o}; it must not be group- or world-accessible (chmod 600)"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The file does not hold exactly 32 bytes.
    #[error("key file `{path}` holds {len} bytes; it must hold exactly 32")]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The random source failed.
    #[error("cannot generate key file `{0}`: the system random number generator failed")]
    Random(PathBuf),
}

/// Where systemd handed credential `name` over, if it did.
pub fn credential(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let path = Path::new(&dir).join(name);
    path.exists().then_some(path)
}

/// Loads key `name`: the systemd credential of that name when passed, else
/// `path`, created when missing.
pub fn load_or_create(name: &str, path: &Path) -> Result<KeyBytes, KeyFileError> {
    if let Some(cred) = credential(name) {
        return read(&cred, false);
    }
    if path.exists() {
        return read(path, true);
    }
    create(path)
}

/// Loads key `name` when it is present (as a credential or at `path`).
pub fn load_if_present(name: &str, path: &Path) -> Result<Option<KeyBytes>, KeyFileError> {
    if let Some(cred) = credential(name) {
        return read(&cred, false).map(Some);
    }
    if path.exists() {
        return read(path, true).map(Some);
    }
    Ok(None)
}

fn read(path: &Path, check_mode: bool) -> Result<KeyBytes, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut f = File::open(path).map_err(io)?;
    let mode = f.metadata().map_err(io)?.mode() & 0o777;
    if check_mode && mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut bytes = Zeroizing::new(Vec::new());
    Read::by_ref(&mut f)
        .take(KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let mut out = Zeroizing::new([0u8; KEY_FILE_LEN]);
    if bytes.len() != KEY_FILE_LEN {
        return Err(KeyFileError::Length {
            path: path.to_path_buf(),
            len: bytes.len(),
        });
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn create(path: &Path) -> Result<KeyBytes, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut bytes = Zeroizing::new([0u8; KEY_FILE_LEN]);
    SystemRandom::new()
        .fill(&mut bytes[..])
        .map_err(|_| KeyFileError::Random(path.to_path_buf()))?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(&bytes[..]).map_err(io)?;
    f.sync_all().map_err(io)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("camd-keyfile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pepper");
        assert!(load_if_present("x-test-none", &path).unwrap().is_none());
        let a = load_or_create("x-test-none", &path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let b = load_or_create("x-test-none", &path).unwrap();
        assert_eq!(a, b);
        assert_eq!(load_if_present("x-test-none", &path).unwrap(), Some(a));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            load_or_create("x-test-none", &path),
            Err(KeyFileError::Permissions { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            load_or_create("x-test-none", &path),
            Err(KeyFileError::Length { len: 5, .. })
        ));
    }
}
