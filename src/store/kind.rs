//! Each kind of record the store holds, defined once: its redb table and
//! key, its encoding, where a batch notes its changes, how it sits in
//! `State` (with the indexes kept), and its path in a replicated key space.
//! Loading, persisting, replicating, reverting and resyncing are generic
//! loops over the one list at the end of this file.

use std::collections::BTreeSet;
use std::fmt::Display;

use redb::TableDefinition;

use super::records::{self, Group, Key, Role, Setting, StoredPolicy, User};
use super::state::{Changes, State};
use super::tables::{GROUPS, KEYS, POLICIES, ROLES, SETTINGS, USERS};

/// One kind of record.
pub trait Kind {
    /// Its name in messages (`user`).
    const NAME: &'static str;
    /// Its letter in a replicated key space (`u` in `u/ID`).
    const LETTER: &'static str;
    /// Which record of the kind (a uin, a name).
    type Id: Ord + Clone + Display;
    /// The redb key type.
    type Key: redb::Key + 'static;
    /// The record.
    type Value;
    /// Its table.
    const TABLE: TableDefinition<'static, Self::Key, &'static [u8]>;

    /// The redb key of `id`.
    fn key(id: &Self::Id) -> <Self::Key as redb::Value>::SelfType<'_>;
    /// The id of a redb key.
    fn id_of(key: <Self::Key as redb::Value>::SelfType<'_>) -> Self::Id;
    /// `id` in a replicated key space.
    fn path(id: &Self::Id) -> String;
    /// The id of a path (`None`: not one of this kind).
    fn parse(path: &str) -> Option<Self::Id>;
    /// The record's bytes, with its version tag.
    fn encode(v: &Self::Value) -> Result<Vec<u8>, postcard::Error>;
    /// A record of any version camd has written.
    fn decode(b: &[u8]) -> Result<Self::Value, postcard::Error>;
    /// The ids of this kind a batch changed.
    fn noted(ch: &Changes) -> &BTreeSet<Self::Id>;
    /// The same, to add to.
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<Self::Id>;
    /// The record, as the state holds it.
    fn get<'s>(s: &'s State, id: &Self::Id) -> Option<&'s Self::Value>;
    /// Every id the state holds, in order.
    fn ids(s: &State) -> Vec<Self::Id>;
    /// Puts `v` in place of record `id` (`None`: removes it), keeping the
    /// state's indexes, and notes the users whose decisions may change.
    fn put(s: &mut State, id: &Self::Id, v: Option<Self::Value>, ch: &mut Changes);
    /// The record key of `id`.
    fn wrap(id: Self::Id) -> RecordKey;
}

/// Sub-users, by uin.
pub struct Users;
/// Groups, by name.
pub struct Groups;
/// Access keys, by SecretId.
pub struct Keys;
/// API-managed custom policies, by name.
pub struct Policies;
/// Account-wide settings, by name.
pub struct Settings;
/// Roles, by name.
pub struct Roles;

/// The members of a kind keyed by name in a `&str` table.
macro_rules! named_key {
    () => {
        type Id = String;
        type Key = &'static str;
        fn key(id: &String) -> &str {
            id.as_str()
        }
        fn id_of(key: &str) -> String {
            key.to_string()
        }
        fn path(id: &String) -> String {
            format!("{}/{id}", Self::LETTER)
        }
        fn parse(path: &str) -> Option<String> {
            Some(path.to_string())
        }
    };
}

impl Kind for Users {
    const NAME: &'static str = "user";
    const LETTER: &'static str = "u";
    type Id = u64;
    type Key = u64;
    type Value = User;
    const TABLE: TableDefinition<'static, u64, &'static [u8]> = USERS;

    fn key(id: &u64) -> u64 {
        *id
    }
    fn id_of(key: u64) -> u64 {
        key
    }
    fn path(id: &u64) -> String {
        format!("u/{id:020}")
    }
    fn parse(path: &str) -> Option<u64> {
        path.parse().ok()
    }
    fn encode(v: &User) -> Result<Vec<u8>, postcard::Error> {
        records::encode_user(v)
    }
    fn decode(b: &[u8]) -> Result<User, postcard::Error> {
        records::decode_user(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<u64> {
        &ch.users
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<u64> {
        &mut ch.users
    }
    fn get<'s>(s: &'s State, id: &u64) -> Option<&'s User> {
        s.users().get(id)
    }
    fn ids(s: &State) -> Vec<u64> {
        s.users().keys().copied().collect()
    }
    fn put(s: &mut State, id: &u64, v: Option<User>, ch: &mut Changes) {
        s.remove_user(*id);
        if let Some(u) = v {
            s.insert_user(u);
        }
        ch.affected.insert(*id);
    }
    fn wrap(id: u64) -> RecordKey {
        RecordKey::User(id)
    }
}

impl Kind for Groups {
    const NAME: &'static str = "group";
    const LETTER: &'static str = "g";
    type Value = Group;
    const TABLE: TableDefinition<'static, &'static str, &'static [u8]> = GROUPS;
    named_key!();

