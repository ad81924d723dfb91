//! A role's trust policy: who may assume the role (each statement's
//! `principal`) and under which conditions, checked with CAM's codes as
//! any policy document is, and asked whether it admits a caller.

use super::checker::Checker;
use super::condition::{self, Clause, Outcome};
use super::document::{
    checked, document, effect_of, shown, statement_members, strings, unknown_key,
};
use super::error::{Code, PolicyErrors, PolicyWarning};
use super::json::{Key, Node, Value};
use super::request::Request;
use super::statement::Effect;

/// Who a `qcs` principal names, in the account camd serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trusted {
    /// The root account (`qcs::cam::uin/OWNER:root` or `...:uin/OWNER`).
    Root,
    /// A sub-user, by uin (`qcs::cam::uin/OWNER:uin/SUBUIN`).
    User(u64),
}

/// One statement of a trust policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustStatement {
    /// Its index in the document's `statement` array.
    pub index: usize,
    /// Allow or deny.
    pub effect: Effect,
    /// The callers it names.
    pub trusted: Vec<Trusted>,
    /// Tencent services it names (`service`): kept as written; no local
    /// caller is one, so they admit nobody here.
    pub services: Vec<String>,
    /// Condition clauses, AND'ed (e.g. `sts:external_id`).
    pub conditions: Vec<Clause>,
}

/// A compiled trust policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    /// Its statements, in document order.
    pub statements: Vec<TrustStatement>,
}

/// The action every trust statement grants, as CAM writes it (`sts:AssumeRole`
/// without `name/` is what Tencent's service-linked roles store).
const ASSUME_ROLE: [&str; 2] = ["name/sts:AssumeRole", "sts:AssumeRole"];

impl TrustPolicy {
    /// Checks and compiles `text` as the trust policy of a role of account
    /// `owner_uin`; every error with its CAM code, path and position.
    pub fn parse(
        text: &str,
        owner_uin: u64,
    ) -> Result<(TrustPolicy, Vec<PolicyWarning>), PolicyErrors> {
        let (statements, warnings) = checked(text, |root, ck| {
            document(root, ck, |i, n, ck| statement_of(i, n, owner_uin, ck))
        })?;
        Ok((TrustPolicy { statements }, warnings))
    }

    /// The sub-users the policy names (each must exist when it is set).
    pub fn users(&self) -> impl Iterator<Item = u64> + '_ {
        self.statements
            .iter()
            .flat_map(|s| s.trusted.iter())
            .filter_map(|t| match t {
                Trusted::User(u) => Some(*u),
                Trusted::Root => None,
            })
    }

    /// Whether `caller` may assume the role with `req`'s context: an allow
    /// names it with its conditions met and no deny names it with its
    /// conditions met (or not evaluable: a deny that cannot be evaluated
    /// denies, an allow that cannot be evaluated does not allow).
    pub fn admits(&self, caller: Trusted, req: &Request<'_>) -> bool {
        let mut allowed = false;
        for st in self
            .statements
            .iter()
            .filter(|s| s.trusted.contains(&caller))
        {
            let met = condition::eval_all(&st.conditions, req);
            match (st.effect, met) {
                (Effect::Deny, Outcome::True | Outcome::Error) => return false,
                (Effect::Allow, Outcome::True) => allowed = true,
                _ => {}
            }
        }
        allowed
    }
}

fn statement_of(
    i: usize,
    node: &Node,
    owner_uin: u64,
    ck: &mut Checker<'_>,
) -> Option<TrustStatement> {
    let (path, members) = statement_members(i, node, ck)?;
    let before = ck.errors.len();
    let found = members_of(members, &path, ck);
    let effect = effect_of(found.effect, &path, node.offset, ck);
    assume_role_only(found.action, &path, node.offset, ck);
    let (trusted, services) = match found.principal {
        Some(p) => principal_of(p, &format!("{path}.principal"), owner_uin, ck),
        None => {
            ck.error(
                Code::PrincipalError,
                &format!("{path}.principal"),
                node.offset,
                "`principal` is missing: a trust policy names who may assume the role".into(),
            );
            (Vec::new(), Vec::new())
        }
    };
    let conditions = found
        .condition
        .map(|c| condition::compile(c, &format!("{path}.condition"), ck))
        .unwrap_or_default();
    if ck.errors.len() != before {
        return None;
    }
    Some(TrustStatement {
        index: i,
        effect: effect?,
        trusted,
        services,
        conditions,
    })
}

