//! Throttling of failed authentications and refused admin requests: token
//! buckets per subject (what the attacker controls: a local peer's uid, or
//! the client address a trusted gateway such as camd-api passes) and per
//! claimed SecretId. Each failure takes a token from both; an empty bucket
//! refuses further attempts until it refills, and says when that is. A
//! SecretId's bucket only refuses the subjects that failed against it, so
//! nobody's failures slow another client's correct key. Refused admin
//! requests empty a bucket of their own, after which the subject's admin
//! requests are throttled and counted into the next audited entry.

use crate::config::ThrottleConfig;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Most buckets of each kind kept; beyond it, full buckets are forgotten.
const MAX_BUCKETS: usize = 10_000;
/// Most subjects remembered as failing against one SecretId.
const MAX_UIDS_PER_ID: usize = 32;

/// Who a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A local peer, by its uid.
    Uid(u32),
    /// A remote client, by the address a trusted gateway passed.
    Remote(IpAddr),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Uid(u) => write!(f, "peer uid {u}"),
            Subject::Remote(a) => write!(f, "client {a}"),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// For SecretId buckets: the subjects that failed against it.
    uids: Vec<Subject>,
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

    /// Whole seconds until the next token (at least 1).
    fn retry_after(&self, cfg: &ThrottleConfig) -> u64 {
        if cfg.refill_per_sec <= 0.0 {
            return u64::MAX;
        }
        let secs = ((1.0 - self.tokens).max(0.0) / cfg.refill_per_sec).ceil();
        if secs.is_finite() && secs >= 1.0 {
            secs.min(86_400.0) as u64
        } else {
            1
        }
    }

    /// Whether a refusal is audited now: `Some(n)` at most once a second,
    /// with the `n` refusals not audited since the last one.
    fn due(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_audit
            .is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1);
        if due {
            self.last_audit = Some(now);
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            None
        }
    }
}

#[derive(Debug, Default)]
struct Buckets {
    by_uid: HashMap<Subject, Bucket>,
    by_id: HashMap<String, Bucket>,
    /// Refused admin requests, per subject.
    refused: HashMap<Subject, Bucket>,
}