    fn encode(v: &Group) -> Result<Vec<u8>, postcard::Error> {
        records::encode_group(v)
    }
    fn decode(b: &[u8]) -> Result<Group, postcard::Error> {
        records::decode_group(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<String> {
        &ch.groups
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<String> {
        &mut ch.groups
    }
    fn get<'s>(s: &'s State, id: &String) -> Option<&'s Group> {
        s.groups().get(id)
    }
    fn ids(s: &State) -> Vec<String> {
        s.groups().keys().cloned().collect()
    }
    fn put(s: &mut State, id: &String, v: Option<Group>, ch: &mut Changes) {
        // Group records name no members (members come from users): the
        // group's members stay, and their sets may change.
        ch.affected.extend(s.members_of(id));
        s.put_group(id, v);
    }
    fn wrap(id: String) -> RecordKey {
        RecordKey::Group(id)
    }
}

impl Kind for Keys {
    const NAME: &'static str = "key";
    const LETTER: &'static str = "k";
    type Value = Key;
    const TABLE: TableDefinition<'static, &'static str, &'static [u8]> = KEYS;
    named_key!();

    fn encode(v: &Key) -> Result<Vec<u8>, postcard::Error> {
        records::encode_key(v)
    }
    fn decode(b: &[u8]) -> Result<Key, postcard::Error> {
        records::decode_key(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<String> {
        &ch.keys
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<String> {
        &mut ch.keys
    }
    fn get<'s>(s: &'s State, id: &String) -> Option<&'s Key> {
        s.keys().get(id)
    }
    fn ids(s: &State) -> Vec<String> {
        s.keys().keys().cloned().collect()
    }
    fn put(s: &mut State, id: &String, v: Option<Key>, _: &mut Changes) {
        s.remove_key(id);
        if let Some(k) = v {
            s.insert_key(k);
        }
    }
    fn wrap(id: String) -> RecordKey {
        RecordKey::Key(id)
    }
}

impl Kind for Policies {
    const NAME: &'static str = "policy";
    const LETTER: &'static str = "p";
    type Value = StoredPolicy;
    const TABLE: TableDefinition<'static, &'static str, &'static [u8]> = POLICIES;
    named_key!();

    fn encode(v: &StoredPolicy) -> Result<Vec<u8>, postcard::Error> {
        records::encode_policy(v)
    }
    fn decode(b: &[u8]) -> Result<StoredPolicy, postcard::Error> {
        records::decode_policy(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<String> {
        &ch.policies
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<String> {
        &mut ch.policies
    }
    fn get<'s>(s: &'s State, id: &String) -> Option<&'s StoredPolicy> {
        s.policies().get(id)
    }
    fn ids(s: &State) -> Vec<String> {
        s.policies().keys().cloned().collect()
    }
    /// The publisher rebuilds the sets of the policy's users.
    fn put(s: &mut State, id: &String, v: Option<StoredPolicy>, _: &mut Changes) {
        s.put_policy(id, v);
    }
    fn wrap(id: String) -> RecordKey {
        RecordKey::Policy(id)
    }
}

impl Kind for Settings {
    const NAME: &'static str = "setting";
    const LETTER: &'static str = "s";
    type Value = Setting;
    const TABLE: TableDefinition<'static, &'static str, &'static [u8]> = SETTINGS;
    named_key!();

    fn encode(v: &Setting) -> Result<Vec<u8>, postcard::Error> {
        records::encode_setting(v)
    }
    fn decode(b: &[u8]) -> Result<Setting, postcard::Error> {
        records::decode_setting(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<String> {
        &ch.settings
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<String> {
        &mut ch.settings
    }
    fn get<'s>(s: &'s State, id: &String) -> Option<&'s Setting> {
        s.settings().get(id)
    }
    fn ids(s: &State) -> Vec<String> {
        s.settings().keys().cloned().collect()
    }
    /// Settings change no decision.
    fn put(s: &mut State, id: &String, v: Option<Setting>, _: &mut Changes) {
        s.put_setting(id, v);
    }
    fn wrap(id: String) -> RecordKey {
        RecordKey::Setting(id)
    }
}

impl Kind for Roles {
    const NAME: &'static str = "role";
    const LETTER: &'static str = "r";
    type Value = Role;
    const TABLE: TableDefinition<'static, &'static str, &'static [u8]> = ROLES;
    named_key!();

