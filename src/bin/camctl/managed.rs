//! camctl's commands for API-managed policies and their versions, users'
//! permissions boundaries, "what can this user do", and `policy diff`
//! (computed by the engine on two documents: files, or stored policies
//! and versions fetched from camd).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::{Value, json};

use camd::client::Client;
use camd::code::Code;
use camd::policy::permissions::{ActionChange, Rule, diff};
use camd::policy::{Policy, TimeText};
use camd::protocol::{
    ActionPermission, BoundaryInfo, CreatePolicyVersion, DeletePolicyVersion,
    DeleteUserPermissionsBoundary, GetPolicy, GetPolicyVersion, GetUserPermissionBoundary,
    GrantInfo, ListPolicyVersions, PolicyKind, PolicyVersionInfo, PutUserPermissionsBoundary,
    SetDefaultPolicyVersion, VersionCreated,
};

use super::show::Show;

/// `policy version ...`
#[derive(Subcommand)]
pub enum VersionCommand {
    /// Add a version to an API-managed policy (at most 5).
    Create {
        /// The policy.
        name: String,
        /// The document (a JSON file).
        #[arg(long)]
        document: PathBuf,
        /// Make it the version decisions use.
        #[arg(long)]
        set_default: bool,
    },
    /// A policy's versions.
    List {
        /// The policy.
        name: String,
    },
    /// One version and its document.
    Get {
        /// The policy.
        name: String,
        /// The version.
        version: u32,
    },
    /// Make a version the one decisions use (one atomic step).
    SetDefault {
        /// The policy.
        name: String,
        /// The version.
        version: u32,
    },
    /// Delete versions (never the default one).
    Delete {
        /// The policy.
        name: String,
        /// The versions.
        #[arg(required = true)]
        versions: Vec<u32>,
    },
}

/// `user boundary ...`
#[derive(Subcommand)]
pub enum BoundaryCommand {
    /// Bound a user by a policy: they may do only what it allows too.
    Set {
        /// The user.
        user: String,
        /// The policy.
        policy: String,
    },
    /// A user's boundary and its document.
    Get {
        /// The user.
        user: String,
    },
    /// Remove a user's boundary.
    Delete {
        /// The user.
        user: String,
    },
}

/// A policy document read from a file (size and UTF-8 checked by camd's
/// engine when it arrives).
pub fn read_document(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy document `{}`", path.display()))
}

/// The request of a `policy version` command; `None` for the reads.
pub fn version_request(c: VersionCommand) -> Result<VersionOp> {
    Ok(match c {
        VersionCommand::Create {
            name,
            document,
            set_default,
        } => VersionOp::Create(CreatePolicyVersion {
            name,
            document: read_document(&document)?,
            set_default,
        }),
        VersionCommand::List { name } => VersionOp::List(ListPolicyVersions { name }),
        VersionCommand::Get { name, version } => VersionOp::Get(GetPolicyVersion { name, version }),
        VersionCommand::SetDefault { name, version } => {
            VersionOp::SetDefault(SetDefaultPolicyVersion { name, version })
        }
        VersionCommand::Delete { name, versions } => {
            VersionOp::Delete(DeletePolicyVersion { name, versions })
        }
    })
}

/// A `policy version` request.
pub enum VersionOp {
    /// Add.
    Create(CreatePolicyVersion),
    /// List.
    List(ListPolicyVersions),
    /// Get.
    Get(GetPolicyVersion),
    /// Set the default.
    SetDefault(SetDefaultPolicyVersion),
    /// Delete.
    Delete(DeletePolicyVersion),
}

/// A `user boundary` request.
pub enum BoundaryOp {
    /// Set.
    Set(PutUserPermissionsBoundary),
    /// Get.
    Get(GetUserPermissionBoundary),
    /// Delete.
    Delete(DeleteUserPermissionsBoundary),
}

/// The request of a `user boundary` command.
pub fn boundary_request(c: BoundaryCommand) -> BoundaryOp {
    match c {
        BoundaryCommand::Set { user, policy } => {
            BoundaryOp::Set(PutUserPermissionsBoundary { user, policy })
        }
        BoundaryCommand::Get { user } => BoundaryOp::Get(GetUserPermissionBoundary { user }),
        BoundaryCommand::Delete { user } => {
            BoundaryOp::Delete(DeleteUserPermissionsBoundary { user })
        }
    }
}

