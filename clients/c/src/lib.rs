//! libcamd: camd's client for C and C++ (`include/camd.h`), over the Rust
//! client. Every entry point catches panics, checks its pointers, and
//! reports failures as a `camd_error` with a CAM code.
#![allow(non_camel_case_types, reason = "the types keep the C names of camd.h")]

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use camd_core::client::{Client, ClientError, by_key, by_user};
use camd_core::protocol::{Authorize, Decision, DecisionId};

/// `CAMD_OK`.
const OK: i32 = 0;
/// `CAMD_ERROR`.
const ERROR: i32 = -1;

/// A connection to camd, shared by threads (calls take turns).
pub struct camd_client {
    inner: Mutex<Inner>,
}

struct Inner {
    path: PathBuf,
    timeout: Duration,
    conn: Option<Client>,
}

/// A decision, as `camd.h` lays it out.
#[repr(C)]
pub struct camd_decision {
    allowed: i32,
    reason: [c_char; 32],
    policy: [c_char; 256],
    statement: i64,
    uin: u64,
}

/// Per-call options, as `camd.h` lays them out.
#[repr(C)]
pub struct camd_ask_options {
    traceparent: *const c_char,
    decision_id: [c_char; 17],
}

/// Why a call failed, as `camd.h` lays it out.
#[repr(C)]
pub struct camd_error {
    code: [c_char; 96],
    message: [c_char; 512],
}

// camd.h's layouts: checked here and by `_Static_assert` in the C tests.
const _: () = assert!(std::mem::size_of::<camd_decision>() == 312);
const _: () = assert!(std::mem::offset_of!(camd_decision, statement) == 296);
const _: () = assert!(std::mem::offset_of!(camd_decision, uin) == 304);
const _: () = assert!(std::mem::size_of::<camd_error>() == 608);
const _: () = assert!(std::mem::size_of::<camd_ask_options>() == 32);

/// A failure before it is written out.
struct Fail {
    code: String,
    message: String,
}

impl Fail {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Copies `s` into `dst`, cut at a character boundary to fit, NUL-terminated.
fn put(dst: &mut [c_char], s: &str) {
    let room = dst.len().saturating_sub(1);
    let mut end = s.len().min(room);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.as_bytes().iter().take(end)) {
        *d = *b as c_char;
    }
    if let Some(nul) = dst.get_mut(end) {
        *nul = 0;
    }
}

/// Fills `err` (when not NULL) with `f`.
///
/// # Safety
/// `err` is NULL or points to a writable `camd_error`.
unsafe fn report(err: *mut camd_error, f: &Fail) {
    // SAFETY: the caller passes NULL or a valid, writable camd_error.
    if let Some(e) = unsafe { err.as_mut() } {
        put(&mut e.code, &f.code);
        put(&mut e.message, &f.message);
    }
}

/// The string at `p`, or a failure naming `what`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the call.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return Err(Fail::new("InvalidParameter", format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Fail::new("InvalidParameter", format!("{what} is not UTF-8")))
}

/// The context pairs at `p`.
///
/// # Safety
/// `p` is NULL (with `pairs` 0) or holds `2 * pairs` valid strings.
unsafe fn context<'a>(
    p: *const *const c_char,
    pairs: usize,
) -> Result<Vec<(&'a str, &'a str)>, Fail> {
    if pairs == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() || pairs > 1024 {
        return Err(Fail::new(
            "InvalidParameter",
            format!("context is NULL or has {pairs} pairs (at most 1024)"),
        ));
    }
    // SAFETY: the caller passes 2 * pairs readable pointers at `p`.
    let all = unsafe { std::slice::from_raw_parts(p, pairs * 2) };
    all.chunks(2)
        .map(|kv| match kv {
            // SAFETY: each pointer is a string by the caller's contract.
            [k, v] => Ok(unsafe { (text(*k, "a context key")?, text(*v, "a context value")?) }),
            _ => Err(Fail::new("InvalidParameter", "a context pair is cut")),
        })
        .collect()
}

fn client_failure(e: &ClientError) -> Fail {
    match e {
        ClientError::Remote(w) => Fail::new(&w.code, w.message.clone()),
        ClientError::Io { cause, .. }
            if matches!(
                cause.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Fail::new("ClientError.Timeout", e.to_string())
        }
        other => Fail::new("ClientError.Connection", other.to_string()),
    }
}

