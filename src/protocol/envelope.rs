//! The envelope of every exchange: a request (its id, the credentials of a
//! delegated admin, the body, a trace context) and a response (the id, the
//! outcome, the state's revision, the decision id).

use serde::{Deserialize, Serialize};

use super::decision_id::DecisionId;
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
    /// A W3C `traceparent` the decision log records with the decisions of
    /// this request. On the wire: absent, or a string appended after `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
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
    /// With the decision log on, also the revision a decision reply was
    /// decided at. On the wire: absent, or appended after `result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// With the decision log on, the id of a decision reply's (first)
    /// decision; a batch's items have consecutive ids. On the wire: absent,
    /// or appended after `revision` (which is then always written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<DecisionId>,
}
