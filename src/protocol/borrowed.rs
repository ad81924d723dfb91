//! Decision requests read in place: the same bytes as `Request` with a
//! `Ping`, `Authorize` or `Batch` body, decoded with every string borrowed
//! from the frame (one allocation per context list, none per field). Any
//! other request does not decode here and takes the owned path. A client
//! writes a batch of borrowed questions the same way.

use serde::{Deserialize, Serialize};

use super::codec::FrameError;
use super::messages::{Authorize, KeyAuth, UserRef};

/// An access key, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef<'a> {
    /// `AKID…`.
    pub secret_id: &'a str,
    /// The SecretKey.
    pub secret_key: &'a str,
}

/// A user by name or uin, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserRefRef<'a> {
    /// By name.
    Name(&'a str),
    /// By uin.
    Uin(u64),
}

/// One authorization question, borrowed (`Authorize`'s layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AskRef<'a> {
    /// By access key.
    ByKey {
        /// The key.
        #[serde(borrow)]
        key: KeyRef<'a>,
        /// The action.
        action: &'a str,
        /// The resource.
        resource: &'a str,
        /// Context pairs.
        #[serde(borrow)]
        context: Vec<(&'a str, &'a str)>,
    },
    /// For a user the caller authenticated.
    ByUser {
        /// The user.
        #[serde(borrow)]
        user: UserRefRef<'a>,
        /// The action.
        action: &'a str,
        /// The resource.
        resource: &'a str,
        /// Context pairs.
        #[serde(borrow)]
        context: Vec<(&'a str, &'a str)>,
    },
}

impl<'a> AskRef<'a> {
    /// The question of an owned `Authorize`.
    pub fn of(a: &'a Authorize) -> Self {
        let pairs = |c: &'a [(String, String)]| {
            c.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>()
        };
        match a {
            Authorize::ByKey {
                key:
                    KeyAuth {
                        secret_id,
                        secret_key,
                    },
                action,
                resource,
                context,
            } => AskRef::ByKey {
                key: KeyRef {
                    secret_id,
                    secret_key,
                },
                action,
                resource,
                context: pairs(context),
            },
            Authorize::ByUser {
                user,
                action,
                resource,
                context,
            } => AskRef::ByUser {
                user: match user {
                    UserRef::Name(n) => UserRefRef::Name(n),
                    UserRef::Uin(u) => UserRefRef::Uin(*u),
                },
                action,
                resource,
                context: pairs(context),
            },
        }
    }

    /// The action, the resource and the context.
    pub fn parts(&self) -> (&'a str, &'a str, &[(&'a str, &'a str)]) {
        match self {
            AskRef::ByKey {
                action,
                resource,
                context,
                ..
            }
            | AskRef::ByUser {
                action,
                resource,
                context,
                ..
            } => (action, resource, context),
        }
    }
}

/// A decision request's body, borrowed (`Body`'s first three variants).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum DecisionBody<'a> {
    /// Liveness and version.
    Ping,
    /// One decision.
    #[serde(borrow)]
    Authorize(AskRef<'a>),
    /// Several decisions.
    #[serde(borrow)]
    Batch(Vec<AskRef<'a>>),
}

/// A decision request, borrowed (`Request`'s layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest<'a> {
    /// Echoed in the response.
    pub id: u64,
    /// Delegated-admin credentials (unused by decisions).
    pub auth: Option<KeyRef<'a>>,
    /// What is asked.
    pub body: DecisionBody<'a>,
    /// The W3C trace context the caller sent, if any.
    pub traceparent: Option<&'a str>,
}

/// A batch request as written: `Request`'s layout with `Body::Batch`,
/// the questions serialized from a slice of borrowed ones.
#[derive(Serialize)]
struct BatchOut<'s, 'a> {
    id: u64,
    auth: Option<KeyRef<'a>>,
    body: BodyOut<'s, 'a>,
}

/// `Body`'s first three variants, in its order.
#[derive(Serialize)]
enum BodyOut<'s, 'a> {
    #[allow(dead_code, reason = "only there to give `Batch` its variant index")]
    Ping,
    #[allow(dead_code, reason = "only there to give `Batch` its variant index")]
    Authorize(&'s AskRef<'a>),
    Batch(&'s [AskRef<'a>]),
}