impl Inner {
    fn connection(&mut self) -> Result<&mut Client, Fail> {
        if self.conn.is_none() {
            let c = Client::connect_within(&self.path, Some(self.timeout))
                .map_err(|e| client_failure(&e))?;
            self.conn = Some(c);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Fail::new("ClientError.Connection", "no connection"))
    }

    /// Decides, on a new connection once more if the old one broke (a
    /// decision changes nothing, so asking again is safe).
    /// `trace`: the traceparent to send; the decision id comes back with it.
    fn decide(
        &mut self,
        ask: &Authorize,
        trace: Option<&str>,
    ) -> Result<(Decision, Option<DecisionId>), Fail> {
        for attempt in 0..2 {
            let conn = self.connection()?;
            conn.set_traceparent(trace.map(str::to_string));
            let r = conn.authorize(ask.clone());
            let id = conn.last_decision_id();
            conn.set_traceparent(None);
            match r {
                Ok(d) => return Ok((d, id)),
                Err(e @ ClientError::Remote(_)) => return Err(client_failure(&e)),
                Err(e) => {
                    // A broken or late connection is never used again: a
                    // late reply would answer the next question.
                    self.conn = None;
                    let f = client_failure(&e);
                    if attempt == 1 || f.code == "ClientError.Timeout" {
                        return Err(f);
                    }
                }
            }
        }
        Err(Fail::new("ClientError.Connection", "camd did not answer"))
    }
}

/// Runs `f`, turning a panic into a failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, Fail>) -> Result<T, Fail> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Fail::new("InternalError", "libcamd failed internally")))
}

/// The library's version.
#[unsafe(no_mangle)]
pub extern "C" fn camd_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// See `camd.h`.
///
/// # Safety
/// `socket_path` is NULL or a NUL-terminated string; `err` is NULL or a
/// writable `camd_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_connect(
    socket_path: *const c_char,
    timeout_ms: u32,
    err: *mut camd_error,
) -> *mut camd_client {
    let made = guarded(|| {
        let path = if socket_path.is_null() {
            camd_core::client::default_socket()
        } else {
            // SAFETY: non-NULL and NUL-terminated by the caller's contract.
            PathBuf::from(unsafe { text(socket_path, "socket_path")? })
        };
        let ms = if timeout_ms == 0 { 5000 } else { timeout_ms };
        let mut inner = Inner {
            path,
            timeout: Duration::from_millis(u64::from(ms)),
            conn: None,
        };
        inner.connection()?;
        Ok(Box::new(camd_client {
            inner: Mutex::new(inner),
        }))
    });
    match made {
        Ok(c) => Box::into_raw(c),
        Err(f) => {
            // SAFETY: err is NULL or writable by the caller's contract.
            unsafe { report(err, &f) };
            std::ptr::null_mut()
        }
    }
}

/// See `camd.h`.
///
/// # Safety
/// `client` is NULL or was returned by `camd_connect` and not closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_close(client: *mut camd_client) {
    if !client.is_null() {
        // SAFETY: a pointer camd_connect made with Box::into_raw, closed once.
        drop(unsafe { Box::from_raw(client) });
    }
}

