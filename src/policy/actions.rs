//! The action catalogue: every action camd knows, by service, marked read or
//! write and resource- or operation-level. This file is data; add a line when
//! Chat grows an API.

/// Whether an action reads or changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads state (`Describe*`, `Get*`, `Check*`, `Can*`, `List*`).
    Read,
    /// Changes state.
    Write,
}

/// How finely an action can be authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Per resource (per app for Chat).
    Resource,
    /// Only as a whole: granted only by a statement whose resource is `*`.
    Operation,
}

/// One catalogued action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// The service prefix, e.g. `im`.
    pub service: &'static str,
    /// The API name, e.g. `SendMessage`.
    pub name: &'static str,
    /// Read or write.
    pub access: Access,
    /// Resource or operation level.
    pub level: Level,
}

/// The services camd knows.
pub const SERVICES: &[&str] = &["cam", "im"];

use std::sync::OnceLock;

use Access::{Read as R, Write as W};
use Level::{Operation as O, Resource as Res};

const fn a(service: &'static str, name: &'static str, access: Access, level: Level) -> ActionInfo {
    ActionInfo {
        service,
        name,
        access,
        level,
    }
}

/// Every catalogued action, sorted by service and then by lowercase name
/// (a test checks the order; lookups rely on it).
pub const ACTIONS: &[ActionInfo] = &[
    // camd's own administration, authorized by the same engine.
    a("cam", "AddUser", W, Res),
    a("cam", "AddUserToGroup", W, Res),
    a("cam", "AttachGroupPolicy", W, Res),
    a("cam", "AttachUserPolicy", W, Res),
    a("cam", "CreateAccessKey", W, Res),
    a("cam", "CreateGroup", W, Res),
    a("cam", "CreatePolicy", W, Res),
    a("cam", "CreatePolicyVersion", W, Res),
    a("cam", "DeleteAccessKey", W, Res),
    a("cam", "DeleteGroup", W, Res),
    a("cam", "DeletePolicy", W, Res),
    a("cam", "DeletePolicyVersion", W, Res),
    a("cam", "DeleteUser", W, Res),
    a("cam", "DeleteUserPermissionsBoundary", W, Res),
    a("cam", "DetachGroupPolicy", W, Res),
    a("cam", "DetachUserPolicy", W, Res),
    a("cam", "GetPolicy", R, Res),
    a("cam", "GetPolicyVersion", R, Res),
    a("cam", "GetUser", R, Res),
    a("cam", "GetUserPermissionBoundary", R, Res),
    a("cam", "ListAccessKeys", R, Res),
    a("cam", "ListAttachedGroupPolicies", R, Res),
    a("cam", "ListAttachedUserAllPolicies", R, Res),
    a("cam", "ListAttachedUserPolicies", R, Res),
    a("cam", "ListEntitiesForPolicy", R, Res),
    a("cam", "ListGroups", R, O),
    a("cam", "ListGroupsForUser", R, Res),
    a("cam", "ListPolicies", R, O),
    a("cam", "ListPolicyVersions", R, Res),
    a("cam", "ListUsers", R, O),
    a("cam", "ListUsersForGroup", R, Res),
    a("cam", "PutUserPermissionsBoundary", W, Res),
    a("cam", "ReloadPolicies", W, O),
    a("cam", "RemoveUserFromGroup", W, Res),
    a("cam", "SetDefaultPolicyVersion", W, Res),
    a("cam", "UpdateAccessKey", W, Res),
    a("cam", "UpdatePolicy", W, Res),
    a("cam", "UpdateUser", W, Res),
    // Chat: the CAM-enabled API list (doc 598/69962) and the server
    // operations a Chat backend performs through its REST API.
    a("im", "AccountNoSpeaking", W, Res),
    a("im", "AddAuditErrorCorrections", W, Res),
    a("im", "AddChatBotFAQ", W, Res),
    a("im", "AddChatBotModelInfo", W, Res),
    a("im", "AddChatBotSmallTalk", W, Res),
    a("im", "AddDirtyWords", W, Res),
    a("im", "AddFriend", W, Res),
    a("im", "AddGift", W, Res),
    a("im", "AddGroupMember", W, Res),
    a("im", "AddIdentifier", W, Res),
    a("im", "AddImAgent", W, Res),
    a("im", "AddLocalAuditWords", W, Res),
    a("im", "AddPactConfirmRecord", W, O),
    a("im", "ApplyChatBotTrial", W, Res),
    a("im", "BatchSendMessage", W, Res),
    a("im", "CanIntelligentCallTrail", R, Res),
    a("im", "CheckDev", R, Res),
    a("im", "CheckIfIMNewUser", R, O),
    a("im", "CheckIMAgentUsed", R, O),
    a("im", "CheckImPostPay", R, Res),
    a("im", "CheckResourceRefund", R, Res),
    a("im", "ClearChatBotModelConfig", W, Res),
    a("im", "CreateGroup", W, Res),
    a("im", "CreatePushTask", W, Res),
    a("im", "DeleteAccount", W, Res),
    a("im", "DeleteFriend", W, Res),
    a("im", "DeleteGroupMember", W, Res),
    a("im", "DescribeAbilityConfInfo", R, Res),
    a("im", "DescribeAccountList", R, Res),
    a("im", "DescribeApiFrequency", R, Res),
    a("im", "DescribeAppAndAccountInfo", R, Res),
    a("im", "DescribeAppidGroupList", R, Res),
    a("im", "DescribeAppStatList", R, Res),
    a("im", "DescribeBizTypes", R, O),
    a("im", "DescribeCallBack", R, Res),
    a("im", "DescribePushRecord", R, Res),
    a("im", "DescribeTrtcAppAndAccountInfo", R, Res),
    a("im", "DestroyGroup", W, Res),
    a("im", "GetFriendList", R, Res),
    a("im", "GetGroupInfo", R, Res),
    a("im", "GetJoinedGroupList", R, Res),
    a("im", "GetMessageHistory", R, Res),
    a("im", "GetNoSpeaking", R, Res),
    a("im", "GetUserProfile", R, Res),
    a("im", "ImportAccount", W, Res),
    a("im", "ModifyGroupBaseInfo", W, Res),
    a("im", "OpenTRTCService", W, Res),
    a("im", "QueryOnlineStatus", R, Res),
    a("im", "RecallMessage", W, Res),
    a("im", "RegisterIMApp", W, Res),
    a("im", "RemoveUser", W, Res),
    a("im", "SendGroupMessage", W, Res),
    a("im", "SendMessage", W, Res),
    a("im", "SetAbilityConfInfo", W, Res),
    a("im", "SetNoSpeaking", W, Res),
    a("im", "SetUserProfile", W, Res),
    a("im", "UpdateSecret", W, Res),
];

fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Looks up `service:name` (ASCII case-insensitively) without allocating.
pub fn lookup(service: &str, name: &str) -> Option<&'static ActionInfo> {
    ACTIONS
        .binary_search_by(|info| {
            cmp_ignore_case(info.service, service).then_with(|| cmp_ignore_case(info.name, name))
        })
        .ok()
        .and_then(|i| ACTIONS.get(i))
}

/// Looks up a full action `service:name`.
pub fn lookup_action(action: &str) -> Option<&'static ActionInfo> {
    let (service, name) = action.split_once(':')?;
    lookup(service, name)
}

/// Whether `action` (`service:name`) changes something: a catalogued
/// write, or any action the catalogue does not know (treated as a write,
/// so an unknown action never passes for a harmless read).
pub fn is_write(action: &str) -> bool {
    lookup_action(action).is_none_or(|a| a.access == Access::Write)
}

/// A cheap hash of a short key, ignoring ASCII case: its length and its
/// first and last eight bytes, lowercased.
fn quick_hash(key: &[u8]) -> u64 {
    let word = |bytes: &[u8]| {
        let mut w = [0u8; 8];
        for (d, s) in w.iter_mut().zip(bytes) {
            *d = *s;
        }
        lowercase_word(u64::from_le_bytes(w))
    };
    let head = word(key);
    let tail = word(key.get(key.len().saturating_sub(8)..).unwrap_or_default());
    (head ^ tail.rotate_left(29) ^ key.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The eight bytes of `w` with ASCII `A`-`Z` lowercased, all at once: a byte
/// is upper case when adding 0x3f sets its top bit and adding 0x25 does not
/// (other bytes, non-ASCII ones included, are kept).
fn lowercase_word(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let low = w & LOW7;
    let from_a = low + 0x3f3f_3f3f_3f3f_3f3f;
    let past_z = low + 0x2525_2525_2525_2525;
    let upper = from_a & !past_z & !w & TOP;
    w | (upper >> 2)
}

/// Slots in the open-addressing table (a power of two, over four times the catalogue).
const SLOTS: usize = (ACTIONS.len() * 4).next_power_of_two();

/// Every catalogued action as lowercase `service:name`, in catalogue order.
pub fn lowercase_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ACTIONS
            .iter()
            .map(|a| format!("{}:{}", a.service, a.name).to_ascii_lowercase())
            .collect()
    })
}

