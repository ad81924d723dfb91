//! Answering `AuthorizeSigned`: a TC3-signed request verified (through the
//! failed-authentication throttle, failures audited), then decided for the
//! signer: one round trip for "is this signature valid, whose key is it,
//! and may that user do this?".

use crate::authz::{Ask, AuthzError, SignedAsk, Verified};
use crate::code::{Code, Failure};
use crate::credentials::tc3::{self, Payload, Signed};
use crate::metrics::{Metrics, Way};
use crate::policy::Decision as EngineDecision;
use crate::protocol::{AuthorizeSigned, Decision, SignedHttp, SignedPayload, WireError};

use crate::decisions::{Answer, Asked, Recorder};

use super::answer::{authz_failure, decision, outcome_of, to_wire};
use super::daemon::{Daemon, now_ms};
use super::peer::Peer;

/// The request as the TC3 verifier reads it.
pub(super) fn as_signed(r: &SignedHttp) -> Signed<'_> {
    Signed {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &r.headers,
        payload: match &r.payload {
            SignedPayload::Body(b) => Payload::Bytes(b),
            SignedPayload::Sha256Hex(h) => Payload::Sha256Hex(h),
        },
    }
}

impl Daemon {
    /// Verifies a signed request: throttled per peer and claimed SecretId,
    /// failures counted and audited; `ask` is decided for the signer.
    pub(super) fn verify_signed<R>(
        &self,
        peer: Peer,
        s: &SignedAsk<'_>,
        ask: Option<Ask<'_>>,
        way: Way,
        f: impl FnOnce(Verified<'_>, Option<EngineDecision<'_>>) -> R,
    ) -> Result<R, Failure> {
        // The SecretId the header claims (not yet verified) is what the
        // throttle counts.
        let id = s.auth.as_ref().map(|a| a.secret_id);
        if let Some(id) = id {
            self.key_gate(peer, id, way)?;
        }
        let r = self.authz.by_signature(s, ask, |r| match r {
            Ok((v, d)) => Ok(f(v, d)),
            Err(e) => Err(e),
        });
        match r {
            Ok(x) => Ok(x),
            Err(e) => {
                if e.is_auth_failure() {
                    self.auth_failed(peer, id.unwrap_or_default(), way, e.code());
                }
                Err(authz_failure(e))
            }
        }
    }

    /// The window and clock a signed request is checked against.
    pub(super) fn signed_ask<'a>(
        &self,
        call: Signed<'a>,
        service: Option<&'a str>,
    ) -> SignedAsk<'a> {
        SignedAsk {
            call,
            auth: tc3::authorization(&call).ok(),
            service,
            now_secs: now_ms().div_euclid(1000),
            window_secs: i64::from(self.config.signature_window_secs),
        }
    }

    /// Answers `AuthorizeSigned`. The asking service states the action, or
    /// only its service (`im`: the action is `im:<X-TC-Action>`); the
    /// signature's scope must name that service, so a signer cannot pick
    /// the service its call is decided for.
    pub(super) fn decide_signed(
        &self,
        peer: Peer,
        a: &AuthorizeSigned,
        mut rec: Option<&mut Recorder>,
    ) -> Result<Decision, WireError> {
        if let Some(r) = rec.as_mut() {
            r.at_revision(self.authz.snapshot().revision);
        }
        let claimed = tc3::authorization(&as_signed(&a.request))
            .ok()
            .map(|x| x.secret_id.to_string());
        let mut asked = Asked {
            secret_id: claimed.as_deref(),
            action: a.action.as_deref().unwrap_or_default(),
            resource: &a.resource,
            ..Asked::default()
        };
        let ctx: Vec<(&str, &str)> = a
            .context
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        asked.context = &ctx;
        let r = self.decide_signed_in(peer, a, &ctx, &mut asked, rec.as_deref_mut());
        if let (Err(e), Some(rec)) = (&r, rec) {
            if rec.is_empty() {
                rec.record(0, &asked, &Answer::Failed(&e.code, &e.message));
            }
        }
        r
    }

    fn decide_signed_in<'a>(
        &self,
        peer: Peer,
        a: &'a AuthorizeSigned,
        ctx: &'a [(&'a str, &'a str)],
        asked: &mut Asked<'a>,
        mut rec: Option<&mut Recorder>,
    ) -> Result<Decision, WireError> {
        let started = Metrics::start_decision();
        let call = as_signed(&a.request);
        // The asking service names its caller with `qcs:ip`; the request's
        // own headers are the caller's, and could name anyone.
        let peer = super::peer::forwarded(peer, ctx);
        self.fresh_enough(now_ms()).map_err(to_wire)?;
        let (service, full) = stated_service(a.action.as_deref()).map_err(to_wire)?;
        let s = self.signed_ask(call, Some(service));
        let default_action;
        let action = if full {
            a.action.as_deref().map(str::trim).unwrap_or_default()
        } else {
            // The action comes from the request only when the signature
            // covers it: Tencent's SDKs do not sign x-tc-action, and a
            // captured call could be resent with another one.
            let header = call
                .header("x-tc-action")
                .ok()
                .flatten()
                .filter(|_| s.signs("x-tc-action"));
            let Some(name) = header else {
                // What is wrong with the request itself comes first.
                self.verify_signed(peer, &s, None, Way::Signed, |_, _| ())
                    .map_err(to_wire)?;
                return Err(to_wire(Failure::new(
                    Code::MissingParameter,
                    format!(
                        "only the service `{service}` is stated and the signature does not cover x-tc-action: state the action"
                    ),
                )));
            };
            default_action = format!("{service}:{}", name.trim());
            default_action.as_str()
        };
        let ask = Ask {
            action,
            resource: &a.resource,
            context: ctx,
            now_ms: now_ms(),
        };
        let mut outcome = None;
        let decided = self
            .verify_signed(peer, &s, Some(ask), Way::Signed, |v, d| {
                d.map(|d| {
                    outcome = Some(outcome_of(&d));
                    if let Some(r) = rec.as_mut() {
                        let asked = Asked {
                            action,
                            secret_id: Some(v.secret_id),
                            ..*asked
                        };
                        r.record(0, &asked, &Answer::Decided(v.uin, &d));
                    }
                    decision(&d, v.uin)
                })
            })
            .and_then(|d| d.ok_or_else(|| authz_failure(AuthzError::UnknownUser(String::new()))));
        if let Some(o) = outcome {
            self.metrics.decision(Way::Signed, o, started);
        }
        decided.map_err(to_wire)
    }
}

/// The service an `AuthorizeSigned` names, and whether it states the whole
/// action (`im:SendMessage`) or only the service (`im`).
fn stated_service(stated: Option<&str>) -> Result<(&str, bool), Failure> {
    let stated = stated.map(str::trim).unwrap_or_default();
    let (service, full) = match stated.split_once(':') {
        Some((svc, _)) => (svc.strip_prefix("name/").unwrap_or(svc), true),
        None => (stated, false),
    };
    if service.is_empty() {
        return Err(Failure::new(
            Code::MissingParameter,
            "no action: state the action, or the asking service's name (`im`) to decide `<service>:<X-TC-Action>`",
        ));
    }
    Ok((service, full))
}
