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

use crate::decisions::{Answer, Asked, Path, Recorder};
use crate::store::AuditNote;

use super::answer::{THROTTLED, authz_failure, batch_too_large, decision, outcome_of, to_wire};
use super::daemon::{Daemon, now_ms};
use super::peer::{Peer, forwarded};
use super::proof::{Proof, actor_of, shown_id};
use super::throttle::Gate;
use super::tracing::header_trace;

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

/// Who a question names, as the decision log records it.
fn asked<'b>(a: &'b AskRef<'_>) -> Asked<'b> {
    let (action, resource, context) = a.parts();
    let base = Asked {
        action,
        resource,
        context,
        ..Asked::default()
    };
    match a {
        AskRef::ByKey { key, .. } => Asked {
            secret_id: Some(key.secret_id),
            ..base
        },
        AskRef::ByUser {
            user: UserRefRef::Name(n),
            ..
        } => Asked {
            name: Some(n),
            ..base
        },
        AskRef::ByUser {
            user: UserRefRef::Uin(u),
            ..
        } => Asked { uin: *u, ..base },
    }
}

/// Records `f` (an error) as the `i`-th decision of `log`'s request.
fn record_failure(log: Option<(&mut Recorder, usize)>, a: &AskRef<'_>, f: &Failure) {
    if let Some((rec, i)) = log {
        rec.record(i, &asked(a), &Answer::Failed(f.code.as_str(), &f.message));
    }
}

/// A decision request's recorder, as an optional `&mut`.
fn at(rec: &mut Option<Recorder>, i: usize) -> Option<(&mut Recorder, usize)> {
    rec.as_mut().map(|r| (r, i))
}

impl Daemon {
    /// A recorder for a request of `n` decisions, when the decision log is on.
    pub(super) fn begin_log(
        &self,
        peer: Peer,
        path: Path,
        n: usize,
        traceparent: Option<&str>,
    ) -> Option<Recorder> {
        let mut rec = self
            .decisions
            .begin(path, n, (peer.uid, peer.pid), 0, now_ms())?;
        rec.trace(traceparent);
        Some(rec)
    }

    /// Hands a request's records to the log, and its id and revision to the
    /// response.
    fn end_log(&self, rec: Option<Recorder>, r: &mut Response) {
        if let Some(rec) = rec {
            r.revision = Some(rec.revision());
            r.decision_id = Some(rec.id());
            rec.finish(&self.decisions);
        }
    }

    /// Hands a request's records to the log, and its id and revision to
    /// the reply frame.
    fn end_frame(&self, rec: Option<Recorder>, mut frame: Vec<u8>) -> Vec<u8> {
        if let Some(rec) = rec {
            crate::protocol::append_trailer(&mut frame, rec.revision(), rec.id());
            rec.finish(&self.decisions);
        }
        frame
    }

    /// Answers one request.
    pub async fn handle(&self, peer: Peer, req: Request) -> Response {
        let id = req.id;
        let trace = req.traceparent.as_deref();
        let path = match &req.body {
            Body::Authorize(_) => Some((Path::Authorize, 1)),
            Body::Batch(items) if items.len() <= self.config.max_batch_items => {
                Some((Path::Batch, items.len()))
            }
            Body::AuthorizeSigned(_) => Some((Path::AuthorizeSigned, 1)),
            Body::AuthorizeAt(_) => Some((Path::AuthorizeAt, 1)),
            _ => None,
        };
        let mut rec = path.and_then(|(p, n)| self.begin_log(peer, p, n, trace));
        let mut revision = None;
        let result = match req.body {
            Body::Ping => Ok(Reply::Pong(PROTOCOL_VERSION)),
            Body::Authorize(a) => self
                .decide(peer, &AskRef::of(&a), at(&mut rec, 0))
                .map(Reply::Decision),
            Body::Batch(items) => self.batch(
                peer,
                &items.iter().map(AskRef::of).collect::<Vec<_>>(),
                &mut rec,
            ),
            Body::AuthorizeSigned(a) => self
                .decide_signed(peer, &a, rec.as_mut())
                .map(Reply::Decision),
            Body::CallApi(call) => {
                let trace = trace.map(str::to_string).or_else(|| header_trace(&call));
                Ok(Reply::Api(
                    super::tracing::TRACE
                        .scope(trace, self.call_api(peer, call))
                        .await,
                ))
            }
            Body::AuthorizeAt(a) => self
                .decide_at(peer, &a, at(&mut rec, 0))
                .await
                .map(Reply::Decision),
            body => {
                let proof = req.auth.as_ref().map_or(Proof::None, Proof::Key);
                let r = super::tracing::TRACE
                    .scope(req.traceparent.clone(), self.admin(peer, proof, body))
                    .await
                    .map_err(to_wire);
                // The state this answer saw, its own write included.
                revision = self
                    .cluster
                    .as_ref()
                    .map(|_| self.authz.snapshot().revision);
                r
            }
        };
        let mut response = Response {
            id,
            result,
            revision,
            decision_id: None,
        };
        self.end_log(rec, &mut response);
        response
    }