/// Catalogue position + 1 per slot (0 is empty), filled by linear probing.
fn table() -> &'static [u16; SLOTS] {
    static TABLE: OnceLock<[u16; SLOTS]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u16; SLOTS];
        for (i, name) in lowercase_names().iter().enumerate() {
            let mut slot = (quick_hash(name.as_bytes()) >> 40) as usize % SLOTS;
            while t.get(slot).is_some_and(|v| *v != 0) {
                slot = (slot + 1) % SLOTS;
            }
            if let Some(v) = t.get_mut(slot) {
                *v = u16::try_from(i + 1).unwrap_or(0);
            }
        }
        t
    })
}

/// The catalogue position of `service:name` in any ASCII case, without
/// allocating or copying it.
pub fn position(action: &[u8]) -> Option<usize> {
    let t = table();
    let names = lowercase_names();
    let mut slot = (quick_hash(action) >> 40) as usize % SLOTS;
    loop {
        let i = usize::from(*t.get(slot)?).checked_sub(1)?;
        if names
            .get(i)
            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(action))
        {
            return Some(i);
        }
        slot = (slot + 1) % SLOTS;
    }
}

/// True when `service` is a known service (case-insensitively).
pub fn is_service(service: &str) -> bool {
    SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        for w in ACTIONS.windows(2) {
            let ord = cmp_ignore_case(w[0].service, w[1].service)
                .then_with(|| cmp_ignore_case(w[0].name, w[1].name));
            assert_eq!(
                ord,
                std::cmp::Ordering::Less,
                "{:?} before {:?}",
                w[0],
                w[1]
            );
        }
        assert!(ACTIONS.iter().all(|a| SERVICES.contains(&a.service)));
    }

    #[test]
    fn lookups() {
        assert_eq!(
            lookup("IM", "sendmessage").map(|a| a.name),
            Some("SendMessage")
        );
        assert_eq!(
            lookup_action("im:DescribeBizTypes").map(|a| a.level),
            Some(Level::Operation)
        );
        assert!(lookup_action("im:Nope").is_none());
        assert!(lookup_action("nocolon").is_none());
        assert_eq!(
            position(b"im:sendmessage")
                .and_then(|i| ACTIONS.get(i))
                .map(|a| a.name),
            Some("SendMessage")
        );
        assert_eq!(position(b"im:SendMessage"), position(b"im:sendmessage"));
        assert_eq!(position(b"IM:SENDMESSAGE"), position(b"im:sendmessage"));
        assert!(position(b"im:SendMessag\xc5").is_none());
        for (i, n) in lowercase_names().iter().enumerate() {
            assert_eq!(position(n.as_bytes()), Some(i));
            assert_eq!(position(n.to_ascii_uppercase().as_bytes()), Some(i));
        }
        for w in [0u64, u64::MAX, 0x4142_5a5b_6061_7a40, 0xc1c2_dada_4141_5a5a] {
            let lowered: Vec<u8> = w.to_le_bytes().iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(lowercase_word(w).to_le_bytes().to_vec(), lowered, "{w:x}");
        }
        assert!(position(b"").is_none());
        assert!(position(b"im:sendmessagex").is_none());
    }
}
