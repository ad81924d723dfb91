//! Handing out decision ids: strictly increasing in this process, the
//! time in their high bits, so ids sort as decisions were made.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::protocol::{DecisionId, SEQ_BITS};

/// The last id handed out.
#[derive(Debug, Default)]
pub struct Ids {
    last: AtomicU64,
}

impl Ids {
    /// `n` (at least 1) consecutive ids made at `now_ms`; the first is returned.
    pub fn take(&self, n: usize, now_ms: i64) -> DecisionId {
        let floor = u64::try_from(now_ms.max(0)).unwrap_or(0) << SEQ_BITS;
        let more = (n.max(1) - 1) as u64;
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let first = floor.max(prev.saturating_add(1));
            match self.last.compare_exchange_weak(
                prev,
                first.saturating_add(more),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return DecisionId(first),
                Err(p) => prev = p,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_the_time() {
        let ids = Ids::default();
        let a = ids.take(1, 1_000);
        let b = ids.take(3, 1_000);
        let c = ids.take(1, 999);
        assert_eq!(a.at_ms(), 1_000);
        assert!(b > a && c > b.nth(2), "{a} {b} {c}");
        assert_eq!(ids.take(1, 5_000).at_ms(), 5_000);
    }
}
