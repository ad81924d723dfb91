//! The decision log's writer thread: takes captures off the queue, renders
//! them, and hands them to every sink; a sink that fails is closed, its
//! records counted as dropped, and opened again after a back-off, while
//! deciding goes on untouched.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::protocol::DecisionId;

use super::record::Capture;
use super::sink::Sink;
use super::{Active, DecisionLog, SinkStatus};

/// How long the writer sleeps when the queue is empty (deciding never
/// wakes it: a push is one lock-free queue operation, no syscall).
const IDLE: Duration = Duration::from_millis(5);
/// Lines rendered before they are written out.
const CHUNK: usize = 256 << 10;
/// How long a stop waits for the queue to drain (a slow collector must not
/// keep camd from stopping).
const DRAIN: Duration = Duration::from_secs(5);
/// The longest wait before a failed sink is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One sink with its health.
struct Placed {
    sink: Sink,
    status: SinkStatus,
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl Placed {
    fn new(sink: Sink) -> Self {
        let status = SinkStatus {
            kind: sink.kind().to_string(),
            target: sink.target().display().to_string(),
            up: true,
            ..SinkStatus::default()
        };
        Self {
            sink,
            status,
            retry_at: None,
            backoff: Duration::from_millis(100),
        }
    }

    /// Writes `lines`, unless the sink is waiting to be tried again;
    /// returns false when they did not reach it.
    fn write(&mut self, lines: &[u8], ids: &[DecisionId], now: Instant) -> bool {
        if self.retry_at.is_some_and(|t| now < t) {
            self.status.failed += ids.len() as u64;
            return false;
        }
        match self.sink.write(lines, ids) {
            Ok(()) => {
                self.status.written += ids.len() as u64;
                self.status.up = true;
                self.retry_at = None;
                self.backoff = Duration::from_millis(100);
                true
            }
            Err(e) => {
                self.sink.close();
                self.status.failed += ids.len() as u64;
                self.status.up = false;
                self.status.error = Some(e.to_string());
                self.status.error_at_ms = crate::clock::now_ms();
                self.retry_at = Some(now + self.backoff);
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                false
            }
        }
    }
}

/// Runs until the log is stopped and its queue is empty.
pub fn run(log: Arc<DecisionLog>) {
    let mut active: Arc<Active> = log.active.load_full();
    let mut sinks = place(&active);
    let mut lines = Vec::with_capacity(CHUNK + 4096);
    let mut ids: Vec<DecisionId> = Vec::new();
    let mut stopping_since: Option<Instant> = None;
    loop {
        let now_active = log.active.load_full();
        if now_active.generation != active.generation {
            active = now_active;
            sinks = place(&active);
        }
        let mut took = false;
        let busy = Instant::now();
        while lines.len() < CHUNK {
            let Some(cap) = log.queue.pop() else { break };
            took = true;
            log.queued_bytes.fetch_sub(cap.bytes(), Ordering::Relaxed);
            render(&cap, &active, &log.host, &mut lines, &mut ids);
            log.recycle(cap);
        }
        if !ids.is_empty() {
            deliver(&log, &mut sinks, &lines, &ids);
            lines.clear();
            ids.clear();
        }
        if log.stopping.load(Ordering::Acquire) {
            let since = *stopping_since.get_or_insert_with(Instant::now);
            if log.queue.is_empty() || since.elapsed() > DRAIN {
                drop_the_rest(&log);
                publish(&log, &sinks);
                return;
            }
        }
        if !took {
            std::thread::sleep(IDLE);
        } else if !log.queue.is_empty() && !log.stopping.load(Ordering::Acquire) {
            // A backlog: deciding comes first. Rest so the writer takes at
            // most `writer_cpu_share` of a core; what does not fit is dropped.
            std::thread::sleep(rest(busy.elapsed(), active.settings.writer_cpu_share));
        }
    }
}

/// The pause after `busy` of work that keeps the writer within `share` of a core.
fn rest(busy: Duration, share: f64) -> Duration {
    if !(share > 0.0 && share < 1.0) {
        return Duration::ZERO;
    }
    busy.mul_f64((1.0 - share) / share)
        .min(Duration::from_millis(100))
}

/// Counts what is still queued as dropped (a stop that could not drain it).
fn drop_the_rest(log: &DecisionLog) {
    while let Some(cap) = log.queue.pop() {
        log.queued_bytes.fetch_sub(cap.bytes(), Ordering::Relaxed);
        log.metrics
            .decision_log_dropped(cap.items.len() as u64, true);
    }
}

fn place(active: &Active) -> Vec<Placed> {
    Sink::all(&active.settings, active.gid)
        .into_iter()
        .map(Placed::new)
        .collect()
}

fn render(
    cap: &Capture,
    active: &Active,
    host: &str,
    lines: &mut Vec<u8>,
    ids: &mut Vec<DecisionId>,
) {
    let time = crate::policy::TimeText::new(cap.at_ms);
    let shared = super::render::Shared {
        timestamp: time.as_str(),
        host,
        rules: &active.rules,
    };
    let mut repeats = super::render::Repeats::default();
    for item in &cap.items {
        super::render::line(lines, cap, item, &shared, &mut repeats);
        ids.push(item.id);
    }
}

fn deliver(log: &DecisionLog, sinks: &mut [Placed], lines: &[u8], ids: &[DecisionId]) {
    let now = Instant::now();
    let n = ids.len() as u64;
    let mut reached_one = false;
    for s in sinks.iter_mut() {
        reached_one |= s.write(lines, ids, now);
    }
    if reached_one {
        log.metrics.decision_log_written(n);
    } else {
        log.metrics.decision_log_dropped(n, true);
    }
    publish(log, sinks);
}

fn publish(log: &DecisionLog, sinks: &[Placed]) {
    let statuses: Vec<SinkStatus> = sinks.iter().map(|s| s.status.clone()).collect();
    log.metrics
        .decision_log_sinks(statuses.iter().filter(|s| s.up).count(), statuses.len());
    if let Ok(mut g) = log.sinks.lock() {
        *g = statuses;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_rests_to_keep_its_share() {
        let ms = Duration::from_millis;
        assert_eq!(rest(ms(10), 0.25), ms(30));
        assert_eq!(rest(ms(10), 0.5), ms(10));
        assert_eq!(rest(ms(10), 1.0), Duration::ZERO);
        assert_eq!(rest(ms(100), 0.1), ms(100), "never more than 100 ms");
    }
}
