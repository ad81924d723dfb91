//! Resource patterns of a policy statement: `*` or the six-segment `qcs:` form.

use super::pattern::{Pattern, Vars};
use super::request::ResourceRef;

/// A compiled resource pattern.
#[expect(
    clippy::large_enum_variant,
    reason = "patterns sit in a statement's Vec; boxing `Qcs` would add a pointer hop on the decision path"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePattern {
    /// `*`: every resource, and the only pattern that grants operation-level APIs.
    Any,
    /// `qcs:project:service:region:account:resource`; `None` segments were empty and match any.
    Qcs {
        /// The service segment.
        service: Option<Pattern>,
        /// The region segment.
        region: Option<Pattern>,
        /// The account segment.
        account: Option<Pattern>,
        /// The last segment, with wildcards and policy variables.
        resource: Pattern,
    },
}

/// The account segment, checked: empty, `*`, `uin/ID` or `uid/ID` (digits
/// and `*`). `uin/` with no value, as Tencent's tables print some rows
/// (`qcs::im::uin/:sdkappid/${SdkAppId}`), is the account left out, as an
/// empty segment is (CAM reads it as the policy's own account; camd has
/// one, so it matches any account named).
fn checked_account<'t>(text: &str, account: &'t str) -> Result<&'t str, String> {
    let account = if account == "uin/" { "" } else { account };
    if !account.is_empty() && account != "*" {
        let id = account
            .strip_prefix("uin/")
            .or_else(|| account.strip_prefix("uid/"))
            .unwrap_or_default();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit() || b == b'*') {
            return Err(format!(
                "resource `{text}` has account `{account}`; expected `uin/<OwnerUin>`"
            ));
        }
    }
    Ok(account)
}

impl ResourcePattern {
    /// Parses a statement's resource; the error is a lowercase message naming the input.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self::Any);
        }
        let shape = || {
            format!(
                "resource `{text}` is neither `*` nor of the form `qcs:project:service:region:account:type/id`"
            )
        };
        let rest = text.strip_prefix("qcs:").ok_or_else(shape)?;
        let mut it = rest.splitn(5, ':');
        let (Some(_project), Some(service), Some(region), Some(account), Some(resource)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            return Err(shape());
        };
        if resource.is_empty() {
            return Err(format!("resource `{text}` has an empty last segment"));
        }
        let account = checked_account(text, account)?;
        for (what, seg) in [("service", service), ("region", region)] {
            if seg.contains("${") {
                return Err(format!(
                    "resource `{text}`: policy variables are allowed only in the last segment, not the {what}"
                ));
            }
        }
        let segment = |s: &str| -> Result<Option<Pattern>, String> {
            if s.is_empty() {
                Ok(None)
            } else {
                Pattern::parse(s, true, false, false)
                    .map(Some)
                    .map_err(|e| format!("resource `{text}`: {}", e.0))
            }
        };
        Ok(Self::Qcs {
            service: segment(service)?,
            region: segment(region)?,
            account: segment(account)?,
            resource: Pattern::parse(resource, true, true, false)
                .map_err(|e| format!("resource `{text}`: {}", e.0))?,
        })
    }

    /// The last segment's literal (see [`Pattern::literal`]).
    pub(super) fn last_literal(&self) -> Option<(&[u8], bool)> {
        match self {
            Self::Any => None,
            Self::Qcs { resource, .. } => resource.literal(),
        }
    }

    /// Whether the request resource matches.
    pub fn matches(&self, r: &ResourceRef<'_>, vars: Vars) -> bool {
        match (self, r) {
            (Self::Any, _) => true,
            (Self::Qcs { .. }, ResourceRef::Any) => false,
            (
                Self::Qcs {
                    service,
                    region,
                    account,
                    resource,
                },
                ResourceRef::Qcs {
                    service: rs,
                    region: rr,
                    account: ra,
                    resource: rres,
                },
            ) => {
                let seg =
                    |p: &Option<Pattern>, t: &str| p.as_ref().is_none_or(|p| p.matches(t, vars));
                // The last segment first: it differs most between
                // statements, so a miss is found touching the least.
                resource.matches(rres, vars)
                    && seg(account, ra)
                    && seg(service, rs)
                    && seg(region, rr)
            }
        }
    }
}
