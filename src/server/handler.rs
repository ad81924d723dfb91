//! Answering one request: decisions for any peer, admin operations for the
//! operator or for a key whose user's policies allow the matching `cam:` action.

use crate::authz::{Ask, AuthzError, View, Who};
use crate::code::{Code, Failure};
use crate::metrics::{Metrics, Outcome, Way};
use crate::policy::Decision as EngineDecision;
use crate::protocol::{
    AskRef, AuthorizeAt, Body, Decision, DecisionBody, DecisionFrame, DecisionRef, DecisionRequest,
    KeyRef, PROTOCOL_VERSION, Reply, Request, Response, UserRefRef, WireError,
};

use crate::store::AuditNote;

use super::answer::{
    THROTTLED, authz_failure, batch_too_large, decision, outcome_of, to_wire, wire,
};
use super::daemon::{Daemon, now_ms};
use super::peer::{Peer, forwarded};
use super::proof::{Proof, actor_of, shown_id};
use super::throttle::Gate;

/// A decision as the wire shows it, borrowed from the engine's answer.
fn decision_ref<'d>(d: &'d EngineDecision<'_>, uin: u64) -> DecisionRef<'d> {
    DecisionRef {
        allowed: d.is_allowed(),
        reason: d.reason_code(),
        policy: d.policy(),
        statement: d
            .statement()
            .map(|s| u32::try_from(s.statement).unwrap_or(u32::MAX)),
        uin,
    }
}

/// The frame of an owned response (an empty frame if it cannot be
/// encoded, which the client reports as malformed).
fn owned_frame(r: Response) -> Vec<u8> {
    crate::protocol::encode_response(&r).unwrap_or_default()
}

/// What the engine said about one right.
enum Verdict {
    /// Allowed.
    Allow,
    /// Refused; `firm` when a deny statement (of the policies or the
    /// boundary) decided, which no other name of the resource can undo.
    Refuse { firm: bool, why: Failure },
}