impl Show for VersionCreated {
    fn json(&self) -> Value {
        json!({"VersionId": self.version})
    }
    fn text(&self) -> String {
        format!("created version {}", self.version)
    }
}

impl Show for PolicyVersionInfo {
    fn json(&self) -> Value {
        json!({"VersionId": self.version, "IsDefaultVersion": u8::from(self.is_default),
               "CreateDate": TimeText::new(self.created_ms).as_str(), "Document": self.document})
    }
    fn text(&self) -> String {
        format!(
            "version {}{}  created {}\n{}",
            self.version,
            if self.is_default { " (default)" } else { "" },
            TimeText::new(self.created_ms).as_str(),
            self.document
        )
    }
}

impl Show for BoundaryInfo {
    fn json(&self) -> Value {
        json!({"PolicyName": self.policy, "PolicyType": self.kind, "PolicyDocument": self.document})
    }
    fn text(&self) -> String {
        match &self.policy {
            None => "no permissions boundary".into(),
            Some(p) => format!(
                "boundary: {p} ({})\n{}",
                self.kind
                    .map_or("gone: it allows nothing", PolicyKind::wire_name),
                self.document.as_deref().unwrap_or_default()
            ),
        }
    }
}

fn grant_json(g: &GrantInfo) -> Value {
    json!({"PolicyName": g.policy, "Statement": g.statement, "From": g.via,
           "Resources": g.resources, "Conditions": g.conditions})
}

fn grant_text(g: &GrantInfo) -> String {
    let cond = if g.conditions.is_empty() {
        String::new()
    } else {
        format!(" when {}", g.conditions.join(" and "))
    };
    format!(
        "on {} ({} `{}` statement[{}]){cond}",
        g.resources.join(", "),
        g.via,
        g.policy,
        g.statement
    )
}

impl Show for ActionPermission {
    fn json(&self) -> Value {
        json!({"Action": self.action, "Access": self.access,
               "Allow": self.allow.iter().map(grant_json).collect::<Vec<_>>(),
               "Deny": self.deny.iter().map(grant_json).collect::<Vec<_>>(),
               "Boundary": self.boundary.as_ref().map(|b| b.iter().map(grant_json).collect::<Vec<_>>())})
    }
    fn text(&self) -> String {
        let mut out = format!("{:<8} {}", self.access, self.action);
        for g in &self.allow {
            out.push_str(&format!("\n         allow {}", grant_text(g)));
        }
        for g in &self.deny {
            out.push_str(&format!("\n         deny  {}", grant_text(g)));
        }
        match &self.boundary {
            Some(b) if b.is_empty() && !self.allow.is_empty() => {
                out.push_str("\n         limited by the boundary: it allows none of it");
            }
            Some(b) => {
                for g in b {
                    out.push_str(&format!("\n         within boundary {}", grant_text(g)));
                }
            }
            None => {}
        }
        out
    }
}

