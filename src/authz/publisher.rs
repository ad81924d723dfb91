//! Builds and publishes snapshots from the store's state: after a commit only
//! the affected users and keys are rebuilt; users with the same policies share
//! one compiled set.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::catalog::Catalog;
use crate::metrics::Metrics;
use crate::policy::PolicySet;
use crate::store::{Changes, Key, KeyStatus, Publish, State, User};

use super::snapshot::{KeyEntry, Snapshot, UserEntry};

/// Owns the catalog and the compiled-set cache; publishes into `shared`.
pub struct Publisher {
    shared: Arc<ArcSwap<Snapshot>>,
    catalog: Arc<Catalog>,
    owner_uin: u64,
    /// Compiled sets by their sorted policy names, shared between users.
    cache: HashMap<Vec<String>, Arc<PolicySet>>,
    /// Where commit times and batch sizes are recorded.
    metrics: Option<Arc<Metrics>>,
}

impl Publisher {
    /// A publisher writing into `shared`.
    pub fn new(shared: Arc<ArcSwap<Snapshot>>, catalog: Arc<Catalog>, owner_uin: u64) -> Self {
        Self {
            shared,
            catalog,
            owner_uin,
            cache: HashMap::new(),
            metrics: None,
        }
    }

    /// Records each commit's time and batch size in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Installs a new catalog (the writer republishes everything after).
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
        self.cache.clear();
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    fn policy_set(&mut self, state: &State, u: &User) -> Arc<PolicySet> {
        let mut names: Vec<String> = u.policies.iter().map(|a| a.policy.clone()).collect();
        for g in &u.groups {
            if let Some(group) = state.groups.get(g) {
                names.extend(group.policies.iter().map(|a| a.policy.clone()));
            }
        }
        names.sort();
        names.dedup();
        if let Some(set) = self.cache.get(&names) {
            return set.clone();
        }
        let set = Arc::new(PolicySet::new(
            names.iter().filter_map(|n| self.catalog.get(n)),
        ));
        self.cache.insert(names, set.clone());
        set
    }

    fn user_entry(&mut self, state: &State, u: &User) -> Arc<UserEntry> {
        Arc::new(UserEntry {
            uin: u.uin,
            name: Arc::from(u.name.as_str()),
            policies: self.policy_set(state, u),
        })
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

    fn publish(&mut self, state: &State, changes: &Changes, full: bool) {
        let old = self.shared.load_full();
        let mut next = if full {
            self.cache.clear();
            let mut s = Snapshot {
                owner_uin: self.owner_uin,
                ..Snapshot::default()
            };
            for u in state.users.values() {
                let e = self.user_entry(state, u);
                s.names.insert(e.name.clone(), e.clone());
                s.users.insert(u.uin, e);
            }
            for (id, k) in &state.keys {
                s.keys.insert(
                    Arc::from(id.as_str()),
                    Self::key_entry(k, old.keys.get(id.as_str())),
                );
            }
            s
        } else {
            let mut s = (*old).clone();
            for uin in &changes.affected {
                if let Some(prev) = s.users.remove(uin) {
                    s.names.remove(&prev.name);
                }
                if let Some(u) = state.users.get(uin) {
                    let e = self.user_entry(state, u);
                    s.names.insert(e.name.clone(), e.clone());
                    s.users.insert(*uin, e);
                }
            }
            for id in &changes.keys {
                let prev = s.keys.remove(id.as_str());
                if let Some(k) = state.keys.get(id) {
                    s.keys
                        .insert(Arc::from(id.as_str()), Self::key_entry(k, prev.as_ref()));
                }
            }
            s
        };
        next.owner_uin = self.owner_uin;
        next.generation = old.generation + 1;
        self.shared.store(Arc::new(next));
    }
}
