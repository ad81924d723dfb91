//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature: parsing the
//! Authorization header, the checks before the signature (algorithm, scope,
//! signed headers, timestamp window), the signing key derived from a
//! SecretKey, and the constant-time check of the signature. Pure: no clock,
//! no store; the caller passes the time and the key.

use ring::{digest, hmac};
use thiserror::Error;

use crate::clock::utc_date;
use crate::code::Code;

/// The one algorithm.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The scope's last element.
pub const TERMINATOR: &str = "tc3_request";

/// Why a signed request was refused before or at its signature.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Tc3Error {
    /// No Authorization header, or one that does not parse.
    #[error("the authorization header is malformed: {0}")]
    Malformed(String),
    /// Another algorithm.
    #[error("algorithm `{0}` is not supported; use TC3-HMAC-SHA256")]
    Algorithm(String),
    /// The SecretId does not have the shape of one.
    #[error("`{0}` is not a SecretId")]
    SecretId(String),
    /// The credential scope does not match the request.
    #[error("the credential scope is wrong: {0}")]
    Scope(String),
    /// `content-type` or `host` is not signed, or a signed header is absent.
    #[error("{0}")]
    Headers(String),
    /// X-TC-Timestamp missing or not a number.
    #[error("the x-tc-timestamp header is missing or not a number of seconds")]
    Timestamp,
    /// The timestamp is outside the window.
    #[error(
        "the signature expired: x-tc-timestamp {timestamp} is {skew} s from the server's clock (the window is ±{window} s)"
    )]
    Expired {
        /// The request's timestamp.
        timestamp: i64,
        /// Its distance from now.
        skew: i64,
        /// The window.
        window: i64,
    },
    /// The signature does not match.
    #[error("the signature does not match the request")]
    Mismatch,
}

impl Tc3Error {
    /// Tencent Cloud's error code for it.
    pub fn code(&self) -> Code {
        match self {
            Tc3Error::Malformed(_)
            | Tc3Error::Algorithm(_)
            | Tc3Error::Scope(_)
            | Tc3Error::Headers(_)
            | Tc3Error::Timestamp => Code::InvalidAuthorization,
            Tc3Error::SecretId(_) => Code::InvalidSecretId,
            Tc3Error::Expired { .. } => Code::SignatureExpire,
            Tc3Error::Mismatch => Code::SignatureFailure,
        }
    }
}

/// The payload as the verifier gets it.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The bytes received (hashed here).
    Bytes(&'a [u8]),
    /// Their SHA-256, in hex, for a caller that streams large bodies.
    Sha256Hex(&'a str),
}

/// A request as received.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `POST`, `GET`.
    pub method: &'a str,
    /// The path (`/`).
    pub path: &'a str,
    /// The query string without `?` (empty for POST).
    pub query: &'a str,
    /// Headers as received, any case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub payload: Payload<'a>,
}

impl<'a> Signed<'a> {
    /// The value of header `name` (case-insensitive); an error when repeated.
    pub fn header(&self, name: &str) -> Result<Option<&'a str>, Tc3Error> {
        let mut found = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(Tc3Error::Headers(format!(
                "header `{name}` is given more than once"
            )));
        }
        Ok(first)
    }
}

/// The parsed Authorization header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The SecretId.
    pub secret_id: &'a str,
    /// The scope's date, `YYYY-MM-DD`.
    pub date: &'a str,
    /// The scope's service (`cam`, `im`, …).
    pub service: &'a str,
    /// `content-type;host;…`.
    pub signed_headers: &'a str,
    /// The signature, decoded.
    pub signature: [u8; 32],
}

/// A request whose checks before the signature passed: what the signature
/// must be computed over.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    /// The Authorization header's fields.
    pub auth: Authorization<'a>,
    /// X-TC-Timestamp.
    pub timestamp: i64,
    /// The string the signature signs.
    pub string_to_sign: String,
}

