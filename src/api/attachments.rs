//! CAM's actions on attachments: Attach/Detach User/Group Policy, the
//! ListAttached… lists and ListEntitiesForPolicy.

use serde_json::{Value, json};

use crate::code::Failure;
use crate::protocol::{self as op, AttachedInfo, Entities};

use super::action::{Action, last};
use super::params::{Paging, bad_value};
use super::{Directory, Params, fields, group_id, policy_id};

/// Defines an attach or detach action: `$who` names the user's uin or the
/// group's id parameter, resolved by `$resolve`.
macro_rules! attach_action {
    ($(#[$doc:meta])* $name:ident, $who:literal, $field:ident, $resolve:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl Action for $name {
            const NAME: &'static str = stringify!($name);
            const PARAMS: &'static [&'static str] = &["PolicyId", $who];
            type Op = op::$name;

            fn plan(p: &Params, dir: &dyn Directory) -> Result<(Self, Vec<op::$name>), Failure> {
                let op = op::$name {
                    $field: dir.$resolve(p.u64($who)?)?,
                    policy: dir.policy(p.u64("PolicyId")?)?,
                };
                Ok((Self, vec![op]))
            }
        }
    };
}

attach_action!(
    /// Attaches a policy to a user.
    AttachUserPolicy, "AttachUin", user, user
);
attach_action!(
    /// Detaches a policy from a user.
    DetachUserPolicy, "DetachUin", user, user
);
attach_action!(
    /// Attaches a policy to a group.
    AttachGroupPolicy, "AttachGroupId", group, group
);
attach_action!(
    /// Detaches a policy from a group.
    DetachGroupPolicy, "DetachGroupId", group, group
);

/// One page of attachments whose policy name holds `keyword`.
fn attached_page(paging: Paging, keyword: &str, list: &[AttachedInfo]) -> Value {
    let items = list
        .iter()
        .filter(|a| a.policy.contains(keyword))
        .map(fields::attached)
        .collect();
    fields::page(paging, items, "List")
}

/// The policies attached to a user directly, paged.
pub struct ListAttachedUserPolicies(Paging);

impl Action for ListAttachedUserPolicies {
    const NAME: &'static str = "ListAttachedUserPolicies";
    const PARAMS: &'static [&'static str] = &["TargetUin", "Page", "Rp"];
    type Op = op::ListAttachedUserPolicies;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListAttachedUserPolicies>), Failure> {
        let user = dir.user(p.u64("TargetUin")?)?;
        let op = op::ListAttachedUserPolicies { user, all: false };
        Ok((Self(p.paging()?), vec![op]))
    }

    fn render(self, replies: Vec<Vec<AttachedInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(attached_page(self.0, "", &last(replies)?))
    }
}

/// The policies a user has, directly and through groups, paged.
pub struct ListAttachedUserAllPolicies {
    paging: Paging,
    /// 0 all, 1 direct, 2 through groups.
    attach_type: u64,
    keyword: String,
}

impl Action for ListAttachedUserAllPolicies {
    const NAME: &'static str = "ListAttachedUserAllPolicies";
    const PARAMS: &'static [&'static str] = &[
        "TargetUin",
        "Rp",
        "Page",
        "AttachType",
        "StrategyType",
        "Keyword",
    ];
    type Op = op::ListAttachedUserPolicies;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListAttachedUserPolicies>), Failure> {
        let user = dir.user(p.u64("TargetUin")?)?;
        let this = Self {
            paging: p.paging()?,
            attach_type: match p.opt_u64("AttachType")?.unwrap_or(0) {
                t @ 0..=2 => t,
                _ => return Err(bad_value("AttachType", "0, 1 or 2")),
            },
            keyword: p.text("Keyword")?,
        };
        Ok((this, vec![op::ListAttachedUserPolicies { user, all: true }]))
    }

    fn render(self, replies: Vec<Vec<AttachedInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        let list = last(replies)?;
        let mut names: Vec<&str> = list.iter().map(|a| a.policy.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let items = names
            .into_iter()
            .filter(|n| n.contains(self.keyword.as_str()))
            .filter_map(|n| self.entry(n, &list))
            .collect();
        let (items, total) = self.paging.take(items);
        Ok(json!({ "PolicyList": items, "TotalNum": total }))
    }
}

