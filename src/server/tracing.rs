//! The W3C trace context of the request being answered, for the decision
//! records of the permission checks it makes (admin operations with a key,
//! CAM API calls, whose `traceparent` header camd-api passes on).

use crate::protocol::ApiCall;

tokio::task_local! {
    /// The request's `traceparent`, while its admin operation or API call runs.
    pub static TRACE: Option<String>;
}

/// The trace context of the request being answered, if it gave one.
pub fn current() -> Option<String> {
    TRACE.try_with(Clone::clone).ok().flatten()
}

/// A CAM API call's `traceparent` header.
pub fn header_trace(call: &ApiCall) -> Option<String> {
    call.request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("traceparent"))
        .map(|(_, v)| v.trim().to_string())
}
