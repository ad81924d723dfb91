//! Executing an admin operation for a peer: every right it needs is checked
//! first (all or nothing; the root account's keys are the operator's
//! alone), a refusal is audited, and the operation (`ops/`) then runs with
//! its audit entry, which every change it makes is committed with.

use std::future::Future;
use std::pin::Pin;

use crate::code::{Code, Failure};
use crate::metrics::Outcome;
use crate::ops::{Env, Exec, KeyOwner, Live, Resources, Right};
use crate::protocol::{Body, Handle, Reply, ReplyShape, Visit};
use crate::store::AuditNote;

use super::daemon::Daemon;
use super::peer::Peer;
use super::proof::{Proof, actor};

/// One peer's admin request, handed every operation by `Body::visit`.
struct Admin<'a> {
    daemon: &'a Daemon,
    peer: Peer,
    proof: Proof<'a>,
}

impl<'a> Visit for Admin<'a> {
    type Out = Pin<Box<dyn Future<Output = Result<Reply, Failure>> + Send + 'a>>;
}

impl<'a, O: Exec> Handle<O> for Admin<'a> {
    fn handle(self, op: O) -> Self::Out {
        Box::pin(async move {
            let result = self.daemon.execute(self.peer, self.proof, op).await;
            let outcome = result.as_ref().map_or_else(|f| f.code.as_str(), |_| "ok");
            self.daemon.metrics.admin(O::NAME, outcome);
            result.map(ReplyShape::into_reply)
        })
    }
}

/// Checks, without running it, that a caller may run an operation.
struct Check<'a> {
    daemon: &'a Daemon,
    peer: Peer,
    proof: Proof<'a>,
}

impl Visit for Check<'_> {
    type Out = Result<(), Failure>;
}

impl<O: Exec> Handle<O> for Check<'_> {
    fn handle(self, op: O) -> Self::Out {
        self.daemon.operator_only::<O>(self.peer, self.proof)?;
        let owner = |id: &str| self.daemon.key_owner(id);
        let uin = |name: &str| self.daemon.user_uin(name);
        let res = Resources {
            owner_uin: self.daemon.config.owner_uin,
            key_owner: &owner,
            user_uin: &uin,
        };
        self.daemon
            .permit_all(self.peer, self.proof, &op.rights(&res), &res)
    }
}

impl Daemon {
    /// Checks that the caller may run `body` (every right it needs), without
    /// running it: a call of several operations checks all before any runs.
    pub fn precheck(&self, peer: Peer, proof: Proof<'_>, body: Body) -> Result<(), Failure> {
        let check = Check {
            daemon: self,
            peer,
            proof,
        };
        body.visit(check)
            .unwrap_or_else(|_| Err(Failure::new(Code::Dispatch, "not an admin operation")))
    }

    /// Runs an admin request after checking the caller may.
    pub async fn admin(&self, peer: Peer, proof: Proof<'_>, body: Body) -> Result<Reply, Failure> {
        let admin = Admin {
            daemon: self,
            peer,
            proof,
        };
        match body.visit(admin) {
            Ok(running) => running.await,
            Err(_) => Err(Failure::new(Code::Dispatch, "not an admin operation")),
        }
    }

    /// Records an audit entry that changes nothing else (committed with the
    /// next batch).
    pub fn audit_only(&self, note: AuditNote) {
        if self.writer.audit(note).is_err() {
            crate::log_error!("cannot record an audit entry: the store writer has stopped");
        }
    }

    /// The uin the caller acts as: the root account's for the operator, the
    /// key's owner's otherwise.
    fn caller_uin(&self, peer: Peer, proof: Proof<'_>) -> u64 {
        match proof {
            _ if proof.acts_as_operator(peer) => self.config.owner_uin,
            Proof::Signed { uin, .. } => uin,
            Proof::Key(k) => {
                let snap = self.authz.snapshot();
                snap.keys
                    .get(k.secret_id.as_str())
                    .map_or(self.config.owner_uin, |key| key.owner)
            }
            Proof::None => self.config.owner_uin,
        }
    }

    /// A sub-user's uin, as the published snapshot says.
    fn user_uin(&self, name: &str) -> Option<u64> {
        self.authz.snapshot().names.get(name).map(|u| u.uin)
    }

    /// Checks one right on `resource` under each name it goes by.
    fn permit_right(
        &self,
        peer: Peer,
        proof: Proof<'_>,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
        res: &Resources<'_>,
    ) -> Result<(), Failure> {
        match res.alias(resource) {
            Some(alias) => self.permit(peer, proof, action, &[resource, &alias], context),
            None => self.permit(peer, proof, action, &[resource], context),
        }
    }

    /// Counters since start, for `Status`.
    fn live(&self) -> Live {
        let m = &self.metrics;
        Live {
            uptime_secs: m.uptime_secs(),
            allows: m.decisions(Outcome::Allow),
            denies: m.decisions(Outcome::ExplicitDeny)
                + m.decisions(Outcome::ImplicitDeny)
                + m.decisions(Outcome::FailClosedDeny),
            unauthenticated: m.decisions(Outcome::Unauthenticated),
            throttled: m.decisions(Outcome::Throttled),
        }
    }

