//! camd's own numbers, for Prometheus: decisions by way in and outcome
//! with a latency histogram, admin operations, reloads, store commits,
//! connections, the snapshot's size, start time and build. Recording is
//! plain atomics (a decision adds one relaxed increment, and one decision in
//! 64 per thread is timed); prometheus-client encodes them at scrape time.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// How a decision was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// For a user the caller authenticated itself.
    ByUser = 0,
    /// With an access key.
    ByKey = 1,
    /// With a signed request.
    Signed = 2,
    /// An item of a batch.
    Batch = 3,
}

const WAYS: [(Way, &str); 4] = [
    (Way::ByUser, "by_user"),
    (Way::ByKey, "by_key"),
    (Way::Signed, "signed"),
    (Way::Batch, "batch"),
];

/// What a decision came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed (by a statement, or as the root account).
    Allow = 0,
    /// Denied by a deny statement.
    ExplicitDeny = 1,
    /// No statement allowed it.
    ImplicitDeny = 2,
    /// A statement could not be evaluated, and so denied.
    FailClosedDeny = 3,
    /// The access key was unknown, wrong or disabled.
    Unauthenticated = 4,
    /// Refused by failed-authentication throttling.
    Throttled = 5,
}

const OUTCOMES: [(Outcome, &str); 6] = [
    (Outcome::Allow, "allow"),
    (Outcome::ExplicitDeny, "explicit_deny"),
    (Outcome::ImplicitDeny, "implicit_deny"),
    (Outcome::FailClosedDeny, "fail_closed_deny"),
    (Outcome::Unauthenticated, "unauthenticated"),
    (Outcome::Throttled, "throttled"),
];

/// One decision in this many (per thread) is timed.
const SAMPLE: u32 = 64;

/// A histogram of fixed buckets, recorded with atomics only.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds, in the metric's unit.
    bounds: &'static [f64],
    /// Observations at or below each bound, and one more for the rest.
    counts: Vec<AtomicU64>,
    /// Sum of observations, in millionths of the unit.
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Records one observation of `v`.
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        // Truncation is fine: the sum is for averages.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative observation in millionths fits u64"
        )]
        let micros = (v.max(0.0) * 1e6) as u64;
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// (cumulative buckets, count, sum) as Prometheus wants them.
    fn snapshot(&self) -> (Vec<(f64, u64)>, u64, f64) {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            total += c.load(Ordering::Relaxed);
            buckets.push((self.bounds.get(i).copied().unwrap_or(f64::INFINITY), total));
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "a sum for averages; precision loss past 2^53 is harmless"
        )]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        (buckets, total, sum)
    }
}

/// Decision latency buckets, seconds (0.25 µs to 1 ms).
const DECISION_BOUNDS: &[f64] = &[
    0.000_000_25,
    0.000_000_5,
    0.000_001,
    0.000_002,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.001,
];
/// Commit latency buckets, seconds (0.5 ms to 1 s).
const COMMIT_BOUNDS: &[f64] = &[
    0.000_5, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 1.0,
];
/// Commit batch sizes (jobs per commit).
const BATCH_BOUNDS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 512.0, 4096.0];

thread_local! {
    static TICK: Cell<u32> = const { Cell::new(0) };
}

