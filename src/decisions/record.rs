//! A request's decisions as captured when they are made: every string in
//! one buffer (no allocation per field), with the engine's reason kept as
//! it was, so the writer thread can render the record without deciding again.

use crate::policy::{Decision, Reason, StatementRef};
use crate::protocol::DecisionId;

/// Context pairs a record keeps, at most (the first ones asked with): a
/// request may carry many more, and a record must stay cheap to write.
pub const MAX_CONTEXT: usize = 64;

/// What a decision came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
    /// Not decided: an error (unknown user, failed authentication, ...).
    Error,
}

impl Outcome {
    /// As the config and the records spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Error => "error",
        }
    }

    /// From the config's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Outcome::Allow, Outcome::Deny, Outcome::Error]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s))
    }
}

/// How a request asked (the record's `path`, as OPA names the query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// One `Authorize`.
    Authorize,
    /// A `Batch` of them.
    Batch,
    /// `AuthorizeSigned`.
    AuthorizeSigned,
    /// `AuthorizeAt` (cluster mode).
    AuthorizeAt,
    /// The permission check of a CAM API call.
    CallApi,
    /// The permission check of an admin request made with a key.
    Admin,
}

impl Path {
    /// As the records spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Authorize => "Authorize",
            Path::Batch => "Batch",
            Path::AuthorizeSigned => "AuthorizeSigned",
            Path::AuthorizeAt => "AuthorizeAt",
            Path::CallApi => "CallApi",
            Path::Admin => "Admin",
        }
    }
}

/// A string inside the capture's buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

/// The engine's reason, its policy names as spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Root,
    Allowed(Span, usize),
    ExplicitDeny(Span, usize),
    FailClosedDeny(Span, usize),
    ImplicitDeny(Option<(Span, usize)>),
    BoundaryDeny(Span, usize),
    BoundaryFailClosedDeny(Span, usize),
    OutsideBoundary(Span, usize, Span),
    /// Not decided: the error's code and message.
    Failed(Span, Span),
}

/// One decision of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Its id.
    pub id: DecisionId,
    /// The principal's uin (0: not known, e.g. an unknown user).
    pub uin: u64,
    /// The user name it was asked by.
    pub name: Option<Span>,
    /// The SecretId it was asked by.
    pub secret_id: Option<Span>,
    /// The action.
    pub action: Span,
    /// The resource.
    pub resource: Span,
    context: (u32, u32),
    why: Why,
}

/// Who was asked about, as the request named them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    /// By name.
    pub name: Option<&'a str>,
    /// By uin.
    pub uin: u64,
    /// By access key.
    pub secret_id: Option<&'a str>,
    /// The action.
    pub action: &'a str,
    /// The resource.
    pub resource: &'a str,
    /// The context pairs.
    pub context: &'a [(&'a str, &'a str)],
}

/// How a decision ended.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a, 'd> {
    /// The engine decided, for the principal with this uin.
    Decided(u64, &'a Decision<'d>),
    /// An error: its CAM code and message.
    Failed(&'a str, &'a str),
}

impl Answer<'_, '_> {
    /// The outcome the rules see.
    pub fn outcome(&self) -> Outcome {
        match self {
            Answer::Decided(_, d) if d.is_allowed() => Outcome::Allow,
            Answer::Decided(..) => Outcome::Deny,
            Answer::Failed(..) => Outcome::Error,
        }
    }
}

/// The decisions of one request, captured.
#[derive(Debug, Clone)]
pub struct Capture {
    /// How it asked.
    pub path: Path,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// The caller's uid (SO_PEERCRED).
    pub uid: u32,
    /// The caller's pid when it connected (0: unknown).
    pub pid: u32,
    /// The state's revision the decisions were made at.
    pub revision: i64,
    /// The W3C trace context the request carried.
    pub traceparent: Option<Span>,
    text: String,
    pairs: Vec<(Span, Span)>,
    /// Its decisions (those the rules kept).
    pub items: Vec<Item>,
    /// The last policy name copied (a batch's items mostly share it).
    last_policy: Span,
}

impl Capture {
    /// An empty capture of a request made at `at_ms` by `uid`/`pid`.
    pub fn new(path: Path, at_ms: i64, caller: (u32, u32), revision: i64) -> Self {
        Self {
            path,
            at_ms: 0,
            uid: 0,
            pid: 0,
            revision: 0,
            traceparent: None,
            text: String::new(),
            pairs: Vec::new(),
            items: Vec::new(),
            last_policy: Span::default(),
        }
        .reuse(path, at_ms, caller, revision)
    }

    /// This capture emptied for another request, keeping its buffers
    /// (no allocation, and no page faults, for the next one).
    pub fn reuse(mut self, path: Path, at_ms: i64, (uid, pid): (u32, u32), revision: i64) -> Self {
        self.text.clear();
        self.pairs.clear();
        self.items.clear();
        Self {
            path,
            at_ms,
            uid,
            pid,
            revision,
            traceparent: None,
            last_policy: Span::default(),
            ..self
        }
    }

    /// Bytes of buffers it holds (what a pool of them may keep).
    pub fn capacity(&self) -> usize {
        self.text.capacity()
            + self.pairs.capacity() * std::mem::size_of::<(Span, Span)>()
            + self.items.capacity() * std::mem::size_of::<Item>()
    }

    /// `s`, copied unless `prev` already holds the same text.
    fn put_again(&mut self, prev: Option<Span>, s: &str) -> Span {
        match prev {
            Some(p) if self.text(p) == s => p,
            _ => self.put(s),
        }
    }

