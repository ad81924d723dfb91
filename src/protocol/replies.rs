//! Decision replies without owned copies: written straight into their
//! frame by camd (the same bytes as encoding a `Response` holding
//! `Decision`s, without building the owned replies), and read in place by
//! a client (every string borrowed from the frame).

use serde::{Deserialize, Serialize};

use super::codec::{FrameError, varint as read_varint};
use super::decision_id::DecisionId;
use super::messages::{Decision, WireError};

/// A decision borrowed from the engine's answer, or from a reply frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRef<'a> {
    /// Allowed or not.
    pub allowed: bool,
    /// The reason code.
    pub reason: &'a str,
    /// The deciding policy.
    #[serde(borrow)]
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

/// An error reply, borrowed from its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct WireErrorRef<'a> {
    /// e.g. `ResourceNotFound.UserNotExist`.
    pub code: &'a str,
    /// Lowercase, names the bad input.
    pub message: &'a str,
}

impl WireErrorRef<'_> {
    /// As an owned error.
    pub fn to_owned(&self) -> WireError {
        WireError {
            code: self.code.to_string(),
            message: self.message.to_string(),
        }
    }
}

/// One answer of a decision reply, borrowed from its frame.
pub type AnswerRef<'a> = Result<DecisionRef<'a>, WireErrorRef<'a>>;

/// The decisions of a reply frame (a `Decision` or `Decisions` reply),
/// decoded one by one as they are iterated, every string borrowed.
#[derive(Debug, Clone)]
pub struct DecisionsRef<'a> {
    /// The id of the request answered.
    pub id: u64,
    /// Answers not yet read.
    left: u64,
    /// A `Decision` reply: its one answer has no result tag of its own.
    single: bool,
    rest: &'a [u8],
}

/// Reads a decision reply's frame body (after the length prefix): its
/// decisions, or the error that refused the whole request.
pub fn read_decisions(
    body: &[u8],
) -> Result<Result<DecisionsRef<'_>, WireErrorRef<'_>>, FrameError> {
    let bad = |what: &str| FrameError::Malformed(format!("decision reply: {what}"));
    let (id, rest) = read_varint(body).ok_or_else(|| bad("no id"))?;
    match rest.split_first() {
        Some((&OK, rest)) => {
            let (variant, rest) = read_varint(rest).ok_or_else(|| bad("no reply variant"))?;
            let (left, rest) = match variant {
                REPLY_DECISION => (1, rest),
                REPLY_DECISIONS => read_varint(rest).ok_or_else(|| bad("no count"))?,
                other => return Err(bad(&format!("reply variant {other} is not a decision"))),
            };
            Ok(Ok(DecisionsRef {
                id,
                left,
                single: variant == REPLY_DECISION,
                rest,
            }))
        }
        Some((&ERR, rest)) => postcard::take_from_bytes::<WireErrorRef<'_>>(rest)
            .map(|(e, _)| Err(e))
            .map_err(|e| bad(&e.to_string())),
        _ => Err(bad("no result tag")),
    }
}