/// The frame (length prefix included) of a `Batch` of borrowed questions,
/// written into `buf` (cleared first, so a caller can reuse it): the same
/// bytes as `encode_request` of the owned batch.
pub fn encode_batch(id: u64, asks: &[AskRef<'_>], mut buf: Vec<u8>) -> Result<Vec<u8>, FrameError> {
    buf.clear();
    buf.extend_from_slice(&[0; 4]);
    let out = BatchOut {
        id,
        auth: None,
        body: BodyOut::Batch(asks),
    };
    let mut buf =
        postcard::to_extend(&out, buf).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = u32::try_from(buf.len().saturating_sub(4))
        .map_err(|_| FrameError::Malformed("a batch of more than 4 GiB".into()))?;
    if let Some(head) = buf.get_mut(..4) {
        head.copy_from_slice(&len.to_be_bytes());
    }
    Ok(buf)
}

/// A frame body holding a decision request, read in place; `None` for any
/// other request (or bytes that do not decode, which the owned path then
/// reports).
pub fn decode_decision(body: &[u8]) -> Option<DecisionRequest<'_>> {
    let ((id, auth, body), rest) =
        postcard::take_from_bytes::<(u64, Option<KeyRef<'_>>, DecisionBody<'_>)>(body).ok()?;
    let traceparent = if rest.is_empty() {
        None
    } else {
        Some(postcard::from_bytes::<&str>(rest).ok()?)
    };
    Some(DecisionRequest {
        id,
        auth,
        body,
        traceparent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Body, Request, decode_request, encode_request};

    fn ask(user: bool) -> Authorize {
        let context = vec![("qcs:ip".to_string(), "10.1.2.3".to_string())];
        if user {
            Authorize::ByUser {
                user: UserRef::Name("alice".into()),
                action: "im:SendMessage".into(),
                resource: "*".into(),
                context,
            }
        } else {
            Authorize::ByKey {
                key: KeyAuth {
                    secret_id: "AKIDx".into(),
                    secret_key: "k".into(),
                },
                action: "im:GetGroupInfo".into(),
                resource: "qcs::im::uin/1:sdkappid/2".into(),
                context,
            }
        }
    }

    #[test]
    fn reads_the_same_bytes_as_the_owned_request() {
        for body in [
            Body::Ping,
            Body::Authorize(ask(true)),
            Body::Authorize(ask(false)),
            Body::Batch(vec![ask(true), ask(false)]),
        ] {
            let frame = encode_request(&Request {
                id: 9,
                auth: None,
                body,
                traceparent: None,
            })
            .unwrap();
            let bytes = frame.get(4..).unwrap();
            let owned = decode_request(bytes).unwrap();
            let borrowed = decode_decision(bytes).unwrap();
            assert_eq!(borrowed.id, 9);
            match (&owned.body, &borrowed.body) {
                (Body::Ping, DecisionBody::Ping) => {}
                (Body::Authorize(a), DecisionBody::Authorize(b)) => assert_eq!(&AskRef::of(a), b),
                (Body::Batch(a), DecisionBody::Batch(b)) => {
                    assert_eq!(a.iter().map(AskRef::of).collect::<Vec<_>>(), *b);
                }
                other => panic!("{other:?}"),
            }
        }
        let asks = vec![ask(true), ask(false), ask(true)];
        let owned = encode_request(&Request {
            id: 300,
            auth: None,
            body: Body::Batch(asks.clone()),
            traceparent: None,
        })
        .unwrap();
        let borrowed: Vec<AskRef<'_>> = asks.iter().map(AskRef::of).collect();
        assert_eq!(encode_batch(300, &borrowed, vec![1, 2, 3]).unwrap(), owned);
        let admin = encode_request(&Request {
            id: 1,
            auth: None,
            body: Body::ListUsers,
            traceparent: None,
        })
        .unwrap();
        assert!(decode_decision(admin.get(4..).unwrap()).is_none());
    }
}
