//! Per-account limits, CAM's by default, configurable for larger Chat platforms.

use serde::{Deserialize, Serialize};

/// The limits the store enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Sub-users per account (CAM: 1,000).
    pub users: usize,
    /// Groups per account (CAM: 300).
    pub groups: usize,
    /// Groups one user may be in (CAM: 10).
    pub groups_per_user: usize,
    /// Users in one group (CAM: 100).
    pub users_per_group: usize,
    /// Policies attached directly to one user or group (CAM: 200).
    pub attachments: usize,
    /// Access keys per user, root included (CAM: 2).
    pub keys_per_user: usize,
    /// Roles per account (CAM: 1,000).
    pub roles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            users: 1_000,
            groups: 300,
            groups_per_user: 10,
            users_per_group: 100,
            attachments: 200,
            keys_per_user: 2,
            roles: 1_000,
        }
    }
}
