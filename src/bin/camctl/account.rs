//! camctl's account commands (`account summary|app-id|users|list|password-rules`) and how
//! the account-wide replies and a group's details are shown.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use camd::client::Client;
use camd::policy::TimeText;
use camd::protocol::{
    AccountSummary, AppIdInfo, DescribeSubAccounts, GetAccountSummary, GetPasswordRules,
    GetUserAppId, GroupDetail, ListAccounts, PasswordRulesInfo, UpdatePasswordRules,
};

use super::remote::{Out, done, show};
use super::show::{Show, group_json, user_json, user_text};

/// `camctl account ...`.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Counts of custom policies, roles, users, groups and memberships.
    Summary,
    /// The root account's uin and the AppId (config `app_id`).
    AppId,
    /// Sub-users by uin (at most 50; unknown uins are left out).
    Users {
        /// The uins.
        #[arg(required = true, num_args = 1..=50)]
        uins: Vec<u64>,
    },
    /// Every sub-user (CAM's ListAccounts).
    List,
    /// The password rules in force.
    PasswordRules,
    /// Change the password rules (rules not given stay as they are).
    SetPasswordRules {
        /// The shortest password (8-32).
        #[arg(long)]
        minimum_length: Option<u32>,
        /// Classes a password must have: `A` upper case, `a` lower case,
        /// `0` digits, `#` symbols (e.g. `Aa0`).
        #[arg(long)]
        must_contain: Option<String>,
        /// Days a password lasts (0: forever).
        #[arg(long)]
        force_change_days: Option<u32>,
        /// Earlier passwords a new one may not repeat (0-24).
        #[arg(long)]
        reuse_limit: Option<u32>,
        /// Wrong passwords before the console locks the user (0: no limit).
        #[arg(long)]
        retry_limit: Option<u32>,
        /// Once a password expires: 1, sign-in is refused until an
        /// administrator resets it; 2, the user must change it.
        #[arg(long)]
        expiration_invalidation: Option<u8>,
    },
}

/// Runs an account command.
pub fn run(client: &mut Client, out: &Out, c: AccountCommand) -> Result<u8> {
    match c {
        AccountCommand::Summary => show(client, out, GetAccountSummary),
        AccountCommand::AppId => show(client, out, GetUserAppId),
        AccountCommand::Users { uins } => show(client, out, DescribeSubAccounts { uins }),
        AccountCommand::List => show(client, out, ListAccounts),
        AccountCommand::PasswordRules => show(client, out, GetPasswordRules),
        AccountCommand::SetPasswordRules {
            minimum_length,
            must_contain,
            force_change_days,
            reuse_limit,
            retry_limit,
            expiration_invalidation,
        } => {
            let op = UpdatePasswordRules {
                minimum_length,
                must_contain,
                force_change_days,
                reuse_limit,
                retry_limit,
                expiration_invalidation,
            };
            done(client, out, op, "updated the password rules".into())
        }
    }
}

impl Show for GroupDetail {
    fn json(&self) -> Value {
        let mut v = group_json(&self.group);
        if let Value::Object(m) = &mut v {
            let members = self.members.iter().map(user_json).collect();
            m.insert("Members".into(), Value::Array(members));
        }
        v
    }
    fn text(&self) -> String {
        let g = &self.group;
        let mut lines = vec![format!("{}\t{} members\t{}", g.name, g.members, g.remark)];
        lines.extend(self.members.iter().map(|u| format!("  {}", user_text(u))));
        lines.join("\n")
    }
}

impl Show for AccountSummary {
    fn json(&self) -> Value {
        json!({"Policies": self.policies, "Roles": self.roles, "User": self.users,
               "Group": self.groups, "Member": self.members})
    }
    fn text(&self) -> String {
        format!(
            "custom policies: {}\nroles: {}\nusers: {}\ngroups: {}\ngroup memberships: {}",
            self.policies, self.roles, self.users, self.groups, self.members
        )
    }
}

impl Show for AppIdInfo {
    fn json(&self) -> Value {
        json!({"OwnerUin": self.owner_uin, "AppId": self.app_id})
    }
    fn text(&self) -> String {
        format!("owner uin: {}\nAppId: {}", self.owner_uin, self.app_id)
    }
}

impl Show for PasswordRulesInfo {
    fn json(&self) -> Value {
        json!({"MinimumLength": self.minimum_length, "MustContain": self.must_contain,
               "ForcePasswordChange": self.force_change_days, "ReusePasswordLimit": self.reuse_limit,
               "RetryPasswordLimit": self.retry_limit,
               "PasswordExpirationInvalidation": self.expiration_invalidation,
               "UpdateTime": self.updated_ms, "Modifier": self.modifier})
    }
    fn text(&self) -> String {
        let changed = if self.updated_ms == 0 {
            "never changed (camd's defaults)".to_string()
        } else {
            format!(
                "changed {} by {}",
                TimeText::new(self.updated_ms).as_str(),
                self.modifier
            )
        };
        format!(
            "minimum length: {}\nmust contain: {}\nforce change after: {} days\nreuse limit: {}\nretry limit: {}\nexpired passwords: {}\n{changed}",
            self.minimum_length,
            self.must_contain,
            self.force_change_days,
            self.reuse_limit,
            self.retry_limit,
            if self.expiration_invalidation == 1 {
                "block sign-in"
            } else {
                "must be changed"
            },
        )
    }
}
