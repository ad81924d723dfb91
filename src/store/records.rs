//! Stored records: postcard-encoded, each an enum whose variant is its
//! version, so that a record can evolve without a table rewrite.

use serde::{Deserialize, Serialize};

use crate::credentials::{KeyHash, PasswordHash};

/// A policy attached to a user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The policy's name.
    pub policy: String,
    /// When it was attached (ms since the epoch).
    pub attached_ms: i64,
}

/// A sub-user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Unique, allocated by camd, never reused.
    pub uin: u64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// May log in to the console.
    pub console_login: bool,
    /// PBKDF2 hash of the console password.
    pub password: Option<PasswordHash>,
    /// Must change the password at next login.
    pub need_reset_password: bool,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Groups the user belongs to (at most 10 by default).
    pub groups: Vec<String>,
    /// Policies attached directly.
    pub policies: Vec<Attachment>,
}

/// A user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Policies attached to the group.
    pub policies: Vec<Attachment>,
}

/// `Active` or `Inactive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Accepted.
    Active,
    /// Rejected on every request.
    Inactive,
}

impl KeyStatus {
    /// The CAM spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// An access key. Only the keyed hash of the SecretKey is kept.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// `AKID…`.
    pub secret_id: String,
    /// The owning user's uin (the owner uin for the root account's keys).
    pub owner: u64,
    /// HMAC-SHA256 of the SecretKey under the pepper.
    pub hash: KeyHash,
    /// Active or inactive.
    pub status: KeyStatus,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Last successful use (ms since the epoch), flushed in batches.
    pub last_used_ms: Option<i64>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("secret_id", &self.secret_id)
            .field("owner", &self.owner)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Versioned envelopes: the variant is the record version.
#[derive(Serialize, Deserialize)]
enum UserRecord {
    V1(User),
}

#[derive(Serialize, Deserialize)]
enum GroupRecord {
    V1(Group),
}

#[derive(Serialize, Deserialize)]
enum KeyRecord {
    V1(Key),
}

macro_rules! codec {
    ($ty:ty, $rec:ident, $enc:ident, $dec:ident) => {
        /// Encodes the record with its version tag.
        pub fn $enc(v: &$ty) -> Result<Vec<u8>, postcard::Error> {
            postcard::to_stdvec(&$rec::V1(v.clone()))
        }
        /// Decodes a record of any known version.
        pub fn $dec(bytes: &[u8]) -> Result<$ty, postcard::Error> {
            match postcard::from_bytes::<$rec>(bytes)? {
                $rec::V1(v) => Ok(v),
            }
        }
    };
}

codec!(User, UserRecord, encode_user, decode_user);
codec!(Group, GroupRecord, encode_group, decode_group);
codec!(Key, KeyRecord, encode_key, decode_key);
