//! What the store's rules take besides names: a new user or key, already
//! hashed or sealed (the store never sees a password or SecretKey in
//! clear), and the
//! changes to a user.

use crate::credentials::{KeyHash, PasswordHash, Sealed};

/// A new access key's id, keyed hash and sealed copy.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// `AKID…`.
    pub secret_id: String,
    /// HMAC of the SecretKey under the pepper.
    pub hash: KeyHash,
    /// The SecretKey sealed under the sealing key.
    pub sealed: Sealed,
    /// Free text.
    pub description: String,
}

/// Who owns an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The root account.
    Root,
    /// A sub-user, by name.
    User(String),
}

/// A new user as the store keeps it (the request's `AddUser`, its secrets hashed).
#[derive(Debug, Clone, Default)]
pub struct AddUser {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// May log in to the console.
    pub console_login: bool,
    /// Console password, hashed.
    pub password: Option<PasswordHash>,
    /// Must change the password at first login.
    pub need_reset_password: bool,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// Policies to attach.
    pub policies: Vec<String>,
    /// An access key to create.
    pub key: Option<NewKey>,
}

/// Changes to a user (the request's `UpdateUser`, its password hashed);
/// `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    /// A new name.
    pub new_name: Option<String>,
    /// A new remark.
    pub remark: Option<String>,
    /// Console login on or off.
    pub console_login: Option<bool>,
    /// A new password, hashed.
    pub password: Option<PasswordHash>,
    /// Must change the password at next login.
    pub need_reset_password: Option<bool>,
    /// A new e-mail.
    pub email: Option<String>,
    /// A new phone.
    pub phone: Option<String>,
}

/// Counts for status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Sub-users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// Access keys.
    pub keys: usize,
    /// User and group attachments.
    pub attachments: usize,
}

/// What re-sealing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Keys re-sealed under the current sealing key.
    pub resealed: u64,
    /// Keys already under it.
    pub current: u64,
    /// Keys without a sealed copy (made before camd kept them), by SecretId.
    pub unsealed: Vec<String>,
}

/// A CAM API call's signature to bind to its action (`State::bind_signature`).
#[derive(Debug, Clone)]
pub struct SignatureBinding {
    /// The signing key.
    pub secret_id: String,
    /// SHA-256 of the signature.
    pub digest: [u8; 32],
    /// The call's action.
    pub action: String,
    /// Now, in seconds since the epoch.
    pub now_s: i64,
    /// When the signature's window closes.
    pub expires_s: i64,
}