/// A trust statement's members, as found in it.
#[derive(Default)]
struct Members<'n> {
    effect: Option<&'n Node>,
    action: Option<&'n Node>,
    principal: Option<&'n Node>,
    condition: Option<&'n Node>,
}

fn members_of<'n>(members: &'n [(Key, Node)], path: &str, ck: &mut Checker<'_>) -> Members<'n> {
    let mut found = Members::default();
    for (key, n) in members {
        match key.name.as_str() {
            "effect" => found.effect = Some(n),
            "action" => found.action = Some(n),
            "principal" => found.principal = Some(n),
            "condition" => found.condition = Some(n),
            "resource" => ck.error(
                Code::StatementError,
                &format!("{path}.resource"),
                key.offset,
                "a trust policy has no `resource`: the role is the resource".into(),
            ),
            other => ck.error(
                Code::StatementError,
                &format!("{path}.{other}"),
                key.offset,
                unknown_key(
                    other,
                    "trust statement",
                    &["effect", "action", "principal", "condition"],
                ),
            ),
        }
    }
    found
}

/// Reports any action other than `name/sts:AssumeRole`.
fn assume_role_only(action: Option<&Node>, path: &str, offset: usize, ck: &mut Checker<'_>) {
    let path = format!("{path}.action");
    for (p, off, a) in strings(action, &path, "action", Code::ActionError, offset, ck) {
        if !ASSUME_ROLE.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
            ck.error(
                Code::ActionError,
                &p,
                off,
                format!(
                    "a trust policy grants only `name/sts:AssumeRole`, not `{}`",
                    a.chars().take(128).collect::<String>()
                ),
            );
        }
    }
}

/// The callers and services of a `principal` object.
fn principal_of(
    node: &Node,
    path: &str,
    owner_uin: u64,
    ck: &mut Checker<'_>,
) -> (Vec<Trusted>, Vec<String>) {
    let Value::Object(members) = &node.value else {
        ck.error(
            Code::PrincipalError,
            path,
            node.offset,
            format!(
                "`principal` must be an object (`qcs` or `service`), not {}",
                shown(&node.value)
            ),
        );
        return (Vec::new(), Vec::new());
    };
    if members.is_empty() {
        ck.error(
            Code::PrincipalError,
            path,
            node.offset,
            "`principal` is empty".into(),
        );
    }
    let (mut trusted, mut services) = (Vec::new(), Vec::new());
    for (key, n) in members {
        let p = format!("{path}.{}", key.name);
        match key.name.as_str() {
            "qcs" => {
                for (ip, off, s) in strings(Some(n), &p, "qcs", Code::PrincipalError, n.offset, ck)
                {
                    match qcs_principal(&s, owner_uin) {
                        Ok(t) if !trusted.contains(&t) => trusted.push(t),
                        Ok(_) => {}
                        Err(m) => ck.error(Code::PrincipalQcsError, &ip, off, m),
                    }
                }
            }
            "service" => {
                for (_, _, s) in strings(Some(n), &p, "service", Code::PrincipalError, n.offset, ck)
                {
                    services.push(s);
                }
            }
            other => ck.error(
                Code::PrincipalError,
                &p,
                key.offset,
                unknown_key(other, "principal", &["qcs", "service"]),
            ),
        }
    }
    (trusted, services)
}

