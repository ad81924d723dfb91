//! The server pepper: 32 random bytes that key the SecretKey hashes, kept in a
//! file only camd can read (or handed over by systemd as a credential).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Bytes in a pepper.
pub const PEPPER_LEN: usize = 32;

/// The pepper; its `Debug` prints nothing of it.
pub struct Pepper(Zeroizing<[u8; PEPPER_LEN]>);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

/// Why the pepper could not be loaded.
#[derive(Debug, Error)]
pub enum PepperError {
    /// Reading or creating the file failed.
    #[error("pepper file `{path}`: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is readable by group or others.
    #[error(
        "pepper file `{path}` has mode {mode:o}; it must not be group- or world-accessible (chmod 600)"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The file does not hold exactly 32 bytes.
    #[error("pepper file `{path}` holds {len} bytes; it must hold exactly 32")]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The random source failed.
    #[error("cannot generate a pepper: the system random number generator failed")]
    Random,
}

impl Pepper {
    /// A pepper from given bytes (tests and benches).
    pub fn from_bytes(b: [u8; PEPPER_LEN]) -> Self {
        Self(Zeroizing::new(b))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0[..]
    }

    /// Loads the pepper: from `$CREDENTIALS_DIRECTORY/pepper` when systemd
    /// passes it, else from `path`, creating it (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<Self, PepperError> {
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let cred = Path::new(&dir).join("pepper");
            if cred.exists() {
                return Self::read(&cred, false);
            }
        }
        if path.exists() {
            return Self::read(path, true);
        }
        Self::create(path)
    }

    fn read(path: &Path, check_mode: bool) -> Result<Self, PepperError> {
        let io = |source| PepperError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let mut f = File::open(path).map_err(io)?;
        let mode = f.metadata().map_err(io)?.mode() & 0o777;
        if check_mode && mode & 0o077 != 0 {
            return Err(PepperError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut bytes = Zeroizing::new(Vec::new());
        Read::by_ref(&mut f)
            .take(PEPPER_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let mut out = [0u8; PEPPER_LEN];
        if bytes.len() != PEPPER_LEN {
            return Err(PepperError::Length {
                path: path.to_path_buf(),
                len: bytes.len(),
            });
        }
        out.copy_from_slice(&bytes);
        Ok(Self(Zeroizing::new(out)))
    }

    fn create(path: &Path) -> Result<Self, PepperError> {
        let io = |source| PepperError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let mut bytes = [0u8; PEPPER_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| PepperError::Random)?;
        let pepper = Self(Zeroizing::new(bytes));
        bytes.fill(0);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        f.write_all(pepper.expose()).map_err(io)?;
        f.sync_all().map_err(io)?;
        if let Some(dir) = path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(pepper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("camd-pepper-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pepper");
        let a = Pepper::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let b = Pepper::load_or_create(&path).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Pepper(<redacted>)");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            Pepper::load_or_create(&path),
            Err(PepperError::Permissions { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            Pepper::load_or_create(&path),
            Err(PepperError::Length { len: 5, .. })
        ));
    }
}
