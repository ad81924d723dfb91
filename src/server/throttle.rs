//! Throttling of failed authentications: a token bucket per peer uid and per
//! SecretId. Each failure takes a token from both; an empty bucket refuses
//! further attempts until it refills. A SecretId's bucket only refuses the
//! uids that failed against it, so nobody's failures slow another peer's
//! correct key.

use crate::config::ThrottleConfig;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Most buckets of each kind kept; beyond it, full buckets are forgotten.
const MAX_BUCKETS: usize = 10_000;
/// Most uids remembered as failing against one SecretId.
const MAX_UIDS_PER_ID: usize = 32;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// For SecretId buckets: the uids that failed against it.
    uids: Vec<u32>,
    /// Refusals since the last one audited.
    suppressed: u64,
    last_audit: Option<Instant>,
}

impl Bucket {
    fn new(cfg: &ThrottleConfig, now: Instant) -> Self {
        Self {
            tokens: f64::from(cfg.burst),
            at: now,
            uids: Vec::new(),
            suppressed: 0,
            last_audit: None,
        }
    }

    fn refill(&mut self, cfg: &ThrottleConfig, now: Instant) {
        let secs = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + secs * cfg.refill_per_sec).min(f64::from(cfg.burst));
        self.at = now;
    }

    fn full(&self, cfg: &ThrottleConfig) -> bool {
        self.tokens >= f64::from(cfg.burst)
    }
}

#[derive(Debug, Default)]
struct Buckets {
    by_uid: HashMap<u32, Bucket>,
    by_id: HashMap<String, Bucket>,
}

/// What the throttle says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead and verify the key.
    Open,
    /// Refused without checking the key. `audit` is `Some(n)` at most once a
    /// second per uid: audit this refusal, and `n` more since the last one.
    Throttled {
        /// Whether to audit this one, with the count of unaudited ones.
        audit: Option<u64>,
    },
}

/// The throttle, shared by all connections.
#[derive(Debug)]
pub struct Throttle {
    cfg: ThrottleConfig,
    buckets: Mutex<Buckets>,
}

impl Throttle {
    /// An empty throttle.
    pub fn new(cfg: ThrottleConfig) -> Self {
        Self {
            cfg,
            buckets: Mutex::new(Buckets::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether peer `uid` may try key `secret_id` now.
    pub fn check(&self, uid: u32, secret_id: &str) -> Gate {
        self.check_at(uid, secret_id, Instant::now())
    }

    fn check_at(&self, uid: u32, secret_id: &str, now: Instant) -> Gate {
        let cfg = self.cfg;
        let mut b = self.lock();
        let Buckets { by_uid, by_id } = &mut *b;
        let uid_empty = by_uid.get_mut(&uid).is_some_and(|u| {
            u.refill(&cfg, now);
            u.tokens < 1.0
        });
        let id_empty = by_id.get_mut(secret_id).is_some_and(|k| {
            k.refill(&cfg, now);
            k.tokens < 1.0 && k.uids.contains(&uid)
        });
        if !uid_empty && !id_empty {
            return Gate::Open;
        }
        let bucket = by_uid.entry(uid).or_insert_with(|| Bucket::new(&cfg, now));
        let due = bucket
            .last_audit
            .is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1);
        if due {
            bucket.last_audit = Some(now);
            let n = std::mem::take(&mut bucket.suppressed);
            Gate::Throttled { audit: Some(n) }
        } else {
            bucket.suppressed = bucket.suppressed.saturating_add(1);
            Gate::Throttled { audit: None }
        }
    }

    /// Records a failed authentication by `uid` with `secret_id`.
    pub fn failed(&self, uid: u32, secret_id: &str) {
        self.failed_at(uid, secret_id, Instant::now());
    }

    fn failed_at(&self, uid: u32, secret_id: &str, now: Instant) {
        let cfg = self.cfg;
        let mut b = self.lock();
        let Buckets { by_uid, by_id } = &mut *b;
        if by_uid.len() >= MAX_BUCKETS {
            by_uid.retain(|_, x| {
                x.refill(&cfg, now);
                !x.full(&cfg)
            });
        }
        if by_id.len() >= MAX_BUCKETS {
            by_id.retain(|_, x| {
                x.refill(&cfg, now);
                !x.full(&cfg)
            });
        }
        let u = by_uid.entry(uid).or_insert_with(|| Bucket::new(&cfg, now));
        u.refill(&cfg, now);
        u.tokens = (u.tokens - 1.0).max(0.0);
        // Unbounded numbers of made-up SecretIds share one bucket per uid
        // once the table is full, so memory stays bounded.
        let key = if by_id.len() < MAX_BUCKETS || by_id.contains_key(secret_id) {
            secret_id.to_string()
        } else {
            format!("<overflow uid {uid}>")
        };
        let k = by_id.entry(key).or_insert_with(|| Bucket::new(&cfg, now));
        k.refill(&cfg, now);
        k.tokens = (k.tokens - 1.0).max(0.0);
        if !k.uids.contains(&uid) && k.uids.len() < MAX_UIDS_PER_ID {
            k.uids.push(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn throttle() -> Throttle {
        Throttle::new(ThrottleConfig {
            burst: 3,
            refill_per_sec: 1.0,
        })
    }

    #[test]
    fn a_uid_is_throttled_after_its_burst_and_refills() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.check_at(7, "AKIDa", now), Gate::Open);
            t.failed_at(7, "AKIDa", now);
        }
        assert_eq!(
            t.check_at(7, "AKIDb", now),
            Gate::Throttled { audit: Some(0) }
        );
        assert_eq!(t.check_at(7, "AKIDb", now), Gate::Throttled { audit: None });
        let later = now + Duration::from_millis(1100);
        // One token back, and the refusal count is reported with the next audit.
        assert_eq!(t.check_at(7, "AKIDb", later), Gate::Open);
    }

    #[test]
    fn others_failures_never_throttle_a_different_uid() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..10 {
            t.failed_at(7, "AKIDvictim", now);
        }
        assert!(matches!(
            t.check_at(7, "AKIDvictim", now),
            Gate::Throttled { .. }
        ));
        assert_eq!(t.check_at(8, "AKIDvictim", now), Gate::Open);
    }

    #[test]
    fn a_secret_id_bucket_throttles_its_failing_uids_across_ids() {
        let t = Throttle::new(ThrottleConfig {
            burst: 3,
            refill_per_sec: 0.0,
        });
        let now = Instant::now();
        // uid 7 spreads failures; uid 9 fails once on the same id.
        t.failed_at(9, "AKIDx", now);
        t.failed_at(7, "AKIDx", now);
        t.failed_at(7, "AKIDx", now);
        assert!(matches!(
            t.check_at(9, "AKIDx", now),
            Gate::Throttled { .. }
        ));
        assert_eq!(t.check_at(9, "AKIDy", now), Gate::Open);
    }

    #[test]
    fn memory_stays_bounded_under_made_up_ids() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..(MAX_BUCKETS + 500) {
            t.failed_at(7, &format!("AKID{i}"), now);
        }
        assert!(t.lock().by_id.len() <= MAX_BUCKETS + 1);
    }
}
