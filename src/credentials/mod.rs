//! Credentials: generating SecretIds, SecretKeys and passwords, the server
//! pepper, and the hashes that are all camd ever stores of a secret.

mod generate;
mod hash;
mod pepper;
mod secret;

pub use generate::{
    CredentialError, check_password_rules, generate_password, generate_secret_id,
    generate_secret_key, is_secret_id,
};
pub use hash::{KeyHash, KeyHasher, PasswordHash};
pub use pepper::{PEPPER_LEN, Pepper, PepperError};
pub use secret::Secret;
