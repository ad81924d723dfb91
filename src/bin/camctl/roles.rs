//! camctl's role commands (`role create|get|list|delete|update|attach|
//! detach|policies|boundary|set-boundary|delete-boundary|tag|untag`) and
//! how a role is shown.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::{Value, json};

use camd::client::Client;
use camd::policy::TimeText;
use camd::protocol::{
    AttachRolePolicy, CreateRole, DeleteRole, DeleteRolePermissionsBoundary, DescribeRoleList,
    DetachRolePolicy, GetRole, GetRolePermissionBoundary, GetUser, GetUserAppId,
    ListAttachedRolePolicies, PutRolePermissionsBoundary, RoleInfo, Tag, TagRole, UntagRole,
    UpdateAssumeRolePolicy, UpdateRoleConsoleLogin, UpdateRoleDescription,
    UpdateRoleSessionDuration,
};

use super::remote::{Out, done, remote, show, show_write};
use super::show::Show;

/// `camctl role ...`.
#[derive(Subcommand)]
pub enum RoleCommand {
    /// Create a role: who may assume it is its trust policy (`--trust FILE`,
    /// or `--trusted-user NAME` for each sub-user, which camctl writes for you).
    Create {
        /// Unique name (1-128 of `A-Za-z0-9+=,.@_-`).
        name: String,
        #[command(flatten)]
        trust: TrustArgs,
        /// Free text (at most 300 bytes).
        #[arg(long, default_value = "")]
        description: String,
        /// Allow console sign-in as the role.
        #[arg(long)]
        console_login: bool,
        /// The longest session AssumeRole gives, 0-43200 seconds (0: STS's own limit).
        #[arg(long, default_value_t = 0)]
        session_duration: u32,
        /// A tag, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_parser = super::parse_tag)]
        tags: Vec<Tag>,
    },
    /// Show a role with its trust policy.
    Get {
        /// The role.
        name: String,
    },
    /// List roles.
    List,
    /// Delete a role (its attachments and boundary go with it).
    Delete {
        /// The role.
        name: String,
    },
    /// Change a role (what is not given stays as it is).
    Update {
        /// The role.
        name: String,
        /// A new trust policy (every session of the role ends).
        #[command(flatten)]
        trust: TrustArgs,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// Console sign-in on or off.
        #[arg(long, value_name = "true|false")]
        console_login: Option<bool>,
        /// A new longest session, 0-43200 seconds.
        #[arg(long)]
        session_duration: Option<u32>,
    },
    /// Attach a policy to a role.
    Attach {
        /// The role.
        name: String,
        /// The policy.
        policy: String,
    },
    /// Detach a policy from a role.
    Detach {
        /// The role.
        name: String,
        /// The policy.
        policy: String,
    },
    /// The policies attached to a role.
    Policies {
        /// The role.
        name: String,
    },
    /// A role's permissions boundary.
    Boundary {
        /// The role.
        name: String,
    },
    /// Set a role's permissions boundary.
    SetBoundary {
        /// The role.
        name: String,
        /// The boundary policy.
        policy: String,
    },
    /// Remove a role's permissions boundary.
    DeleteBoundary {
        /// The role.
        name: String,
    },
    /// Tag a role (KEY=VALUE; a key it has gets the new value).
    Tag {
        /// The role.
        name: String,
        /// The tags.
        #[arg(required = true, value_parser = super::parse_tag)]
        tags: Vec<Tag>,
    },
    /// Remove tags from a role, by key.
    Untag {
        /// The role.
        name: String,
        /// The tags' keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
}

/// Where a trust policy comes from.
#[derive(clap::Args)]
#[group(multiple = false)]
pub struct TrustArgs {
    /// The trust policy, a JSON file (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    trust: Option<PathBuf>,
    /// A sub-user who may assume the role (repeatable): camctl writes the
    /// trust policy naming each by uin.
    #[arg(long = "trusted-user", value_name = "NAME")]
    trusted_users: Vec<String>,
}

impl TrustArgs {
    /// The trust policy given, if any.
    fn document(self, client: &mut Client) -> Result<Option<String>> {
        if let Some(path) = self.trust {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read trust policy `{}`", path.display()))?
            };
            return Ok(Some(text));
        }
        if self.trusted_users.is_empty() {
            return Ok(None);
        }
        let owner = client.call(GetUserAppId).map_err(remote)?.owner_uin;
        let mut principals = Vec::new();
        for name in self.trusted_users {
            let uin = client.call(GetUser { name }).map_err(remote)?.uin;
            principals.push(format!("qcs::cam::uin/{owner}:uin/{uin}"));
        }
        let doc = json!({"version": "2.0", "statement": [{"effect": "allow",
            "action": "name/sts:AssumeRole", "principal": {"qcs": principals}}]});
        Ok(Some(doc.to_string()))
    }
}

