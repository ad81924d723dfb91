//! The redb tables, in one place, and the schema version.

use redb::TableDefinition;

/// The schema this binary writes. Bump it (and add a migration in
/// `migrate.rs`) when a table or record layout changes incompatibly.
pub const SCHEMA_VERSION: u64 = 3;

/// `schema_version`, `next_uin`: counters and markers.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Sub-users by uin: a postcard `UserRecord` (with their groups and direct attachments).
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// Groups by name: a postcard `GroupRecord` (with their attachments).
pub const GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("groups");
/// Roles by name: a postcard `RoleRecord` (trust policy, attachments, boundary).
pub const ROLES: TableDefinition<&str, &[u8]> = TableDefinition::new("roles");
/// Access keys by SecretId: a postcard `KeyRecord` (owner, keyed hash, status).
pub const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("keys");
/// API-managed custom policies by name: a postcard `PolicyRecord` (with their versions).
pub const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("policies");
/// Account-wide settings by name (`password_rules`, `preset_alias/NAME`):
/// a postcard `SettingRecord`.
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
/// The audit trail's changes (and entries written before refusals had a
/// table of their own) by sequence number: a postcard `AuditEntry`.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// The audit trail's refusals and failures (anything whose outcome is not
/// `ok`), numbered in the same sequence, kept under their own retention so
/// that no flood of them pushes a change out.
pub const AUDIT_REFUSED: TableDefinition<u64, &[u8]> = TableDefinition::new("audit_refused");

/// Meta key of the schema version.
pub const META_SCHEMA: &str = "schema_version";
/// Meta key of the next uin to allocate (uins are never reused).
pub const META_NEXT_UIN: &str = "next_uin";
/// Meta key of the next audit sequence number.
pub const META_NEXT_AUDIT: &str = "next_audit_seq";
