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

/// Where an action comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Tencent's: a CAM API action, or a Chat action in Tencent's CAM
    /// pages for Chat; camd serves or decides it.
    Tencent,
    /// A CAM API action camd does not serve (roles, MFA, identity
    /// providers, ...): catalogued so that a policy copied from Tencent's
    /// documentation that names it is accepted, but a statement naming it
    /// grants nothing camd does.
    NotServed,
    /// camd's own, not Tencent's: the Chat server operations a co-located
    /// Chat process asks about (named after Chat's REST API) and camd's
    /// administration (`cam:ReloadPolicies`).
    Camd,
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
    /// Tencent's, Tencent's but not served, or camd's own.
    pub origin: Origin,
}

/// The services camd knows.
pub const SERVICES: &[&str] = &["cam", "im", "sts"];

use std::sync::OnceLock;

use Access::{Read as R, Write as W};
use Level::{Operation as O, Resource as Res};
use Origin::{Camd as C, NotServed as U, Tencent as T};

const fn a(
    service: &'static str,
    name: &'static str,
    access: Access,
    level: Level,
    origin: Origin,
) -> ActionInfo {
    ActionInfo {
        service,
        name,
        access,
        level,
        origin,
    }
}

/// Every catalogued action, sorted by service and then by lowercase name
/// (a test checks the order; lookups rely on it).
///
/// `cam:` is CAM's API (version 2019-01-16, all 95 actions of Tencent's SDK
/// models), plus camd's `ReloadPolicies`. `sts:` is STS 2018-08-13's seven
/// actions (not served yet: a permission policy may name them). `im:` is Tencent's CAM pages for
/// Chat (docs 598/69962 of 2025-10-21, 598/57125, 269/47105; the CloudAudit
/// list 629/96636; the policy examples of 1047/38088), read/write and level
/// as the newest page says, plus camd's own Chat server operations (`C`).
/// docs/decisions.md says where the pages disagree and what was chosen.
pub const ACTIONS: &[ActionInfo] = &[
    a("cam", "AddUser", W, Res, T),
    a("cam", "AddUserToGroup", W, Res, T),
    a("cam", "AttachGroupPolicy", W, Res, T),
    a("cam", "AttachRolePolicy", W, Res, T),
    a("cam", "AttachUserPolicy", W, Res, T),
    a("cam", "BuildDataFlowAuthToken", W, Res, U),
    a("cam", "ConsumeCustomMFAToken", W, Res, U),
    a("cam", "CreateAccessKey", W, Res, T),
    a("cam", "CreateGroup", W, Res, T),
    a("cam", "CreateMessageReceiver", W, Res, U),
    a("cam", "CreateOIDCConfig", W, Res, U),
    a("cam", "CreatePolicy", W, Res, T),
    a("cam", "CreatePolicyVersion", W, Res, T),
    a("cam", "CreateRole", W, Res, T),
    a("cam", "CreateSAMLProvider", W, Res, U),
    a("cam", "CreateServiceLinkedRole", W, Res, U),
    a("cam", "CreateSubAccountLoginIpPolicy", W, Res, U),
    a("cam", "CreateUserOIDCConfig", W, Res, U),
    a("cam", "CreateUserSAMLConfig", W, Res, U),
    a("cam", "DeleteAccessKey", W, Res, T),
    a("cam", "DeleteGroup", W, Res, T),
    a("cam", "DeleteMessageReceiver", W, Res, U),
    a("cam", "DeleteOIDCConfig", W, Res, U),
    a("cam", "DeletePolicy", W, Res, T),
    a("cam", "DeletePolicyVersion", W, Res, T),
    a("cam", "DeleteRole", W, Res, T),
    a("cam", "DeleteRolePermissionsBoundary", W, Res, T),
    a("cam", "DeleteSAMLProvider", W, Res, U),
    a("cam", "DeleteServiceLinkedRole", W, Res, U),
    a("cam", "DeleteUser", W, Res, T),
    a("cam", "DeleteUserPermissionsBoundary", W, Res, T),
    a("cam", "DescribeOIDCConfig", R, O, U),
    a("cam", "DescribeRoleList", R, O, T),
    a("cam", "DescribeSafeAuthFlag", R, O, U),
    a("cam", "DescribeSafeAuthFlagColl", R, O, U),
    a("cam", "DescribeSafeAuthFlagIntl", R, O, U),
    a("cam", "DescribeSubAccounts", R, O, T),
    a("cam", "DescribeUserOIDCConfig", R, O, U),
    a("cam", "DescribeUserSAMLConfig", R, O, U),
    a("cam", "DetachGroupPolicy", W, Res, T),
    a("cam", "DetachRolePolicy", W, Res, T),
    a("cam", "DetachUserPolicy", W, Res, T),
    a("cam", "DisableUserSSO", W, Res, U),
    a("cam", "GetAccountSummary", R, O, T),
    a("cam", "GetCustomMFATokenInfo", R, Res, U),
    a("cam", "GetGroup", R, Res, T),
    a("cam", "GetPasswordRules", R, O, T),
    a("cam", "GetPolicy", R, Res, T),
    a("cam", "GetPolicyVersion", R, Res, T),
    a("cam", "GetRole", R, Res, T),
    a("cam", "GetRolePermissionBoundary", R, Res, T),
    a("cam", "GetSAMLProvider", R, Res, U),
    a("cam", "GetSecurityLastUsed", R, Res, T),
    a("cam", "GetServiceLinkedRoleDeletionStatus", R, Res, U),
    a("cam", "GetUser", R, Res, T),
    a("cam", "GetUserAppId", R, O, T),
    a("cam", "GetUserPermissionBoundary", R, Res, T),
    a("cam", "ListAccessKeys", R, Res, T),
    a("cam", "ListAccounts", R, O, T),
    a("cam", "ListAttachedGroupPolicies", R, Res, T),
    a("cam", "ListAttachedRolePolicies", R, O, T),
    a("cam", "ListAttachedUserAllPolicies", R, Res, T),
    a("cam", "ListAttachedUserPolicies", R, Res, T),
    a("cam", "ListCollaborators", R, O, U),
    a("cam", "ListEntitiesForPolicy", R, Res, T),
    a("cam", "ListGroups", R, O, T),
    a("cam", "ListGroupsForUser", R, Res, T),
    a("cam", "ListPolicies", R, O, T),
    a("cam", "ListPoliciesGrantingServiceAccess", R, O, U),
    a("cam", "ListPolicyVersions", R, Res, T),
    a("cam", "ListReceiver", R, O, U),
    a("cam", "ListSAMLProviders", R, O, U),
    a("cam", "ListUsers", R, O, T),
    a("cam", "ListUsersForGroup", R, Res, T),
    a("cam", "ListWeChatWorkSubAccounts", R, O, U),
    a("cam", "PutRolePermissionsBoundary", W, Res, T),
    a("cam", "PutUserPermissionsBoundary", W, Res, T),
    a("cam", "ReloadPolicies", W, O, C),
    a("cam", "RemoveUserFromGroup", W, Res, T),
    a("cam", "SetDefaultPolicyVersion", W, Res, T),
    a("cam", "SetMfaFlag", W, Res, U),
    a("cam", "TagRole", W, Res, T),
    a("cam", "UntagRole", W, Res, T),
    a("cam", "UpdateAccessKey", W, Res, T),
    a("cam", "UpdateAssumeRolePolicy", W, Res, T),
    a("cam", "UpdateGroup", W, Res, T),
    a("cam", "UpdateOIDCConfig", W, Res, U),
    a("cam", "UpdatePasswordRules", W, O, T),
    a("cam", "UpdatePolicy", W, Res, T),
    a("cam", "UpdateRoleConsoleLogin", W, Res, T),
    a("cam", "UpdateRoleDescription", W, Res, T),
    a("cam", "UpdateRoleSessionDuration", W, Res, T),
    a("cam", "UpdateSAMLProvider", W, Res, U),
    a("cam", "UpdateUser", W, Res, T),
    a("cam", "UpdateUserOIDCConfig", W, Res, U),
    a("cam", "UpdateUserSAMLConfig", W, Res, U),
    a("im", "AccountNoSpeaking", W, Res, T),
    a("im", "AddAuditErrorCorrections", W, Res, T),
    a("im", "AddChatBotFAQ", W, Res, T),
    a("im", "AddChatBotModelInfo", W, Res, T),
    a("im", "AddChatBotSmallTalk", W, Res, T),
    a("im", "AddDirtyWords", W, Res, T),
    a("im", "AddFriend", W, Res, C),
    a("im", "AddGift", W, Res, T),
    a("im", "AddGiftCategory", W, Res, T),
    a("im", "AddGiftCategoryRelations", W, Res, T),
    a("im", "AddGroupMember", W, Res, T),
    a("im", "AddIdentifier", W, Res, T),
    a("im", "AddImAgent", W, Res, T),
    a("im", "AddLocalAuditWords", W, Res, T),
    a("im", "AddPactConfirmRecord", W, O, T),
    a("im", "ApplyChatBotTrial", W, Res, T),
    a("im", "BatchSendMessage", W, Res, C),
    a("im", "CanIntelligentCallTrail", R, Res, T),
    a("im", "CheckDev", R, Res, T),
    a("im", "CheckIfIMNewUser", R, O, T),
    a("im", "CheckIMAgentUsed", R, O, T),
    a("im", "CheckImPostPay", R, Res, T),
    a("im", "CheckResourceRefund", R, Res, T),
    a("im", "ClearChatBotModelConfig", W, Res, T),
    a("im", "CloudAuditModifyRichMsgResult", W, Res, T),
    a("im", "CopyStrategy", W, Res, T),
    a("im", "CreateAccount", W, Res, T),
    a("im", "CreateAIChatRobot", W, Res, T),
    a("im", "CreateAutoRenewDev", W, Res, T),
    a("im", "CreateCallKitStatService", W, Res, T),
    a("im", "CreateChatBot", W, Res, T),
    a("im", "CreateChatBotFAQMenu", W, Res, T),
    a("im", "CreateChatBotService", W, Res, T),
    a("im", "CreateChatBotSmallTalkMenu", W, Res, T),
    a("im", "CreateCloudAuditTrail", W, Res, T),
    a("im", "CreateCloudAuditWhiteList", W, Res, T),
    a("im", "CreateCustomAudit", W, Res, T),
    a("im", "CreateDev", W, Res, T),
    a("im", "CreateGroup", W, Res, T),
    a("im", "CreateIMTPNSInfo", W, Res, T),
    a("im", "CreateIntelligentCallTrail", W, Res, T),
    a("im", "CreatePluginTrail", W, Res, T),
    a("im", "CreatePushTask", W, Res, T),
    a("im", "DeleteAccount", W, Res, C),
    a("im", "DeleteFriend", W, Res, C),
    a("im", "DeleteGroupMember", W, Res, C),
    a("im", "DeleteImAgent", W, Res, T),
    a("im", "DescribeAbilityConfInfo", R, Res, T),
    a("im", "DescribeAccountList", R, Res, T),
    a("im", "DescribeApiFrequency", R, Res, T),
    a("im", "DescribeAppAndAccountInfo", R, Res, T),
    a("im", "DescribeAppidGroupList", R, Res, T),
    a("im", "DescribeAppStatList", R, Res, T),
    a("im", "DescribeAuditStatisticDetail", R, Res, T),
    a("im", "DescribeAuditSubmitStatistic", R, Res, T),
    a("im", "DescribeBizTypes", R, O, T),
    a("im", "DescribeCallBack", R, Res, T),
    a("im", "DescribeCallKitDetailRecord", R, Res, T),
    a("im", "DescribeCallKitOverview", R, Res, T),
    a("im", "DescribeCallKitRoomUserDetail", R, Res, T),
    a("im", "DescribeCallKitStatService", R, Res, T),
    a("im", "DescribeChatBotTrail", R, Res, T),
    a("im", "DescribeCloudAuditAppInfo", R, Res, T),
    a("im", "DescribeCloudAuditCallbackConfig", R, Res, T),
    a("im", "DescribeCloudSearchMessageTaskStatus", R, Res, T),
    a("im", "DescribeCommunityDosageDetail", R, Res, T),
    a("im", "DescribeCommunityRemainUsage", R, Res, T),
    a("im", "DescribeCustomerType", R, Res, T),
    a("im", "DescribeImAgent", R, Res, T),
    a("im", "DescribePluginUsagePackage", R, Res, T),
    a("im", "DescribePushRecord", R, Res, T),
    a("im", "DescribePushSecret", R, Res, T),
    a("im", "DescribePushTask", R, Res, T),
    a("im", "DescribeSdkAppInfo", R, Res, T),
    a("im", "DescribeTransUseNum", R, Res, T),
    a("im", "DescribeTrtcAppAndAccountInfo", R, Res, T),
    a("im", "DescribeUserOnlineStatistic", R, Res, T),
    a("im", "DestroyGroup", W, Res, C),
    a("im", "ExtendCommunityNum", W, Res, T),
    a("im", "GetFriendList", R, Res, C),
    a("im", "GetGroupInfo", R, Res, C),
    a("im", "GetJoinedGroupList", R, Res, C),
    a("im", "GetMessageHistory", R, Res, C),
    a("im", "GetNoSpeaking", R, Res, C),
    a("im", "GetUserProfile", R, Res, C),
    a("im", "ImportAccount", W, Res, C),
    a("im", "ModifyGroupBaseInfo", W, Res, C),
    a("im", "OpenImAgentTrial", W, Res, T),
    a("im", "OpenTRTCService", W, Res, T),
    a("im", "QueryOnlineStatus", R, Res, C),
    a("im", "RecallMessage", W, Res, C),
    a("im", "RegisterIMApp", W, Res, T),
    a("im", "RemoveUser", W, Res, T),
    a("im", "SendGroupMessage", W, Res, C),
    a("im", "SendMessage", W, Res, C),
    a("im", "SetAbilityConfInfo", W, Res, T),
    a("im", "SetNoSpeaking", W, Res, C),
    a("im", "SetUserProfile", W, Res, C),
    a("im", "UpdateAuditCallbackConfig", W, Res, T),
    a("im", "UpdateCloudAuditAppInfo", W, Res, T),
    a("im", "UpdateImAgent", W, Res, T),
    a("im", "UpdateNewUserStep", W, Res, T),
    a("im", "UpdatePluginAbility", W, Res, T),
    a("im", "UpdatePostPayPackage", W, Res, T),
    a("im", "UpdateSecret", W, Res, T),
    a("im", "UpdateSystemDefaultStatus", W, Res, T),
    a("sts", "AssumeRole", W, Res, U),
    a("sts", "AssumeRoleWithSAML", W, Res, U),
    a("sts", "AssumeRoleWithWebIdentity", W, Res, U),
    a("sts", "GetCallerIdentity", R, O, U),
    a("sts", "GetFederationToken", W, O, U),
    a("sts", "GetSessionToken", W, O, U),
    a("sts", "QueryApiKey", R, O, U),
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