/// Runs a role command.
pub fn run(client: &mut Client, out: &Out, c: RoleCommand) -> Result<u8> {
    match c {
        RoleCommand::Create {
            name,
            trust,
            description,
            console_login,
            session_duration,
            tags,
        } => {
            let Some(document) = trust.document(client)? else {
                anyhow::bail!(
                    "{}: a role needs a trust policy: --trust FILE or --trusted-user NAME",
                    camd::code::Code::MissingParameter
                );
            };
            let op = CreateRole {
                name,
                document,
                description,
                console_login,
                session_duration,
                tags,
            };
            show_write(client, out, op)
        }
        RoleCommand::Get { name } => show(client, out, GetRole { role: name }),
        RoleCommand::List => show(client, out, DescribeRoleList),
        RoleCommand::Delete { name } => {
            let what = format!("deleted role `{name}`");
            done(client, out, DeleteRole { role: name }, what)
        }
        RoleCommand::Update {
            name,
            trust,
            description,
            console_login,
            session_duration,
        } => update(
            client,
            out,
            name,
            trust,
            description,
            console_login,
            session_duration,
        ),
        RoleCommand::Attach { name, policy } => {
            let what = format!("attached `{policy}` to role `{name}`");
            done(client, out, AttachRolePolicy { role: name, policy }, what)
        }
        RoleCommand::Detach { name, policy } => {
            let what = format!("detached `{policy}` from role `{name}`");
            done(client, out, DetachRolePolicy { role: name, policy }, what)
        }
        RoleCommand::Policies { name } => {
            show(client, out, ListAttachedRolePolicies { role: name })
        }
        RoleCommand::Boundary { name } => {
            show(client, out, GetRolePermissionBoundary { role: name })
        }
        RoleCommand::SetBoundary { name, policy } => {
            let what = format!("set `{policy}` as the permissions boundary of role `{name}`");
            done(
                client,
                out,
                PutRolePermissionsBoundary { role: name, policy },
                what,
            )
        }
        RoleCommand::DeleteBoundary { name } => {
            let what = format!("removed the permissions boundary of role `{name}`");
            done(
                client,
                out,
                DeleteRolePermissionsBoundary { role: name },
                what,
            )
        }
        RoleCommand::Tag { name, tags } => {
            let what = format!("tagged role `{name}`");
            done(client, out, TagRole { role: name, tags }, what)
        }
        RoleCommand::Untag { name, keys } => {
            let what = format!("untagged role `{name}`");
            done(client, out, UntagRole { role: name, keys }, what)
        }
    }
}

/// `role update`: each change given, one request each, in order.
fn update(
    client: &mut Client,
    out: &Out,
    name: String,
    trust: TrustArgs,
    description: Option<String>,
    console_login: Option<bool>,
    session_duration: Option<u32>,
) -> Result<u8> {
    let role = || name.clone();
    let mut changed = Vec::new();
    if let Some(document) = trust.document(client)? {
        client
            .call(UpdateAssumeRolePolicy {
                role: role(),
                document,
            })
            .map_err(remote)?;
        changed.push("trust policy");
    }
    if let Some(description) = description {
        client
            .call(UpdateRoleDescription {
                role: role(),
                description,
            })
            .map_err(remote)?;
        changed.push("description");
    }
    if let Some(console_login) = console_login {
        client
            .call(UpdateRoleConsoleLogin {
                role: role(),
                console_login,
            })
            .map_err(remote)?;
        changed.push("console login");
    }
    if let Some(session_duration) = session_duration {
        client
            .call(UpdateRoleSessionDuration {
                role: role(),
                session_duration,
            })
            .map_err(remote)?;
        changed.push("session duration");
    }
    if changed.is_empty() {
        anyhow::bail!(
            "{}: nothing to change: give --trust, --trusted-user, --description, --console-login or --session-duration",
            camd::code::Code::MissingParameter
        );
    }
    let what = format!("updated role `{name}`: {}", changed.join(", "));
    done_after(client, out, what)
}

/// Says what was done after calls already made.
fn done_after(client: &mut Client, out: &Out, what: String) -> Result<u8> {
    out.done(what, client.revision());
    Ok(super::EXIT_OK)
}

impl Show for RoleInfo {
    fn json(&self) -> Value {
        json!({
            "RoleId": self.id.to_string(),
            "RoleName": self.name,
            "PolicyDocument": self.document,
            "Description": self.description,
            "AddTime": TimeText::new(self.created_ms).as_str(),
            "UpdateTime": TimeText::new(self.updated_ms).as_str(),
            "ConsoleLogin": u8::from(self.console_login),
            "SessionDuration": self.session_duration,
            "Tags": self.tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
            "PermissionsBoundary": self.boundary,
        })
    }
    fn text(&self) -> String {
        let mut lines = vec![format!(
            "{}\tRoleId {}\tsessions up to {} s\tconsole login {}",
            self.name,
            self.id,
            match self.session_duration {
                0 => camd::protocol::MAX_SESSION_DURATION,
                s => s,
            },
            if self.console_login { "on" } else { "off" },
        )];
        if !self.description.is_empty() {
            lines.push(format!("  description: {}", self.description));
        }
        if let Some(b) = &self.boundary {
            lines.push(format!("  boundary: {b}"));
        }
        for t in &self.tags {
            lines.push(format!("  tag {}={}", t.key, t.value));
        }
        lines.push(format!("  trust: {}", self.document));
        lines.join("\n")
    }
}
