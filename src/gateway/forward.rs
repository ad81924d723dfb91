//! One HTTP request to camd and back: the request as received (method,
//! path, query, headers, body bytes) goes to camd as `CallApi`; camd's
//! JSON answer comes back as the response body.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

use super::pool::PoolError;
use crate::api;
use crate::client::ClientError;
use crate::code::{Code, Failure};
use crate::protocol::{ApiCall, CLIENT_ADDRESS, SignedHttp, SignedPayload};

/// The largest body accepted.
pub const MAX_BODY: usize = 256 << 10;

/// The content type Tencent's SDKs expect (exactly).
const JSON: &str = "application/json";

fn respond(status: StatusCode, json: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(json)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(JSON),
    );
    r
}

/// A failure answered by the front itself (camd never saw the request).
fn failed(code: Code, message: String) -> Response<Full<Bytes>> {
    let id = api::request_id(&ring::rand::SystemRandom::new());
    respond(
        StatusCode::OK,
        api::error(&Failure::new(code, message), &id),
    )
}

/// What every request is served with.
pub struct Front {
    /// The connections to camd.
    pub pool: super::pool::Pool,
    /// The `Host` names served.
    pub hosts: super::hosts::Hosts,
    /// The whole body must arrive within this.
    pub body_timeout: std::time::Duration,
}

/// Answers one request from the client at `client`.
pub async fn answer(
    req: Request<Incoming>,
    client: std::net::IpAddr,
    front: &Front,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if let Some((code, message)) = refusal(&req, front) {
        return Ok(failed(code, message));
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(body, front).await {
        Ok(b) => b,
        Err((code, message)) => return Ok(failed(code, message)),
    };
    let call = api_call(&parts, client, &body);
    Ok(answered(front.pool.call(call).await))
}

/// Why a request is refused before its body is read: it is not a POST, or
/// for a host not served here.
fn refusal(req: &Request<Incoming>, front: &Front) -> Option<(Code, String)> {
    if req.method() != hyper::Method::POST {
        return Some((
            Code::UnsupportedProtocol,
            format!(
                "method `{}` is not served; CAM API calls are POST with a JSON body",
                req.method()
            ),
        ));
    }
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .unwrap_or_default();
    if !front.hosts.serves(&host) {
        return Some((
            Code::HostNotServed,
            format!(
                "host `{}` is not served here (camd-api serves {}; see --host)",
                host.chars().take(64).collect::<String>(),
                front.hosts.describe()
            ),
        ));
    }
    None
}

/// The whole body, or why there is none: it is too large, cannot be read
/// or does not arrive in time.
async fn read_body(body: Incoming, front: &Front) -> Result<Bytes, (Code, String)> {
    let collected =
        tokio::time::timeout(front.body_timeout, Limited::new(body, MAX_BODY).collect());
    match collected.await {
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e)) => Err((
            Code::InvalidParameter,
            format!("the request body cannot be read (at most {MAX_BODY} bytes): {e}"),
        )),
        Err(_) => Err((
            Code::InvalidParameter,
            format!(
                "the request body did not arrive within {} s",
                front.body_timeout.as_secs()
            ),
        )),
    }
}

/// The request as camd's `CallApi`, with camd-api's word on the client's
/// address in place of any the client sent.
fn api_call(
    parts: &hyper::http::request::Parts,
    client: std::net::IpAddr,
    body: &Bytes,
) -> ApiCall {
    // The client's own claim of an address is dropped; camd-api says
    // whom it forwards for.
    let headers = parts
        .headers
        .iter()
        .filter(|(k, _)| k.as_str() != CLIENT_ADDRESS)
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .chain(std::iter::once((
            CLIENT_ADDRESS.to_string(),
            client.to_string(),
        )))
        .collect();
    ApiCall {
        request: SignedHttp {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            headers,
            payload: SignedPayload::Body(body.to_vec()),
        },
    }
}

/// camd's answer (or why there is none) as the response.
fn answered(result: Result<String, PoolError>) -> Response<Full<Bytes>> {
    match result {
        Ok(json) => respond(StatusCode::OK, json),
        Err(PoolError::Client(ClientError::Remote(e))) => {
            failed(Code::parse(&e.code).unwrap_or(Code::Dispatch), e.message)
        }
        Err(PoolError::Busy(wait)) => failed(
            Code::RequestLimitExceeded,
            format!(
                "every connection to camd stayed busy for {} s; retry in 1 s",
                wait.as_secs()
            ),
        ),
        Err(PoolError::Client(e)) => failed(Code::Store, format!("camd is not reachable: {e}")),
    }
}
