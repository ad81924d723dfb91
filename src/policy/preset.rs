//! The preset (built-in, read-only) policies: Chat's two and the general administrator.

use std::sync::{Arc, OnceLock};

use super::document::Policy;

/// A preset policy's name, description and document.
pub struct Preset {
    /// The name operators attach.
    pub name: &'static str,
    /// What it grants.
    pub description: &'static str,
    /// The CAM 2.0 document.
    pub document: &'static str,
}

/// Every preset.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "AdministratorAccess",
        description: "Full access to all resources",
        document: r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
    },
    Preset {
        name: "QcloudAVCFullAccess",
        description: "Chat read and write permissions",
        document: r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"*"}]}"#,
    },
    Preset {
        name: "QcloudChatReadOnlyAccess",
        description: "Chat read-only permission",
        document: r#"{"version":"2.0","statement":[{"effect":"allow","action":["im:Describe*","im:Get*","im:Check*","im:Can*"],"resource":"*"}]}"#,
    },
];

/// Old names still accepted: (alias, preset name).
pub const ALIASES: &[(&str, &str)] = &[("QcloudIMReadOnlyAccess", "QcloudChatReadOnlyAccess")];

/// The canonical name for `name` if it is a preset or an alias of one.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .map(|p| p.name)
        .find(|p| *p == name)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == name).map(|(_, p)| *p))
}

fn compiled() -> &'static [Arc<Policy>] {
    static ALL: OnceLock<Vec<Arc<Policy>>> = OnceLock::new();
    ALL.get_or_init(|| {
        PRESETS
            .iter()
            .filter_map(|p| Policy::parse(p.name, p.document).ok())
            .map(|c| Arc::new(c.policy))
            .collect()
    })
}

/// The compiled preset named `name` (or an alias of it).
pub fn preset(name: &str) -> Option<Arc<Policy>> {
    let canonical = canonical_name(name)?;
    compiled().iter().find(|p| p.name == canonical).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_presets_compile_without_warnings() {
        for p in PRESETS {
            let c = Policy::parse(p.name, p.document).unwrap();
            assert!(c.warnings.is_empty(), "{}: {:?}", p.name, c.warnings);
        }
        assert_eq!(compiled().len(), PRESETS.len());
        assert_eq!(
            preset("QcloudIMReadOnlyAccess").unwrap().name,
            "QcloudChatReadOnlyAccess"
        );
        assert!(preset("Nope").is_none());
    }
}
