//! Stored records: postcard-encoded, each an enum whose variant is its
//! version, so that a record can evolve without a table rewrite.

use serde::{Deserialize, Serialize};

use super::command::NewKey;

use crate::credentials::{KeyHash, PasswordHash, Sealed};

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
    /// The permissions boundary (a policy name), if any.
    pub boundary: Option<String>,
}

/// A sub-user as version 1 stored it (no permissions boundary).
#[derive(Serialize, Deserialize)]
struct UserV1 {
    uin: u64,
    name: String,
    remark: String,
    console_login: bool,
    password: Option<PasswordHash>,
    need_reset_password: bool,
    email: String,
    phone: String,
    created_ms: i64,
    groups: Vec<String>,
    policies: Vec<Attachment>,
}

/// One version of an API-managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// 1, 2, ...: never reused within the policy.
    pub id: u32,
    /// The document as written (validated by the engine when it was stored).
    pub document: String,
    /// Created (ms since the epoch).
    pub created_ms: i64,
}

/// A custom policy managed through the API (not a file), with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Unique among all policies (presets, files and these).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Last changed (ms since the epoch).
    pub updated_ms: i64,
    /// The version decisions use.
    pub default_version: u32,
    /// The id the next version gets.
    pub next_version: u32,
    /// At most five, oldest first.
    pub versions: Vec<PolicyVersion>,
}

impl StoredPolicy {
    /// The version decisions use.
    pub fn default_document(&self) -> Option<&PolicyVersion> {
        self.version(self.default_version)
    }

    /// Version `id`.
    pub fn version(&self, id: u32) -> Option<&PolicyVersion> {
        self.versions.iter().find(|v| v.id == id)
    }
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

/// An access key. Of the SecretKey only its keyed hash (for presented keys)
/// and a sealed copy (for signed requests) are kept.
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
    /// The SecretKey sealed under the sealing key; `None` for keys made
    /// before camd kept sealed copies (they cannot verify signatures).
    pub sealed: Option<Sealed>,
    /// Signatures of CAM API calls made with this key that are still in
    /// their timestamp window, each with the action it was first used for
    /// (kept in the record so a restart or another host knows them too).
    pub signatures: Vec<SignatureUse>,
}

/// A signature's first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureUse {
    /// SHA-256 of the signature.
    pub digest: [u8; 32],
    /// The CAM action it was first used for.
    pub action: String,
    /// When its window closes (seconds since the epoch).
    pub expires_s: i64,
}

impl Key {
    /// A new, active key of `owner`.
    pub fn new(nk: NewKey, owner: u64, now_ms: i64) -> Self {
        Self {
            secret_id: nk.secret_id,
            owner,
            hash: nk.hash,
            status: KeyStatus::Active,
            created_ms: now_ms,
            last_used_ms: None,
            sealed: Some(nk.sealed),
            signatures: Vec::new(),
        }
    }
}

/// A key as version 1 stored it (no sealed copy).
#[derive(Serialize, Deserialize)]
struct KeyV1 {
    secret_id: String,
    owner: u64,
    hash: KeyHash,
    status: KeyStatus,
    created_ms: i64,
    last_used_ms: Option<i64>,
}

/// A key as version 2 stored it (no signature uses).
#[derive(Serialize, Deserialize)]
struct KeyV2 {
    secret_id: String,
    owner: u64,
    hash: KeyHash,
    status: KeyStatus,
    created_ms: i64,
    last_used_ms: Option<i64>,
    sealed: Option<Sealed>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("secret_id", &self.secret_id)
            .field("owner", &self.owner)
            .field("status", &self.status)
            .field("sealed", &self.sealed)
            .finish_non_exhaustive()
    }
}

/// Versioned envelopes: the variant is the record version.
#[derive(Serialize, Deserialize)]
enum UserRecord {
    V1(UserV1),
    V2(User),
}

#[derive(Serialize, Deserialize)]
enum PolicyRecord {
    V1(StoredPolicy),
}

#[derive(Serialize, Deserialize)]
enum GroupRecord {
    V1(Group),
}

#[derive(Serialize, Deserialize)]
enum KeyRecord {
    V1(KeyV1),
    V2(KeyV2),
    V3(Key),
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

codec!(Group, GroupRecord, encode_group, decode_group);
codec!(StoredPolicy, PolicyRecord, encode_policy, decode_policy);

/// Encodes a user with its version tag.
pub fn encode_user(u: &User) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(&UserRecord::V2(u.clone()))
}

/// Decodes a user of any known version.
pub fn decode_user(bytes: &[u8]) -> Result<User, postcard::Error> {
    Ok(match postcard::from_bytes::<UserRecord>(bytes)? {
        UserRecord::V1(u) => User {
            uin: u.uin,
            name: u.name,
            remark: u.remark,
            console_login: u.console_login,
            password: u.password,
            need_reset_password: u.need_reset_password,
            email: u.email,
            phone: u.phone,
            created_ms: u.created_ms,
            groups: u.groups,
            policies: u.policies,
            boundary: None,
        },
        UserRecord::V2(u) => u,
    })
}

/// Encodes a key with its version tag.
pub fn encode_key(k: &Key) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(&KeyRecord::V3(k.clone()))
}

/// Decodes a key of any known version.
pub fn decode_key(bytes: &[u8]) -> Result<Key, postcard::Error> {
    Ok(match postcard::from_bytes::<KeyRecord>(bytes)? {
        KeyRecord::V1(k) => Key {
            secret_id: k.secret_id,
            owner: k.owner,
            hash: k.hash,
            status: k.status,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
            sealed: None,
            signatures: Vec::new(),
        },
        KeyRecord::V2(k) => Key {
            secret_id: k.secret_id,
            owner: k.owner,
            hash: k.hash,
            status: k.status,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
            sealed: k.sealed,
            signatures: Vec::new(),
        },
        KeyRecord::V3(k) => k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_user_decodes_without_a_boundary() {
        let v1 = postcard::to_stdvec(&UserRecord::V1(UserV1 {
            uin: 9,
            name: "u".into(),
            remark: String::new(),
            console_login: false,
            password: None,
            need_reset_password: false,
            email: String::new(),
            phone: String::new(),
            created_ms: 1,
            groups: vec!["g".into()],
            policies: Vec::new(),
        }))
        .unwrap();
        let mut u = decode_user(&v1).unwrap();
        assert_eq!(
            (u.uin, &u.groups, &u.boundary),
            (9, &vec!["g".to_string()], &None)
        );
        u.boundary = Some("B".into());
        assert_eq!(decode_user(&encode_user(&u).unwrap()).unwrap(), u);
    }

    #[test]
    fn a_version_1_key_decodes_without_a_sealed_copy() {
        let v1 = postcard::to_stdvec(&KeyRecord::V1(KeyV1 {
            secret_id: "AKIDx".into(),
            owner: 7,
            hash: [1; 32],
            status: KeyStatus::Active,
            created_ms: 5,
            last_used_ms: None,
        }))
        .unwrap();
        let k = decode_key(&v1).unwrap();
        assert_eq!((k.owner, &k.sealed), (7, &None));
        assert_eq!(decode_key(&encode_key(&k).unwrap()).unwrap(), k);
    }
}