fn malformed(what: &str) -> Tc3Error {
    Tc3Error::Malformed(what.to_string())
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let [hi, lo] = pair else {
            return None;
        };
        *o = digit(*hi)? << 4 | digit(*lo)?;
    }
    Some(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The hex digit of the low four bits.
fn nibble(n: u8) -> u8 {
    HEX.get(usize::from(n & 15)).copied().unwrap_or(b'0')
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(nibble(b >> 4)));
        s.push(char::from(nibble(*b)));
    }
    s
}

/// A 32-byte digest in lowercase hex, on the stack.
fn hex_array(bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        if let [hi, lo] = pair {
            *hi = nibble(b >> 4);
            *lo = nibble(*b);
        }
    }
    out
}

/// SHA-256 in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// Parses `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
/// SignedHeaders=a;b, Signature=HEX` (checking the algorithm first).
pub fn parse_authorization(value: &str) -> Result<Authorization<'_>, Tc3Error> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').ok_or_else(|| {
        malformed("expected `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`")
    })?;
    if algorithm != ALGORITHM {
        return Err(Tc3Error::Algorithm(algorithm.chars().take(64).collect()));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| malformed("each field must be `Name=value`"))?;
        let slot = match k {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed(
                    "unknown field; expected Credential, SignedHeaders, Signature",
                ));
            }
        };
        if slot.replace(v).is_some() {
            return Err(malformed("a field is given twice"));
        }
    }
    let credential = credential.ok_or_else(|| malformed("Credential is missing"))?;
    let signed_headers = signed.ok_or_else(|| malformed("SignedHeaders is missing"))?;
    let signature = signature
        .and_then(unhex)
        .ok_or_else(|| malformed("Signature must be 64 hex digits"))?;
    let mut scope = credential.split('/');
    let (Some(secret_id), Some(date), Some(service), Some(terminator), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(malformed(
            "Credential must be SecretId/date/service/tc3_request",
        ));
    };
    if !crate::credentials::is_secret_id(secret_id) {
        return Err(Tc3Error::SecretId(
            secret_id
                .chars()
                .take(40)
                .filter(char::is_ascii_alphanumeric)
                .collect(),
        ));
    }
    if terminator != TERMINATOR {
        return Err(Tc3Error::Scope(format!("it must end with `{TERMINATOR}`")));
    }
    Ok(Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// Every check before the signature, in TC3's order: the algorithm and the
/// header's shape, the scope (date of the timestamp, then `service` when
/// one is required, then the terminator), `content-type` and `host` signed,
/// and the timestamp within `window` seconds of `now`.
pub fn check<'a>(
    req: &Signed<'a>,
    service: Option<&str>,
    now: i64,
    window: i64,
) -> Result<Checked<'a>, Tc3Error> {
    check_parsed(req, authorization(req)?, service, now, window)
}

/// The request's Authorization header, parsed.
pub fn authorization<'a>(req: &Signed<'a>) -> Result<Authorization<'a>, Tc3Error> {
    let header = req
        .header("authorization")?
        .ok_or_else(|| malformed("the request has no authorization header"))?;
    parse_authorization(header)
}

/// [`check`] with the Authorization header already parsed.
pub fn check_parsed<'a>(
    req: &Signed<'a>,
    auth: Authorization<'a>,
    service: Option<&str>,
    now: i64,
    window: i64,
) -> Result<Checked<'a>, Tc3Error> {
    let timestamp = req
        .header("x-tc-timestamp")?
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or(Tc3Error::Timestamp)?;
    let date = utc_date(timestamp);
    if auth.date.as_bytes() != date {
        return Err(Tc3Error::Scope(format!(
            "its date `{}` is not the UTC date of x-tc-timestamp {timestamp} ({})",
            auth.date.chars().take(16).collect::<String>(),
            std::str::from_utf8(&date).unwrap_or_default()
        )));
    }
    if let Some(want) = service.filter(|s| *s != auth.service) {
        return Err(Tc3Error::Scope(format!(
            "its service `{}` is not `{want}`",
            auth.service.chars().take(32).collect::<String>()
        )));
    }
    let names: Vec<&str> = auth.signed_headers.split(';').collect();
    for needed in ["content-type", "host"] {
        if !names.contains(&needed) {
            return Err(Tc3Error::Headers(format!(
                "SignedHeaders must include `{needed}`"
            )));
        }
    }
    let skew = timestamp.saturating_sub(now);
    if skew.saturating_abs() > window {
        return Err(Tc3Error::Expired {
            timestamp,
            skew,
            window,
        });
    }
    let canonical = canonical_hex(req, &names)?;
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{}/{}/{TERMINATOR}\n{}",
        auth.date,
        auth.service,
        std::str::from_utf8(&canonical).unwrap_or_default()
    );
    Ok(Checked {
        auth,
        timestamp,
        string_to_sign,
    })
}