/// What the throttle says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead and verify the key.
    Open,
    /// Refused without checking the key. `audit` is `Some(n)` at most once a
    /// second per subject: audit this refusal, and `n` more since the last one.
    Throttled {
        /// Whether to audit this one, with the count of unaudited ones.
        audit: Option<u64>,
        /// Seconds until an attempt may be made again.
        retry_after: u64,
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

    /// Whether `who` may try key `secret_id` now.
    pub fn check(&self, who: Subject, secret_id: &str) -> Gate {
        self.check_at(who, secret_id, Instant::now())
    }

    fn check_at(&self, who: Subject, secret_id: &str, now: Instant) -> Gate {
        let cfg = self.cfg;
        let mut b = self.lock();
        let Buckets { by_uid, by_id, .. } = &mut *b;
        let mut wait = 0;
        if let Some(u) = by_uid.get_mut(&who) {
            u.refill(&cfg, now);
            if u.tokens < 1.0 {
                wait = u.retry_after(&cfg);
            }
        }
        if let Some(k) = by_id.get_mut(secret_id) {
            k.refill(&cfg, now);
            if k.tokens < 1.0 && k.uids.contains(&who) {
                wait = wait.max(k.retry_after(&cfg));
            }
        }
        if wait == 0 {
            return Gate::Open;
        }
        let bucket = by_uid.entry(who).or_insert_with(|| Bucket::new(&cfg, now));
        Gate::Throttled {
            audit: bucket.due(now),
            retry_after: wait,
        }
    }

    /// Whether `who` may make an admin request now, after its earlier
    /// refusals: `Err(seconds)` to wait when its refusals emptied its bucket.
    pub fn admit(&self, who: Subject) -> Result<(), u64> {
        let cfg = self.cfg;
        let now = Instant::now();
        let mut b = self.lock();
        match b.refused.get_mut(&who) {
            Some(r) => {
                r.refill(&cfg, now);
                if r.tokens < 1.0 {
                    // Counted into the next audited refusal.
                    r.suppressed = r.suppressed.saturating_add(1);
                    Err(r.retry_after(&cfg))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    /// Records a refused admin request by `who` (one it admitted): `Some(n)`
    /// to audit it, with the `n` requests throttled since the last entry
    /// folded into it. Once refusals empty its bucket, `admit` refuses it
    /// until the bucket refills, so at most a burst and then one entry per
    /// refill reach the trail, whatever the flood.
    pub fn refused(&self, who: Subject) -> Option<u64> {
        let cfg = self.cfg;
        let now = Instant::now();
        let mut b = self.lock();
        if b.refused.len() >= MAX_BUCKETS {
            b.refused.retain(|_, x| {
                x.refill(&cfg, now);
                !x.full(&cfg)
            });
        }
        if b.refused.len() >= MAX_BUCKETS && !b.refused.contains_key(&who) {
            return None;
        }
        let r = b
            .refused
            .entry(who)
            .or_insert_with(|| Bucket::new(&cfg, now));
        r.refill(&cfg, now);
        r.tokens = (r.tokens - 1.0).max(0.0);
        Some(std::mem::take(&mut r.suppressed))
    }

    /// Records a failed authentication by `who` with `secret_id`.
    pub fn failed(&self, who: Subject, secret_id: &str) {
        self.failed_at(who, secret_id, Instant::now());
    }

    fn failed_at(&self, uid: Subject, secret_id: &str, now: Instant) {
        let cfg = self.cfg;
        let mut b = self.lock();
        let Buckets { by_uid, by_id, .. } = &mut *b;
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
        // Past the cap (an unbounded set of addresses), new subjects share
        // no bucket of their own: their failures still count per SecretId.
        if by_uid.len() < MAX_BUCKETS || by_uid.contains_key(&uid) {
            let u = by_uid.entry(uid).or_insert_with(|| Bucket::new(&cfg, now));
            u.refill(&cfg, now);
            u.tokens = (u.tokens - 1.0).max(0.0);
        }
        // Unbounded numbers of made-up SecretIds share one bucket per uid
        // once the table is full, so memory stays bounded.
        let key = if by_id.len() < MAX_BUCKETS || by_id.contains_key(secret_id) {
            secret_id.to_string()
        } else {
            format!("<overflow {uid}>")
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

    const U7: Subject = Subject::Uid(7);
    const U8: Subject = Subject::Uid(8);
    const U9: Subject = Subject::Uid(9);

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
            assert_eq!(t.check_at(U7, "AKIDa", now), Gate::Open);
            t.failed_at(U7, "AKIDa", now);
        }
        assert_eq!(
            t.check_at(U7, "AKIDb", now),
            Gate::Throttled {
                audit: Some(0),
                retry_after: 1
            }
        );
        assert_eq!(
            t.check_at(U7, "AKIDb", now),
            Gate::Throttled {
                audit: None,
                retry_after: 1
            }
        );
        let later = now + Duration::from_millis(1100);
        // One token back, and the refusal count is reported with the next audit.
        assert_eq!(t.check_at(U7, "AKIDb", later), Gate::Open);
    }

    #[test]
    fn others_failures_never_throttle_a_different_uid() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..10 {
            t.failed_at(U7, "AKIDvictim", now);
        }
        assert!(matches!(
            t.check_at(U7, "AKIDvictim", now),
            Gate::Throttled { .. }
        ));
        assert_eq!(t.check_at(U8, "AKIDvictim", now), Gate::Open);
    }

    #[test]
    fn a_secret_id_bucket_throttles_its_failing_uids_across_ids() {
        let t = Throttle::new(ThrottleConfig {
            burst: 3,
            refill_per_sec: 0.0,
        });
        let now = Instant::now();
        // uid 7 spreads failures; uid 9 fails once on the same id.
        t.failed_at(U9, "AKIDx", now);
        t.failed_at(U7, "AKIDx", now);
        t.failed_at(U7, "AKIDx", now);
        assert!(matches!(
            t.check_at(U9, "AKIDx", now),
            Gate::Throttled { .. }
        ));
        assert_eq!(t.check_at(U9, "AKIDy", now), Gate::Open);
    }

    #[test]
    fn clients_behind_one_gateway_are_throttled_by_address() {
        let t = throttle();
        let now = Instant::now();
        let a = Subject::Remote(IpAddr::from([127, 0, 0, 2]));
        let b = Subject::Remote(IpAddr::from([127, 0, 0, 1]));
        for i in 0..20 {
            t.failed_at(a, &format!("AKIDmadeup{i}"), now);
        }
        assert!(matches!(
            t.check_at(a, "AKIDgood", now),
            Gate::Throttled { .. }
        ));
        assert_eq!(t.check_at(b, "AKIDgood", now), Gate::Open);
        assert_eq!(t.check_at(U7, "AKIDgood", now), Gate::Open);
    }

    #[test]
    fn refusals_are_folded_and_throttle_their_subject() {
        let t = throttle();
        assert_eq!(t.refused(U7), Some(0));
        assert_eq!(t.refused(U7), Some(0));
        assert_eq!(t.refused(U7), Some(0));
        assert_eq!(t.admit(U7), Err(1), "three refusals empty a burst of 3");
        assert!(t.admit(U7).is_err());
        assert_eq!(t.admit(U8), Ok(()));
        // The throttled ones are folded into the next entry.
        assert_eq!(t.refused(U7), Some(2));
    }

    #[test]
    fn memory_stays_bounded_under_made_up_ids() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..(MAX_BUCKETS + 500) {
            t.failed_at(U7, &format!("AKID{i}"), now);
        }
        assert!(t.lock().by_id.len() <= MAX_BUCKETS + 1);
    }
}
