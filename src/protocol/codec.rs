//! Byte layout: a 6-byte hello (`CAMD` + u16 version, big-endian) each way,
//! then frames of a u32 big-endian length and a postcard body. A connection
//! whose first byte is `{` speaks newline-delimited JSON instead.

use thiserror::Error;

use super::decision_id::DecisionId;
use super::envelope::{Request, Response};
use super::messages::{KeyAuth, Reply, WireError};
use super::ops::Body;

/// The first four bytes of a binary connection, both ways.
pub const MAGIC: &[u8; 4] = b"CAMD";
/// This build's protocol version.
pub const PROTOCOL_VERSION: u16 = 1;
/// Bytes in a hello.
pub const HELLO_LEN: usize = 6;

/// Why bytes could not be read as a frame or message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// The hello is not `CAMD` + version.
    #[error("not a camd protocol hello")]
    BadHello,
    /// A frame announces more bytes than allowed.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body does not decode.
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// `CAMD` + version.
pub fn encode_hello(version: u16) -> [u8; HELLO_LEN] {
    let v = version.to_be_bytes();
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], v[0], v[1]]
}

/// The version in a hello.
pub fn decode_hello(b: &[u8; HELLO_LEN]) -> Result<u16, FrameError> {
    match b {
        [b'C', b'A', b'M', b'D', hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(FrameError::BadHello),
    }
}

/// The body length announced by a frame header, checked against `max`.
pub fn frame_len(header: [u8; 4], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > max {
        Err(FrameError::TooLarge { len, max })
    } else {
        Ok(len)
    }
}

fn frame(body: Vec<u8>) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// A whole frame (header and body) for a request.
pub fn encode_request(r: &Request) -> Result<Vec<u8>, FrameError> {
    let bad = |e: postcard::Error| FrameError::Malformed(e.to_string());
    let mut body = postcard::to_stdvec(&(r.id, &r.auth, &r.body)).map_err(bad)?;
    if let Some(t) = &r.traceparent {
        body.extend(postcard::to_stdvec(t).map_err(bad)?);
    }
    Ok(frame(body))
}

/// A whole frame for a response.
pub fn encode_response(r: &Response) -> Result<Vec<u8>, FrameError> {
    let bad = |e: postcard::Error| FrameError::Malformed(e.to_string());
    let mut body = postcard::to_stdvec(&(r.id, &r.result)).map_err(bad)?;
    if r.revision.is_some() || r.decision_id.is_some() {
        body.extend(postcard::to_stdvec(&r.revision.unwrap_or(0)).map_err(bad)?);
    }
    if let Some(d) = r.decision_id {
        body.extend(postcard::to_stdvec(&d).map_err(bad)?);
    }
    Ok(frame(body))
}

/// Reads a postcard varint (LEB128) at the start of `b`.
pub(super) fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
    let mut v: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, b.get(i + 1..)?));
        }
    }
    None
}

/// Skips a postcard string (varint length, bytes).
fn skip_string(b: &[u8]) -> Option<&[u8]> {
    let (len, rest) = varint(b)?;
    rest.get(usize::try_from(len).ok()?..)
}

/// For a frame body holding a `Batch`, its id and how many decisions it
/// announces, read without decoding them (so an oversized batch can be
/// refused before it costs memory); `None` for any other request.
pub fn peek_batch(body: &[u8]) -> Option<(u64, u64)> {
    let (id, rest) = varint(body)?;
    let rest = match rest.split_first()? {
        (0, rest) => rest,
        (1, rest) => skip_string(skip_string(rest)?)?,
        _ => return None,
    };
    let (variant, rest) = varint(rest)?;
    // `Body::Batch` is variant 2 (see `protocol::ops`).
    if variant != 2 {
        return None;
    }
    let (len, _) = varint(rest)?;
    Some((id, len))
}

/// A request from a frame body.
pub fn decode_request(body: &[u8]) -> Result<Request, FrameError> {
    let bad = |e: postcard::Error| FrameError::Malformed(e.to_string());
    let ((id, auth, body), rest) =
        postcard::take_from_bytes::<(u64, Option<KeyAuth>, Body)>(body).map_err(bad)?;
    let traceparent = if rest.is_empty() {
        None
    } else {
        Some(postcard::from_bytes::<String>(rest).map_err(bad)?)
    };
    Ok(Request {
        id,
        auth,
        body,
        traceparent,
    })
}

