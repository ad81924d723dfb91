//! The bytes of requests buffered across every connection, bounded: a
//! frame's buffer grows only as its bytes arrive, and only while the whole
//! daemon's buffers stay within `max_buffered_bytes`. A connection that
//! would go over is closed, so unfinished frames from many peers cannot
//! pin more than the budget. The first `FREE` bytes of each buffer are not
//! counted (connections are bounded, so they are too): a small request is
//! always served, whatever others hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes of each buffer the budget does not count.
const FREE: usize = 4096;

/// The daemon-wide budget.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            max,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.max)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

/// One connection's request buffer, counted against the budget.
#[derive(Debug)]
pub struct Held {
    /// The bytes.
    pub buf: Vec<u8>,
    /// What the budget has counted for `buf` (its capacity when last synced).
    counted: usize,
    budget: Arc<Budget>,
}

/// The budget is spent: the connection is to be closed.
#[derive(Debug, Clone, Copy)]
pub struct OverBudget;

impl Held {
    /// An empty buffer.
    pub fn new(budget: Arc<Budget>) -> Self {
        Self {
            buf: Vec::new(),
            counted: 0,
            budget,
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
        if !self.budget.take(extra) {
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
            // Growth the budget did not see (a reallocation rounding up):
            // counted, even past the budget, since it is already there.
            self.budget
                .used
                .fetch_add(cap - self.counted, Ordering::AcqRel);
        } else {
            self.budget.give(self.counted - cap);
        }
        self.counted = cap;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.give(self.counted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_grow_within_the_budget_and_give_it_back() {
        let b = Budget::new(1000);
        let mut one = Held::new(b.clone());
        one.reserve(FREE + 600).unwrap();
        assert!(b.used() >= 600);
        let mut two = Held::new(b.clone());
        assert!(two.reserve(FREE + 600).is_err(), "over the budget");
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
    }
}
