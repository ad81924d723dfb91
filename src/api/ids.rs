//! The numeric ids CAM's API uses where camd keys by name: a group's
//! GroupId and a policy's PolicyId are derived from the name (stable across
//! restarts and hosts, no table to keep); a user's Uid is its Uin.

use ring::digest;

use crate::policy::preset::PRESETS;

/// The PolicyIds of the presets, in `PRESETS` order (AdministratorAccess
/// has CAM's id, 1).
const PRESET_IDS: &[u64] = &[1, 217_486, 217_487];

/// Derived ids start here, above any preset's.
const DERIVED_BASE: u64 = 1 << 32;

fn derived(kind: &str, name: &str) -> u64 {
    let d = digest::digest(&digest::SHA256, format!("camd {kind}:{name}").as_bytes());
    let mut b = [0u8; 8];
    if let Some(first) = d.as_ref().get(..6) {
        if let Some(slot) = b.get_mut(2..) {
            slot.copy_from_slice(first);
        }
    }
    // 48 bits above the base: below 2^53, exact in every JSON number.
    DERIVED_BASE + u64::from_be_bytes(b)
}

/// A policy's PolicyId.
pub fn policy_id(name: &str) -> u64 {
    PRESETS
        .iter()
        .zip(PRESET_IDS)
        .find(|(p, _)| p.name == name)
        .map_or_else(|| derived("policy", name), |(_, id)| *id)
}

/// A group's GroupId.
pub fn group_id(name: &str) -> u64 {
    derived("group", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(PRESET_IDS.len(), PRESETS.len());
        assert_eq!(policy_id("AdministratorAccess"), 1);
        assert_eq!(policy_id("mine"), policy_id("mine"));
        assert_ne!(policy_id("mine"), policy_id("yours"));
        assert_ne!(policy_id("x"), group_id("x"));
        assert!(group_id("g") > DERIVED_BASE && group_id("g") < 1 << 53);
    }
}
