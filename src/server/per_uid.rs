//! Each peer uid's share of connections: at most `max` open at once, and new
//! ones at most `per_sec` a second (a token bucket as deep as one second's
//! worth), so one uid can neither hold every connection nor keep camd busy
//! setting up connections it hangs up at once. Refused connections are
//! closed by the accepting thread before tokio ever sees them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Beyond this many remembered uids, those with nothing open and a full
/// bucket are forgotten.
const MAX_REMEMBERED: usize = 10_000;

/// One uid's connections and its bucket of new ones.
#[derive(Debug)]
struct Share {
    open: usize,
    tokens: f64,
    at: Instant,
}

/// The shares of every peer uid.
#[derive(Debug)]
pub struct PerUid {
    max: usize,
    per_sec: f64,
    shares: Mutex<HashMap<u32, Share>>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The uid holds its most connections already.
    Cap,
    /// The uid opened too many connections too fast.
    Rate,
}

/// One connection's place in [`PerUid`]; gives it back when dropped.
#[derive(Debug)]
pub struct Slot(Arc<PerUid>, u32);

impl PerUid {
    /// At most `max` connections per uid, and `per_sec` new ones a second.
    pub fn new(max: usize, per_sec: u32) -> Arc<Self> {
        Arc::new(Self {
            max,
            per_sec: f64::from(per_sec),
            shares: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u32, Share>> {
        self.shares.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for a new connection from `uid`, or why not: it holds its
    /// most connections already, or has opened too many too fast.
    pub fn enter(self: &Arc<Self>, uid: u32) -> Result<Slot, Refused> {
        self.enter_at(uid, Instant::now())
    }

    fn enter_at(self: &Arc<Self>, uid: u32, now: Instant) -> Result<Slot, Refused> {
        let mut shares = self.lock();
        if shares.len() >= MAX_REMEMBERED && !shares.contains_key(&uid) {
            let per_sec = self.per_sec;
            shares.retain(|_, s| s.open > 0 || s.tokens + elapsed(s.at, now) * per_sec < per_sec);
        }
        let share = shares.entry(uid).or_insert(Share {
            open: 0,
            tokens: self.per_sec,
            at: now,
        });
        share.tokens = (share.tokens + elapsed(share.at, now) * self.per_sec).min(self.per_sec);
        share.at = now;
        if share.open >= self.max {
            return Err(Refused::Cap);
        }
        if share.tokens < 1.0 {
            return Err(Refused::Rate);
        }
        share.open += 1;
        share.tokens -= 1.0;
        Ok(Slot(self.clone(), uid))
    }
}

fn elapsed(since: Instant, now: Instant) -> f64 {
    now.saturating_duration_since(since).as_secs_f64()
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(s) = self.0.lock().get_mut(&self.1) {
            s.open = s.open.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn caps_open_connections_per_uid() {
        let p = PerUid::new(2, 1000);
        let now = Instant::now();
        let a = p.enter_at(7, now).unwrap();
        let _b = p.enter_at(7, now).unwrap();
        assert_eq!(
            p.enter_at(7, now).err(),
            Some(Refused::Cap),
            "a third from uid 7"
        );
        assert!(p.enter_at(8, now).is_ok(), "another uid is not affected");
        drop(a);
        assert!(p.enter_at(7, now).is_ok(), "a closed one frees its place");
    }

    #[test]
    fn limits_new_connections_per_second_per_uid() {
        let p = PerUid::new(usize::MAX, 10);
        let now = Instant::now();
        for i in 0..10 {
            assert!(p.enter_at(7, now).is_ok(), "connection {i} of the burst");
        }
        assert_eq!(
            p.enter_at(7, now).err(),
            Some(Refused::Rate),
            "the 11th in the same instant"
        );
        assert!(p.enter_at(8, now).is_ok(), "another uid is not affected");
        let later = now + Duration::from_millis(300);
        let let_in = (0..10).filter(|_| p.enter_at(7, later).is_ok()).count();
        assert_eq!(let_in, 3, "0.3 s refills 3");
        let much_later = now + Duration::from_secs(60);
        let let_in = (0..20)
            .filter(|_| p.enter_at(7, much_later).is_ok())
            .count();
        assert_eq!(let_in, 10, "the bucket holds one second's worth");
    }

    #[test]
    fn forgets_idle_uids_beyond_its_bound() {
        let p = PerUid::new(4, 100);
        let now = Instant::now();
        let held = p.enter_at(1, now).unwrap();
        for uid in 2..=(MAX_REMEMBERED as u32) {
            drop(p.enter_at(uid, now));
        }
        assert_eq!(p.lock().len(), MAX_REMEMBERED);
        // A second later every idle bucket is full again: a new uid makes
        // room by forgetting them, not the uid with a connection open.
        drop(p.enter_at(u32::MAX, now + Duration::from_secs(1)));
        let shares = p.lock();
        assert_eq!(shares.len(), 2);
        assert!(shares.contains_key(&1) && shares.contains_key(&u32::MAX));
        drop(shares);
        drop(held);
    }
}
