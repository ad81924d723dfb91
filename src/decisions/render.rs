//! A captured decision as one JSON line of the decision log, with OPA's
//! field names where OPA has one (docs/decision-log.md), masked values
//! replaced before anything is written.

use serde::Serialize;

use super::record::{Capture, Item};
use super::rules::Rules;

/// What a masked value is written as.
pub const MASKED: &str = "***";

#[derive(Serialize)]
struct Line<'a> {
    decision_id: String,
    timestamp: &'a str,
    path: &'static str,
    requested_by: Caller,
    input: Input<'a>,
    result: Outcome<'a>,
    revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    masked: Vec<String>,
    labels: Labels<'a>,
}

#[derive(Serialize)]
struct Caller {
    uid: u32,
    pid: u32,
}

#[derive(Serialize)]
struct Input<'a> {
    principal: Principal<'a>,
    action: &'a str,
    resource: &'a str,
    context: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Principal<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uin: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_id: Option<&'a str>,
}

#[derive(Serialize)]
struct Outcome<'a> {
    allowed: bool,
    outcome: &'static str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    boundary: Option<&'a str>,
    message: String,
}

#[derive(Serialize)]
struct Labels<'a> {
    host: &'a str,
    version: &'static str,
}

/// A W3C `traceparent`'s trace and span ids, when it is valid (version
/// `00`'s layout; an invalid one is ignored, as W3C Trace Context asks).
pub fn trace_ids(tp: &str) -> Option<(&str, &str)> {
    let mut parts = tp.split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    let ok = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && !zero(trace)
        && hex(span, 16)
        && !zero(span)
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    ok.then_some((trace, span))
}

/// Appends `item`'s JSON line (with its newline) to `out`.
pub fn line(out: &mut Vec<u8>, cap: &Capture, item: &Item, rules: &Rules, host: &str) {
    let mut masked = Vec::new();
    let mut context = serde_json::Map::new();
    for (k, v) in cap.context(item) {
        if context.contains_key(k) {
            continue;
        }
        let v = if rules.masks(k) {
            masked.push(format!("/input/context/{k}"));
            MASKED
        } else {
            v
        };
        context.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let time = crate::policy::TimeText::new(cap.at_ms);
    let trace = cap.traceparent.and_then(|t| trace_ids(cap.text(t)));
    let decided = cap.decision(item);
    let result = match &decided {
        Ok(d) => Outcome {
            allowed: d.is_allowed(),
            outcome: if d.is_allowed() { "allow" } else { "deny" },
            reason: d.reason_code(),
            policy: d.policy(),
            statement: d.statement().map(|s| s.statement),
            boundary: d.by_boundary().then(|| d.policy()).flatten(),
            message: d.to_string(),
        },
        Err((code, message)) => Outcome {
            allowed: false,
            outcome: "error",
            reason: code,
            policy: None,
            statement: None,
            boundary: None,
            message: message.to_string(),
        },
    };
    let l = Line {
        decision_id: item.id.to_string(),
        timestamp: time.as_str(),
        path: cap.path.as_str(),
        requested_by: Caller {
            uid: cap.uid,
            pid: cap.pid,
        },
        input: Input {
            principal: Principal {
                uin: (item.uin != 0).then_some(item.uin),
                name: item.name.map(|n| cap.text(n)),
                secret_id: item.secret_id.map(|s| cap.text(s)),
            },
            action: cap.text(item.action),
            resource: cap.text(item.resource),
            context,
        },
        result,
        revision: cap.revision,
        trace_id: trace.map(|t| t.0),
        span_id: trace.map(|t| t.1),
        masked,
        labels: Labels {
            host,
            version: env!("CARGO_PKG_VERSION"),
        },
    };
    if serde_json::to_writer(&mut *out, &l).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_trace_contexts_are_read() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            trace_ids(ok),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        ] {
            assert_eq!(trace_ids(bad), None, "{bad}");
        }
    }
}
