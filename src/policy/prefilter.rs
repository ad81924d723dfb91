//! A statement's resource reduced to a few inline bytes that reject most
//! requests for other resources without following a pointer: the set's scan
//! checks it before it reads the statement.

use super::request::ResourceRef;
use super::statement::Statement;

/// What the scan may check about a statement's resource before reading it.
/// It only ever says "cannot match"; a pass still runs the full match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Prefilter {
    /// The literal's length (the last segment's, or its head before `*`).
    len: u32,
    /// Whether the last segment is the literal and a trailing `*`.
    prefix: bool,
    /// Whether the statement can be filtered at all.
    active: bool,
    /// The literal's last (up to) eight bytes.
    tail: u64,
}

impl Prefilter {
    /// The filter of a statement with one `qcs:` resource whose last
    /// segment is a literal, or a literal and a trailing `*`; any other
    /// statement gets an inactive filter that passes everything.
    pub(super) fn of(st: &Statement) -> Self {
        let [only] = st.resources.as_slice() else {
            return Self::default();
        };
        if st.any_resource {
            return Self::default();
        }
        let Some((literal, prefix)) = only.last_literal() else {
            return Self::default();
        };
        let Ok(len) = u32::try_from(literal.len()) else {
            return Self::default();
        };
        Self {
            len,
            prefix,
            active: true,
            tail: tail(literal),
        }
    }

    /// False when the statement's resource cannot match `resource`.
    #[inline]
    pub(super) fn passes(&self, resource: &ResourceRef<'_>) -> bool {
        if !self.active {
            return true;
        }
        // A `qcs:` pattern never matches the request resource `*`.
        let ResourceRef::Qcs { resource: last, .. } = resource else {
            return false;
        };
        let last = last.as_bytes();
        let len = self.len as usize;
        let head = if self.prefix {
            last.get(..len)
        } else if last.len() == len {
            Some(last)
        } else {
            None
        };
        head.is_some_and(|h| tail(h) == self.tail)
    }
}

/// The last (up to) eight bytes of `b` as a word: one load when `b` holds
/// eight or more.
#[inline]
fn tail(b: &[u8]) -> u64 {
    let start = b.len().saturating_sub(8);
    match b.get(start..).map(<[u8; 8]>::try_from) {
        Some(Ok(word)) => u64::from_le_bytes(word),
        _ => b.iter().fold(0u64, |w, &c| (w << 8) | u64::from(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn filter(resource: &str) -> Prefilter {
        let doc = format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"im:*","resource":"{resource}"}}]}}"#
        );
        let p = Policy::parse("P", &doc).unwrap().policy;
        Prefilter::of(&p.statements[0])
    }

    fn passes(f: &Prefilter, resource: &str) -> bool {
        f.passes(&ResourceRef::parse(resource).unwrap())
    }

    #[test]
    fn rejects_other_literals_and_passes_the_rest() {
        let app = "qcs::im::uin/1:sdkappid/1400000001";
        let exact = filter(app);
        assert!(exact.active);
        assert!(passes(&exact, app));
        assert!(!passes(&exact, "qcs::im::uin/1:sdkappid/1400000002"));
        assert!(!passes(&exact, "qcs::im::uin/1:sdkappid/14000000011"));
        assert!(!passes(&exact, "*"));
        let prefix = filter("qcs::im::uin/1:sdkappid/14*");
        assert!(prefix.active && prefix.prefix);
        assert!(passes(&prefix, app));
        assert!(passes(&prefix, "qcs::im::uin/1:sdkappid/14"));
        assert!(!passes(&prefix, "qcs::im::uin/1:sdkappid/1"));
        assert!(!passes(&prefix, "qcs::im::uin/1:sdkappid/24000000011"));
        // Variables, inner wildcards and `*` are not filtered.
        for open in [
            "*",
            "qcs::im::uin/1:sdkappid/${uin}",
            "qcs::im::uin/1:sdkappid/1*2",
        ] {
            let f = filter(open);
            assert!(!f.active, "{open}");
            assert!(passes(&f, "*") && passes(&f, app), "{open}");
        }
    }
}
