//! Decision logs: every decision (or those the rules keep) recorded with
//! its reason and the state it was made at, through a bounded lock-free
//! queue to a writer thread, so deciding never waits for a sink.
//!
//! The decision path pays one relaxed load when the log is off; when it is
//! on, an id per decision, one capture per request (its strings copied into
//! one buffer) and one queue push. A full queue drops the capture and counts it.

mod ids;
mod record;
mod render;
mod rules;
mod settings;
mod sink;
mod writer;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use crossbeam_queue::ArrayQueue;

use crate::metrics::Metrics;
use crate::protocol::DecisionId;

pub use record::{Answer, Asked, Capture, Outcome, Path};
pub use render::{MASKED, trace_ids};
pub use rules::{Glob, Principal, Rules};
pub use settings::{DecisionLogConfig, RuleConfig, SocketType};

/// The rules and sinks in force.
#[derive(Debug)]
pub struct Active {
    /// As configured.
    pub settings: DecisionLogConfig,
    /// Compiled.
    pub rules: Rules,
    /// The file's group.
    pub gid: Option<u32>,
    /// Changes when the configuration does (the writer reopens its sinks).
    pub generation: u64,
}

impl Active {
    fn new(settings: DecisionLogConfig, generation: u64) -> Result<Self, String> {
        let rules = Rules::compile(&settings)?;
        let gid = match &settings.group {
            None => None,
            Some(g) => Some(crate::process::gid_of(g).ok_or_else(|| {
                format!("`decision_log.group`: group `{g}` does not exist in /etc/group")
            })?),
        };
        Ok(Self {
            settings,
            rules,
            gid,
            generation,
        })
    }
}

/// A sink's health, as `camctl decisions status` shows it.
pub type SinkStatus = crate::protocol::SinkInfo;

/// The decision log of one daemon.
#[derive(Debug)]
pub struct DecisionLog {
    on: AtomicBool,
    active: ArcSwap<Active>,
    queue: ArrayQueue<Capture>,
    /// Captures the writer is done with, buffers kept, for the next requests.
    pool: ArrayQueue<Capture>,
    queued_bytes: AtomicUsize,
    ids: ids::Ids,
    metrics: Arc<Metrics>,
    sinks: Mutex<Vec<SinkStatus>>,
    rejected: Mutex<Option<String>>,
    stopping: AtomicBool,
    generation: AtomicU64,
    host: String,
}

/// Captures kept for reuse, at most, each of at most `POOLED_BYTES`.
const POOL: usize = 16;
const POOLED_BYTES: usize = 512 << 10;

thread_local! {
    /// Decisions this thread has seen, for sampling.
    static SEEN: Cell<u64> = const { Cell::new(0) };
}

