//! The store's state in memory: every record, with the indexes the rules
//! need, and what a batch changed (`Changes`). The indexes are this file's
//! alone: they change only with the records they index. (`file.rs` loads
//! and writes it back.)

use super::records::{Group, Key, PasswordRules, Role, Setting, StoredPolicy, User};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Everything the store holds. The maps are the store's to change (its
/// rules); outside it they are read through the accessors.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The next uin to allocate.
    pub(super) next_uin: u64,
    /// Sub-users by uin.
    pub(super) users: BTreeMap<u64, User>,
    /// Uin by user name.
    names: HashMap<String, u64>,
    /// Groups by name.
    pub(super) groups: BTreeMap<String, Group>,
    /// Members of each group (derived from users' group lists).
    members: HashMap<String, BTreeSet<u64>>,
    /// Access keys by SecretId.
    pub(super) keys: BTreeMap<String, Key>,
    /// SecretIds by owner uin (derived).
    keys_by_owner: HashMap<u64, BTreeSet<String>>,
    /// API-managed custom policies by name.
    pub(super) policies: BTreeMap<String, StoredPolicy>,
    /// Account-wide settings by name.
    pub(super) settings: BTreeMap<String, Setting>,
    /// Roles by name.
    pub(super) roles: BTreeMap<String, Role>,
    /// Cluster mode: the shared truth's revision the state is at (0: none).
    pub(super) revision: i64,
}

/// The setting name of the password rules.
pub const PASSWORD_RULES: &str = "password_rules";

/// The setting name of a preset's alias.
pub fn preset_alias_key(preset: &str) -> String {
    format!("preset_alias/{preset}")
}

/// What a batch changed: the records to write back and the users whose
/// decisions may have changed.
#[derive(Debug, Default)]
pub struct Changes {
    /// Users to rewrite or delete.
    pub users: BTreeSet<u64>,
    /// Groups to rewrite or delete.
    pub groups: BTreeSet<String>,
    /// Keys to rewrite or delete.
    pub keys: BTreeSet<String>,
    /// API-managed policies to rewrite or delete (their users' sets are
    /// rebuilt by the publisher).
    pub policies: BTreeSet<String>,
    /// Settings to rewrite or delete.
    pub settings: BTreeSet<String>,
    /// Roles to rewrite or delete.
    pub roles: BTreeSet<String>,
    /// `next_uin` changed.
    pub meta: bool,
    /// Users whose effective policies, name or existence changed.
    pub affected: BTreeSet<u64>,
}

impl Changes {
    /// True when nothing needs writing.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.groups.is_empty()
            && self.keys.is_empty()
            && self.policies.is_empty()
            && self.settings.is_empty()
            && self.roles.is_empty()
            && !self.meta
    }
}

impl State {
    /// No records, at `revision`.
    pub(super) fn empty_at(revision: i64) -> Self {
        State {
            next_uin: 1,
            revision,
            ..State::default()
        }
    }

    /// Sub-users by uin.
    pub fn users(&self) -> &BTreeMap<u64, User> {
        &self.users
    }

    /// Groups by name.
    pub fn groups(&self) -> &BTreeMap<String, Group> {
        &self.groups
    }

    /// Access keys by SecretId.
    pub fn keys(&self) -> &BTreeMap<String, Key> {
        &self.keys
    }

    /// API-managed custom policies by name.
    pub fn policies(&self) -> &BTreeMap<String, StoredPolicy> {
        &self.policies
    }

    /// The uin of the user named `name`.
    pub fn uin_named(&self, name: &str) -> Option<u64> {
        self.names.get(name).copied()
    }

    /// The user named `name`.
    pub fn user_named(&self, name: &str) -> Option<&User> {
        self.uin_named(name).and_then(|u| self.users.get(&u))
    }

