//! The policy catalog: every policy that can be attached, by name (the
//! presets and the loaded custom policies).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::policy::{Policy, preset};

/// What the catalog remembers of a custom policy's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMeta {
    /// SHA-256 of the file, hex.
    pub hash: String,
    /// When this content was first loaded (ms since the epoch).
    pub loaded_ms: i64,
    /// The document as written.
    pub source: Arc<str>,
}

/// Presets plus custom policies; immutable, replaced whole on reload.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    custom: BTreeMap<String, Arc<Policy>>,
    meta: BTreeMap<String, PolicyMeta>,
}

/// How two catalogs' custom policies differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Diff {
    /// New names.
    pub added: usize,
    /// Same names, other content.
    pub changed: usize,
    /// Names gone.
    pub removed: usize,
}

impl Catalog {
    /// Only the presets.
    pub fn presets_only() -> Self {
        Self::default()
    }

    /// The presets and these custom policies (a custom policy may not take a
    /// preset's name; the folder loader checks that).
    pub fn with_custom(custom: impl IntoIterator<Item = Arc<Policy>>) -> Self {
        Self {
            custom: custom.into_iter().map(|p| (p.name.clone(), p)).collect(),
            meta: BTreeMap::new(),
        }
    }

    /// Keeps what was read of each policy's file.
    pub fn with_meta(mut self, meta: BTreeMap<String, PolicyMeta>) -> Self {
        self.meta = meta;
        self
    }

    /// The canonical name of `name`, if the catalog has it (an alias resolves to its preset).
    pub fn canonical(&self, name: &str) -> Option<String> {
        preset::canonical_name(name)
            .map(str::to_string)
            .or_else(|| self.custom.contains_key(name).then(|| name.to_string()))
    }

    /// The compiled policy by canonical name.
    pub fn get(&self, name: &str) -> Option<Arc<Policy>> {
        preset::preset(name).or_else(|| self.custom.get(name).cloned())
    }

    /// The custom policies.
    pub fn custom(&self) -> impl Iterator<Item = &Arc<Policy>> {
        self.custom.values()
    }

    /// What was read of a custom policy's file.
    pub fn meta(&self, name: &str) -> Option<&PolicyMeta> {
        self.meta.get(name)
    }

    /// A custom policy's document as written.
    pub fn source(&self, name: &str) -> Option<String> {
        self.meta.get(name).map(|m| m.source.to_string())
    }

    /// How `next` differs from this catalog (by content hash, or by compiled
    /// form where no hash is known).
    pub fn diff(&self, next: &Catalog) -> Diff {
        let mut d = Diff::default();
        for (name, p) in &next.custom {
            match self.custom.get(name) {
                None => d.added += 1,
                Some(old) if !self.same(next, name, old, p) => d.changed += 1,
                Some(_) => {}
            }
        }
        d.removed = self
            .custom
            .keys()
            .filter(|n| !next.custom.contains_key(*n))
            .count();
        d
    }

    /// Whether `name` means the same policy in this catalog and in `next`.
    fn same(&self, next: &Catalog, name: &str, old: &Arc<Policy>, new: &Arc<Policy>) -> bool {
        Arc::ptr_eq(old, new)
            || match (self.meta.get(name), next.meta.get(name)) {
                (Some(a), Some(b)) => a.hash == b.hash,
                _ => old == new,
            }
    }

    /// The custom policies added, changed or removed in `next`: the names
    /// whose users' compiled sets must be rebuilt.
    pub fn changed_names(&self, next: &Catalog) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        for (name, p) in &next.custom {
            match self.custom.get(name) {
                Some(old) if self.same(next, name, old, p) => {}
                _ => {
                    out.insert(name.clone());
                }
            }
        }
        out.extend(
            self.custom
                .keys()
                .filter(|n| !next.custom.contains_key(*n))
                .cloned(),
        );
        out
    }
}
