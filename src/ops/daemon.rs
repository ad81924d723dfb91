//! camd's own requests: Status (counts and health), Audit (the audit
//! trail), GetMetrics (Prometheus) and DecisionLogStatus, the last three
//! the operator's alone.

use std::sync::Arc;

use crate::authz::Publisher;
use crate::code::{Code, Failure};
use crate::metrics::Metrics;
use crate::protocol::{
    Audit, AuditInfo, ClusterInfo, DecisionLogInfo, DecisionLogStatus, GetMetrics, Status,
    StatusInfo,
};
use crate::reload::Reloader;
use crate::store::AdminError;
use crate::store::Writer;

use super::{Env, Exec, Resources, Right};

impl Exec for Status {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:ListUsers", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<StatusInfo, Failure> {
        let clustered = env.cluster.is_some();
        let (counts, dangling, hash, revision) = env
            .read(move |s, cx| {
                let hash = if clustered {
                    state_hash(s).map_err(|e| AdminError::Storage(e.to_string()))?
                } else {
                    String::new()
                };
                Ok((s.counts(), s.dangling(cx), hash, s.revision()))
            })
            .await?;
        let cluster = match env.cluster {
            None => None,
            Some(c) => {
                let st = c.standing().await;
                Some(ClusterInfo {
                    endpoints: st.endpoints,
                    connected: st.connected,
                    applied_revision: revision,
                    etcd_revision: st.etcd_revision,
                    lag: (st.etcd_revision - revision).max(0),
                    state_hash: hash,
                    age_secs: c.progress.age_secs(crate::clock::now_ms()),
                    quarantined: c.progress.quarantined(),
                })
            }
        };
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        let live = env.live;
        Ok(StatusInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            owner_uin: env.owner_uin,
            users: n(counts.users),
            groups: n(counts.groups),
            keys: n(counts.keys),
            attachments: n(counts.attachments),
            custom_policies: n(env.policies.catalog.load().custom().count()),
            dangling: env.visible_dangling(dangling),
            generation: env.authz.snapshot().generation,
            uptime_secs: live.uptime_secs,
            allows: live.allows,
            denies: live.denies,
            unauthenticated: live.unauthenticated,
            throttled: live.throttled,
            cluster,
        })
    }
}

/// SHA-256 over every record in key order.
fn state_hash(s: &crate::store::State) -> Result<String, crate::store::RecordError> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for r in s.all_records()? {
        ctx.update(format!("{:?}", r.key).as_bytes());
        ctx.update(&[0]);
        if let Some(v) = &r.value {
            ctx.update(v);
        }
        ctx.update(&[0xff]);
    }
    Ok(ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl Exec for Audit {
    const OPERATOR_ONLY: Option<&'static str> = Some("read the audit trail");

    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        Vec::new()
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<AuditInfo>, Failure> {
        let limit = usize::try_from(self.limit.min(10_000)).unwrap_or(10_000);
        let page = env
            .writer
            .read_audit(self.since, limit)
            .await
            .map_err(|e| Failure::new(Code::Store, e.to_string()))?
            .map_err(|e| Failure::new(Code::Store, e.to_string()))?;
        Ok(page
            .into_iter()
            .map(|e| AuditInfo {
                seq: e.seq,
                at_ms: e.at_ms,
                actor: e.actor,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
            })
            .collect())
    }
}

/// The metrics as Prometheus text, with the snapshot's size read from the
/// store first (counting attachments walks every user, so it is done here,
/// at scrape time, and not at every commit).
pub async fn exposition(
    writer: &Writer<Publisher>,
    policies: &Reloader,
    metrics: &Arc<Metrics>,
    cluster: Option<&crate::cluster::Cluster>,
) -> Result<String, Failure> {
    if let Some(c) = cluster {
        let p = &c.progress;
        metrics.cluster(p.age_secs(crate::clock::now_ms()), p.quarantined().len());
    }
    let read = writer
        .read(|s, _| Ok(s.counts()))
        .map_err(|e| Failure::new(Code::Store, e.to_string()))?;
    let counts = read
        .await
        .map_err(|e| Failure::new(Code::Store, e.to_string()))?
        .map_err(Failure::from)?;
    let policies = crate::policy::preset::PRESETS.len() + policies.catalog.load().custom().count();
    metrics.snapshot(counts.users, counts.keys, counts.attachments, policies);
    Ok(metrics.encode())
}

impl Exec for DecisionLogStatus {
    const OPERATOR_ONLY: Option<&'static str> = Some("read the decision log's state");

    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        Vec::new()
    }

    async fn run(self, env: &Env<'_>) -> Result<DecisionLogInfo, Failure> {
        let s = env.decisions.status();
        let (full, sink) = env.metrics.decision_log_drops();
        Ok(DecisionLogInfo {
            on: s.on,
            file: s.file,
            sample: s.sample,
            sinks: s.sinks,
            rejected: s.rejected,
            queued: s.queued,
            dropped_queue_full: full,
            dropped_sink_failed: sink,
        })
    }
}

impl Exec for GetMetrics {
    const OPERATOR_ONLY: Option<&'static str> = Some("read the metrics");

    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        Vec::new()
    }

    async fn run(self, env: &Env<'_>) -> Result<String, Failure> {
        exposition(env.writer, env.policies, env.metrics, env.cluster).await
    }
}