/// A response from a frame body.
pub fn decode_response(body: &[u8]) -> Result<Response, FrameError> {
    let bad = |e: postcard::Error| FrameError::Malformed(e.to_string());
    let ((id, result), rest) =
        postcard::take_from_bytes::<(u64, Result<Reply, WireError>)>(body).map_err(bad)?;
    let (revision, rest) = if rest.is_empty() {
        (None, rest)
    } else {
        let (r, rest) = postcard::take_from_bytes::<i64>(rest).map_err(bad)?;
        (Some(r), rest)
    };
    let decision_id = if rest.is_empty() {
        None
    } else {
        Some(postcard::from_bytes::<DecisionId>(rest).map_err(bad)?)
    };
    Ok(Response {
        id,
        result,
        revision,
        decision_id,
    })
}

/// A request from one JSON line.
pub fn json_request(line: &[u8]) -> Result<Request, FrameError> {
    serde_json::from_slice(line).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// One JSON line (with its newline) for a response.
pub fn json_response(r: &Response) -> Vec<u8> {
    let mut v = serde_json::to_vec(r).unwrap_or_else(|_| b"{}".to_vec());
    v.push(b'\n');
    v
}

#[cfg(test)]
mod peek_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::protocol::{Authorize, Body, KeyAuth, UserRef};

    fn body(req: &Request) -> Vec<u8> {
        encode_request(req).unwrap()[4..].to_vec()
    }

    #[test]
    fn a_batch_announces_its_length_before_it_is_decoded() {
        let one = Authorize::ByUser {
            user: UserRef::Uin(1),
            action: "im:X".into(),
            resource: "*".into(),
            context: Vec::new(),
        };
        for (auth, n, id) in [
            (None, 0usize, 1u64),
            (None, 300, 70_000),
            (Some(()), 5, u64::MAX),
        ] {
            let req = Request {
                id,
                auth: auth.map(|()| KeyAuth {
                    secret_id: "AKIDx".into(),
                    secret_key: "s".repeat(200),
                }),
                body: Body::Batch(vec![one.clone(); n]),
                traceparent: None,
            };
            assert_eq!(peek_batch(&body(&req)), Some((id, n as u64)));
        }
        let ping = Request {
            id: 3,
            auth: None,
            body: Body::Ping,
            traceparent: None,
        };
        assert_eq!(peek_batch(&body(&ping)), None);
        assert_eq!(peek_batch(&[0x80]), None);
        assert_eq!(peek_batch(&[]), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Authorize, Body, KeyAuth, UserRef};

    #[test]
    fn matches_the_documented_bytes() {
        // docs/protocol.md, "A worked example".
        let r = Request {
            id: 1,
            auth: None,
            body: Body::Ping,
            traceparent: None,
        };
        assert_eq!(encode_request(&r).unwrap(), vec![0, 0, 0, 3, 1, 0, 0]);
        let resp = crate::protocol::Response {
            id: 1,
            result: Ok(crate::protocol::Reply::Pong(1)),
            revision: None,
            decision_id: None,
        };
        assert_eq!(
            encode_response(&resp).unwrap(),
            vec![0, 0, 0, 4, 1, 0, 0, 1]
        );
        assert_eq!(encode_hello(1), *b"CAMD\x00\x01");
    }

    #[test]
    fn round_trips() {
        let r = Request {
            id: 7,
            auth: Some(KeyAuth {
                secret_id: "AKIDx".into(),
                secret_key: "k".into(),
            }),
            body: Body::Authorize(Authorize::ByUser {
                user: UserRef::Name("alice".into()),
                action: "im:SendMessage".into(),
                resource: "*".into(),
                context: vec![("qcs:ip".into(), "10.0.0.1".into())],
            }),
            traceparent: None,
        };
        let f = encode_request(&r).unwrap();
        let len = frame_len(f[..4].try_into().unwrap(), 1 << 20).unwrap();
        assert_eq!(decode_request(&f[4..4 + len]).unwrap(), r);
        let j = serde_json::to_vec(&r).unwrap();
        assert_eq!(json_request(&j).unwrap(), r);
        assert_eq!(decode_hello(&encode_hello(3)), Ok(3));
        assert_eq!(
            frame_len([0, 0, 1, 0], 255),
            Err(FrameError::TooLarge { len: 256, max: 255 })
        );
        assert!(decode_request(&[0xff, 0xff, 0xff]).is_err());
    }
}