    /// Copies `s` into the buffer.
    pub fn put(&mut self, s: &str) -> Span {
        let (Ok(start), Ok(len)) = (u32::try_from(self.text.len()), u32::try_from(s.len())) else {
            return Span::default();
        };
        if start.checked_add(len).is_none() {
            return Span::default();
        }
        self.text.push_str(s);
        Span { start, len }
    }

    /// The text of a span.
    pub fn text(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.text
            .get(start..start.saturating_add(s.len as usize))
            .unwrap_or("")
    }

    /// Bytes the capture holds (what the queue's bound counts).
    pub fn bytes(&self) -> usize {
        self.text.len()
            + self.pairs.len() * std::mem::size_of::<(Span, Span)>()
            + self.items.len() * std::mem::size_of::<Item>()
            + std::mem::size_of::<Self>()
    }

    fn reference(&mut self, s: &StatementRef<'_>) -> (Span, usize) {
        let p = self.put_again(Some(self.last_policy), s.policy);
        self.last_policy = p;
        (p, s.statement)
    }

    /// Adds one decision.
    pub fn push(&mut self, id: DecisionId, asked: &Asked<'_>, answer: &Answer<'_, '_>) {
        let first = u32::try_from(self.pairs.len()).unwrap_or(u32::MAX);
        let kept = asked.context.get(..MAX_CONTEXT).unwrap_or(asked.context);
        for (k, v) in kept {
            let pair = (self.put(k), self.put(v));
            self.pairs.push(pair);
        }
        let count = u32::try_from(kept.len()).unwrap_or(0);
        let (uin, why) = match answer {
            Answer::Decided(uin, d) => (*uin, self.why(d)),
            Answer::Failed(code, message) => {
                (asked.uin, Why::Failed(self.put(code), self.put(message)))
            }
        };
        // A batch mostly repeats its principal, action and resource.
        let last = self.items.last().copied();
        let name = asked
            .name
            .map(|n| self.put_again(last.and_then(|l| l.name), n));
        let secret_id = asked
            .secret_id
            .map(|s| self.put_again(last.and_then(|l| l.secret_id), s));
        let item = Item {
            id,
            uin,
            name,
            secret_id,
            action: self.put_again(last.map(|l| l.action), asked.action),
            resource: self.put_again(last.map(|l| l.resource), asked.resource),
            context: (first, count),
            why,
        };
        self.items.push(item);
    }

    fn why(&mut self, d: &Decision<'_>) -> Why {
        match d.reason {
            Reason::Root => Why::Root,
            Reason::Allowed(s) => {
                let (p, i) = self.reference(&s);
                Why::Allowed(p, i)
            }
            Reason::ExplicitDeny(s) => {
                let (p, i) = self.reference(&s);
                Why::ExplicitDeny(p, i)
            }
            Reason::FailClosedDeny(s) => {
                let (p, i) = self.reference(&s);
                Why::FailClosedDeny(p, i)
            }
            Reason::ImplicitDeny => {
                Why::ImplicitDeny(d.unevaluable_allow.map(|s| self.reference(&s)))
            }
            Reason::BoundaryDeny(s) => {
                let (p, i) = self.reference(&s);
                Why::BoundaryDeny(p, i)
            }
            Reason::BoundaryFailClosedDeny(s) => {
                let (p, i) = self.reference(&s);
                Why::BoundaryFailClosedDeny(p, i)
            }
            Reason::OutsideBoundary { allowed, boundary } => {
                let (p, i) = self.reference(&allowed);
                Why::OutsideBoundary(p, i, self.put(boundary))
            }
        }
    }

    /// True when `a` and `b` were asked the same question (principal as
    /// named, action, resource, context), so their records' `input` is the same.
    pub fn same_input(&self, a: &Item, b: &Item) -> bool {
        a.uin == b.uin
            && a.name == b.name
            && a.secret_id == b.secret_id
            && a.action == b.action
            && a.resource == b.resource
            && a.context.1 == b.context.1
            && self.context(a).eq(self.context(b))
    }

    /// True when `a` and `b` were decided for the same reason (the same
    /// policy text, statement and outcome), so their `result` is the same.
    pub fn same_reason(&self, a: &Item, b: &Item) -> bool {
        a.why == b.why
    }

    /// An item's context pairs.
    pub fn context(&self, item: &Item) -> impl Iterator<Item = (&str, &str)> {
        let (first, count) = (item.context.0 as usize, item.context.1 as usize);
        self.pairs
            .get(first..first.saturating_add(count))
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| (self.text(*k), self.text(*v)))
    }

    /// An item's decision as the engine made it, or its error's code and
    /// message.
    pub fn decision(&self, item: &Item) -> Result<Decision<'_>, (&str, &str)> {
        let at = |p: Span, statement: usize| StatementRef {
            policy: self.text(p),
            statement,
        };
        let reason = match item.why {
            Why::Failed(code, message) => return Err((self.text(code), self.text(message))),
            Why::Root => Reason::Root,
            Why::Allowed(p, i) => Reason::Allowed(at(p, i)),
            Why::ExplicitDeny(p, i) => Reason::ExplicitDeny(at(p, i)),
            Why::FailClosedDeny(p, i) => Reason::FailClosedDeny(at(p, i)),
            Why::ImplicitDeny(_) => Reason::ImplicitDeny,
            Why::BoundaryDeny(p, i) => Reason::BoundaryDeny(at(p, i)),
            Why::BoundaryFailClosedDeny(p, i) => Reason::BoundaryFailClosedDeny(at(p, i)),
            Why::OutsideBoundary(p, i, b) => Reason::OutsideBoundary {
                allowed: at(p, i),
                boundary: self.text(b),
            },
        };
        let unevaluable_allow = match item.why {
            Why::ImplicitDeny(Some((p, i))) => Some(at(p, i)),
            _ => None,
        };
        Ok(Decision {
            reason,
            unevaluable_allow,
        })
    }
}