impl<'a> Iterator for DecisionsRef<'a> {
    type Item = Result<AnswerRef<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bad = |e: postcard::Error| FrameError::Malformed(format!("decision reply: {e}"));
        self.left = self.left.checked_sub(1)?;
        let tagged = if self.single {
            Some((&OK, self.rest))
        } else {
            self.rest.split_first()
        };
        let item =
            match tagged {
                Some((&OK, rest)) => postcard::take_from_bytes::<DecisionRef<'a>>(rest)
                    .map(|(d, rest)| (Ok(d), rest)),
                Some((&ERR, rest)) => postcard::take_from_bytes::<WireErrorRef<'a>>(rest)
                    .map(|(e, rest)| (Err(e), rest)),
                _ => Err(postcard::Error::DeserializeBadEnum),
            };
        Some(match item {
            Ok((answer, rest)) => {
                self.rest = rest;
                Ok(answer)
            }
            Err(e) => {
                self.left = 0;
                Err(bad(e))
            }
        })
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

/// Appends a decision reply's trailer (the revision it was decided at and
/// its first decision's id, as `Response` places them) to a whole frame,
/// and fixes the frame's length prefix.
pub fn append_trailer(frame: &mut Vec<u8>, revision: i64, id: DecisionId) {
    varint(frame, ((revision << 1) ^ (revision >> 63)) as u64);
    varint(frame, id.0);
    let len = u32::try_from(frame.len().saturating_sub(4)).unwrap_or(u32::MAX);
    if let Some(head) = frame.get_mut(..4) {
        head.copy_from_slice(&len.to_be_bytes());
    }
}

impl DecisionsRef<'_> {
    /// Once every answer is read: the decision id of the first one, when
    /// camd's decision log gave one (the rest are consecutive).
    pub fn decision_id(&self) -> Option<DecisionId> {
        if self.left > 0 {
            return None;
        }
        let (_, rest) = postcard::take_from_bytes::<i64>(self.rest).ok()?;
        postcard::from_bytes::<DecisionId>(rest).ok()
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
            decision_id: None,
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
                decision_id: None,
            };
            assert_eq!(
                DecisionFrame::single(id, i.as_ref().copied()),
                encode_response(&owned).unwrap()
            );
        }
    }

    #[test]
    fn read_back_in_place() {
        let items = sample();
        let mut f = DecisionFrame::batch(77, items.len());
        for i in &items {
            f.push(i.as_ref().copied());
        }
        let frame = f.finish();
        let read = read_decisions(&frame[4..]).unwrap().unwrap();
        assert_eq!(read.id, 77);
        let back: Vec<_> = read.map(Result::unwrap).collect();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].unwrap(), *items[0].as_ref().unwrap());
        assert_eq!(
            back[1].unwrap_err().to_owned(),
            items[1].clone().unwrap_err()
        );
        assert_eq!(back[2].unwrap(), *items[2].as_ref().unwrap());
        let single = DecisionFrame::single(5, items[0].as_ref().copied());
        let mut one = read_decisions(&single[4..]).unwrap().unwrap();
        assert_eq!(
            (one.id, one.next().unwrap().unwrap()),
            (5, Ok(*items[0].as_ref().unwrap()))
        );
        assert!(one.next().is_none());
        let refused = DecisionFrame::single(6, Err(items[1].as_ref().unwrap_err()));
        let err = read_decisions(&refused[4..]).unwrap().unwrap_err();
        assert_eq!(err.to_owned(), items[1].clone().unwrap_err());
        // Every truncation is an error or a shorter answer, never a panic.
        for cut in 4..frame.len() {
            if let Ok(Ok(rest)) = read_decisions(&frame[4..cut]) {
                assert!(rest.filter(Result::is_err).count() <= 1);
            }
        }
    }

    #[test]
    fn a_trailer_is_what_the_owned_reply_appends() {
        let d = sample().remove(0).unwrap();
        for revision in [0i64, 7, -3, i64::MAX] {
            let id = DecisionId(0x0123_4567_89ab_cdef);
            let mut frame = DecisionFrame::single(9, Ok(d));
            append_trailer(&mut frame, revision, id);
            let owned = encode_response(&Response {
                id: 9,
                result: Ok(Reply::Decision(d.to_owned())),
                revision: Some(revision),
                decision_id: Some(id),
            })
            .unwrap();
            assert_eq!(frame, owned);
            let mut read = match read_decisions(&frame[4..]).unwrap() {
                Ok(r) => r,
                Err(e) => panic!("{e:?}"),
            };
            assert_eq!(read.decision_id(), None, "not before the answers are read");
            assert!(read.next().unwrap().unwrap().is_ok());
            assert_eq!(read.decision_id(), Some(id));
            assert_eq!(
                crate::protocol::decode_response(&frame[4..])
                    .unwrap()
                    .decision_id,
                Some(id)
            );
        }
    }
}