/// The canonical request over the headers `names` (lowercase, as signed).
fn canonical_request(req: &Signed<'_>, names: &[&str]) -> Result<String, Tc3Error> {
    let mut out = Vec::new();
    canonical_into(req, names, &mut |b| out.extend_from_slice(b))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// SHA-256 of the canonical request, in hex, hashed as it is produced.
fn canonical_hex(req: &Signed<'_>, names: &[&str]) -> Result<[u8; 64], Tc3Error> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    canonical_into(req, names, &mut |b| ctx.update(b))?;
    Ok(hex_array(ctx.finish().as_ref()))
}

/// The canonical request over the headers `names` (lowercase, as signed),
/// fed to `out` piece by piece.
fn canonical_into(
    req: &Signed<'_>,
    names: &[&str],
    out: &mut dyn FnMut(&[u8]),
) -> Result<(), Tc3Error> {
    let payload = match req.payload {
        Payload::Bytes(b) => hex_array(digest::digest(&digest::SHA256, b).as_ref()),
        Payload::Sha256Hex(h) => match unhex(h) {
            Some(bytes) => hex_array(&bytes),
            None => return Err(malformed("the payload hash must be 64 hex digits")),
        },
    };
    for part in [req.method, "\n", req.path, "\n", req.query, "\n"] {
        out(part.as_bytes());
    }
    for name in names {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(Tc3Error::Headers(
                "SignedHeaders must be lowercase names separated by `;`".into(),
            ));
        }
        let value = req.header(name)?.ok_or_else(|| {
            Tc3Error::Headers(format!(
                "signed header `{}` is not in the request",
                name.chars().take(64).collect::<String>()
            ))
        })?;
        out(name.as_bytes());
        out(b":");
        let value = value.trim();
        if value.bytes().any(|b| b.is_ascii_uppercase()) {
            out(value.to_ascii_lowercase().as_bytes());
        } else {
            out(value.as_bytes());
        }
        out(b"\n");
    }
    out(b"\n");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out(b";");
        }
        out(name.as_bytes());
    }
    out(b"\n");
    out(&payload);
    Ok(())
}

/// The signing key a SecretKey gives for one date and service.
pub fn signing_key(secret_key: &str, date: &str, service: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let mut first = zeroize::Zeroizing::new(Vec::with_capacity(3 + secret_key.len()));
    first.extend_from_slice(b"TC3");
    first.extend_from_slice(secret_key.as_bytes());
    let date_key = step(&first, date);
    let service_key = step(date_key.as_ref(), service);
    let signing = step(service_key.as_ref(), TERMINATOR);
    hmac::Key::new(hmac::HMAC_SHA256, signing.as_ref())
}

/// Whether the signature is the signing key's over the request, in constant time.
pub fn verify(checked: &Checked<'_>, key: &hmac::Key) -> Result<(), Tc3Error> {
    hmac::verify(
        key,
        checked.string_to_sign.as_bytes(),
        &checked.auth.signature,
    )
    .map_err(|_| Tc3Error::Mismatch)
}

/// What `sign` needs to know of a request.
#[derive(Debug, Clone, Copy)]
pub struct ToSign<'a> {
    /// The SecretId.
    pub secret_id: &'a str,
    /// The service (`cam`, `im`).
    pub service: &'a str,
    /// X-TC-Timestamp.
    pub timestamp: i64,
    /// The request; its headers must hold every header in `signed`.
    pub request: Signed<'a>,
    /// The headers to sign, lowercase, sorted.
    pub signed: &'a [&'a str],
}

