//! Wire types of the account-wide reads and the group details CAM's API
//! has beside the basics: GetGroup, UpdateGroup, GetAccountSummary,
//! GetUserAppId, DescribeSubAccounts, ListAccounts, GetSecurityLastUsed.

use serde::{Deserialize, Serialize};

/// One group with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GetGroup {
    /// The group.
    pub name: String,
}

/// Changes a group's remark (`None` leaves it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateGroup {
    /// The group.
    pub name: String,
    /// A new remark.
    pub remark: Option<String>,
}

/// Counts of the account's entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetAccountSummary;

/// What GetAccountSummary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// Custom policies (files and API-managed; presets not counted).
    pub policies: u64,
    /// Roles (none yet).
    pub roles: u64,
    /// Sub-users.
    pub users: u64,
    /// Groups.
    pub groups: u64,
    /// Group memberships, summed over groups.
    pub members: u64,
}

/// The account's AppId and owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetUserAppId;

/// What GetUserAppId returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppIdInfo {
    /// The root account's uin.
    pub owner_uin: u64,
    /// The account's AppId (`app_id` in the config; 0 when not set).
    pub app_id: u64,
}

/// Sub-users by uin (unknown uins are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DescribeSubAccounts {
    /// At most 50 uins.
    pub uins: Vec<u64>,
}

/// Every sub-user, for CAM's ListAccounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListAccounts;

/// When access keys were last used (unknown ids are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GetSecurityLastUsed {
    /// At most 10 SecretIds.
    pub secret_ids: Vec<String>,
}