    fn encode(v: &Role) -> Result<Vec<u8>, postcard::Error> {
        records::encode_role(v)
    }
    fn decode(b: &[u8]) -> Result<Role, postcard::Error> {
        records::decode_role(b)
    }
    fn noted(ch: &Changes) -> &BTreeSet<String> {
        &ch.roles
    }
    fn noted_mut(ch: &mut Changes) -> &mut BTreeSet<String> {
        &mut ch.roles
    }
    fn get<'s>(s: &'s State, id: &String) -> Option<&'s Role> {
        s.roles().get(id)
    }
    fn ids(s: &State) -> Vec<String> {
        s.roles().keys().cloned().collect()
    }
    /// No user's decisions depend on a role.
    fn put(s: &mut State, id: &String, v: Option<Role>, _: &mut Changes) {
        s.put_role(id, v);
    }
    fn wrap(id: String) -> RecordKey {
        RecordKey::Role(id)
    }
}

/// Something done to one record, whatever its kind.
pub trait OnRecord {
    /// What it gives.
    type Out;
    /// For record `id` of kind `K`.
    fn kind<K: Kind>(self, id: &K::Id) -> Self::Out;
    /// For the uin counter (a meta value, not a table's record).
    fn next_uin(self) -> Self::Out;
}

/// Something done to every kind, in the list's order.
pub trait OnKinds {
    /// Why it stops.
    type Error;
    /// For kind `K`.
    fn kind<K: Kind>(&mut self) -> Result<(), Self::Error>;
}

/// The list of kinds: a record key's variant, its id type, its kind.
/// Their order is the order of `State::all_records` (and of the state
/// hash that cluster hosts compare).
macro_rules! kinds {
    ($($(#[doc = $d:literal])* $variant:ident($id:ty) => $kind:ty,)*) => {
        /// Which record.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RecordKey {
            $( $(#[doc = $d])* $variant($id), )*
            /// The next uin to hand out.
            NextUin,
        }

        impl RecordKey {
            /// Does `f` to this record, as its kind.
            pub fn visit<F: OnRecord>(&self, f: F) -> F::Out {
                match self {
                    $( RecordKey::$variant(id) => f.kind::<$kind>(id), )*
                    RecordKey::NextUin => f.next_uin(),
                }
            }

            /// The record's path in a replicated key space (`u/ID`, `n`).
            pub fn path(&self) -> String {
                struct Path;
                impl OnRecord for Path {
                    type Out = String;
                    fn kind<K: Kind>(self, id: &K::Id) -> String {
                        K::path(id)
                    }
                    fn next_uin(self) -> String {
                        NEXT_UIN_PATH.to_string()
                    }
                }
                self.visit(Path)
            }

            /// The record a path names (`None`: no record's).
            pub fn parse(path: &str) -> Option<Self> {
                if path == NEXT_UIN_PATH {
                    return Some(RecordKey::NextUin);
                }
                let (letter, rest) = path.split_once('/')?;
                $(
                    if letter == <$kind as Kind>::LETTER {
                        return <$kind as Kind>::parse(rest).map(RecordKey::$variant);
                    }
                )*
                None
            }
        }

        /// Does `f` to every kind, in the list's order.
        pub fn each_kind<F: OnKinds>(f: &mut F) -> Result<(), F::Error> {
            $( f.kind::<$kind>()?; )*
            Ok(())
        }
    };
}

/// The uin counter's path.
const NEXT_UIN_PATH: &str = "n";

kinds! {
    /// A sub-user, by uin.
    User(u64) => Users,
    /// A group, by name.
    Group(String) => Groups,
    /// An access key, by SecretId.
    Key(String) => Keys,
    /// An API-managed policy, by name.
    Policy(String) => Policies,
    /// An account-wide setting, by name.
    Setting(String) => Settings,
    /// A role, by name.
    Role(String) => Roles,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_back_to_their_records() {
        for k in [
            RecordKey::User(200_000_000_001),
            RecordKey::Group("ops/x".into()),
            RecordKey::Key("AKIDx".into()),
            RecordKey::Policy("P".into()),
            RecordKey::Setting("preset_alias/QcloudAVCFullAccess".into()),
            RecordKey::Role("chat-backend".into()),
            RecordKey::NextUin,
        ] {
            assert_eq!(RecordKey::parse(&k.path()), Some(k));
        }
        assert_eq!(RecordKey::User(7).path(), "u/00000000000000000007");
        assert_eq!(RecordKey::parse("u/x"), None);
        assert_eq!(RecordKey::parse("z/x"), None);
    }
}
