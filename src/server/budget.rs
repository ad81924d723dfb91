//! The bytes of requests buffered across every connection, bounded: a
//! frame's buffer grows only as its bytes arrive, and only while the whole
//! daemon's buffers stay within `max_buffered_bytes` and the peer's uid
//! holds at most a quarter of them (one peer cannot starve the others'
//! large requests). A connection that would go over is closed, so
//! unfinished frames from many peers cannot pin more than the budget. The
//! first `FREE` bytes of each buffer are not counted (connections are
//! bounded, so they are too): a small request is always served, whatever
//! others hold.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes of each buffer the budget does not count.
const FREE: usize = 4096;

/// The daemon-wide budget.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    max: usize,
    /// Bytes held per uid.
    by_uid: Mutex<HashMap<u32, usize>>,
}

impl Budget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            max,
            by_uid: Mutex::new(HashMap::new()),
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn uids(&self) -> std::sync::MutexGuard<'_, HashMap<u32, usize>> {
        self.by_uid.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, uid: u32, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        let mut by_uid = self.uids();
        let mine = by_uid.get(&uid).copied().unwrap_or(0);
        if mine.saturating_add(n) > self.max / 4 {
            return false;
        }
        let ok = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.max)
            })
            .is_ok();
        if ok {
            by_uid.insert(uid, mine.saturating_add(n));
        }
        ok
    }

    /// Counts bytes already allocated (a reallocation that rounded up).
    fn force(&self, uid: u32, n: usize) {
        self.used.fetch_add(n, Ordering::AcqRel);
        let mut by_uid = self.uids();
        let m = by_uid.entry(uid).or_insert(0);
        *m = m.saturating_add(n);
    }

    fn give(&self, uid: u32, n: usize) {
        if n == 0 {
            return;
        }
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
        let mut by_uid = self.uids();
        if let Some(m) = by_uid.get_mut(&uid) {
            *m = m.saturating_sub(n);
            if *m == 0 {
                by_uid.remove(&uid);
            }
        }
    }
}

/// One connection's request buffer, counted against the budget.
#[derive(Debug)]
pub struct Held {
    /// The bytes.
    pub buf: Vec<u8>,
    /// What the budget has counted for `buf` (its capacity past `FREE`
    /// when last synced).
    counted: usize,
    budget: Arc<Budget>,
    /// The peer's uid, whose share it counts against.
    uid: u32,
}

/// The budget is spent: the connection is to be closed.
#[derive(Debug, Clone, Copy)]
pub struct OverBudget;

impl Held {
    /// An empty buffer of a connection from `uid`.
    pub fn new(budget: Arc<Budget>, uid: u32) -> Self {
        Self {
            buf: Vec::new(),
            counted: 0,
            budget,
            uid,
        }
    }

    /// Makes room for `more` bytes past the current length, within the budget.
    pub fn reserve(&mut self, more: usize) -> Result<(), OverBudget> {
        if self.buf.capacity() - self.buf.len() >= more {
            return Ok(());
        }
        let want = self.buf.len().saturating_add(more);
        // Grow by doubling, but never past what is wanted plus half.
        let target = want
            .max(self.buf.capacity().saturating_mul(2))
            .min(want + want / 2);
        let extra = target.saturating_sub(FREE).saturating_sub(self.counted);
        if !self.budget.take(self.uid, extra) {
            return Err(OverBudget);
        }
        self.buf.reserve_exact(target - self.buf.len());
        self.counted += extra;
        self.sync();
        Ok(())
    }

    /// Brings the count in line with the buffer's capacity (after it was
    /// released or grown elsewhere).
    pub fn sync(&mut self) {
        let cap = self.buf.capacity().saturating_sub(FREE);
        if cap > self.counted {
            self.budget.force(self.uid, cap - self.counted);
        } else {
            self.budget.give(self.uid, self.counted - cap);
        }
        self.counted = cap;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.give(self.uid, self.counted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_grow_within_the_budget_and_the_uids_share_and_give_it_back() {
        let b = Budget::new(4000);
        let mut one = Held::new(b.clone(), 1);
        one.reserve(FREE + 600).unwrap();
        assert!(b.used() >= 600 && b.used() <= 1000);
        let mut two = Held::new(b.clone(), 1);
        assert!(two.reserve(FREE + 600).is_err(), "over the uid's quarter");
        let mut other = Held::new(b.clone(), 2);
        other.reserve(FREE + 600).unwrap();
        drop(other);
        two.reserve(FREE).unwrap();
        assert!(b.used() <= 1000, "a small buffer is not counted");
        two.buf = Vec::new();
        two.sync();
        one.buf = Vec::new();
        one.sync();
        assert_eq!(b.used(), 0);
        two.reserve(FREE + 600).unwrap();
        drop(two);
        drop(one);
        assert_eq!(b.used(), 0);
        assert!(b.uids().is_empty());
    }
}
