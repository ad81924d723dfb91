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
    /// When the console password was last set (ms since the epoch; 0: no
    /// password, or set before camd kept this).
    pub password_set_ms: i64,
    /// Earlier console passwords' hashes, newest first (as many as the
    /// password rules' ReusePasswordLimit can ask about).
    pub password_history: Vec<PasswordHash>,
}

/// A sub-user as version 2 stored it (no password age or history).
#[derive(Serialize, Deserialize)]
struct UserV2 {
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
    boundary: Option<String>,
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

/// A tag: a key and a value (CAM's `Tag`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A custom policy as version 1 stored it (no tags).
#[derive(Serialize, Deserialize)]
struct StoredPolicyV1 {
    name: String,
    description: String,
    created_ms: i64,
    updated_ms: i64,
    default_version: u32,
    next_version: u32,
    versions: Vec<PolicyVersion>,
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
    /// Its tags, as CreatePolicy set them.
    pub tags: Vec<Tag>,
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

/// A CAM role: who may assume it (its trust policy) and what it may do
/// (its attached policies, bounded by its permissions boundary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// CAM's RoleId: 2^62 plus a random number, never reused in practice.
    pub id: u64,
    /// Unique name.
    pub name: String,
    /// The trust policy as written (checked when set).
    pub document: String,
    /// Free text (at most 300 bytes).
    pub description: String,
    /// May sign in to the console.
    pub console_login: bool,
    /// The longest session AssumeRole gives, in seconds (0: STS's own limit).
    pub session_duration: u32,
    /// Its tags.
    pub tags: Vec<Tag>,
    /// Created (ms since the epoch).
    pub created_ms: i64,
    /// Last changed (ms since the epoch).
    pub updated_ms: i64,
    /// Policies attached to the role.
    pub policies: Vec<Attachment>,
    /// The permissions boundary (a policy name), if any.
    pub boundary: Option<String>,
    /// Raised whenever the trust policy changes: a session issued under an
    /// older epoch is no longer honoured.
    pub epoch: u64,
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
    /// Free text (CAM's Description).
    pub description: String,
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
            description: nk.description,
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

/// A key as version 3 stored it (no description).
#[derive(Serialize, Deserialize)]
struct KeyV3 {
    secret_id: String,
    owner: u64,
    hash: KeyHash,
    status: KeyStatus,
    created_ms: i64,
    last_used_ms: Option<i64>,
    sealed: Option<Sealed>,
    signatures: Vec<SignatureUse>,
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
    V2(UserV2),
    V3(User),
}

#[derive(Serialize, Deserialize)]
enum PolicyRecord {
    V1(StoredPolicyV1),
    V2(StoredPolicy),
}

/// An account-wide setting, by name (see [`Setting`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setting {
    /// CAM's password rules (`password_rules`).
    PasswordRules(PasswordRules),
    /// A preset policy's remark, as UpdatePolicy's Alias sets it
    /// (`preset_alias/NAME`).
    PresetAlias(String),
}

/// CAM's password rules (PassWordRule), with who changed them and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRules {
    /// The shortest password.
    pub minimum_length: u32,
    /// The character classes a password must have: `A` upper case, `a`
    /// lower case, `0` digits, `#` symbols.
    pub must_contain: String,
    /// Days a password lasts (0: forever).
    pub force_change_days: u32,
    /// How many earlier passwords a new one may not repeat (0: no check).
    pub reuse_limit: u32,
    /// Wrong passwords in a row before the console locks the user (0: no limit).
    pub retry_limit: u32,
    /// Once a password expires: 1, the user cannot sign in until an
    /// administrator resets it; 2, the user signs in and must change it.
    pub expiration_invalidation: u8,
    /// Last changed (ms since the epoch; 0: never, the defaults).
    pub updated_ms: i64,
    /// Who changed them last (a uin).
    pub modifier: String,
}