/// Decides `ask` on `client`, writing `out` or `err`.
///
/// # Safety
/// As `camd_authorize_user`.
unsafe fn answer(
    client: *mut camd_client,
    ask: impl FnOnce() -> Result<Authorize, Fail>,
    opts: *mut camd_ask_options,
    out: *mut camd_decision,
    err: *mut camd_error,
) -> i32 {
    let result = guarded(|| {
        // SAFETY: NULL or a live client by the caller's contract.
        let c = unsafe { client.as_ref() }
            .ok_or_else(|| Fail::new("InvalidParameter", "client is NULL"))?;
        if out.is_null() {
            return Err(Fail::new("InvalidParameter", "out is NULL"));
        }
        let ask = ask()?;
        // SAFETY: NULL or a valid camd_ask_options by the caller's contract.
        let trace = match unsafe { opts.as_ref() } {
            Some(o) if !o.traceparent.is_null() => {
                // SAFETY: a NUL-terminated string by the caller's contract.
                Some(unsafe { text(o.traceparent, "traceparent") }?)
            }
            _ => None,
        };
        // A call that panicked holding the lock left a connection in an
        // unknown state: drop it and go on.
        let mut inner = c.inner.lock().unwrap_or_else(|poisoned| {
            c.inner.clear_poison();
            let mut inner = poisoned.into_inner();
            inner.conn = None;
            inner
        });
        inner.decide(&ask, trace)
    });
    match result {
        Ok((d, id)) => {
            // SAFETY: NULL or writable by the caller's contract.
            if let Some(o) = unsafe { opts.as_mut() } {
                put(
                    &mut o.decision_id,
                    &id.map(|i| i.to_string()).unwrap_or_default(),
                );
            }
            // SAFETY: checked non-NULL above; writable by the caller's contract.
            if let Some(o) = unsafe { out.as_mut() } {
                o.allowed = i32::from(d.allowed);
                put(&mut o.reason, &d.reason);
                put(&mut o.policy, d.policy.as_deref().unwrap_or(""));
                o.statement = d.statement.map_or(-1, i64::from);
                o.uin = d.uin;
            }
            OK
        }
        Err(f) => {
            // SAFETY: err is NULL or writable by the caller's contract.
            unsafe { report(err, &f) };
            ERROR
        }
    }
}

/// See `camd.h`.
///
/// # Safety
/// `client` is live; the strings are NUL-terminated; `context` holds
/// `2 * context_pairs` strings; `out` and `err` are writable (`err` may be
/// NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_authorize_user(
    client: *mut camd_client,
    user: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context: *const *const c_char,
    context_pairs: usize,
    out: *mut camd_decision,
    err: *mut camd_error,
) -> i32 {
    // SAFETY: forwarded under this function's contract, without options.
    unsafe {
        camd_authorize_user_with(
            client,
            user,
            action,
            resource,
            context,
            context_pairs,
            std::ptr::null_mut(),
            out,
            err,
        )
    }
}

/// See `camd.h`.
///
/// # Safety
/// As `camd_authorize_user`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_authorize_key(
    client: *mut camd_client,
    secret_id: *const c_char,
    secret_key: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context: *const *const c_char,
    context_pairs: usize,
    out: *mut camd_decision,
    err: *mut camd_error,
) -> i32 {
    // SAFETY: forwarded under this function's contract, without options.
    unsafe {
        camd_authorize_key_with(
            client,
            secret_id,
            secret_key,
            action,
            resource,
            context,
            context_pairs,
            std::ptr::null_mut(),
            out,
            err,
        )
    }
}

/// See `camd.h`.
///
/// # Safety
/// As `camd_authorize_user`; `opts` is NULL or a writable
/// `camd_ask_options` whose `traceparent` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_authorize_user_with(
    client: *mut camd_client,
    user: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context: *const *const c_char,
    context_pairs: usize,
    opts: *mut camd_ask_options,
    out: *mut camd_decision,
    err: *mut camd_error,
) -> i32 {
    let ask = || {
        // SAFETY: the strings and pairs are valid by the caller's contract.
        unsafe {
            let ctx = self::context(context, context_pairs)?;
            Ok(by_user(
                text(user, "user")?,
                text(action, "action")?,
                text(resource, "resource")?,
                &ctx,
            ))
        }
    };
    // SAFETY: forwarded under this function's contract.
    unsafe { answer(client, ask, opts, out, err) }
}

/// See `camd.h`.
///
/// # Safety
/// As `camd_authorize_user_with`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn camd_authorize_key_with(
    client: *mut camd_client,
    secret_id: *const c_char,
    secret_key: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context: *const *const c_char,
    context_pairs: usize,
    opts: *mut camd_ask_options,
    out: *mut camd_decision,
    err: *mut camd_error,
) -> i32 {
    let ask = || {
        // SAFETY: the strings and pairs are valid by the caller's contract.
        unsafe {
            let ctx = self::context(context, context_pairs)?;
            Ok(by_key(
                text(secret_id, "secret_id")?,
                text(secret_key, "secret_key")?,
                text(action, "action")?,
                text(resource, "resource")?,
                &ctx,
            ))
        }
    };
    // SAFETY: forwarded under this function's contract.
    unsafe { answer(client, ask, opts, out, err) }
}
