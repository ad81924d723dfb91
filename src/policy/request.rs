//! A request to authorize: who, which action, on which resource, in what context.
//! Built once per query from borrowed strings; nothing here allocates unless the request is bad.

use thiserror::Error;

use super::actions;

/// Why a request cannot be evaluated at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The action is not `service:ApiName`.
    #[error("action `{0}` is not of the form `service:ApiName`")]
    Action(String),
    /// The resource is neither `*` nor a six-segment `qcs:` resource.
    #[error(
        "resource `{0}` is neither `*` nor of the form `qcs:project:service:region:account:type/id`"
    )]
    Resource(String),
    /// The resource, or a context key or value, is longer than camd takes.
    #[error("{what} is {len} bytes; the limit is {max}")]
    TooLong {
        /// What (`the resource`, `context value of `qcs:ip``).
        what: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The longest request resource (CAM documents none; a Chat app's is under
/// 80 bytes). Bounds wildcard matching: no text matched is longer.
pub const MAX_RESOURCE_BYTES: usize = 1024;
/// The longest context key or value.
pub const MAX_CONTEXT_BYTES: usize = 1024;

fn too_long(what: impl FnOnce() -> String, len: usize, max: usize) -> Result<(), RequestError> {
    if len > max {
        Err(RequestError::TooLong {
            what: what(),
            len,
            max,
        })
    } else {
        Ok(())
    }
}

/// The caller and the root account it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The caller's uin.
    pub uin: u64,
    /// The root account's uin; a caller with `uin == owner_uin` is the root account.
    pub owner_uin: u64,
}

impl Principal {
    /// True for the root account, which is allowed everything without evaluation.
    pub fn is_root(&self) -> bool {
        self.uin == self.owner_uin
    }
}

/// A request resource, split into its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceRef<'a> {
    /// `*`: no particular resource (operation-level APIs).
    Any,
    /// `qcs:project:service:region:account:resource`.
    Qcs {
        /// The service, e.g. `im`.
        service: &'a str,
        /// The region, possibly empty.
        region: &'a str,
        /// The account, e.g. `uin/12345678`, possibly empty.
        account: &'a str,
        /// The last segment, `type/id`.
        resource: &'a str,
    },
}

impl<'a> ResourceRef<'a> {
    /// Splits a request resource.
    pub fn parse(text: &'a str) -> Result<Self, RequestError> {
        if text == "*" {
            return Ok(Self::Any);
        }
        let bad = || RequestError::Resource(text.to_string());
        let rest = text.strip_prefix("qcs:").ok_or_else(bad)?;
        // The first four colons end project, service, region and account;
        // the last segment may hold colons of its own.
        let mut cuts = [0usize; 4];
        let mut found = 0;
        for (i, b) in rest.bytes().enumerate() {
            if b == b':' {
                match cuts.get_mut(found) {
                    Some(c) => *c = i,
                    None => break,
                }
                found += 1;
                if found == cuts.len() {
                    break;
                }
            }
        }
        if found < cuts.len() {
            return Err(bad());
        }
        let [c0, c1, c2, c3] = cuts;
        let seg = |a: usize, b: usize| rest.get(a..b).ok_or_else(bad);
        let (service, region, account) = (seg(c0 + 1, c1)?, seg(c1 + 1, c2)?, seg(c2 + 1, c3)?);
        let resource = rest.get(c3 + 1..).ok_or_else(bad)?;
        if service.is_empty() || resource.is_empty() {
            return Err(bad());
        }
        Ok(Self::Qcs {
            service,
            region,
            account,
            resource,
        })
    }
}

/// One authorization request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The action as asked, without a `name/` prefix, e.g. `im:SendMessage`.
    pub action: &'a str,
    /// The action's position in the catalogue, if it is catalogued.
    pub action_index: Option<usize>,
    /// The resource, split.
    pub resource: ResourceRef<'a>,
    /// Who asks.
    pub principal: Principal,
    /// The current time in milliseconds since the Unix epoch (`qcs:current_time`).
    pub now_ms: i64,
    /// Request context as key/value pairs; a key given more than once is multi-valued.
    /// `qcs:uin`, `qcs:owner_uin` and `qcs:current_time` given here are ignored:
    /// the engine fills them itself.
    pub context: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// Builds a request, checking the action and resource.
    pub fn new(
        action: &'a str,
        resource: &'a str,
        principal: Principal,
        now_ms: i64,
        context: &'a [(&'a str, &'a str)],
    ) -> Result<Self, RequestError> {
        let action = action.strip_prefix("name/").unwrap_or(action);
        // `service:ApiName`: one colon with something on both sides, no `*`.
        let bytes = action.as_bytes();
        let well_formed = bytes.iter().position(|&b| b == b':').is_some_and(|c| {
            c > 0
                && bytes
                    .get(c + 1..)
                    .is_some_and(|api| !api.is_empty() && !api.contains(&b':'))
        }) && !bytes.contains(&b'*');
        if !well_formed {
            return Err(RequestError::Action(action.to_string()));
        }
        let action_index = actions::position(bytes);
        too_long(|| "the resource".into(), resource.len(), MAX_RESOURCE_BYTES)?;
        for (k, v) in context {
            let key = || k.chars().take(64).collect::<String>();
            too_long(
                || format!("context key `{}`", key()),
                k.len(),
                MAX_CONTEXT_BYTES,
            )?;
            too_long(
                || format!("the value of context key `{}`", key()),
                v.len(),
                MAX_CONTEXT_BYTES,
            )?;
        }
        Ok(Self {
            action,
            action_index,
            resource: ResourceRef::parse(resource)?,
            principal,
            now_ms,
            context,
        })
    }
}