    /// Who owns access key `secret_id`, as the published snapshot says (a
    /// key never changes owner).
    fn key_owner(&self, secret_id: &str) -> KeyOwner {
        let snap = self.authz.snapshot();
        match snap.keys.get(secret_id).map(|k| k.owner) {
            Some(o) if o == snap.owner_uin => KeyOwner::Root,
            Some(o) => snap
                .users
                .get(&o)
                .map_or(KeyOwner::Unknown, |u| KeyOwner::User(u.name.to_string())),
            None => KeyOwner::Unknown,
        }
    }

    async fn execute<O: Exec>(
        &self,
        peer: Peer,
        proof: Proof<'_>,
        op: O,
    ) -> Result<O::Reply, Failure> {
        self.operator_only::<O>(peer, proof)?;
        if !proof.acts_as_operator(peer) {
            self.admitted(peer)?;
        }
        let owner = |id: &str| self.key_owner(id);
        let uin = |name: &str| self.user_uin(name);
        let res = Resources {
            owner_uin: self.config.owner_uin,
            key_owner: &owner,
            user_uin: &uin,
        };
        let rights = op.rights(&res);
        let (action, target) = rights.first().map_or_else(
            || (format!("camd:{}", O::NAME), String::new()),
            |r| (r.action.to_string(), r.resource.clone()),
        );
        let note = AuditNote {
            actor: actor(peer, proof),
            action,
            target,
            outcome: None,
        };
        if let Err(e) = self.permit_all(peer, proof, &rights, &res) {
            // Counted against the subject (a flood of refusals throttles
            // it) and audited at most once a second, repeats folded in.
            if let (true, Some(more)) = (
                crate::policy::actions::is_write(&note.action),
                self.throttle.refused(peer.subject()),
            ) {
                let target = if more > 0 {
                    format!(
                        "{} (and {more} more refused since the last entry)",
                        note.target
                    )
                } else {
                    note.target.clone()
                };
                self.audit_only(AuditNote {
                    outcome: Some(e.code),
                    target,
                    ..note
                });
            }
            return Err(e);
        }
        let may = |action: &'static str, resource: &str| {
            self.permit_right(peer, proof, action, resource, &[], &res)
                .is_ok()
        };
        let env = Env {
            may: &may,
            writer: &self.writer,
            authz: &self.authz,
            policies: &self.policies,
            control: &self.control,
            hasher: &self.hasher,
            rng: &self.rng,
            owner_uin: self.config.owner_uin,
            console_host: &self.config.console_host,
            app_id: self.config.app_id,
            live: self.live(),
            metrics: &self.metrics,
            cluster: self.cluster.as_deref(),
            decisions: &self.decisions,
            caller_uin: self.caller_uin(peer, proof),
            note,
        };
        op.run(&env).await
    }

    /// Refuses an admin request from a subject whose refusals emptied its
    /// bucket, saying when to retry.
    fn admitted(&self, peer: Peer) -> Result<(), Failure> {
        self.throttle.admit(peer.subject()).map_err(|secs| {
            Failure::new(
                Code::AuthThrottled,
                format!(
                    "too many refused admin requests from {}; retry in {secs} s",
                    peer.subject()
                ),
            )
        })
    }

    /// Refuses an operator-only operation to anyone else (a presented key or
    /// a signature never acts as the operator).
    fn operator_only<O: Exec>(&self, peer: Peer, proof: Proof<'_>) -> Result<(), Failure> {
        let operator = proof.acts_as_operator(peer);
        match O::OPERATOR_ONLY.filter(|_| !operator) {
            Some(what) => Err(Failure::new(
                Code::UnauthorizedOperation,
                format!(
                    "only the operator may {what}; peer uid {} {}",
                    peer.uid,
                    if peer.operator {
                        "acts with an access key, not as the operator"
                    } else {
                        "is not the operator"
                    }
                ),
            )),
            None => Ok(()),
        }
    }

    /// Checks that the caller may have every right; the root account's keys
    /// are the operator's alone, whatever a delegated key's policies say.
    fn permit_all(
        &self,
        peer: Peer,
        proof: Proof<'_>,
        rights: &[Right],
        res: &Resources<'_>,
    ) -> Result<(), Failure> {
        for r in rights {
            let pair;
            let ctx: &[(&str, &str)] = match &r.policy {
                Some(p) => {
                    pair = [("cam:policy_name", p.as_str())];
                    &pair
                }
                None => &[],
            };
            self.permit_right(peer, proof, r.action, &r.resource, ctx, res)?;
        }
        if !proof.acts_as_operator(peer) && res.touches_root(rights) {
            return Err(Failure::new(
                Code::UnauthorizedOperation,
                format!(
                    "only the operator may manage the root account's access keys; peer uid {} acts with a delegated key",
                    peer.uid
                ),
            ));
        }
        Ok(())
    }
}
