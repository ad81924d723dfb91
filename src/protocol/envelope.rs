//! The envelope of every exchange: a request (its id, the credentials of a
//! delegated admin, the body) and a response (the id, the outcome, the
//! cluster revision).

use serde::{Deserialize, Serialize};

use super::messages::{KeyAuth, Reply, WireError};
use super::ops::Body;

/// A request: an id echoed in the response, optional delegated-admin credentials, the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client; echoed back.
    pub id: u64,
    /// An access key whose user's policies authorize this admin operation
    /// (not needed by the local operator, nor for Authorize requests).
    pub auth: Option<KeyAuth>,
    /// What is asked.
    pub body: Body,
}

/// A response: the request's id and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The request's id (0 when the request could not be read).
    pub id: u64,
    /// The outcome.
    pub result: Result<Reply, WireError>,
    /// Cluster mode: the revision of the shared truth this host's state was
    /// at when it answered an admin request (after applying its own write).
    /// On the wire: absent, or appended after `result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
}
