//! The policy catalog: every policy that can be attached, by name (the
//! presets and the loaded custom policies).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::policy::{Policy, preset};

/// Presets plus custom policies; immutable, replaced whole on reload.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    custom: BTreeMap<String, Arc<Policy>>,
    /// The documents as written, for `GetPolicy`.
    sources: BTreeMap<String, Arc<str>>,
}

impl Catalog {
    /// Only the presets.
    pub fn presets_only() -> Self {
        Self::default()
    }

    /// The presets and these custom policies (a custom policy may not take a
    /// preset's name; callers check that when loading).
    pub fn with_custom(custom: impl IntoIterator<Item = Arc<Policy>>) -> Self {
        Self {
            custom: custom.into_iter().map(|p| (p.name.clone(), p)).collect(),
            sources: BTreeMap::new(),
        }
    }

    /// Keeps the documents' text (by policy name) for `source`.
    pub fn with_sources(mut self, sources: impl IntoIterator<Item = (String, Arc<str>)>) -> Self {
        self.sources = sources.into_iter().collect();
        self
    }

    /// A custom policy's document as written.
    pub fn source(&self, name: &str) -> Option<String> {
        self.sources.get(name).map(|s| s.to_string())
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
}