/// The Authorization header value for a request (for `camctl sign` and tests).
pub fn sign(secret_key: &str, s: &ToSign<'_>) -> Result<String, Tc3Error> {
    let canonical = canonical_request(&s.request, s.signed)?;
    let date_bytes = utc_date(s.timestamp);
    let date = std::str::from_utf8(&date_bytes).unwrap_or_default();
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{date}/{}/{TERMINATOR}\n{}",
        s.timestamp,
        s.service,
        sha256_hex(canonical.as_bytes())
    );
    let key = signing_key(secret_key, date, s.service);
    let signature = hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    Ok(format!(
        "{ALGORITHM} Credential={}/{date}/{}/{TERMINATOR}, SignedHeaders={}, Signature={signature}",
        s.secret_id,
        s.service,
        s.signed.join(";")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tencent's published example: CVM DescribeInstances, timestamp 1551113065.
    const PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3*******";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";

    fn headers(auth: &str) -> Vec<(String, String)> {
        vec![
            ("Authorization".into(), auth.into()),
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
            ("Host".into(), "cvm.tencentcloudapi.com".into()),
            ("X-TC-Action".into(), "DescribeInstances".into()),
            ("X-TC-Timestamp".into(), "1551113065".into()),
        ]
    }

    #[test]
    fn tencents_published_example() {
        assert_eq!(
            sha256_hex(PAYLOAD.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let h = headers("");
        let req = Signed {
            method: "POST",
            path: "/",
            query: "",
            headers: &h,
            payload: Payload::Bytes(PAYLOAD.as_bytes()),
        };
        let canonical = canonical_request(&req, &["content-type", "host"]).unwrap();
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let auth = sign(
            KEY,
            &ToSign {
                secret_id: ID,
                service: "cvm",
                timestamp: 1_551_113_065,
                request: req,
                signed: &["content-type", "host"],
            },
        )
        .unwrap();
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        // The example's SecretId is masked (`*`), so it is refused as a
        // SecretId; the signature itself verifies.
        let h = headers(&auth);
        let signed = Signed { headers: &h, ..req };
        assert!(matches!(
            check(&signed, Some("cvm"), 1_551_113_065, 300),
            Err(Tc3Error::SecretId(_))
        ));
    }

    #[test]
    fn the_checks_refuse_in_order() {
        let id = "AKIDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let ts = 1_551_113_065;
        let good = |h: &[(String, String)]| {
            let req = Signed {
                method: "POST",
                path: "/",
                query: "",
                headers: h,
                payload: Payload::Bytes(b"{}"),
            };
            sign(
                "k",
                &ToSign {
                    secret_id: id,
                    service: "cam",
                    timestamp: ts,
                    request: req,
                    signed: &["content-type", "host"],
                },
            )
            .unwrap()
        };
        let h = headers("");
        let auth = good(&h);
        let h = headers(&auth);
        let req = Signed {
            method: "POST",
            path: "/",
            query: "",
            headers: &h,
            payload: Payload::Bytes(b"{}"),
        };
        let c = check(&req, Some("cam"), ts + 10, 300).unwrap();
        verify(&c, &signing_key("k", "2019-02-25", "cam")).unwrap();
        assert_eq!(
            verify(&c, &signing_key("j", "2019-02-25", "cam")),
            Err(Tc3Error::Mismatch)
        );
        assert!(matches!(
            check(&req, Some("im"), ts, 300),
            Err(Tc3Error::Scope(_))
        ));
        assert!(matches!(
            check(&req, None, ts + 301, 300),
            Err(Tc3Error::Expired { skew: -301, .. })
        ));
        let swap = |from: &str, to: &str| {
            let h = headers(&auth.replace(from, to));
            let r = Signed { headers: &h, ..req };
            check(&r, None, ts, 300).map(|_| ()).unwrap_err().code()
        };
        assert_eq!(
            swap("TC3-HMAC-SHA256 ", "HMAC-SHA1 "),
            Code::InvalidAuthorization
        );
        assert_eq!(
            swap("content-type;host", "host"),
            Code::InvalidAuthorization
        );
        assert_eq!(swap("2019-02-25", "2019-02-26"), Code::InvalidAuthorization);
        assert_eq!(swap("AKIDaaaa", "AKIDaa*a"), Code::InvalidSecretId);
        assert_eq!(
            swap("tc3_request", "tc4_request"),
            Code::InvalidAuthorization
        );
        assert_eq!(
            swap("Signature=", "Signature=0"),
            Code::InvalidAuthorization
        );
    }

    mod tampering {
        use super::*;
        use proptest::prelude::*;

        const ID: &str = "AKIDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

        struct Parts {
            method: String,
            path: String,
            query: String,
            host: String,
            action: String,
            timestamp: i64,
            body: Vec<u8>,
            service: String,
        }

        fn headers(p: &Parts, auth: &str) -> Vec<(String, String)> {
            vec![
                ("Authorization".into(), auth.into()),
                ("Content-Type".into(), "application/json".into()),
                ("Host".into(), p.host.clone()),
                ("X-TC-Action".into(), p.action.clone()),
                ("X-TC-Timestamp".into(), p.timestamp.to_string()),
            ]
        }

        fn request<'a>(p: &'a Parts, h: &'a [(String, String)]) -> Signed<'a> {
            Signed {
                method: &p.method,
                path: &p.path,
                query: &p.query,
                headers: h,
                payload: Payload::Bytes(&p.body),
            }
        }

        /// Signs `p` with key `k`, applies `change` (to the parts or the
        /// Authorization header), and verifies.
        fn verify_after(p: &mut Parts, k: &str, change: usize) -> Result<(), Tc3Error> {
            let h = headers(p, "");
            let mut auth = sign(
                k,
                &ToSign {
                    secret_id: ID,
                    service: &p.service,
                    timestamp: p.timestamp,
                    request: request(p, &h),
                    signed: &["content-type", "host", "x-tc-action"],
                },
            )?;
            let now = p.timestamp;
            match change {
                0 => p.method = "PUT".into(),
                1 => p.path.push('x'),
                2 => p.query.push_str("&a=1"),
                3 => p.host.push('x'),
                4 => p.action.push('x'),
                5 => match p.body.first_mut() {
                    Some(b) => *b ^= 1,
                    None => p.body.push(b'x'),
                },
                6 => p.timestamp += 1,
                7 => auth = auth.replacen("/tc3_request", "x/tc3_request", 1),
                8 => {
                    let at = auth.len() - 1;
                    let last = if auth.ends_with('0') { "1" } else { "0" };
                    auth.replace_range(at.., last);
                }
                9 => {
                    // The date: the next day (the timestamp moves with it,
                    // so only the scope's date and what it signs change).
                    p.timestamp += 86_400;
                }
                _ => {}
            }
            let h = headers(p, &auth);
            let checked = check(&request(p, &h), None, now, 100_000)?;
            let a = &checked.auth;
            verify(&checked, &signing_key(k, a.date, a.service))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn any_change_to_a_signed_byte_is_refused(
                path in "/[a-z/]{0,12}",
                query in "([a-z]{1,5}=[a-z0-9]{0,5})?",
                host in "[a-z]{1,10}\\.example(:[0-9]{2,5})?",
                action in "[A-Z][a-zA-Z]{1,20}",
                timestamp in 1_500_000_000i64..2_000_000_000,
                body in proptest::collection::vec(any::<u8>(), 0..512),
                service in "[a-z]{2,8}",
                key in "[A-Za-z0-9]{32}",
                change in 0usize..10,
            ) {
                let make = || Parts {
                    method: "POST".into(),
                    path: path.clone(),
                    query: query.clone(),
                    host: host.clone(),
                    action: action.clone(),
                    timestamp,
                    body: body.clone(),
                    service: service.clone(),
                };
                prop_assert_eq!(verify_after(&mut make(), &key, usize::MAX), Ok(()));
                prop_assert!(verify_after(&mut make(), &key, change).is_err(), "change {} verified", change);
            }
        }
    }
}
