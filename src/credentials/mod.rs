//! Credentials: generating SecretIds, SecretKeys and passwords, the key
//! files (pepper, sealing keys), the hashes and sealed copies that are all
//! camd ever stores of a secret, and TC3 request signatures.

mod generate;
mod hash;
mod keyfile;
mod pepper;
mod seal;
mod secret;
mod session;
pub mod tc3;

pub use generate::{
    CredentialError, check_password_rules, generate_password, generate_secret_id,
    generate_secret_key, is_secret_id,
};
pub use hash::{KeyHash, KeyHasher, PasswordHash};
pub use keyfile::{KEY_FILE_LEN, KeyFileError};
pub use pepper::{PEPPER_LEN, Pepper};
pub use seal::{
    Keyring, KeyringError, SEALING_KEY, SEALING_KEY_OLD, SealError, Sealed, SealingKeyId, hex_id,
};
pub use secret::Secret;
pub use session::{
    MAX_SESSION_POLICY_BYTES, MAX_TOKEN_BYTES, SessionClaims, SessionError, TOKEN_PREFIX,
};