/// `qcs::cam::uin/OWNER:root`, `...:uin/OWNER` (the root account) or
/// `...:uin/SUBUIN`, of the account camd serves.
fn qcs_principal(s: &str, owner_uin: u64) -> Result<Trusted, String> {
    let shown = || s.chars().take(128).collect::<String>();
    let rest = s.strip_prefix("qcs::cam::uin/").ok_or_else(|| {
        format!(
            "`{}` is not a principal; write `qcs::cam::uin/{owner_uin}:root` or `qcs::cam::uin/{owner_uin}:uin/SUBUIN`",
            shown()
        )
    })?;
    let (account, who) = rest
        .split_once(':')
        .ok_or_else(|| format!("`{}` names no root account or sub-user", shown()))?;
    if account != owner_uin.to_string() {
        return Err(format!(
            "`{}` names account {}; camd serves account {owner_uin} alone",
            shown(),
            account.chars().take(32).collect::<String>()
        ));
    }
    let uin = match who {
        "root" => return Ok(Trusted::Root),
        w => w.strip_prefix("uin/").and_then(|u| {
            (!u.is_empty() && u.bytes().all(|b| b.is_ascii_digit()))
                .then(|| u.parse::<u64>().ok())
                .flatten()
        }),
    };
    match uin {
        Some(u) if u == owner_uin => Ok(Trusted::Root),
        Some(u) => Ok(Trusted::User(u)),
        None => Err(format!(
            "`{}` names no root account or sub-user (`:root` or `:uin/SUBUIN`)",
            shown()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Principal;

    const OWNER: u64 = 100_000_000_001;

    fn parse(text: &str) -> Result<TrustPolicy, Vec<(Code, String)>> {
        TrustPolicy::parse(text, OWNER)
            .map(|(t, _)| t)
            .map_err(|e| e.0.into_iter().map(|e| (e.code, e.path)).collect())
    }

    fn ask(ctx: &[(&str, &str)], f: impl FnOnce(&Request<'_>)) {
        let p = Principal {
            uin: 1,
            owner_uin: OWNER,
        };
        let req = Request::new("sts:AssumeRole", "*", p, 0, ctx).unwrap();
        f(&req);
    }

    #[test]
    fn a_trust_policy_names_root_and_sub_users() {
        let t = parse(&format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"name/sts:AssumeRole",
            "principal":{{"qcs":["qcs::cam::uin/{OWNER}:root","qcs::cam::uin/{OWNER}:uin/200000000001"],
            "service":"cls.cloud.tencent.com"}}}}]}}"#
        ))
        .unwrap();
        let st = &t.statements[0];
        assert_eq!(
            st.trusted,
            vec![Trusted::Root, Trusted::User(200_000_000_001)]
        );
        assert_eq!(st.services, vec!["cls.cloud.tencent.com".to_string()]);
        assert_eq!(t.users().collect::<Vec<_>>(), vec![200_000_000_001]);
    }

    #[test]
    fn bad_trust_policies_get_cams_codes() {
        let doc = |st: &str| format!(r#"{{"version":"2.0","statement":[{st}]}}"#);
        let cases = [
            (
                r#"{"effect":"allow","action":"name/sts:AssumeRole"}"#.to_string(),
                Code::PrincipalError,
                "statement[0].principal",
            ),
            (
                r#"{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":"qcs::cam::uin/9:root"}}"#.into(),
                Code::PrincipalQcsError,
                "statement[0].principal.qcs",
            ),
            (
                format!(r#"{{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":["qcs::cam::uin/{OWNER}:user/bob"]}}}}"#),
                Code::PrincipalQcsError,
                "statement[0].principal.qcs[0]",
            ),
            (
                r#"{"effect":"allow","action":"name/sts:AssumeRole","principal":{"federated":"x"}}"#.into(),
                Code::PrincipalError,
                "statement[0].principal.federated",
            ),
            (
                format!(r#"{{"effect":"allow","action":"name/cam:ListUsers","principal":{{"qcs":"qcs::cam::uin/{OWNER}:root"}}}}"#),
                Code::ActionError,
                "statement[0].action",
            ),
            (
                format!(r#"{{"effect":"allow","action":"name/sts:AssumeRole","resource":"*","principal":{{"qcs":"qcs::cam::uin/{OWNER}:root"}}}}"#),
                Code::StatementError,
                "statement[0].resource",
            ),
        ];
        for (st, code, path) in cases {
            let errs = parse(&doc(&st)).unwrap_err();
            assert!(
                errs.iter().any(|(c, p)| *c == code && p == path),
                "{st}: {errs:?}"
            );
        }
    }

    #[test]
    fn admits_weighs_denies_and_conditions() {
        let t = parse(&format!(
            r#"{{"version":"2.0","statement":[
            {{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":"qcs::cam::uin/{OWNER}:uin/7"}},
              "condition":{{"string_equal":{{"sts:external_id":"x-1"}}}}}},
            {{"effect":"deny","action":"name/sts:AssumeRole","principal":{{"qcs":"qcs::cam::uin/{OWNER}:uin/8"}}}},
            {{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":"qcs::cam::uin/{OWNER}:uin/8"}}}}]}}"#
        ))
        .unwrap();
        ask(&[("sts:external_id", "x-1")], |r| {
            assert!(t.admits(Trusted::User(7), r));
            assert!(!t.admits(Trusted::User(8), r), "a deny wins");
            assert!(!t.admits(Trusted::Root, r), "root is not named");
        });
        ask(&[("sts:external_id", "other")], |r| {
            assert!(!t.admits(Trusted::User(7), r));
        });
        ask(&[], |r| assert!(!t.admits(Trusted::User(7), r)));
    }
}
