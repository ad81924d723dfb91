//! Builds and publishes snapshots from the store's state: after a commit only
//! the affected users and keys are rebuilt; users with the same policies share
//! one compiled set.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::catalog::Catalog;
use crate::metrics::Metrics;
use crate::policy::{Policy, PolicySet};
use crate::store::{Changes, Key, KeyStatus, Publish, State, StoredPolicy, User};

use super::shards::Name;
use super::snapshot::{KeyEntry, Snapshot, UserEntry};

/// A compiled set and the users who have it.
type Shared = (Arc<PolicySet>, BTreeSet<u64>);

/// What a compiled set is made of: sorted policy names and the boundary.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SetKey {
    names: Box<[String]>,
    boundary: Option<String>,
}

impl SetKey {
    fn names_any(&self, changed: &BTreeSet<String>) -> bool {
        self.names.iter().any(|n| changed.contains(n))
            || self.boundary.as_ref().is_some_and(|b| changed.contains(b))
    }
}

/// The default version of an API-managed policy, compiled (`None` when it
/// no longer compiles: it then grants nothing).
fn compile_stored(p: &StoredPolicy) -> Option<Arc<Policy>> {
    let doc = p.default_document()?;
    match Policy::parse(&p.name, &doc.document) {
        Ok(c) => Some(Arc::new(c.policy)),
        Err(e) => {
            crate::log_error!(
                "policy `{}` version {} does not compile and grants nothing: {e}",
                p.name,
                doc.id
            );
            None
        }
    }
}

/// Owns the catalog and the compiled-set cache; publishes into `shared`.
pub struct Publisher {
    shared: Arc<ArcSwap<Snapshot>>,
    catalog: Arc<Catalog>,
    owner_uin: u64,
    /// API-managed policies' default versions, compiled.
    stored: HashMap<String, Arc<Policy>>,
    /// Compiled sets by their sorted policy names and boundary, shared
    /// between users, with the users that have each.
    cache: HashMap<Arc<SetKey>, Shared>,
    /// Each published user's set, by its names (the key into `cache`).
    set_of: HashMap<u64, Arc<SetKey>>,
    /// Policies a new catalog changed, until the next publication rebuilds
    /// the users they are in (`None`: rebuild everyone).
    changed: Option<BTreeSet<String>>,
    /// Where commit times and batch sizes are recorded.
    metrics: Option<Arc<Metrics>>,
    /// The revision of each published snapshot, for those who wait on one.
    revision: tokio::sync::watch::Sender<i64>,
}

