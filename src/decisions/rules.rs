//! The `[decision_log]` rules compiled: which decisions are kept, one in
//! how many, and which context values are masked. Checked whole: a bad rule
//! is refused with what is wrong and where.

use super::record::Outcome;
use super::settings::{DecisionLogConfig, RuleConfig};

/// At most this many rules, and this many mask patterns.
pub const MAX_RULES: usize = 256;
/// A pattern or principal of at most this many bytes.
const MAX_PATTERN: usize = 256;

/// Who a decision was for, as the rules see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Principal<'a> {
    /// Its uin (0: not known).
    pub uin: u64,
    /// The name it was asked by.
    pub name: Option<&'a str>,
    /// The SecretId it was asked by.
    pub secret_id: Option<&'a str>,
}

/// A pattern with `*` wildcards, matched without regard to ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// The pattern `p`.
    pub fn new(p: &str) -> Self {
        Self(p.to_ascii_lowercase())
    }

    /// True when `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        glob(self.0.as_bytes(), s.as_bytes())
    }
}

/// `*` matches any run; iterative, with one backtrack point (linear in
/// practice, bounded by pattern × text in the worst case).
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        let (pc, sc) = (p.get(pi).copied(), s.get(si).map(u8::to_ascii_lowercase));
        match pc {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(c) if Some(c) == sc => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    keep: bool,
    outcome: Option<Outcome>,
    action: Option<Glob>,
    principal: Option<String>,
    uid: Option<u32>,
}

impl Rule {
    fn matches(&self, uid: u32, outcome: Outcome, action: &str, who: Principal<'_>) -> bool {
        self.outcome.is_none_or(|o| o == outcome)
            && self.uid.is_none_or(|u| u == uid)
            && self.action.as_ref().is_none_or(|g| g.matches(action))
            && self.principal.as_deref().is_none_or(|p| {
                who.name == Some(p)
                    || who.secret_id == Some(p)
                    || (who.uin != 0 && p.parse() == Ok(who.uin))
            })
    }
}

/// The rules in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    sample: u32,
    rules: Vec<Rule>,
    mask: Vec<Glob>,
}

impl Rules {
    /// Compiles the section; the error names the field and the bad value.
    pub fn compile(c: &DecisionLogConfig) -> Result<Self, String> {
        if c.sample == 0 {
            return Err("`decision_log.sample` must be at least 1 (1 keeps every decision)".into());
        }
        if c.rules.len() > MAX_RULES || c.mask.len() > MAX_RULES {
            return Err(format!(
                "`decision_log` may hold at most {MAX_RULES} rules and {MAX_RULES} mask patterns"
            ));
        }
        if c.queue_len == 0 || c.queue_bytes < 4096 || c.max_files > 1000 {
            return Err("`decision_log.queue_len` must be positive, `queue_bytes` at least 4096 and `max_files` at most 1000".into());
        }
        if !(c.writer_cpu_share > 0.0 && c.writer_cpu_share <= 1.0) {
            return Err(format!(
                "`decision_log.writer_cpu_share` must be above 0 and at most 1, not {}",
                c.writer_cpu_share
            ));
        }
        if c.file.is_some() && c.max_file_bytes < 4096 {
            return Err("`decision_log.max_file_bytes` must be at least 4096".into());
        }
        let rules = c
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| rule(i, r))
            .collect::<Result<_, _>>()?;
        let mask = c
            .mask
            .iter()
            .enumerate()
            .map(|(i, m)| pattern(&format!("decision_log.mask[{i}]"), m).map(|p| Glob::new(&p)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            sample: c.sample,
            rules,
            mask,
        })
    }

    /// Keep one decision in this many.
    pub fn sample(&self) -> u32 {
        self.sample
    }

    /// Whether the rules keep this decision (before sampling).
    pub fn keeps(&self, uid: u32, outcome: Outcome, action: &str, who: Principal<'_>) -> bool {
        self.rules
            .iter()
            .find(|r| r.matches(uid, outcome, action, who))
            .is_none_or(|r| r.keep)
    }

    /// Whether context key `key`'s value is masked.
    pub fn masks(&self, key: &str) -> bool {
        self.mask.iter().any(|g| g.matches(key))
    }
}

