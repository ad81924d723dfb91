//! A request to authorize: who, which action, on which resource, in what context.
//! Built once per query from borrowed strings; nothing here allocates unless the request is bad.

use thiserror::Error;

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
        let mut it = rest.splitn(5, ':');
        let (Some(_project), Some(service), Some(region), Some(account), Some(resource)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            return Err(bad());
        };
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
        match action.split_once(':') {
            Some((service, name))
                if !service.is_empty()
                    && !name.is_empty()
                    && !action.contains('*')
                    && !name.contains(':') => {}
            _ => return Err(RequestError::Action(action.to_string())),
        }
        Ok(Self {
            action,
            resource: ResourceRef::parse(resource)?,
            principal,
            now_ms,
            context,
        })
    }
}
