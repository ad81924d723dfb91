//! Answering `CallApi`: a CAM API 3.0 call that `camd-api` received over
//! HTTP. The signature is verified here, where the sealed keys are; the
//! action's parameters become admin requests (`api::CAM.plan`), whose rights
//! are all checked for the signer before any runs; the replies become
//! CAM's JSON (`Plan::render`).

use std::sync::Arc;

use crate::api::{self, Directory};
use crate::authz::Snapshot;
use crate::code::{Code, Failure};
use crate::metrics::Way;
use crate::protocol::{ApiAnswer, ApiCall, CLIENT_ADDRESS, GroupInfo, SignedPayload};

use super::daemon::Daemon;
use super::peer::Peer;
use super::proof::Proof;
use super::signed::as_signed;

/// Names behind CAM's ids, as of this call.
struct Names {
    snap: Arc<Snapshot>,
    signer: u64,
    groups: Vec<GroupInfo>,
    policies: Vec<String>,
    roles: Vec<(u64, String)>,
}

impl Directory for Names {
    fn owner_uin(&self) -> u64 {
        self.snap.owner_uin
    }
    fn signer_uin(&self) -> u64 {
        self.signer
    }
    fn user_name(&self, uin: u64) -> Option<String> {
        self.snap.users.get(&uin).map(|u| u.name.to_string())
    }
    fn user_uin(&self, name: &str) -> Option<u64> {
        self.snap.names.get(name).map(|u| u.uin)
    }
    fn group_by_id(&self, id: u64) -> Option<GroupInfo> {
        self.groups
            .iter()
            .find(|g| api::group_id(&g.name) == id)
            .cloned()
    }
    fn group_by_name(&self, name: &str) -> Option<GroupInfo> {
        self.groups.iter().find(|g| g.name == name).cloned()
    }
    fn policy_name(&self, id: u64) -> Option<String> {
        self.policies
            .iter()
            .find(|p| api::policy_id(p) == id)
            .cloned()
    }
    fn role_name(&self, id: u64) -> Option<String> {
        self.roles
            .iter()
            .find(|(rid, _)| *rid == id)
            .map(|(_, n)| n.clone())
    }
}

/// Runs `futs` together; their outputs in order.
async fn all<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

impl Daemon {
    /// Answers a CAM API call; every outcome is a CAM JSON body.
    pub(super) async fn call_api(&self, peer: Peer, call: ApiCall) -> ApiAnswer {
        let request_id = api::request_id(&self.rng);
        let json = match self.run_api(peer, &call).await {
            Ok(fields) => api::answer(fields, &request_id),
            Err(f) => api::error(&f, &request_id),
        };
        ApiAnswer { json }
    }

    async fn run_api(&self, peer: Peer, call: &ApiCall) -> Result<serde_json::Value, Failure> {
        let SignedPayload::Body(body) = &call.request.payload else {
            return Err(Failure::new(
                Code::InvalidParameter,
                "a CAM API call must carry its body, not the body's hash",
            ));
        };
        let signed = as_signed(&call.request);
        let peer = peer.forwarding(signed.header(CLIENT_ADDRESS).ok().flatten());
        let s = self.signed_ask(signed, Some(api::CAM.name));
        let (secret_id, uin, signature, timestamp) =
            self.verify_signed(peer, &s, None, Way::Signed, |v, _| {
                (v.secret_id.to_string(), v.uin, v.signature, v.timestamp)
            })?;
        let header = |name: &str| {
            signed
                .header(name)
                .ok()
                .flatten()
                .map(str::trim)
                .ok_or_else(|| {
                    Failure::new(
                        Code::MissingParameter,
                        format!("the request has no {name} header"),
                    )
                })
        };
        let version = header("x-tc-version")?;
        if version != api::CAM.version {
            return Err(Failure::new(
                Code::NoSuchVersion,
                format!(
                    "version `{}` is not served; camd serves CAM {}",
                    version.chars().take(32).collect::<String>(),
                    api::CAM.version
                ),
            ));
        }
        let action = header("x-tc-action")?;
        let names = self.names(uin).await?;
        let mut plan = api::CAM.plan(action, body, &names)?;
        self.bind_signature(peer, &secret_id, signature, action, timestamp, &s)
            .await?;
        let proof = Proof::Signed {
            secret_id: &secret_id,
            uin,
        };
        for b in &plan.bodies {
            self.precheck(peer, proof, b.clone())?;
        }
        // Independent requests (memberships) queued together reach the
        // writer as one batch (one commit), not one each.
        let bodies = std::mem::take(&mut plan.bodies);
        let mut replies = Vec::with_capacity(bodies.len());
        if plan.independent {
            let runs = bodies
                .into_iter()
                .map(|b| self.admin(peer, proof, b))
                .collect();
            for r in all(runs).await {
                replies.push(r?);
            }
        } else {
            for b in bodies {
                replies.push(self.admin(peer, proof, b).await?);
            }
        }
        plan.render(replies, &names)
    }

    /// Binds the signature to the action of its first call, durably in the
    /// key's record (see `State::bind_signature`), unless the signature
    /// covers `x-tc-action` itself.
    async fn bind_signature(
        &self,
        peer: Peer,
        secret_id: &str,
        signature: [u8; 32],
        action: &str,
        timestamp: i64,
        s: &crate::authz::SignedAsk<'_>,
    ) -> Result<(), Failure> {
        if s.signs("x-tc-action") {
            return Ok(());
        }
        fn is_change(a: &str) -> bool {
            crate::policy::actions::is_write(&format!("cam:{a}"))
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, &signature);
        let mut d = [0u8; 32];
        d.copy_from_slice(digest.as_ref());
        let expires = timestamp.saturating_add(s.window_secs);
        let gone = || Failure::new(Code::Store, "the store writer has stopped");
        let bound = self
            .writer
            .bind_signature(
                crate::store::SignatureBinding {
                    secret_id: secret_id.to_string(),
                    digest: d,
                    action: action.to_string(),
                    now_s: s.now_secs,
                    expires_s: expires,
                },
                is_change,
            )
            .map_err(|_| gone())?
            .await
            .map_err(|_| gone())?;
        match bound {
            Ok(()) => Ok(()),
            Err(e) => {
                let f = Failure::from(e);
                if f.code == Code::SignatureFailure {
                    self.auth_failed(peer, secret_id, Way::Signed, Code::SignatureFailure);
                }
                Err(f)
            }
        }
    }

    async fn names(&self, signer: u64) -> Result<Names, Failure> {
        let (groups, stored, roles) = self
            .writer
            .read(|s, _| {
                let stored: Vec<String> = s.policies().keys().cloned().collect();
                let roles = s.roles().values().map(|r| (r.id, r.name.clone())).collect();
                Ok((crate::ops::group_infos(s), stored, roles))
            })
            .map_err(|_| Failure::new(Code::Store, "the store writer has stopped"))?
            .await
            .map_err(|_| Failure::new(Code::Store, "the store writer has stopped"))?
            .map_err(Failure::from)?;
        let catalog = self.policies.catalog.load();
        let policies = crate::policy::preset::PRESETS
            .iter()
            .map(|p| p.name.to_string())
            .chain(catalog.custom().map(|p| p.name.to_string()))
            .chain(stored)
            .collect();
        Ok(Names {
            snap: self.authz.snapshot(),
            signer,
            groups,
            policies,
            roles,
        })
    }
}
