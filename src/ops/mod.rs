//! The admin operations, each defined once: its request and typed reply are
//! the wire's (`protocol::ops`, one list entry each); here, per area, each
//! says which `cam:` rights it needs (one per effect), and how it runs: the
//! store rule it applies (with its audit entry) or what it reads. Every
//! front door (the socket, camctl, later HTTP and the cluster writer)
//! executes these.

mod account;
mod boundaries;
mod daemon;
mod groups;
mod keys;
mod managed;
mod policies;
mod rights;
mod roles;
mod settings;
mod users;

use std::future::Future;

use ring::rand::SystemRandom;

use crate::authz::{Authorizer, Publisher};
use crate::code::{Code, Failure};
use crate::credentials::KeyHasher;
use crate::protocol::Op;
use crate::reload::{Control, Reloader};
use crate::store::{AdminError, AuditNote, Changes, Ctx, State, Writer};

pub use daemon::exposition;
pub use groups::group_infos;
pub use rights::{KeyOwner, Resources, Right, canonical_policy};
pub use roles::role_info;

/// An admin operation camd can execute.
pub trait Exec: Op + Send + 'static {
    /// Only the operator may run it (no delegated key, whatever its
    /// policies): what it does, for the refusal.
    const OPERATOR_ONLY: Option<&'static str> = None;

    /// The `cam:` rights the caller needs, one per effect; the first names
    /// the operation in the audit trail. Checked all before it runs.
    fn rights(&self, res: &Resources<'_>) -> Vec<Right>;

    /// Carries it out.
    fn run(self, env: &Env<'_>) -> impl Future<Output = Result<Self::Reply, Failure>> + Send;
}

/// Counters since start, for `Status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Live {
    /// Seconds since start.
    pub uptime_secs: u64,
    /// Decisions that allowed.
    pub allows: u64,
    /// Decisions that denied.
    pub denies: u64,
    /// Unknown, wrong or disabled keys.
    pub unauthenticated: u64,
    /// Attempts refused by throttling.
    pub throttled: u64,
}

/// What an operation runs against, and the audit entry of this execution:
/// every change it makes is committed with that entry.
pub struct Env<'a> {
    /// The store's writer.
    pub writer: &'a Writer<Publisher>,
    /// The published snapshot.
    pub authz: &'a Authorizer,
    /// The policy set in use and its last reload.
    pub policies: &'a Reloader,
    /// Feeds the reload loop.
    pub control: &'a tokio::sync::mpsc::UnboundedSender<Control>,
    /// Hashes new SecretKeys.
    pub hasher: &'a KeyHasher,
    /// Generates credentials.
    pub rng: &'a SystemRandom,
    /// The root account's uin.
    pub owner_uin: u64,
    /// Host of the console login link.
    pub console_host: &'a str,
    /// The account's AppId (config `app_id`; 0 when not set).
    pub app_id: u64,
    /// Counters since start.
    pub live: Live,
    /// Every number camd exports.
    pub metrics: &'a std::sync::Arc<crate::metrics::Metrics>,
    /// Cluster mode's replica (`None`: standalone).
    pub cluster: Option<&'a crate::cluster::Cluster>,
    /// The decision log.
    pub decisions: &'a crate::decisions::DecisionLog,
    /// The uin the caller acts as (the root account's for the operator).
    pub caller_uin: u64,
    /// This execution's audit entry.
    pub note: AuditNote,
    /// Whether the caller holds a right (`cam:GetUser` on a user): for
    /// reads that show only what the caller may see.
    pub may: &'a (dyn Fn(&'static str, &str) -> bool + Sync),
}

impl Env<'_> {
    /// The resource of user `name` (or `group` `name`) in this account.
    pub fn resource(&self, kind: &str, name: &str) -> String {
        format!("qcs::cam::uin/{}:{kind}/{name}", self.owner_uin)
    }

    /// The dangling attachments the caller may see: those of users it may
    /// `cam:GetUser` and groups it may `cam:GetGroup`.
    pub fn visible_dangling(
        &self,
        all: Vec<(crate::store::Holder, String)>,
    ) -> Vec<(String, String)> {
        all.into_iter()
            .filter(|(h, _)| match h {
                crate::store::Holder::User(u) => {
                    (self.may)("cam:GetUser", &self.resource("user", u))
                }
                crate::store::Holder::Group(g) => {
                    (self.may)("cam:GetGroup", &self.resource("group", g))
                }
            })
            .map(|(h, p)| (h.to_string(), p))
            .collect()
    }
}

fn store_failure(e: AdminError) -> Failure {
    Failure::new(e.code(), e.to_string())
}

fn writer_gone() -> Failure {
    Failure::new(Code::Store, "the store writer has stopped")
}

impl Env<'_> {
    /// Applies a store rule, committed durably with this execution's audit
    /// entry; the snapshot is published before this returns.
    pub async fn change<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnMut(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send + 'static,
    {
        let pending = self
            .writer
            .change(self.note.clone(), f)
            .map_err(|_| writer_gone())?;
        pending
            .await
            .map_err(|_| writer_gone())?
            .map_err(store_failure)
    }

    /// Reads the store's state (as of the writes queued before it).
    pub async fn read<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnMut(&State, &Ctx<'_>) -> Result<T, AdminError> + Send + 'static,
    {
        let pending = self.writer.read(f).map_err(|_| writer_gone())?;
        pending
            .await
            .map_err(|_| writer_gone())?
            .map_err(store_failure)
    }
}

/// `Failure` from a store error.
impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        store_failure(e)
    }
}
