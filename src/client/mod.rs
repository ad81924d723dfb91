//! The Rust client: blocking (`Client`) and async (`AsyncClient`), used by
//! camctl, the tests, the benches, and meant for Chat processes.

mod blocking;
mod nonblocking;
mod signing;

pub use blocking::Client;
pub use nonblocking::AsyncClient;
pub use signing::{Call, sign_post};

use thiserror::Error;

use crate::protocol::{
    Authorize, AuthorizeSigned, Body, KeyAuth, Op, Reply, ReplyShape, Request, Response,
    SignedHttp, SignedPayload, UserRef, WireError, decode_response, encode_request,
};

/// Where the systemd units put camd's socket.
pub const INSTALLED_SOCKET: &str = "/run/camd/camd.sock";

/// camd's socket when none is given: `$CAMD_SOCKET`, else the embedded
/// default's `state/camd.sock`, or the installed one when only it exists.
pub fn default_socket() -> std::path::PathBuf {
    use std::path::PathBuf;
    std::env::var_os("CAMD_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let local = PathBuf::from("state/camd.sock");
            let installed = PathBuf::from(INSTALLED_SOCKET);
            if !local.exists() && installed.exists() {
                installed
            } else {
                local
            }
        })
}

/// Responses larger than this are refused.
const MAX_RESPONSE: usize = 64 << 20;

/// The frame for one request.
fn request_frame(
    id: u64,
    auth: &Option<KeyAuth>,
    body: Body,
    traceparent: Option<String>,
) -> Result<Vec<u8>, ClientError> {
    encode_request(&Request {
        id,
        auth: auth.clone(),
        body,
        traceparent,
    })
    .map_err(|e| ClientError::Protocol(e.to_string()))
}

/// The outcome in a response body, checked against the request's id, and
/// the revision and decision id it carries.
fn reply_from(body: &[u8], id: u64) -> Result<(Result<Reply, WireError>, Trailer), ClientError> {
    let Response {
        id: got,
        result,
        revision,
        decision_id,
    } = decode_response(body).map_err(|e| ClientError::Protocol(e.to_string()))?;
    if got != id && got != 0 {
        return Err(ClientError::Protocol(format!(
            "response {got} for request {id}"
        )));
    }
    Ok((
        result,
        Trailer {
            revision,
            decision_id,
        },
    ))
}

/// What a response carries after its outcome.
#[derive(Debug, Clone, Copy, Default)]
struct Trailer {
    /// Cluster mode: the revision of the state that answered.
    revision: Option<i64>,
    /// With camd's decision log on: the (first) decision's id.
    decision_id: Option<crate::protocol::DecisionId>,
}

/// The typed reply of `O` in a wire reply (camd answers every request with
/// its operation's reply shape; anything else is a protocol error).
fn typed<O: Op>(r: Reply) -> Result<O::Reply, ClientError> {
    O::Reply::from_reply(r).map_err(|other| {
        ClientError::Protocol(format!(
            "camd answered `{}` with a reply of another shape: {other:?}",
            O::NAME
        ))
    })
}

fn pairs(context: &[(&str, &str)]) -> Vec<(String, String)> {
    context
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Why a call failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The socket failed.
    #[error("cannot talk to camd at `{path}`: {cause}")]
    Io {
        /// The socket path.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The server speaks another protocol version.
    #[error("camd speaks protocol version {server}; this client speaks {client}")]
    Version {
        /// The server's.
        server: u16,
        /// Ours.
        client: u16,
    },
    /// The bytes made no sense.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// camd answered with an error.
    #[error("{}: {}", .0.code, .0.message)]
    Remote(WireError),
}

impl ClientError {
    /// The CAM error code, when camd sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Remote(e) => Some(&e.code),
            _ => None,
        }
    }
}

/// An authorize-by-user question.
pub fn by_user(user: &str, action: &str, resource: &str, context: &[(&str, &str)]) -> Authorize {
    Authorize::ByUser {
        user: UserRef::Name(user.to_string()),
        action: action.to_string(),
        resource: resource.to_string(),
        context: pairs(context),
    }
}

/// An authorize-by-key question.
pub fn by_key(
    secret_id: &str,
    secret_key: &str,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> Authorize {
    Authorize::ByKey {
        key: KeyAuth {
            secret_id: secret_id.to_string(),
            secret_key: secret_key.to_string(),
        },
        action: action.to_string(),
        resource: resource.to_string(),
        context: pairs(context),
    }
}

/// An HTTP request as a server received it, for `signed`.
pub fn http(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> SignedHttp {
    SignedHttp {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers: pairs(headers),
        payload: SignedPayload::Body(body.to_vec()),
    }
}

/// A signed-request question: the request as received, the resource and
/// context; `action` is the action, or only the asking service's name
/// (`im`) for `<service>:<X-TC-Action>`.
pub fn signed(
    request: SignedHttp,
    resource: &str,
    action: Option<&str>,
    context: &[(&str, &str)],
) -> AuthorizeSigned {
    AuthorizeSigned {
        request,
        resource: resource.to_string(),
        context: pairs(context),
        action: action.map(str::to_string),
    }
}
