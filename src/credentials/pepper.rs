//! The server pepper: 32 random bytes that key the SecretKey hashes, kept in a
//! file only camd can read (or handed over by systemd as a credential).

use std::path::Path;

use super::keyfile::{self, KEY_FILE_LEN, KeyBytes, KeyFileError};

/// Bytes in a pepper.
pub const PEPPER_LEN: usize = KEY_FILE_LEN;

/// The pepper; its `Debug` prints nothing of it.
pub struct Pepper(KeyBytes);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

impl Pepper {
    /// A pepper from given bytes (tests and benches).
    pub fn from_bytes(b: [u8; PEPPER_LEN]) -> Self {
        Self(zeroize::Zeroizing::new(b))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0[..]
    }

    /// Loads the pepper: from `$CREDENTIALS_DIRECTORY/pepper` when systemd
    /// passes it, else from `path`, creating it (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        keyfile::load_or_create("pepper", path).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        assert_eq!(
            format!("{:?}", Pepper::from_bytes([1; 32])),
            "Pepper(<redacted>)"
        );
    }
}