impl Default for PasswordRules {
    /// camd's rules before any are set: CAM's documented default of 8 or
    /// more characters with upper and lower case, digits and symbols.
    fn default() -> Self {
        Self {
            minimum_length: 8,
            must_contain: "Aa0#".into(),
            force_change_days: 0,
            reuse_limit: 0,
            retry_limit: 0,
            expiration_invalidation: 2,
            updated_ms: 0,
            modifier: String::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
enum SettingRecord {
    V1(Setting),
}

#[derive(Serialize, Deserialize)]
enum RoleRecord {
    V1(Role),
}

#[derive(Serialize, Deserialize)]
enum GroupRecord {
    V1(Group),
}

#[derive(Serialize, Deserialize)]
enum KeyRecord {
    V1(KeyV1),
    V2(KeyV2),
    V3(KeyV3),
    V4(Key),
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
codec!(Role, RoleRecord, encode_role, decode_role);
codec!(Setting, SettingRecord, encode_setting, decode_setting);

/// Encodes a policy with its version tag.
pub fn encode_policy(p: &StoredPolicy) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(&PolicyRecord::V2(p.clone()))
}

/// Decodes a policy of any known version.
pub fn decode_policy(bytes: &[u8]) -> Result<StoredPolicy, postcard::Error> {
    Ok(match postcard::from_bytes::<PolicyRecord>(bytes)? {
        PolicyRecord::V1(p) => StoredPolicy {
            name: p.name,
            description: p.description,
            created_ms: p.created_ms,
            updated_ms: p.updated_ms,
            default_version: p.default_version,
            next_version: p.next_version,
            versions: p.versions,
            tags: Vec::new(),
        },
        PolicyRecord::V2(p) => p,
    })
}

/// Encodes a user with its version tag.
pub fn encode_user(u: &User) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(&UserRecord::V3(u.clone()))
}

/// Decodes a user of any known version.
pub fn decode_user(bytes: &[u8]) -> Result<User, postcard::Error> {
    Ok(match postcard::from_bytes::<UserRecord>(bytes)? {
        UserRecord::V1(u) => UserV2::from(u).into(),
        UserRecord::V2(u) => u.into(),
        UserRecord::V3(u) => u,
    })
}

/// Version 1 had no permissions boundary.
impl From<UserV1> for UserV2 {
    fn from(u: UserV1) -> Self {
        Self {
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
        }
    }
}

/// Version 2 kept no password age or history.
impl From<UserV2> for User {
    fn from(u: UserV2) -> Self {
        Self {
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
            boundary: u.boundary,
            password_set_ms: 0,
            password_history: Vec::new(),
        }
    }
}

/// Encodes a key with its version tag.
pub fn encode_key(k: &Key) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(&KeyRecord::V4(k.clone()))
}

/// Decodes a key of any known version.
pub fn decode_key(bytes: &[u8]) -> Result<Key, postcard::Error> {
    Ok(match postcard::from_bytes::<KeyRecord>(bytes)? {
        KeyRecord::V1(k) => KeyV3::from(KeyV2::from(k)).into(),
        KeyRecord::V2(k) => KeyV3::from(k).into(),
        KeyRecord::V3(k) => k.into(),
        KeyRecord::V4(k) => k,
    })
}

/// Version 1 kept no sealed copy.
impl From<KeyV1> for KeyV2 {
    fn from(k: KeyV1) -> Self {
        Self {
            secret_id: k.secret_id,
            owner: k.owner,
            hash: k.hash,
            status: k.status,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
            sealed: None,
        }
    }
}

/// Version 2 kept no signature uses.
impl From<KeyV2> for KeyV3 {
    fn from(k: KeyV2) -> Self {
        Self {
            secret_id: k.secret_id,
            owner: k.owner,
            hash: k.hash,
            status: k.status,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
            sealed: k.sealed,
            signatures: Vec::new(),
        }
    }
}

/// Version 3 had no description.
impl From<KeyV3> for Key {
    fn from(k: KeyV3) -> Self {
        Self {
            secret_id: k.secret_id,
            owner: k.owner,
            hash: k.hash,
            status: k.status,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
            sealed: k.sealed,
            signatures: k.signatures,
            description: String::new(),
        }
    }
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
    fn a_version_1_policy_decodes_without_tags() {
        let v1 = postcard::to_stdvec(&PolicyRecord::V1(StoredPolicyV1 {
            name: "P".into(),
            description: "d".into(),
            created_ms: 1,
            updated_ms: 2,
            default_version: 1,
            next_version: 2,
            versions: Vec::new(),
        }))
        .unwrap();
        let mut p = decode_policy(&v1).unwrap();
        assert_eq!((p.name.as_str(), p.updated_ms, p.tags.len()), ("P", 2, 0));
        p.tags.push(Tag {
            key: "team".into(),
            value: "chat".into(),
        });
        assert_eq!(decode_policy(&encode_policy(&p).unwrap()).unwrap(), p);
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