impl ListAttachedUserAllPolicies {
    /// Policy `n`'s entry, with the groups it comes through (`None`: not
    /// shown for AttachType).
    fn entry(&self, n: &str, list: &[AttachedInfo]) -> Option<Value> {
        let of: Vec<&AttachedInfo> = list.iter().filter(|a| a.policy == n).collect();
        let direct = of.iter().any(|a| a.via_group.is_none());
        let groups: Vec<Value> = of
            .iter()
            .filter_map(|a| a.via_group.as_deref())
            .map(|g| json!({ "GroupId": group_id(g), "GroupName": g }))
            .collect();
        let shown = match self.attach_type {
            1 => direct,
            2 => !groups.is_empty(),
            _ => true,
        };
        let mode = if fields::is_preset(n) { "2" } else { "1" };
        let added = of.iter().map(|a| a.attached_ms).min().unwrap_or(0);
        shown.then(|| {
            json!({
                "PolicyId": policy_id(n).to_string(),
                "PolicyName": n,
                "Description": "",
                "AddTime": fields::time(added),
                "StrategyType": mode,
                "CreateMode": mode,
                "Groups": groups,
                "Deactived": 0,
                "DeactivedDetail": [],
            })
        })
    }
}

/// The policies attached to a group, paged, by Keyword.
pub struct ListAttachedGroupPolicies(Paging, String);

impl Action for ListAttachedGroupPolicies {
    const NAME: &'static str = "ListAttachedGroupPolicies";
    const PARAMS: &'static [&'static str] = &["TargetGroupId", "Page", "Rp", "Keyword"];
    type Op = op::ListAttachedGroupPolicies;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListAttachedGroupPolicies>), Failure> {
        let group = dir.group(p.u64("TargetGroupId")?)?;
        let this = Self(p.paging()?, p.text("Keyword")?);
        Ok((this, vec![op::ListAttachedGroupPolicies { group }]))
    }

    fn render(self, replies: Vec<Vec<AttachedInfo>>, _: &dyn Directory) -> Result<Value, Failure> {
        Ok(attached_page(self.0, &self.1, &last(replies)?))
    }
}

/// The users and groups a policy is attached to, paged, by EntityFilter.
pub struct ListEntitiesForPolicy {
    paging: Paging,
    users: bool,
    groups: bool,
}

impl Action for ListEntitiesForPolicy {
    const NAME: &'static str = "ListEntitiesForPolicy";
    const PARAMS: &'static [&'static str] = &["PolicyId", "Page", "Rp", "EntityFilter"];
    type Op = op::ListEntitiesForPolicy;

    fn plan(
        p: &Params,
        dir: &dyn Directory,
    ) -> Result<(Self, Vec<op::ListEntitiesForPolicy>), Failure> {
        let policy = dir.policy(p.u64("PolicyId")?)?;
        let paging = p.paging()?;
        let (users, groups) = match p.opt_str("EntityFilter")?.as_deref() {
            None | Some("All") => (true, true),
            Some("User") => (true, false),
            Some("Group") => (false, true),
            Some("Role") => (false, false),
            Some(_) => return Err(bad_value("EntityFilter", "All, User, Group or Role")),
        };
        let this = Self {
            paging,
            users,
            groups,
        };
        Ok((this, vec![op::ListEntitiesForPolicy { policy }]))
    }

    fn render(self, replies: Vec<Entities>, dir: &dyn Directory) -> Result<Value, Failure> {
        let e = last(replies)?;
        let mut items = Vec::new();
        if self.users {
            items.extend(e.users.iter().map(|n| {
                let uin = dir.user_uin(n).unwrap_or(0);
                json!({ "Id": uin.to_string(), "Name": n, "Uin": uin, "RelatedType": 1, "AttachmentTime": "" })
            }));
        }
        if self.groups {
            items.extend(e.groups.iter().map(|n| {
                json!({ "Id": group_id(n).to_string(), "Name": n, "RelatedType": 2, "AttachmentTime": "" })
            }));
        }
        Ok(fields::page(self.paging, items, "List"))
    }
}
