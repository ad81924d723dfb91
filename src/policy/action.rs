//! Action patterns of a policy statement: `*`, `service:ApiName` (optionally
//! `name/service:ApiName`), with `*` wildcards, compared case-insensitively.

use super::actions::{self, ACTIONS, Origin};
use super::checker::Checker;
use super::error::Code;
use super::pattern::{Pattern, Vars};

/// A compiled action pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    /// Matches `service:ApiName`, case-insensitively.
    pattern: Pattern,
}

const NO_VARS: Vars = Vars {
    uin: 0,
    owner_uin: 0,
};

impl ActionPattern {
    /// Checks one action string and compiles it; problems go to `ck`.
    pub(crate) fn compile(
        text: &str,
        path: &str,
        offset: usize,
        ck: &mut Checker<'_>,
    ) -> Option<Self> {
        let bare = text.strip_prefix("name/").unwrap_or(text);
        if bare == "*" {
            return Self::from(bare);
        }
        let Some((service, name)) = bare.split_once(':') else {
            ck.error(
                Code::ActionError,
                path,
                offset,
                format!("action `{text}` is not of the form `service:ApiName`"),
            );
            return None;
        };
        let ok_chars = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'_' || b == b'-')
        };
        if !ok_chars(service) || !ok_chars(name) {
            ck.error(
                Code::ActionError,
                path,
                offset,
                format!("action `{text}` is not of the form `service:ApiName` (letters, digits, `_`, `-` and `*`)"),
            );
            return None;
        }
        let service_pat = Pattern::parse(service, true, false, true).ok()?;
        let known_services: Vec<&str> = actions::SERVICES
            .iter()
            .copied()
            .filter(|s| service_pat.matches(s, NO_VARS))
            .collect();
        if !service_pat.has_wildcard() && known_services.is_empty() {
            ck.error(
                Code::ActionServiceNotExist,
                path,
                offset,
                format!("action `{text}` names service `{service}`, which camd does not know (known: `{}`)", actions::SERVICES.join("`, `")),
            );
            return None;
        }
        let pattern = Self::from(bare)?;
        if !service_pat.has_wildcard() && !name.contains('*') {
            note_origin(service, name, path, offset, ck);
        }
        let matches_any = ACTIONS.iter().any(|a| {
            known_services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(a.service))
                && pattern.matches_parts(a.service, a.name)
        });
        if !matches_any {
            if !service_pat.has_wildcard() && !name.contains('*') {
                ck.error(
                    Code::ActionNotExist,
                    path,
                    offset,
                    format!("action `{text}` is not a catalogued `{service}` action"),
                );
                return None;
            }
            ck.warn(
                path,
                offset,
                format!("action pattern `{text}` matches no catalogued action"),
            );
        }
        Some(pattern)
    }

    fn from(bare: &str) -> Option<Self> {
        Pattern::parse(bare, true, false, true)
            .ok()
            .map(|pattern| Self { pattern })
    }

    /// True for `*`.
    pub fn is_any(&self) -> bool {
        self.pattern.is_any()
    }

    /// Whether the request action (`service:ApiName`, no prefix) matches.
    #[inline]
    pub fn matches(&self, action: &str) -> bool {
        self.pattern.matches(action, NO_VARS)
    }

    fn matches_parts(&self, service: &str, name: &str) -> bool {
        let mut buf = String::with_capacity(service.len() + name.len() + 1);
        buf.push_str(service);
        buf.push(':');
        buf.push_str(name);
        self.pattern.matches(&buf, NO_VARS)
    }
}

/// A note for a literal action that is not Tencent's, or that camd does not serve.
fn note_origin(service: &str, name: &str, path: &str, offset: usize, ck: &mut Checker<'_>) {
    let Some(info) = actions::lookup(service, name) else {
        return;
    };
    let full = format!("{}:{}", info.service, info.name);
    match info.origin {
        Origin::Tencent => {}
        Origin::Camd => ck.note(
            path,
            offset,
            format!("`{full}` is camd's own action, not Tencent's: it works on camd only"),
        ),
        Origin::NotServed => ck.note(
            path,
            offset,
            format!("`{full}` is a CAM action camd does not serve: it grants nothing here"),
        ),
    }
}

/// The set of catalogued actions some pattern matches, one bit per catalogue
/// position: deciding a catalogued action is then one bit test per statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionBits([u64; WORDS]);

/// Words in an [`ActionBits`]: one bit per catalogued action.
const WORDS: usize = ACTIONS.len().div_ceil(64);

impl ActionBits {
    /// The catalogued actions any of `patterns` matches.
    pub fn of(patterns: &[ActionPattern]) -> Self {
        let names = actions::lowercase_names();
        let mut words = [0u64; WORDS];
        for (i, name) in names.iter().enumerate() {
            if patterns.iter().any(|p| p.matches(name)) {
                if let Some(w) = words.get_mut(i / 64) {
                    *w |= 1 << (i % 64);
                }
            }
        }
        Self(words)
    }

    /// Whether catalogue position `i` is in the set.
    #[inline]
    pub fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}