    /// A decision once this host's state has reached the revision the
    /// caller asks for (waiting up to `cluster.max_revision_wait_ms`).
    async fn decide_at(
        &self,
        peer: Peer,
        a: &AuthorizeAt,
        mut log: Option<(&mut Recorder, usize)>,
    ) -> Result<Decision, WireError> {
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
                let f = Failure::new(
                    Code::ClusterLagging,
                    format!(
                        "this host is at revision {}, not yet at {} (waited {} ms)",
                        self.authz.snapshot().revision,
                        a.min_revision,
                        wait.as_millis()
                    ),
                );
                if let Some((rec, _)) = log.as_mut() {
                    rec.at_revision(self.authz.snapshot().revision);
                }
                record_failure(log, &AskRef::of(&a.ask), &f);
                return Err(to_wire(f));
            }
        }
        self.decide(peer, &AskRef::of(&a.ask), log)
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

    fn decide(
        &self,
        peer: Peer,
        a: &AskRef<'_>,
        log: Option<(&mut Recorder, usize)>,
    ) -> Result<Decision, WireError> {
        self.decide_as(peer, a, log, |uin, d| decision(d, uin))
    }

    /// Decides, and hands the engine's answer (borrowed from the snapshot)
    /// to `make`.
    fn decide_as<R>(
        &self,
        peer: Peer,
        a: &AskRef<'_>,
        log: Option<(&mut Recorder, usize)>,
        make: impl FnOnce(u64, &EngineDecision<'_>) -> R,
    ) -> Result<R, WireError> {
        self.decide_in(&self.authz.view(), now_ms(), peer, a, (false, log), make)
    }

    /// Decides against `view` at `now` (a batch reads the snapshot and the
    /// clock once for all its items), records the decision when `log` is
    /// given, and hands the engine's answer to `make`.
    fn decide_in<R>(
        &self,
        view: &View<'_>,
        now: i64,
        peer: Peer,
        a: &AskRef<'_>,
        (batch, mut log): (bool, Option<(&mut Recorder, usize)>),
        make: impl FnOnce(u64, &EngineDecision<'_>) -> R,
    ) -> Result<R, WireError> {
        let started = Metrics::start_decision();
        if let Some((rec, _)) = log.as_mut() {
            rec.at_revision(view.revision());
        }
        if let Err(f) = self.fresh_enough(now) {
            record_failure(log, a, &f);
            return Err(to_wire(f));
        }
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
                if let Some((rec, i)) = log.as_mut() {
                    rec.record(*i, &asked(a), &Answer::Decided(uin, &d));
                }
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
        if let Err(f) = &decided {
            record_failure(log, a, f);
        }
        decided.map_err(to_wire)
    }

    /// Answers a batch of decisions, or refuses it whole when it is over
    /// `max_batch_items`.
    fn batch<'a>(
        &self,
        peer: Peer,
        items: &[AskRef<'a>],
        rec: &mut Option<Recorder>,
    ) -> Result<Reply, WireError> {
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
                .enumerate()
                .map(|(i, a)| {
                    self.decide_in(&view, now, peer, a, (true, at(rec, i)), |uin, d| {
                        decision(d, uin)
                    })
                })
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
                decision_id: None,
            }),
            DecisionBody::Authorize(a) => {
                let id = req.id;
                let mut rec = self.begin_log(peer, Path::Authorize, 1, req.traceparent);
                let frame = match self.decide_as(peer, a, at(&mut rec, 0), |uin, d| {
                    DecisionFrame::single(id, Ok(decision_ref(d, uin)))
                }) {
                    Ok(frame) => frame,
                    Err(e) => DecisionFrame::single(id, Err(&e)),
                };
                self.end_frame(rec, frame)
            }
            DecisionBody::Batch(items) if items.len() > self.config.max_batch_items => {
                owned_frame(Response {
                    id: req.id,
                    result: Err(batch_too_large(
                        items.len() as u64,
                        self.config.max_batch_items,
                    )),
                    revision: None,
                    decision_id: None,
                })
            }
            DecisionBody::Batch(items) => {
                let mut rec = self.begin_log(peer, Path::Batch, items.len(), req.traceparent);
                let mut frame = DecisionFrame::batch(req.id, items.len());
                let (view, now) = (self.authz.view(), now_ms());
                for (i, a) in items.iter().enumerate() {
                    let r =
                        self.decide_in(&view, now, peer, a, (true, at(&mut rec, i)), |uin, d| {
                            frame.push(Ok(decision_ref(d, uin)));
                        });
                    if let Err(e) = r {
                        frame.push(Err(&e));
                    }
                }
                self.end_frame(rec, frame.finish())
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
        let (path, secret_id) = match proof {
            Proof::None => {
                return Err(Failure::new(
                    Code::UnauthorizedOperation,
                    format!(
                        "peer uid {} is not the operator and presented no access key for `{action}`",
                        peer.uid
                    ),
                ));
            }
            Proof::Key(key) => (Path::Admin, key.secret_id.as_str()),
            Proof::Signed { secret_id, .. } => (Path::CallApi, secret_id),
        };
        let trace = super::tracing::current();
        let view = self.authz.view();
        let mut rec = self.begin_log(peer, path, 1, trace.as_deref());
        if let Some(r) = rec.as_mut() {
            r.at_revision(view.revision());
        }
        let asked = Asked {
            secret_id: Some(secret_id),
            action,
            resource,
            context,
            ..Asked::default()
        };
        let mut record = |r: &Result<(u64, EngineDecision<'_>), AuthzError>| {
            if let Some(rec) = rec.as_mut() {
                match r {
                    Ok((uin, d)) => rec.record(0, &asked, &Answer::Decided(*uin, d)),
                    Err(e) => {
                        let f = authz_failure(e.clone());
                        rec.record(0, &asked, &Answer::Failed(f.code.as_str(), &f.message));
                    }
                }
            }
        };
        let v = match proof {
            Proof::None => return Err(Failure::new(Code::UnauthorizedOperation, String::new())),
            Proof::Key(key) => self.with_key(
                &view,
                peer,
                KeyRef {
                    secret_id: &key.secret_id,
                    secret_key: &key.secret_key,
                },
                ask,
                Way::ByKey,
                |r| {
                    record(&r);
                    verdict(r, &key.secret_id, action, resource)
                },
            ),
            Proof::Signed { secret_id, uin } => view.by_user(Who::Uin(uin), ask, |r| {
                record(&r);
                verdict(r, secret_id, action, resource)
            }),
        };
        if let Some(mut rec) = rec {
            if let (Err(f), true) = (&v, rec.is_empty()) {
                rec.record(0, &asked, &Answer::Failed(f.code.as_str(), &f.message));
            }
            rec.finish(&self.decisions);
        }
        v
    }
}
