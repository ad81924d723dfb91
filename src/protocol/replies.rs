//! Decision replies written straight into their frame: the same bytes as
//! encoding a `Response` holding `Decision`s, without building the owned
//! replies (no string copied per decision, no vector of replies).

use serde::Serialize;

use super::messages::{Decision, WireError};

/// A decision borrowed from the engine's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DecisionRef<'a> {
    /// Allowed or not.
    pub allowed: bool,
    /// The reason code.
    pub reason: &'a str,
    /// The deciding policy.
    pub policy: Option<&'a str>,
    /// The deciding statement's index.
    pub statement: Option<u32>,
    /// The principal decided for.
    pub uin: u64,
}

impl DecisionRef<'_> {
    /// As an owned decision.
    pub fn to_owned(&self) -> Decision {
        Decision {
            allowed: self.allowed,
            reason: self.reason.to_string(),
            policy: self.policy.map(str::to_string),
            statement: self.statement,
            uin: self.uin,
        }
    }
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf.push(byte);
            return;
        }
        buf.push(byte | 0x80);
    }
}

/// `Result` and `Reply` variant tags as postcard writes them.
const OK: u8 = 0;
const ERR: u8 = 1;
const REPLY_DECISION: u64 = 1;
const REPLY_DECISIONS: u64 = 2;

/// A frame being written: the length prefix is filled in at the end.
pub struct DecisionFrame {
    buf: Vec<u8>,
}

impl DecisionFrame {
    fn start(id: u64, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(&[0; 4]);
        varint(&mut buf, id);
        Self { buf }
    }

    fn put<T: Serialize>(&mut self, v: &T) {
        let buf = std::mem::take(&mut self.buf);
        // Writing into a Vec cannot fail for these types; an encoding error
        // would leave the frame short and the client would see it malformed.
        self.buf = postcard::to_extend(v, buf).unwrap_or_default();
    }

    /// A frame answering one decision.
    pub fn single(id: u64, r: Result<DecisionRef<'_>, &WireError>) -> Vec<u8> {
        let mut f = Self::start(id, 96);
        match r {
            Ok(d) => {
                f.buf.push(OK);
                varint(&mut f.buf, REPLY_DECISION);
                f.put(&d);
            }
            Err(e) => {
                f.buf.push(ERR);
                f.put(e);
            }
        }
        f.finish()
    }

    /// A frame answering a batch of `n` decisions, pushed in order.
    pub fn batch(id: u64, n: usize) -> Self {
        let mut f = Self::start(id, 16 + n.saturating_mul(40));
        f.buf.push(OK);
        varint(&mut f.buf, REPLY_DECISIONS);
        varint(&mut f.buf, n as u64);
        f
    }

    /// The next decision of a batch.
    pub fn push(&mut self, r: Result<DecisionRef<'_>, &WireError>) {
        match r {
            Ok(d) => {
                self.buf.push(OK);
                self.put(&d);
            }
            Err(e) => {
                self.buf.push(ERR);
                self.put(e);
            }
        }
    }

    /// The whole frame, length prefix included.
    pub fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.buf.len().saturating_sub(4)).unwrap_or(u32::MAX);
        if let Some(head) = self.buf.get_mut(..4) {
            head.copy_from_slice(&len.to_be_bytes());
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::{Reply, Response, encode_response};

    fn sample() -> Vec<Result<DecisionRef<'static>, WireError>> {
        vec![
            Ok(DecisionRef {
                allowed: true,
                reason: "Allow",
                policy: Some("QcloudChatReadOnlyAccess"),
                statement: Some(0),
                uin: 200_000_000_001,
            }),
            Err(WireError {
                code: crate::code::Code::UserNotExist.as_str().into(),
                message: "user `x` does not exist".into(),
            }),
            Ok(DecisionRef {
                allowed: false,
                reason: "ImplicitDeny",
                policy: None,
                statement: None,
                uin: 300,
            }),
        ]
    }

    #[test]
    fn the_same_bytes_as_the_owned_reply() {
        let items = sample();
        let mut f = DecisionFrame::batch(77, items.len());
        for i in &items {
            f.push(i.as_ref().copied());
        }
        let owned = Response {
            id: 77,
            result: Ok(Reply::Decisions(
                items
                    .iter()
                    .map(|r| r.as_ref().map(DecisionRef::to_owned).map_err(Clone::clone))
                    .collect(),
            )),
            revision: None,
        };
        assert_eq!(f.finish(), encode_response(&owned).unwrap());
        for (id, i) in [(1u64, &items[0]), (300_000, &items[1])] {
            let owned = Response {
                id,
                result: i
                    .as_ref()
                    .map(|d| Reply::Decision(d.to_owned()))
                    .map_err(Clone::clone),
                revision: None,
            };
            assert_eq!(
                DecisionFrame::single(id, i.as_ref().copied()),
                encode_response(&owned).unwrap()
            );
        }
    }
}