/// The verdict for the key's owner; an error when the key does not hold.
fn verdict(
    r: Result<(u64, EngineDecision<'_>), AuthzError>,
    id: &str,
    action: &str,
    resource: &str,
) -> Result<Verdict, Failure> {
    use crate::policy::Reason;
    match r {
        Ok((_, d)) if d.is_allowed() => Ok(Verdict::Allow),
        Ok((_, d)) => Ok(Verdict::Refuse {
            firm: !matches!(
                d.reason,
                Reason::ImplicitDeny | Reason::OutsideBoundary { .. }
            ),
            why: Failure::new(
                Code::UnauthorizedOperation,
                format!(
                    "access key `{}` is not allowed `{action}` on `{resource}`: {d}",
                    shown_id(id)
                ),
            ),
        }),
        Err(e) => Err(authz_failure(e)),
    }
}

impl Daemon {
    /// Answers one request.
    pub async fn handle(&self, peer: Peer, req: Request) -> Response {
        let id = req.id;
        let mut revision = None;
        let result = match req.body {
            Body::Ping => Ok(Reply::Pong(PROTOCOL_VERSION)),
            Body::Authorize(a) => self
                .decide(peer, &AskRef::of(&a), false)
                .map(Reply::Decision),
            Body::Batch(items) => {
                self.batch(peer, &items.iter().map(AskRef::of).collect::<Vec<_>>())
            }
            Body::AuthorizeSigned(a) => self.decide_signed(peer, &a).map(Reply::Decision),
            Body::CallApi(call) => Ok(Reply::Api(self.call_api(peer, call).await)),
            Body::AuthorizeAt(a) => self.decide_at(peer, &a).await.map(Reply::Decision),
            body => {
                let proof = req.auth.as_ref().map_or(Proof::None, Proof::Key);
                let r = self.admin(peer, proof, body).await.map_err(to_wire);
                // The state this answer saw, its own write included.
                revision = self
                    .cluster
                    .as_ref()
                    .map(|_| self.authz.snapshot().revision);
                r
            }
        };
        Response {
            id,
            result,
            revision,
        }
    }

    /// A decision once this host's state has reached the revision the
    /// caller asks for (waiting up to `cluster.max_revision_wait_ms`).
    async fn decide_at(&self, peer: Peer, a: &AuthorizeAt) -> Result<Decision, WireError> {
        let reached = |r: &i64| *r >= a.min_revision;
        if !reached(&self.authz.snapshot().revision) {
            let wait = self
                .cluster
                .as_ref()
                .map_or(std::time::Duration::ZERO, |c| c.max_wait);
            let mut published = self.revisions.clone();
            // The watch's value is not held past the wait (the writer's
            // next publication would wait for it).
            let waited = tokio::time::timeout(wait, published.wait_for(reached))
                .await
                .is_ok_and(|r| r.is_ok());
            if !waited || !reached(&self.authz.snapshot().revision) {
                return Err(wire(
                    Code::ClusterLagging,
                    format!(
                        "this host is at revision {}, not yet at {} (waited {} ms)",
                        self.authz.snapshot().revision,
                        a.min_revision,
                        wait.as_millis()
                    ),
                ));
            }
        }
        self.decide(peer, &AskRef::of(&a.ask), false)
    }

    /// Cluster mode: refuses to decide on a replica that has not heard from
    /// etcd for longer than `max_staleness_secs`.
    pub(super) fn fresh_enough(&self, now: i64) -> Result<(), Failure> {
        match self.cluster.as_ref().and_then(|c| c.too_stale(now)) {
            None => Ok(()),
            Some(age) => Err(Failure::new(
                Code::ClusterStale,
                format!(
                    "this host's replica last heard from etcd {age} s ago, more than max_staleness_secs"
                ),
            )),
        }
    }

    /// Before verifying a key: refuses (and audits, at most once a second per
    /// uid) when the peer's failed authentications are throttled.
    pub(super) fn key_gate(&self, peer: Peer, secret_id: &str, way: Way) -> Result<(), Failure> {
        let who = peer.subject();
        let Gate::Throttled { audit, retry_after } = self.throttle.check(who, secret_id) else {
            return Ok(());
        };
        self.metrics.decision(way, Outcome::Throttled, None);
        if let Some(more) = audit {
            let id = shown_id(secret_id);
            self.audit_only(AuditNote {
                actor: actor_of(peer),
                action: "auth:Throttled".into(),
                target: if more > 0 {
                    format!("{id} (and {more} more refused since the last entry)")
                } else {
                    id.to_string()
                },
                outcome: Some(THROTTLED),
            });
        }
        Err(Failure::new(
            THROTTLED,
            format!(
                "too many failed authentications from {who} (or with access key `{}`); retry in {retry_after} s",
                shown_id(secret_id)
            ),
        ))
    }

    /// Counts, throttles and audits a failed authentication with `secret_id`.
    pub(super) fn auth_failed(&self, peer: Peer, secret_id: &str, way: Way, code: Code) {
        self.metrics.decision(way, Outcome::Unauthenticated, None);
        self.throttle.failed(peer.subject(), secret_id);
        self.audit_only(AuditNote {
            actor: actor_of(peer),
            action: "auth:Failure".into(),
            target: shown_id(secret_id).to_string(),
            outcome: Some(code),
        });
    }

    /// Decides with an access key, through the throttle: a failed
    /// authentication is counted, throttled and audited.
    fn with_key<R>(
        &self,
        view: &View<'_>,
        peer: Peer,
        key: KeyRef<'_>,
        ask: Ask<'_>,
        way: Way,
        f: impl FnOnce(Result<(u64, EngineDecision<'_>), AuthzError>) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let secret_id = key.secret_id;
        self.key_gate(peer, secret_id, way)?;
        let mut failed = false;
        let r = view.by_key(secret_id, key.secret_key, ask, |r| {
            failed = matches!(r, Err(AuthzError::Unauthenticated));
            f(r)
        });
        if failed {
            self.auth_failed(peer, secret_id, way, AuthzError::Unauthenticated.code());
        }
        r
    }

    fn decide(&self, peer: Peer, a: &AskRef<'_>, batch: bool) -> Result<Decision, WireError> {
        self.decide_as(peer, a, batch, |uin, d| decision(d, uin))
    }

    /// Decides, and hands the engine's answer (borrowed from the snapshot)
    /// to `make`.
    fn decide_as<R>(
        &self,
        peer: Peer,
        a: &AskRef<'_>,
        batch: bool,
        make: impl FnOnce(u64, &EngineDecision<'_>) -> R,
    ) -> Result<R, WireError> {
        self.decide_in(&self.authz.view(), now_ms(), peer, a, batch, make)
    }

    /// Decides against `view` at `now` (a batch reads the snapshot and the
    /// clock once for all its items), and hands the engine's answer to `make`.
    fn decide_in<R>(
        &self,
        view: &View<'_>,
        now: i64,
        peer: Peer,
        a: &AskRef<'_>,
        batch: bool,
        make: impl FnOnce(u64, &EngineDecision<'_>) -> R,
    ) -> Result<R, WireError> {
        let started = Metrics::start_decision();
        self.fresh_enough(now).map_err(to_wire)?;
        let (action, resource, context) = a.parts();
        let ask = Ask {
            action,
            resource,
            context,
            now_ms: now,
        };
        let mut outcome = None;
        let answer = |r: Result<(u64, EngineDecision<'_>), AuthzError>| {
            r.map(|(uin, d)| {
                outcome = Some(outcome_of(&d));
                make(uin, &d)
            })
            .map_err(authz_failure)
        };
        let way = match (batch, a) {
            (true, _) => Way::Batch,
            (false, AskRef::ByKey { .. }) => Way::ByKey,
            (false, AskRef::ByUser { .. }) => Way::ByUser,
        };
        let decided = match a {
            AskRef::ByKey { key, .. } => {
                let peer = forwarded(peer, context);
                self.with_key(view, peer, *key, ask, way, answer)
            }
            AskRef::ByUser {
                user: UserRefRef::Name(n),
                ..
            } => view.by_user(Who::Name(n), ask, answer),
            AskRef::ByUser {
                user: UserRefRef::Uin(u),
                ..
            } => view.by_user(Who::Uin(*u), ask, answer),
        };
        if let Some(o) = outcome {
            self.metrics.decision(way, o, started);
        }
        decided.map_err(to_wire)
    }

    /// Answers a batch of decisions, or refuses it whole when it is over
    /// `max_batch_items`.
    fn batch<'a>(&self, peer: Peer, items: &[AskRef<'a>]) -> Result<Reply, WireError> {
        if items.len() > self.config.max_batch_items {
            return Err(batch_too_large(
                items.len() as u64,
                self.config.max_batch_items,
            ));
        }
        let (view, now) = (self.authz.view(), now_ms());
        Ok(Reply::Decisions(
            items
                .iter()
                .map(|a| self.decide_in(&view, now, peer, a, true, |uin, d| decision(d, uin)))
                .collect(),
        ))
    }

    /// Answers a decision request read in place from its frame: the reply
    /// frame, written as the engine answers (no owned replies built).
    pub fn decision_frame(&self, peer: Peer, req: &DecisionRequest<'_>) -> Vec<u8> {
        match &req.body {
            DecisionBody::Ping => owned_frame(Response {
                id: req.id,
                result: Ok(Reply::Pong(PROTOCOL_VERSION)),
                revision: None,
            }),
            DecisionBody::Authorize(a) => {
                let id = req.id;
                match self.decide_as(peer, a, false, |uin, d| {
                    DecisionFrame::single(id, Ok(decision_ref(d, uin)))
                }) {
                    Ok(frame) => frame,
                    Err(e) => DecisionFrame::single(id, Err(&e)),
                }
            }
            DecisionBody::Batch(items) if items.len() > self.config.max_batch_items => {
                owned_frame(Response {
                    id: req.id,
                    result: Err(batch_too_large(
                        items.len() as u64,
                        self.config.max_batch_items,
                    )),
                    revision: None,
                })
            }
            DecisionBody::Batch(items) => {
                let mut frame = DecisionFrame::batch(req.id, items.len());
                let (view, now) = (self.authz.view(), now_ms());
                for a in items {
                    let r = self.decide_in(&view, now, peer, a, true, |uin, d| {
                        frame.push(Ok(decision_ref(d, uin)));
                    });
                    if let Err(e) = r {
                        frame.push(Err(&e));
                    }
                }
                frame.finish()
            }
        }
    }

    /// Checks that `peer` (or the key it proves) may perform `action` on
    /// the resource named `names` (one resource, under each name it goes
    /// by: a sub-user is `user/NAME` and `uin/SUBUIN`): allowed when a name
    /// is allowed and no deny statement refuses any of them.
    pub fn permit(
        &self,
        peer: Peer,
        proof: Proof<'_>,
        action: &str,
        names: &[&str],
        context: &[(&str, &str)],
    ) -> Result<(), Failure> {
        if proof.acts_as_operator(peer) {
            return Ok(());
        }
        let mut allowed = false;
        let mut refused = None;
        for resource in names {
            match self.verdict(peer, proof, action, resource, context)? {
                Verdict::Allow => allowed = true,
                Verdict::Refuse { firm: true, why } => return Err(why),
                Verdict::Refuse { why, .. } => {
                    refused.get_or_insert(why);
                }
            }
        }
        match (allowed, refused) {
            (true, _) => Ok(()),
            (false, Some(why)) => Err(why),
            (false, None) => Err(Failure::new(
                Code::UnauthorizedOperation,
                format!("`{action}` names no resource"),
            )),
        }
    }

    fn verdict(
        &self,
        peer: Peer,
        proof: Proof<'_>,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
    ) -> Result<Verdict, Failure> {
        let ask = Ask {
            action,
            resource,
            context,
            now_ms: now_ms(),
        };
        match proof {
            Proof::None => Err(Failure::new(
                Code::UnauthorizedOperation,
                format!(
                    "peer uid {} is not the operator and presented no access key for `{action}`",
                    peer.uid
                ),
            )),
            Proof::Key(key) => self.with_key(
                &self.authz.view(),
                peer,
                KeyRef {
                    secret_id: &key.secret_id,
                    secret_key: &key.secret_key,
                },
                ask,
                Way::ByKey,
                |r| verdict(r, &key.secret_id, action, resource),
            ),
            Proof::Signed { secret_id, uin } => self.authz.by_user(Who::Uin(uin), ask, |r| {
                verdict(r, secret_id, action, resource)
            }),
        }
    }
}