    /// The uins of a group's members.
    pub fn members_of(&self, group: &str) -> impl Iterator<Item = u64> + '_ {
        self.members.get(group).into_iter().flatten().copied()
    }

    /// How many members a group has.
    pub fn member_count(&self, group: &str) -> usize {
        self.members.get(group).map_or(0, BTreeSet::len)
    }

    /// The SecretIds of a user's (or the root account's) keys.
    pub fn keys_of(&self, uin: u64) -> impl Iterator<Item = &String> + '_ {
        self.keys_by_owner.get(&uin).into_iter().flatten()
    }

    /// The next uin to allocate.
    pub fn next_uin(&self) -> u64 {
        self.next_uin
    }

    /// Cluster mode: the shared truth's revision the state is at (0: none).
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Adds a user to the maps and indexes.
    pub fn insert_user(&mut self, u: User) {
        self.names.insert(u.name.clone(), u.uin);
        for g in &u.groups {
            self.members.entry(g.clone()).or_default().insert(u.uin);
        }
        self.users.insert(u.uin, u);
    }

    /// Removes a user from the maps and indexes.
    pub fn remove_user(&mut self, uin: u64) -> Option<User> {
        let u = self.users.remove(&uin)?;
        self.names.remove(&u.name);
        for g in &u.groups {
            if let Some(m) = self.members.get_mut(g) {
                m.remove(&uin);
            }
        }
        Some(u)
    }

    /// Makes user `uin` a member of `group` (both must exist).
    pub(super) fn join_group(&mut self, uin: u64, group: &str) {
        if let Some(u) = self.users.get_mut(&uin) {
            if !u.groups.iter().any(|g| g == group) {
                u.groups.push(group.to_string());
            }
            self.members
                .entry(group.to_string())
                .or_default()
                .insert(uin);
        }
    }

    /// Takes user `uin` out of `group`.
    pub(super) fn leave_group(&mut self, uin: u64, group: &str) {
        if let Some(u) = self.users.get_mut(&uin) {
            u.groups.retain(|g| g != group);
        }
        if let Some(m) = self.members.get_mut(group) {
            m.remove(&uin);
        }
    }

    /// Ends every membership of `group`; the uins that were members.
    pub(super) fn disband(&mut self, group: &str) -> BTreeSet<u64> {
        let members = self.members.remove(group).unwrap_or_default();
        for uin in &members {
            if let Some(u) = self.users.get_mut(uin) {
                u.groups.retain(|g| g != group);
            }
        }
        members
    }

    /// Puts a group record in place (`None`: removes it); memberships are
    /// the users' and stay as they are.
    pub(super) fn put_group(&mut self, name: &str, g: Option<Group>) {
        match g {
            Some(g) => self.groups.insert(name.to_string(), g),
            None => self.groups.remove(name),
        };
    }

    /// Roles by name.
    pub fn roles(&self) -> &BTreeMap<String, Role> {
        &self.roles
    }

    /// Puts a role in place (`None`: removes it).
    pub(super) fn put_role(&mut self, name: &str, r: Option<Role>) {
        match r {
            Some(r) => self.roles.insert(name.to_string(), r),
            None => self.roles.remove(name),
        };
    }

    /// Every setting.
    pub fn settings(&self) -> &BTreeMap<String, Setting> {
        &self.settings
    }

    /// The password rules in force (the defaults until some are set).
    pub fn password_rules(&self) -> PasswordRules {
        match self.settings.get(PASSWORD_RULES) {
            Some(Setting::PasswordRules(r)) => r.clone(),
            _ => PasswordRules::default(),
        }
    }

    /// A preset's alias (UpdatePolicy's Alias), empty when none is set.
    pub fn preset_alias(&self, preset: &str) -> String {
        match self.settings.get(&preset_alias_key(preset)) {
            Some(Setting::PresetAlias(a)) => a.clone(),
            _ => String::new(),
        }
    }

    /// Puts a setting in place (`None`: removes it).
    pub(super) fn put_setting(&mut self, name: &str, v: Option<Setting>) {
        match v {
            Some(v) => self.settings.insert(name.to_string(), v),
            None => self.settings.remove(name),
        };
    }

    /// Puts an API-managed policy in place (`None`: removes it).
    pub(super) fn put_policy(&mut self, name: &str, p: Option<StoredPolicy>) {
        match p {
            Some(p) => self.policies.insert(name.to_string(), p),
            None => self.policies.remove(name),
        };
    }

    /// Adds a key to the maps and indexes.
    pub fn insert_key(&mut self, k: Key) {
        self.keys_by_owner
            .entry(k.owner)
            .or_default()
            .insert(k.secret_id.clone());
        self.keys.insert(k.secret_id.clone(), k);
    }

    /// Removes a key from the maps and indexes.
    pub fn remove_key(&mut self, id: &str) -> Option<Key> {
        let k = self.keys.remove(id)?;
        if let Some(ids) = self.keys_by_owner.get_mut(&k.owner) {
            ids.remove(id);
        }
        Some(k)
    }
}