/// Every number camd exports; one per daemon, shared.
#[derive(Debug)]
pub struct Metrics {
    decisions: [[AtomicU64; 6]; 4],
    decision_seconds: Histogram,
    /// Admin operations by (CAM action, outcome): both from fixed sets.
    admin: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    reloads_applied: AtomicU64,
    reloads_rejected: AtomicU64,
    last_reload_ms: AtomicI64,
    commit_seconds: Histogram,
    commit_jobs: Histogram,
    connections: AtomicI64,
    refused_cap: AtomicU64,
    refused_rate: AtomicU64,
    users: AtomicU64,
    keys: AtomicU64,
    attachments: AtomicU64,
    policies: AtomicU64,
    watchdog_ms: AtomicI64,
    /// Cluster mode: seconds since the replica heard from etcd (-1: standalone).
    replica_age_secs: AtomicI64,
    /// Cluster mode: records in etcd quarantined (not applied).
    quarantined: AtomicU64,
    /// The decision log: records queued, written, dropped (queue full,
    /// every sink failed), and sinks up out of configured.
    log_queued: AtomicU64,
    log_written: AtomicU64,
    log_dropped_full: AtomicU64,
    log_dropped_sink: AtomicU64,
    log_sinks: AtomicU64,
    log_sinks_up: AtomicU64,
    started_ms: i64,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All zero, started now.
    pub fn new() -> Self {
        Self {
            decisions: Default::default(),
            decision_seconds: Histogram::new(DECISION_BOUNDS),
            admin: Mutex::new(BTreeMap::new()),
            reloads_applied: AtomicU64::new(0),
            reloads_rejected: AtomicU64::new(0),
            last_reload_ms: AtomicI64::new(0),
            commit_seconds: Histogram::new(COMMIT_BOUNDS),
            commit_jobs: Histogram::new(BATCH_BOUNDS),
            connections: AtomicI64::new(0),
            refused_cap: AtomicU64::new(0),
            refused_rate: AtomicU64::new(0),
            users: AtomicU64::new(0),
            keys: AtomicU64::new(0),
            attachments: AtomicU64::new(0),
            policies: AtomicU64::new(0),
            watchdog_ms: AtomicI64::new(0),
            replica_age_secs: AtomicI64::new(-1),
            quarantined: AtomicU64::new(0),
            log_queued: AtomicU64::new(0),
            log_written: AtomicU64::new(0),
            log_dropped_full: AtomicU64::new(0),
            log_dropped_sink: AtomicU64::new(0),
            log_sinks: AtomicU64::new(0),
            log_sinks_up: AtomicU64::new(0),
            started_ms: crate::clock::now_ms(),
            started: Instant::now(),
        }
    }

    /// When this decision should be timed (one in 64 per thread), the
    /// moment it started.
    #[inline]
    pub fn start_decision() -> Option<Instant> {
        TICK.with(|t| {
            let n = t.get().wrapping_add(1);
            t.set(n);
            (n % SAMPLE == 0).then(Instant::now)
        })
    }

    /// Counts a decision (and times it, when `started` is set).
    #[inline]
    pub fn decision(&self, way: Way, outcome: Outcome, started: Option<Instant>) {
        if let Some(c) = self
            .decisions
            .get(way as usize)
            .and_then(|w| w.get(outcome as usize))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(t) = started {
            self.decision_seconds.observe(t.elapsed().as_secs_f64());
        }
    }

