//! One HTTP request to camd and back: the request as received (method,
//! path, query, headers, body bytes) goes to camd as `CallApi`; camd's
//! JSON answer comes back as the response body.

use std::path::Path;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::sync::Mutex;

use crate::api;
use crate::client::{AsyncClient, ClientError};
use crate::code::{Code, Failure};
use crate::protocol::{ApiCall, SignedHttp, SignedPayload};

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

/// Answers one request.
pub async fn answer(
    req: Request<Incoming>,
    socket: &Path,
    camd: &Mutex<Option<AsyncClient>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != hyper::Method::POST {
        return Ok(failed(
            Code::UnsupportedProtocol,
            format!(
                "method `{}` is not served; CAM API calls are POST with a JSON body",
                req.method()
            ),
        ));
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(failed(
                Code::InvalidParameter,
                format!("the request body cannot be read (at most {MAX_BODY} bytes): {e}"),
            ));
        }
    };
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let call = ApiCall {
        request: SignedHttp {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            headers,
            payload: SignedPayload::Body(body.to_vec()),
        },
    };
    Ok(match call_camd(socket, camd, call).await {
        Ok(json) => respond(StatusCode::OK, json),
        Err(ClientError::Remote(e)) => {
            failed(Code::parse(&e.code).unwrap_or(Code::Dispatch), e.message)
        }
        Err(e) => failed(Code::Store, format!("camd is not reachable: {e}")),
    })
}

/// Sends `call` on this connection's camd connection (made on first use,
/// and once more when it has broken).
async fn call_camd(
    socket: &Path,
    camd: &Mutex<Option<AsyncClient>>,
    call: ApiCall,
) -> Result<String, ClientError> {
    let mut slot = camd.lock().await;
    for attempt in 0..2 {
        if slot.is_none() {
            *slot = Some(AsyncClient::connect(socket).await?);
        }
        let Some(client) = slot.as_mut() else {
            continue;
        };
        match client.call(call.clone()).await {
            Ok(answer) => return Ok(answer.json),
            Err(ClientError::Io { .. }) if attempt == 0 => *slot = None,
            Err(e) => return Err(e),
        }
    }
    Err(ClientError::Protocol(
        "camd closed the connection twice".into(),
    ))
}
