//! Making a TC3-signed request as Tencent's SDKs do (`POST /`, a JSON body,
//! `X-TC-*` headers), for `camctl sign`, tests, benches, and Chat
//! developers checking their integration against camd.

use crate::credentials::tc3::{self, Payload, Signed, Tc3Error, ToSign};
use crate::protocol::{SignedHttp, SignedPayload};

/// What to sign.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The SecretId.
    pub secret_id: &'a str,
    /// The SecretKey (used here, never sent).
    pub secret_key: &'a str,
    /// The credential scope's service (`cam`, `im`).
    pub service: &'a str,
    /// X-TC-Action.
    pub action: &'a str,
    /// The Host header.
    pub host: &'a str,
    /// X-TC-Version.
    pub version: &'a str,
    /// X-TC-Region (left out when empty).
    pub region: &'a str,
    /// X-TC-Timestamp, seconds since the epoch.
    pub timestamp: i64,
    /// The JSON body.
    pub body: &'a [u8],
}

/// The request, with its Authorization header first; it signs
/// `content-type`, `host` and `x-tc-action`.
pub fn sign_post(c: &Call<'_>) -> Result<SignedHttp, Tc3Error> {
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("Host".to_string(), c.host.to_string()),
        ("X-TC-Action".to_string(), c.action.to_string()),
        ("X-TC-Timestamp".to_string(), c.timestamp.to_string()),
        ("X-TC-Version".to_string(), c.version.to_string()),
    ];
    if !c.region.is_empty() {
        headers.push(("X-TC-Region".to_string(), c.region.to_string()));
    }
    let authorization = tc3::sign(
        c.secret_key,
        &ToSign {
            secret_id: c.secret_id,
            service: c.service,
            timestamp: c.timestamp,
            request: Signed {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                payload: Payload::Bytes(c.body),
            },
            signed: &["content-type", "host", "x-tc-action"],
        },
    )?;
    headers.insert(0, ("Authorization".to_string(), authorization));
    Ok(SignedHttp {
        method: "POST".to_string(),
        path: "/".to_string(),
        query: String::new(),
        headers,
        payload: SignedPayload::Body(c.body.to_vec()),
    })
}
