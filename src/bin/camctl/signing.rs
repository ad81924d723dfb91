//! `camctl sign` (the headers of a TC3-signed request, made locally) and
//! the raw HTTP request `camctl verify` reads from stdin.

use std::io::Read;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::json;

use camd::client::{Call, sign_post};
use camd::code::Code;
use camd::protocol::{SignedHttp, SignedPayload};

use super::secrets::secret_from_env_or_stdin;
use super::{EXIT_OK, SignArgs};

/// The largest request `camctl verify` reads.
const MAX_REQUEST: u64 = 16 << 20;

/// Prints the headers of the signed request `a` describes.
pub fn sign(a: &SignArgs, json: bool) -> Result<u8> {
    let body = match &a.body_file {
        Some(f) => std::fs::read(f).with_context(|| format!("cannot read `{}`", f.display()))?,
        None => a.body.clone().into_bytes(),
    };
    let secret = secret_from_env_or_stdin()?;
    let timestamp = a.timestamp.unwrap_or_else(|| camd::clock::now_ms() / 1000);
    let request = sign_post(&Call {
        secret_id: &a.secret_id,
        secret_key: &secret,
        service: &a.service,
        action: &a.action,
        host: &a.host,
        version: &a.version,
        region: &a.region,
        timestamp,
        body: &body,
    })
    .map_err(|e| anyhow!("{}: {e}", e.code()))?;
    let headers = request.headers;
    if a.request {
        print!("POST / HTTP/1.1\r\n");
        for (k, v) in &headers {
            print!("{k}: {v}\r\n");
        }
        print!("Content-Length: {}\r\n\r\n", body.len());
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(&body)
            .and_then(|()| out.flush())
            .context("cannot write the request")?;
    } else if json {
        let m: serde_json::Map<String, serde_json::Value> =
            headers.into_iter().map(|(k, v)| (k, json!(v))).collect();
        println!("{}", serde_json::Value::Object(m));
    } else {
        for (k, v) in headers {
            println!("{k}: {v}");
        }
    }
    Ok(EXIT_OK)
}

/// A raw HTTP/1.1 request (request line, headers, body) as camd verifies it.
pub fn read_http(input: &mut impl Read) -> Result<SignedHttp> {
    let mut raw = Vec::new();
    input
        .take(MAX_REQUEST)
        .read_to_end(&mut raw)
        .context("cannot read the request from stdin")?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let bad = |why: String| anyhow!("{}: the request on stdin {why}", Code::InvalidParameter);
    let head = match req.parse(&raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => bail!(bad("ends before its headers do".into())),
        Err(e) => bail!(bad(format!("is not HTTP/1.1: {e}"))),
    };
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut body = raw.get(head..).unwrap_or_default().to_vec();
    if let Some((_, len)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| bad(format!("has Content-Length `{len}`")))?;
        if body.len() < len {
            bail!(bad(format!("has {} body bytes, not {len}", body.len())));
        }
        body.truncate(len);
    }
    Ok(SignedHttp {
        method: req.method.unwrap_or("POST").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        payload: SignedPayload::Body(body),
    })
}