    /// Decisions with `outcome`, every way in.
    pub fn decisions(&self, outcome: Outcome) -> u64 {
        self.decisions
            .iter()
            .filter_map(|w| w.get(outcome as usize))
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Counts an admin operation's outcome (`ok` or its code).
    pub fn admin(&self, action: &'static str, outcome: &'static str) {
        let mut m = self.admin.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((action, outcome)).or_insert(0) += 1;
    }

    /// Counts a reload, applied or not, at `at_ms`.
    pub fn reload(&self, applied: bool, at_ms: i64) {
        let c = if applied {
            &self.reloads_applied
        } else {
            &self.reloads_rejected
        };
        c.fetch_add(1, Ordering::Relaxed);
        self.last_reload_ms.store(at_ms, Ordering::Relaxed);
    }

    /// Records one store commit: how long it took and how many jobs it held.
    pub fn commit(&self, took: Duration, jobs: usize) {
        self.commit_seconds.observe(took.as_secs_f64());
        #[allow(
            clippy::cast_precision_loss,
            reason = "a batch is at most a few thousand jobs"
        )]
        self.commit_jobs.observe(jobs as f64);
    }

    /// A connection was opened (`1`) or closed (`-1`).
    pub fn connection(&self, delta: i64) {
        self.connections.fetch_add(delta, Ordering::Relaxed);
    }

    /// A connection was refused: the uid held its share (`cap`), or opened
    /// too many too fast.
    pub fn refused(&self, cap: bool) {
        let c = if cap {
            &self.refused_cap
        } else {
            &self.refused_rate
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The published snapshot's size.
    pub fn snapshot(&self, users: usize, keys: usize, attachments: usize, policies: usize) {
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        self.users.store(n(users), Ordering::Relaxed);
        self.keys.store(n(keys), Ordering::Relaxed);
        self.attachments.store(n(attachments), Ordering::Relaxed);
        self.policies.store(n(policies), Ordering::Relaxed);
    }

    /// Cluster mode: the replica's age and its quarantined records, as of now.
    pub fn cluster(&self, age_secs: u64, quarantined: usize) {
        self.replica_age_secs.store(
            i64::try_from(age_secs).unwrap_or(i64::MAX),
            Ordering::Relaxed,
        );
        self.quarantined.store(
            u64::try_from(quarantined).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// `n` decision records were queued for the decision log's writer.
    pub fn decision_log_queued(&self, n: u64) {
        self.log_queued.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` decision records reached at least one sink.
    pub fn decision_log_written(&self, n: u64) {
        self.log_written.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` decision records were dropped: the queue was full, or (`sink`)
    /// no sink took them.
    pub fn decision_log_dropped(&self, n: u64, sink: bool) {
        let c = if sink {
            &self.log_dropped_sink
        } else {
            &self.log_dropped_full
        };
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// The decision log's sinks: how many are up, of how many.
    pub fn decision_log_sinks(&self, up: usize, of: usize) {
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        self.log_sinks_up.store(n(up), Ordering::Relaxed);
        self.log_sinks.store(n(of), Ordering::Relaxed);
    }

    /// Decision records dropped so far (queue full, sinks failed).
    pub fn decision_log_drops(&self) -> (u64, u64) {
        (load(&self.log_dropped_full), load(&self.log_dropped_sink))
    }

    /// systemd's watchdog was fed at `at_ms`.
    pub fn watchdog(&self, at_ms: i64) {
        self.watchdog_ms.store(at_ms, Ordering::Relaxed);
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// The OpenMetrics text exposition, as prometheus-client encodes it.
    pub fn encode_openmetrics(self: &std::sync::Arc<Self>) -> String {
        let mut registry = Registry::with_prefix("camd");
        registry.register_collector(Box::new(Collected(self.clone())));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }

    /// The Prometheus text format (version 0.0.4), which node_exporter's
    /// textfile collector and promtool read: the OpenMetrics exposition with
    /// each counter family named by its samples' `_total` name, and no
    /// `# EOF`.
    pub fn encode(self: &std::sync::Arc<Self>) -> String {
        to_prometheus_text(&self.encode_openmetrics())
    }
}

/// OpenMetrics text to the Prometheus text format (see [`Metrics::encode`]).
fn to_prometheus_text(open: &str) -> String {
    let mut out = String::with_capacity(open.len());
    let mut help: Option<&str> = None;
    for line in open.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            // Held until the TYPE line says whether it names a counter.
            if let Some(h) = help.replace(line) {
                out.push_str(h);
                out.push('\n');
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.splitn(2, ' ');
            let (name, kind) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let total = if kind == "counter" { "_total" } else { "" };
            if let Some(h) = help.take() {
                let text = h.strip_prefix("# HELP ").and_then(|r| r.split_once(' '));
                match text {
                    Some((_, t)) => out.push_str(&format!("# HELP {name}{total} {t}\n")),
                    None => out.push_str(&format!("{h}\n")),
                }
            }
            out.push_str(&format!("# TYPE {name}{total} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The metrics as a prometheus-client collector (read at each scrape).
#[derive(Debug)]
struct Collected(std::sync::Arc<Metrics>);

type Labels = Vec<(&'static str, &'static str)>;

fn counter_family(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    rows: &[(Labels, u64)],
) -> Result<(), std::fmt::Error> {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        ConstCounter::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

fn gauge(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    v: i64,
) -> Result<(), std::fmt::Error> {
    let m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(v).encode(m)
}

fn histogram(
    e: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    h: &Histogram,
) -> Result<(), std::fmt::Error> {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Histogram)?;
    let (buckets, count, sum) = h.snapshot();
    m.encode_histogram::<Labels>(sum, count, &buckets, None)
}

impl Collector for Collected {
    fn encode(&self, mut e: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let m: &Metrics = &self.0;
        encode_decisions(&mut e, m)?;
        encode_admin(&mut e, m)?;
        encode_reloads(&mut e, m)?;
        encode_commits(&mut e, m)?;
        encode_connections(&mut e, m)?;
        encode_snapshot_size(&mut e, m)?;
        encode_watchdog_and_cluster(&mut e, m)?;
        encode_decision_log(&mut e, m)?;
        encode_process(&mut e, m)
    }
}

/// A counter's value, as read at scrape time.
fn load(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// A count as a gauge's value (saturating).
fn gauge_u(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// Decisions by way in and outcome, and their latency.
fn encode_decisions(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    let mut rows = Vec::new();
    for (way, way_name) in WAYS {
        for (outcome, outcome_name) in OUTCOMES {
            let v = m
                .decisions
                .get(way as usize)
                .and_then(|w| w.get(outcome as usize))
                .map_or(0, load);
            rows.push((vec![("way", way_name), ("outcome", outcome_name)], v));
        }
    }
    counter_family(e, "decisions", "Decisions, by way in and outcome.", &rows)?;
    histogram(
        e,
        "decision_duration_seconds",
        "Server-side decision latency (one decision in 64 per thread is timed).",
        &m.decision_seconds,
    )
}

/// Admin operations by CAM action and outcome.
fn encode_admin(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    let admin: Vec<(Labels, u64)> = m
        .admin
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|((action, outcome), v)| (vec![("action", *action), ("outcome", *outcome)], *v))
        .collect();
    counter_family(
        e,
        "admin_operations",
        "Admin operations, by CAM action and outcome (`ok` or the error code).",
        &admin,
    )
}

/// Policy folder reloads by outcome, and when the last one was.
fn encode_reloads(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    counter_family(
        e,
        "reloads",
        "Policy folder reloads, by outcome.",
        &[
            (vec![("outcome", "applied")], load(&m.reloads_applied)),
            (vec![("outcome", "rejected")], load(&m.reloads_rejected)),
        ],
    )?;
    let last = m.last_reload_ms.load(Ordering::Relaxed) / 1000;
    gauge(
        e,
        "last_reload_timestamp_seconds",
        "When the policy folder was last reloaded (0: not since start).",
        last,
    )
}

/// Store commits: their latency and their batch sizes.
fn encode_commits(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    histogram(
        e,
        "store_commit_duration_seconds",
        "Durable store commits: time from the first job to the commit's return.",
        &m.commit_seconds,
    )?;
    histogram(
        e,
        "store_commit_jobs",
        "Jobs (admin changes, reads, audit entries) per store commit batch.",
        &m.commit_jobs,
    )
}

/// Connections open now, and those refused at accept by reason.
fn encode_connections(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    gauge(
        e,
        "connections",
        "Connections open now.",
        m.connections.load(Ordering::Relaxed),
    )?;
    counter_family(
        e,
        "connections_refused",
        "Connections refused at accept, because the uid held its share (cap) or opened too many too fast (rate).",
        &[
            (vec![("reason", "cap")], load(&m.refused_cap)),
            (vec![("reason", "rate")], load(&m.refused_rate)),
        ],
    )
}

/// The published snapshot's size.
fn encode_snapshot_size(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    for (name, help, v) in [
        (
            "snapshot_users",
            "Sub-users in the published snapshot.",
            &m.users,
        ),
        (
            "snapshot_access_keys",
            "Access keys in the published snapshot.",
            &m.keys,
        ),
        (
            "snapshot_attachments",
            "Policy attachments (users and groups).",
            &m.attachments,
        ),
        (
            "snapshot_policies",
            "Policies in use (presets and custom).",
            &m.policies,
        ),
    ] {
        gauge(e, name, help, gauge_u(load(v)))?;
    }
    Ok(())
}

/// systemd's watchdog, and (in cluster mode only) the replica's age and
/// quarantined records.
fn encode_watchdog_and_cluster(
    e: &mut DescriptorEncoder<'_>,
    m: &Metrics,
) -> Result<(), std::fmt::Error> {
    gauge(
        e,
        "watchdog_last_ping_timestamp_seconds",
        "When systemd's watchdog was last fed (0: no watchdog).",
        m.watchdog_ms.load(Ordering::Relaxed) / 1000,
    )?;
    let age = m.replica_age_secs.load(Ordering::Relaxed);
    if age >= 0 {
        gauge(
            e,
            "cluster_replica_age_seconds",
            "Cluster mode: seconds since this host's replica last heard from etcd.",
            age,
        )?;
        gauge(
            e,
            "cluster_quarantined_records",
            "Cluster mode: records in etcd this host did not apply (unsealed, altered, replayed, or undecodable); `camctl status` names them.",
            gauge_u(load(&m.quarantined)),
        )?;
    }
    Ok(())
}

/// The decision log's records and sinks.
fn encode_decision_log(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    counter_family(
        e,
        "decision_log_records",
        "Decision records queued for the decision log's writer, and written to at least one sink.",
        &[
            (vec![("stage", "queued")], load(&m.log_queued)),
            (vec![("stage", "written")], load(&m.log_written)),
        ],
    )?;
    counter_family(
        e,
        "decision_log_dropped",
        "Decision records dropped, never waited for: the queue was full, or no sink took them.",
        &[
            (vec![("reason", "queue_full")], load(&m.log_dropped_full)),
            (vec![("reason", "sink_failed")], load(&m.log_dropped_sink)),
        ],
    )?;
    gauge(
        e,
        "decision_log_sinks",
        "Decision log sinks configured.",
        gauge_u(load(&m.log_sinks)),
    )?;
    gauge(
        e,
        "decision_log_sinks_up",
        "Decision log sinks whose last write succeeded.",
        gauge_u(load(&m.log_sinks_up)),
    )
}

/// When camd started, and its build.
fn encode_process(e: &mut DescriptorEncoder<'_>, m: &Metrics) -> Result<(), std::fmt::Error> {
    gauge(
        e,
        "process_start_time_seconds",
        "When camd started, seconds since the epoch.",
        m.started_ms / 1000,
    )?;
    let mut info = e.encode_descriptor(
        "build_info",
        "camd's version (always 1).",
        None,
        MetricType::Gauge,
    )?;
    let labels: Labels = vec![("version", env!("CARGO_PKG_VERSION"))];
    ConstGauge::new(1i64).encode(info.encode_family(&labels)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_sum_in_the_unit() {
        let h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.5, 1.5, 7.0] {
            h.observe(v);
        }
        let (buckets, count, sum) = h.snapshot();
        assert_eq!(buckets, [(1.0, 1), (2.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(count, 4);
        assert!((sum - 10.5).abs() < 1e-9);
    }

    #[test]
    fn one_decision_in_64_is_timed_per_thread() {
        let timed = (0..640)
            .filter(|_| Metrics::start_decision().is_some())
            .count();
        assert_eq!(timed, 10);
    }

    #[test]
    fn the_exposition_has_every_family_with_bounded_labels() {
        let m = std::sync::Arc::new(Metrics::new());
        m.decision(Way::ByKey, Outcome::Unauthenticated, None);
        m.admin("AddUser", "ok");
        let text = m.encode();
        assert!(
            text.contains(r#"camd_decisions_total{way="by_key",outcome="unauthenticated"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"camd_admin_operations_total{action="AddUser",outcome="ok"} 1"#));
        assert!(text.contains("camd_decision_duration_seconds_bucket"));
        assert!(text.contains("# TYPE camd_decisions_total counter\n"));
        assert!(text.contains("# HELP camd_decisions_total Decisions"));
        assert!(!text.contains("# EOF"));
        assert!(m.encode_openmetrics().ends_with("# EOF\n"));
    }
}