impl Publisher {
    /// A publisher writing into `shared`.
    pub fn new(shared: Arc<ArcSwap<Snapshot>>, catalog: Arc<Catalog>, owner_uin: u64) -> Self {
        Self {
            shared,
            catalog,
            owner_uin,
            stored: HashMap::new(),
            cache: HashMap::new(),
            set_of: HashMap::new(),
            changed: None,
            metrics: None,
            revision: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The revision of the snapshot last published, updated after each
    /// publication (so a decision awaiting it sees the snapshot that has it).
    pub fn revisions(&self) -> tokio::sync::watch::Receiver<i64> {
        self.revision.subscribe()
    }

    /// Records each commit's time and batch size in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Installs a new catalog; the republication that follows rebuilds only
    /// the users whose sets name a policy it added, changed or removed.
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.changed = Some(self.catalog.changed_names(&catalog));
        self.catalog = catalog;
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// A policy by name: a preset, a file or an API-managed one.
    fn lookup(&self, name: &str) -> Option<Arc<Policy>> {
        self.catalog
            .get(name)
            .or_else(|| self.stored.get(name).cloned())
    }

    fn policy_set(&mut self, state: &State, u: &User) -> Arc<PolicySet> {
        let mut names: Vec<String> = u.policies.iter().map(|a| a.policy.clone()).collect();
        for g in &u.groups {
            if let Some(group) = state.groups().get(g) {
                names.extend(group.policies.iter().map(|a| a.policy.clone()));
            }
        }
        names.sort();
        names.dedup();
        self.forget(u.uin);
        let wanted = SetKey {
            names: names.into_boxed_slice(),
            boundary: u.boundary.clone(),
        };
        let known = self
            .cache
            .get_key_value(&wanted)
            .map(|(k, (set, _))| (k.clone(), set.clone()));
        if let Some((key, set)) = known {
            if let Some((_, users)) = self.cache.get_mut(&key) {
                users.insert(u.uin);
            }
            self.set_of.insert(u.uin, key);
            return set;
        }
        // A boundary whose policy is gone bounds to nothing (fail closed).
        let boundary = wanted
            .boundary
            .as_deref()
            .map(|b| Arc::new(PolicySet::new(self.lookup(b)).named(b)));
        let set = Arc::new(
            PolicySet::new(wanted.names.iter().filter_map(|n| self.lookup(n))).bounded(boundary),
        );
        let key = Arc::new(wanted);
        self.cache
            .insert(key.clone(), (set.clone(), BTreeSet::from([u.uin])));
        self.set_of.insert(u.uin, key);
        set
    }

    /// Drops `uin` from the users of its set (a set no one has goes).
    fn forget(&mut self, uin: u64) {
        let Some(key) = self.set_of.remove(&uin) else {
            return;
        };
        if let Some((_, users)) = self.cache.get_mut(&key) {
            users.remove(&uin);
            if users.is_empty() {
                self.cache.remove(&key);
            }
        }
    }

    /// The users whose sets name one of `changed`; those sets leave the cache.
    fn users_of(&mut self, changed: &BTreeSet<String>) -> BTreeSet<u64> {
        // Most commits change no policy: no scan of the cache for them.
        if changed.is_empty() {
            return BTreeSet::new();
        }
        let stale: Vec<Arc<SetKey>> = self
            .cache
            .keys()
            .filter(|k| k.names_any(changed))
            .cloned()
            .collect();
        let mut users = BTreeSet::new();
        for k in stale {
            if let Some((_, us)) = self.cache.remove(&k) {
                users.extend(us);
            }
        }
        users
    }

    fn user_entry(&mut self, state: &State, u: &User) -> UserEntry {
        UserEntry {
            uin: u.uin,
            name: Name::new(&u.name),
            policies: self.policy_set(state, u),
        }
    }

    fn key_entry(k: &Key, previous: Option<&Arc<KeyEntry>>) -> Arc<KeyEntry> {
        let stored = k.last_used_ms.unwrap_or(0);
        let (used, flushed) = previous.map_or((stored, stored), |p| {
            (
                p.last_used_ms.load(Ordering::Relaxed).max(stored),
                p.flushed_ms.load(Ordering::Relaxed).max(stored),
            )
        });
        Arc::new(KeyEntry {
            owner: k.owner,
            hash: k.hash,
            active: k.status == KeyStatus::Active,
            last_used_ms: AtomicI64::new(used),
            flushed_ms: AtomicI64::new(flushed),
            sealed: k.sealed.clone(),
            signing: std::sync::Mutex::new(Vec::new()),
        })
    }
}

impl Publish for Publisher {
    fn known_policy(&self, name: &str) -> Option<String> {
        self.catalog.canonical(name)
    }

    fn committed(&mut self, took: Duration, jobs: usize) {
        if let Some(m) = &self.metrics {
            m.commit(took, jobs);
        }
    }

    fn republish(&mut self, state: &State) {
        match self.changed.take() {
            Some(changed) => {
                let affected = self.users_of(&changed);
                let changes = Changes {
                    affected,
                    ..Changes::default()
                };
                self.publish(state, &changes, false);
            }
            None => self.publish(state, &Changes::default(), true),
        }
    }

    fn publish(&mut self, state: &State, changes: &Changes, full: bool) {
        let old = self.shared.load_full();
        let mut next = if full {
            self.cache.clear();
            self.set_of.clear();
            self.stored = state
                .policies()
                .values()
                .filter_map(|p| compile_stored(p).map(|c| (p.name.clone(), c)))
                .collect();
            let mut s = Snapshot {
                owner_uin: self.owner_uin,
                ..Snapshot::default()
            };
            for u in state.users().values() {
                let e = self.user_entry(state, u);
                s.names.insert(e.name.clone(), e.clone());
                s.users.insert(u.uin, e);
            }
            for (id, k) in state.keys() {
                s.keys.insert(
                    Arc::from(id.as_str()),
                    Self::key_entry(k, old.keys.get(id.as_str())),
                );
            }
            s
        } else {
            let mut s = (*old).clone();
            let mut affected = self.users_of(&changes.policies);
            for name in &changes.policies {
                match state.policies().get(name).and_then(compile_stored) {
                    Some(c) => self.stored.insert(name.clone(), c),
                    None => self.stored.remove(name),
                };
            }
            affected.extend(changes.affected.iter().copied());
            for uin in &affected {
                if let Some(prev) = s.users.remove(uin) {
                    s.names.remove(prev.name.as_str());
                    self.forget(*uin);
                }
                if let Some(u) = state.users().get(uin) {
                    let e = self.user_entry(state, u);
                    s.names.insert(e.name.clone(), e.clone());
                    s.users.insert(*uin, e);
                }
            }
            for id in &changes.keys {
                let prev = s.keys.remove(id.as_str());
                if let Some(k) = state.keys().get(id) {
                    s.keys
                        .insert(Arc::from(id.as_str()), Self::key_entry(k, prev.as_ref()));
                }
            }
            s
        };
        next.owner_uin = self.owner_uin;
        next.generation = old.generation + 1;
        next.revision = state.revision();
        self.shared.store(Arc::new(next));
        self.revision.send_replace(state.revision());
    }
}
