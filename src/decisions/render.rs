//! A captured decision as one JSON line of the decision log, with OPA's
//! field names where OPA has one (docs/decision-log.md), masked values
//! replaced before anything is written.

use serde::Serialize;

use crate::policy::Decision;
use crate::protocol::DecisionId;

use super::record::{Capture, Item};
use super::rules::Rules;

/// What a masked value is written as.
pub const MASKED: &str = "***";

#[derive(Serialize)]
struct Head<'a> {
    decision_id: Shown<DecisionId>,
    timestamp: &'a str,
    path: &'static str,
    requested_by: Caller,
}

#[derive(Serialize)]
struct Tail<'a> {
    revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    masked: Vec<String>,
    labels: Labels<'a>,
}

/// A value written through its `Display` (no string built first).
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
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
    context: Context<'a>,
}

/// An item's context as a JSON object, masked values replaced, written
/// straight from the capture (the first of a repeated key wins).
struct Context<'a> {
    cap: &'a Capture,
    item: &'a Item,
    rules: &'a Rules,
}

impl Serialize for Context<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        let pairs: Vec<(&str, &str)> = self.cap.context(self.item).collect();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if pairs.iter().take(i).any(|(seen, _)| seen == k) {
                continue;
            }
            let v = if self.rules.masks(k) { MASKED } else { v };
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
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

/// The decision in words: the engine's own, or an error's message.
enum Message<'a> {
    Decided(&'a Decision<'a>),
    Failed(&'a str),
}

impl Serialize for Message<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Decided(d) => s.collect_str(d),
            Message::Failed(m) => s.serialize_str(m),
        }
    }
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
    message: Message<'a>,
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

/// What every line of one capture shares.
pub struct Shared<'a> {
    /// The capture's time, as text.
    pub timestamp: &'a str,
    /// The host's name.
    pub host: &'a str,
    /// The rules (for masks).
    pub rules: &'a Rules,
}

/// The `input` and `result` of the line before, kept: a batch's items
/// mostly repeat them, and copying them is cheaper than writing them again.
#[derive(Default)]
pub struct Repeats {
    prev: Option<Item>,
    input: Vec<u8>,
    result: Vec<u8>,
}

/// Appends `item`'s JSON line (with its newline) to `out`; `repeats` is
/// reset for each capture.
pub fn line(
    out: &mut Vec<u8>,
    cap: &Capture,
    item: &Item,
    shared: &Shared<'_>,
    repeats: &mut Repeats,
) {
    let rules = shared.rules;
    let head = Head {
        decision_id: Shown(item.id),
        timestamp: shared.timestamp,
        path: cap.path.as_str(),
        requested_by: Caller {
            uid: cap.uid,
            pid: cap.pid,
        },
    };
    let start = out.len();
    if serde_json::to_writer(&mut *out, &head).is_err() {
        out.truncate(start);
        return;
    }
    // `{...}` becomes `{...,"input":`: the head's closing brace goes.
    out.pop();
    let prev = repeats.prev.filter(|p| p.id < item.id);
    if !prev.is_some_and(|p| cap.same_input(&p, item)) {
        repeats.input.clear();
        let input = Input {
            principal: Principal {
                uin: (item.uin != 0).then_some(item.uin),
                name: item.name.map(|n| cap.text(n)),
                secret_id: item.secret_id.map(|s| cap.text(s)),
            },
            action: cap.text(item.action),
            resource: cap.text(item.resource),
            context: Context { cap, item, rules },
        };
        let _ = serde_json::to_writer(&mut repeats.input, &input);
    }
    if !prev.is_some_and(|p| cap.same_reason(&p, item)) {
        repeats.result.clear();
        let _ = serde_json::to_writer(&mut repeats.result, &outcome(cap, item));
    }
    repeats.prev = Some(*item);
    out.extend_from_slice(b",\"input\":");
    out.extend_from_slice(&repeats.input);
    out.extend_from_slice(b",\"result\":");
    out.extend_from_slice(&repeats.result);
    let mut masked: Vec<String> = Vec::new();
    for (k, _) in cap.context(item).filter(|(k, _)| rules.masks(k)) {
        // A JSON Pointer: `~` and `/` escaped.
        let path = format!("/input/context/{}", k.replace('~', "~0").replace('/', "~1"));
        if !masked.contains(&path) {
            masked.push(path);
        }
    }
    let trace = cap.traceparent.and_then(|t| trace_ids(cap.text(t)));
    let tail = Tail {
        revision: cap.revision,
        trace_id: trace.map(|t| t.0),
        span_id: trace.map(|t| t.1),
        masked,
        labels: Labels {
            host: shared.host,
            version: env!("CARGO_PKG_VERSION"),
        },
    };
    out.push(b',');
    let at = out.len();
    if serde_json::to_writer(&mut *out, &tail).is_err() {
        out.truncate(start);
        return;
    }
    // `,{"revision":...}` becomes `,"revision":...}`.
    out.remove(at);
    out.push(b'\n');
}

/// An item's `result`.
fn outcome<'c>(cap: &'c Capture, item: &Item) -> OutcomeOwned<'c> {
    OutcomeOwned(cap.decision(item))
}

/// The decision (or error) an item's `result` is written from.
struct OutcomeOwned<'c>(Result<Decision<'c>, (&'c str, &'c str)>);

impl Serialize for OutcomeOwned<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = match &self.0 {
            Ok(d) => Outcome {
                allowed: d.is_allowed(),
                outcome: if d.is_allowed() { "allow" } else { "deny" },
                reason: d.reason_code(),
                policy: d.policy(),
                statement: d.statement().map(|s| s.statement),
                boundary: d.by_boundary().then(|| d.policy()).flatten(),
                message: Message::Decided(d),
            },
            Err((code, message)) => Outcome {
                allowed: false,
                outcome: "error",
                reason: code,
                policy: None,
                statement: None,
                boundary: None,
                message: Message::Failed(message),
            },
        };
        o.serialize(s)
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