fn pattern(field: &str, p: &str) -> Result<String, String> {
    if p.is_empty() || p.len() > MAX_PATTERN {
        return Err(format!(
            "`{field}` must be 1 to {MAX_PATTERN} bytes, not {}",
            p.len()
        ));
    }
    Ok(p.to_string())
}

fn rule(i: usize, r: &RuleConfig) -> Result<Rule, String> {
    let at = |f: &str| format!("decision_log.rules[{i}].{f}");
    let keep = match r.effect.as_str() {
        "keep" => true,
        "drop" => false,
        other => {
            return Err(format!(
                "`{}` must be `keep` or `drop`, not `{other}`",
                at("effect")
            ));
        }
    };
    let outcome = match r.outcome.as_deref() {
        None => None,
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| {
            format!(
                "`{}` must be `allow`, `deny` or `error`, not `{o}`",
                at("outcome")
            )
        })?),
    };
    Ok(Rule {
        keep,
        outcome,
        action: r
            .action
            .as_deref()
            .map(|a| pattern(&at("action"), a).map(|p| Glob::new(&p)))
            .transpose()?,
        principal: r
            .principal
            .as_deref()
            .map(|p| pattern(&at("principal"), p))
            .transpose()?,
        uid: r.uid,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rules(toml_text: &str) -> Result<Rules, String> {
        let c: DecisionLogConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        Rules::compile(&c)
    }

    #[test]
    fn globs_match_runs_without_regard_to_case() {
        for (p, s, m) in [
            ("im:*", "im:SendMessage", true),
            ("IM:get*info", "im:GetGroupInfo", true),
            ("*Message", "im:SendMessage", true),
            ("*Message", "im:SendMessages", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("", "", true),
            ("exact", "exact", true),
            ("exact", "exacter", false),
        ] {
            assert_eq!(Glob::new(p).matches(s), m, "{p} ~ {s}");
        }
    }

    #[test]
    fn the_first_matching_rule_decides_and_none_keeps() {
        let r = rules(
            r#"
            [[rules]]
            effect = "keep"
            outcome = "deny"
            [[rules]]
            effect = "drop"
            action = "im:Get*"
            [[rules]]
            effect = "drop"
            principal = "200000000001"
            "#,
        )
        .unwrap();
        let who = Principal {
            uin: 200_000_000_001,
            name: Some("alice"),
            secret_id: None,
        };
        let other = Principal::default();
        assert!(r.keeps(0, Outcome::Deny, "im:GetGroupInfo", who));
        assert!(!r.keeps(0, Outcome::Allow, "im:GetGroupInfo", other));
        assert!(!r.keeps(0, Outcome::Allow, "im:SendMessage", who));
        assert!(r.keeps(0, Outcome::Allow, "im:SendMessage", other));
    }

    #[test]
    fn bad_rules_say_what_and_where() {
        for (text, says) in [
            ("sample = 0", "`decision_log.sample` must be at least 1"),
            (
                "[[rules]]\neffect = \"maybe\"",
                "`decision_log.rules[0].effect` must be `keep` or `drop`, not `maybe`",
            ),
            (
                "[[rules]]\neffect = \"keep\"\noutcome = \"permit\"",
                "`decision_log.rules[0].outcome` must be `allow`, `deny` or `error`, not `permit`",
            ),
            (
                "mask = [\"\"]",
                "`decision_log.mask[0]` must be 1 to 256 bytes, not 0",
            ),
        ] {
            let e = rules(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        let r = rules("mask = [\"qcs:IP\", \"im:msg*\"]").unwrap();
        assert!(r.masks("qcs:ip") && r.masks("IM:MsgBody") && !r.masks("im:group"));
    }
}