impl DecisionLog {
    /// The log as configured (off when no sink is named) and its writer thread.
    pub fn start(
        settings: &DecisionLogConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(Arc<Self>, std::thread::JoinHandle<()>), String> {
        let active = Active::new(settings.clone(), 0)?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let log = Arc::new(Self {
            on: AtomicBool::new(settings.enabled()),
            queue: ArrayQueue::new(settings.queue_len.max(1)),
            pool: ArrayQueue::new(POOL),
            active: ArcSwap::from_pointee(active),
            queued_bytes: AtomicUsize::new(0),
            ids: ids::Ids::default(),
            metrics,
            sinks: Mutex::new(Vec::new()),
            rejected: Mutex::new(None),
            stopping: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            host,
        });
        let for_thread = log.clone();
        let thread = std::thread::Builder::new()
            .name("camd-decisions".into())
            .spawn(move || writer::run(for_thread))
            .map_err(|e| format!("cannot start the decision log's writer: {e}"))?;
        Ok((log, thread))
    }

    /// True when decisions are being recorded.
    #[inline]
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// A recorder for a request of `n` decisions, when the log is on.
    #[inline]
    pub fn begin(
        &self,
        path: Path,
        n: usize,
        caller: (u32, u32),
        revision: i64,
        now_ms: i64,
    ) -> Option<Recorder> {
        if !self.is_on() {
            return None;
        }
        let active = self.active.load_full();
        // A full queue would drop the records: count them instead of
        // copying them first (the reply still carries its ids).
        let full = self.queue.is_full()
            || self.queued_bytes.load(Ordering::Relaxed) >= active.settings.queue_bytes;
        let cap = match self.pool.pop() {
            Some(c) => c.reuse(path, now_ms, caller, revision),
            None => Capture::new(path, now_ms, caller, revision),
        };
        Some(Recorder {
            first: self.ids.take(n, now_ms),
            cap,
            active,
            dropped: full.then_some(0),
            considered: 0,
        })
    }

    /// Queues a request's records; a full queue drops them (counted).
    pub fn offer(&self, cap: Capture) {
        let n = cap.items.len() as u64;
        if n == 0 {
            self.recycle(cap);
            return;
        }
        let bytes = cap.bytes();
        let max = self.active.load().settings.queue_bytes;
        if self.queued_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes > max {
            self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.metrics.decision_log_dropped(n, false);
            return;
        }
        if let Err(back) = self.queue.push(cap) {
            self.queued_bytes.fetch_sub(back.bytes(), Ordering::Relaxed);
            self.metrics.decision_log_dropped(n, false);
            self.recycle(back);
            return;
        }
        self.metrics.decision_log_queued(n);
    }

    /// Puts a new `[decision_log]` in force (the writer reopens its
    /// sinks); a bad one changes nothing and the error says why. Returns
    /// whether anything changed.
    pub fn reconfigure(&self, settings: &DecisionLogConfig) -> Result<bool, String> {
        if self.active.load().settings == *settings {
            self.set_rejected(None);
            return Ok(false);
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        match Active::new(settings.clone(), generation) {
            Ok(a) => {
                self.active.store(Arc::new(a));
                self.on.store(settings.enabled(), Ordering::Relaxed);
                self.set_rejected(None);
                Ok(true)
            }
            Err(e) => {
                self.set_rejected(Some(e.clone()));
                Err(e)
            }
        }
    }

    /// Notes that a new configuration was refused, and why.
    pub fn rejected(&self, why: String) {
        self.set_rejected(Some(why));
    }

    fn set_rejected(&self, e: Option<String>) {
        if let Ok(mut g) = self.rejected.lock() {
            *g = e;
        }
    }

    /// What `camctl status` and `camctl decisions` show.
    pub fn status(&self) -> LogStatus {
        let a = self.active.load();
        LogStatus {
            on: self.is_on(),
            file: a.settings.file.as_ref().map(|p| {
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            }),
            sample: a.rules.sample(),
            sinks: self.sinks.lock().map(|g| g.clone()).unwrap_or_default(),
            rejected: self.rejected.lock().ok().and_then(|g| g.clone()),
            queued: self.queue.len() as u64,
        }
    }

    /// Keeps a rendered capture's buffers for a next request (unless the
    /// pool is full or they are larger than a pool keeps).
    fn recycle(&self, cap: Capture) {
        if cap.capacity() <= POOLED_BYTES {
            let _ = self.pool.push(cap);
        }
    }

    /// Stops taking records; the writer drains the queue and ends.
    pub fn stop(&self) {
        self.on.store(false, Ordering::Relaxed);
        self.stopping.store(true, Ordering::Release);
    }
}

/// The decision log's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStatus {
    /// Recording.
    pub on: bool,
    /// The file sink's absolute path.
    pub file: Option<String>,
    /// One in this many kept.
    pub sample: u32,
    /// Each sink's health.
    pub sinks: Vec<SinkStatus>,
    /// Why the last configuration was refused, if it was.
    pub rejected: Option<String>,
    /// Requests waiting for the writer.
    pub queued: u64,
}

/// The decisions of one request being recorded.
#[derive(Debug)]
pub struct Recorder {
    first: DecisionId,
    cap: Capture,
    active: Arc<Active>,
    /// The queue was full when the request began: the records the rules
    /// keep are counted as dropped, not copied.
    dropped: Option<u64>,
    /// Decisions offered to `record` (kept or not).
    considered: usize,
}

impl Recorder {
    /// The id of the request's first decision (the reply carries it).
    pub fn id(&self) -> DecisionId {
        self.first
    }

    /// The state's revision the decisions are made at.
    pub fn revision(&self) -> i64 {
        self.cap.revision
    }

    /// Notes the state's revision the decisions are made at.
    pub fn at_revision(&mut self, revision: i64) {
        self.cap.revision = revision;
    }

    /// The request's trace context (at most 256 bytes are kept).
    pub fn trace(&mut self, traceparent: Option<&str>) {
        if let Some(t) = traceparent.filter(|t| t.len() <= 256) {
            self.cap.traceparent = Some(self.cap.put(t));
        }
    }

    /// Records the request's `i`-th decision, when the rules and the
    /// sampling keep it.
    pub fn record(&mut self, i: usize, asked: &Asked<'_>, answer: &Answer<'_, '_>) {
        self.considered += 1;
        let uin = match answer {
            Answer::Decided(uin, _) => *uin,
            Answer::Failed(..) => asked.uin,
        };
        let who = Principal {
            uin,
            name: asked.name,
            secret_id: asked.secret_id,
        };
        let rules = &self.active.rules;
        if !rules.keeps(self.cap.uid, answer.outcome(), asked.action, who) {
            return;
        }
        let sample = u64::from(rules.sample());
        if sample > 1 {
            let seen = SEEN.with(|s| {
                let n = s.get();
                s.set(n.wrapping_add(1));
                n
            });
            if seen % sample != 0 {
                return;
            }
        }
        match &mut self.dropped {
            Some(n) => *n += 1,
            None => self.cap.push(self.first.nth(i), asked, answer),
        }
    }

    /// True when no decision was offered to `record` yet (kept or not).
    pub fn is_empty(&self) -> bool {
        self.considered == 0
    }

    /// Hands the records to the log.
    pub fn finish(self, log: &DecisionLog) {
        match self.dropped {
            Some(n) => {
                if n > 0 {
                    log.metrics.decision_log_dropped(n, false);
                }
                log.recycle(self.cap);
            }
            None => log.offer(self.cap),
        }
    }
}