/// `policy push DIR`: every file checked first (nothing is sent if one is
/// invalid), then each policy created or its default version replaced;
/// exit 0 when all went through, 2 otherwise.
pub fn push(client: &mut Client, dir: &Path, json_out: bool) -> Result<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read policy folder `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| camd::catalog::is_policy_file(p))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in &files {
        let (name, text) = camd::catalog::read_policy_text(f).map_err(|e| anyhow!("{e}"))?;
        if let Err(errors) = Policy::parse(&name, &text) {
            bail!("{}: {errors}; nothing was pushed", f.display());
        }
        docs.push((name, text));
    }
    let mut report = Vec::new();
    let mut failed = false;
    let progress = super::progress::Progress::new("pushing", docs.len());
    for (name, text) in docs {
        progress.step(&name);
        match push_one(client, &name, text) {
            Ok(what) => report.push((name, what.to_string(), String::new())),
            Err(e) => {
                failed = true;
                report.push((name, "failed".into(), e.to_string()));
            }
        }
    }
    progress.finish();
    if json_out {
        let v: Vec<Value> = report
            .iter()
            .map(|(n, r, e)| json!({"PolicyName": n, "Result": r, "Error": e}))
            .collect();
        println!("{}", Value::Array(v));
    } else {
        for (n, r, e) in &report {
            println!(
                "{n}\t{r}{}",
                if e.is_empty() {
                    String::new()
                } else {
                    format!("\t{e}")
                }
            );
        }
    }
    Ok(if failed { 2 } else { 0 })
}

/// Creates or updates one API-managed policy from a file's text: what was
/// done (`created`, `updated`, `unchanged`).
fn push_one(
    client: &mut Client,
    name: &str,
    text: String,
) -> Result<&'static str, camd::client::ClientError> {
    let existing = client.call(GetPolicy {
        policy: name.to_string(),
    });
    match existing {
        Err(e) if e.code() == Some(Code::PolicyIdNotFound.as_str()) => client
            .call(camd::protocol::CreatePolicy {
                name: name.to_string(),
                document: text,
                description: String::new(),
                tags: Vec::new(),
            })
            .map(|_| "created"),
        Ok(found) => match found.first() {
            Some(p) if p.kind != PolicyKind::Managed => Err(camd::client::ClientError::Remote(
                camd::protocol::WireError {
                    code: Code::PolicyNotApiManaged.as_str().into(),
                    message: format!("policy `{name}` is a {} policy", p.kind),
                },
            )),
            Some(p) if p.document.as_deref() == Some(text.as_str()) => Ok("unchanged"),
            _ => client
                .call(camd::protocol::UpdatePolicy {
                    name: name.to_string(),
                    document: Some(text),
                    description: None,
                    alias: None,
                })
                .map(|_| "updated"),
        },
        Err(e) => Err(e),
    }
}

/// One side of `policy diff`: a file, `NAME` (a stored, file or preset
/// policy; its default version) or `NAME:VERSION`.
fn side(client: &mut Option<Client>, socket: &Path, spec: &str) -> Result<Policy> {
    let (name, text) = if Path::new(spec).is_file() {
        (
            camd::catalog::policy_name_of(Path::new(spec)),
            read_document(Path::new(spec))?,
        )
    } else {
        if client.is_none() {
            *client = Some(Client::connect(socket).map_err(|e| anyhow!(e))?);
        }
        let c = client
            .as_mut()
            .ok_or_else(|| anyhow!("no connection to camd"))?;
        match spec.split_once(':') {
            Some((name, v)) => {
                let version: u32 = v.parse().map_err(|_| {
                    anyhow!(
                        "{ip}: `{spec}`: a version is a number (NAME:VERSION)",
                        ip = Code::InvalidParameter
                    )
                })?;
                let got = c
                    .call(GetPolicyVersion {
                        name: name.to_string(),
                        version,
                    })
                    .map_err(|e| anyhow!(e))?;
                (name.to_string(), got.document)
            }
            None => {
                let got = c
                    .call(GetPolicy {
                        policy: spec.to_string(),
                    })
                    .map_err(|e| anyhow!(e))?;
                let p = got
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow!("camd returned no policy"))?;
                (p.name, p.document.unwrap_or_default())
            }
        }
    };
    match Policy::parse(&name, &text) {
        Ok(c) => Ok(c.policy),
        Err(errors) => bail!("{spec}: {errors}"),
    }
}

fn rule_json(r: &Rule) -> Value {
    json!({"Effect": r.effect, "Resource": r.resource, "Conditions": r.conditions})
}

fn rule_text(sign: char, r: &Rule) -> String {
    let cond = if r.conditions.is_empty() {
        String::new()
    } else {
        format!(" when {}", r.conditions.join(" and "))
    };
    format!("  {sign} {} {}{cond}", r.effect, r.resource)
}

/// `policy diff OLD NEW`: exit 0 when nothing changes, 1 when something does.
pub fn policy_diff(socket: &Path, old: &str, new: &str, json_out: bool) -> Result<u8> {
    let mut client = None;
    let a = side(&mut client, socket, old)?;
    let b = side(&mut client, socket, new)?;
    let changes: Vec<ActionChange> = diff(&a, &b);
    if json_out {
        let v: Vec<Value> = changes
            .iter()
            .map(|c| {
                json!({"Action": c.action,
                "Added": c.added.iter().map(rule_json).collect::<Vec<_>>(),
                "Removed": c.removed.iter().map(rule_json).collect::<Vec<_>>()})
            })
            .collect();
        println!("{}", Value::Array(v));
    } else if changes.is_empty() {
        println!("no catalogued action changes");
    } else {
        for c in &changes {
            println!("{}", c.action);
            for r in &c.removed {
                println!("{}", rule_text('-', r));
            }
            for r in &c.added {
                println!("{}", rule_text('+', r));
            }
        }
    }
    Ok(u8::from(!changes.is_empty()))
}
