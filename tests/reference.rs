//! A deliberately simple reference evaluator, written from domain.md without
//! sharing code with the engine (apart from the action catalogue, which is
//! data): it walks the JSON documents directly, substitutes policy variables
//! textually and matches wildcards recursively.

use camd::policy::actions;
use serde_json::Value;

/// A request in plain data.
#[derive(Debug, Clone)]
pub struct Req {
    pub action: String,
    pub resource: String,
    pub uin: u64,
    pub owner_uin: u64,
    pub now_ms: i64,
    pub context: Vec<(String, String)>,
}

/// What the reference concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefDecision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// Recursive glob: `*` matches any run.
fn glob(p: &[u8], t: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
        Some((c, rest)) => t
            .split_first()
            .is_some_and(|(d, trest)| c == d && glob(rest, trest)),
    }
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn subst(s: &str, r: &Req) -> String {
    s.replace("${uin}", &r.uin.to_string())
        .replace("${owner_uin}", &r.owner_uin.to_string())
}

fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern
        .strip_prefix("name/")
        .unwrap_or(pattern)
        .to_lowercase();
    let a = action
        .strip_prefix("name/")
        .unwrap_or(action)
        .to_lowercase();
    glob(p.as_bytes(), a.as_bytes())
}

fn resource_matches(pattern: &str, r: &Req) -> bool {
    if pattern == "*" {
        return true;
    }
    if r.resource == "*" {
        return false;
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let t: Vec<&str> = r.resource.splitn(6, ':').collect();
    // segments: 0 "qcs", 1 project (ignored), 2 service, 3 region, 4 account, 5 resource
    (2..=4).all(|i| p[i].is_empty() || glob(p[i].as_bytes(), t[i].as_bytes()))
        && glob(subst(p[5], r).as_bytes(), t[5].as_bytes())
}

fn parse_ip(s: &str) -> Option<std::net::IpAddr> {
    let ip: std::net::IpAddr = s.trim().parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    })
}

fn in_cidr(ip: std::net::IpAddr, cidr: &str) -> bool {
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().unwrap()),
        None => (cidr, if cidr.contains(':') { 128 } else { 32 }),
    };
    match (ip, addr.parse::<std::net::IpAddr>().unwrap()) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
            len == 0 || (u32::from(a) >> (32 - len)) == (u32::from(n) >> (32 - len))
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => {
            len == 0 || (u128::from(a) >> (128 - len)) == (u128::from(n) >> (128 - len))
        }
        _ => false,
    }
}

fn num(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(|c| c.is_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    s.parse().ok().filter(|n: &f64| n.is_finite())
}

fn boolean(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Request values of a key, with the engine-filled keys.
fn values(key: &str, r: &Req) -> Vec<String> {
    match key.to_lowercase().as_str() {
        "qcs:uin" => vec![r.uin.to_string()],
        "qcs:owner_uin" => vec![r.owner_uin.to_string()],
        "qcs:current_time" => vec![format!("{}", r.now_ms / 1000)],
        _ => r
            .context
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// One operator on one key: Some(met) or None when unevaluable.
fn clause(op: &str, key: &str, policy_values: &[String], r: &Req) -> Option<bool> {
    let (qual, rest) = match op.split_once(':') {
        Some((q, rest)) => (q, rest),
        None => ("", op),
    };
    let (if_exist, base) = match rest.strip_suffix("_if_exist") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let vals = values(key, r);
    if base == "null_equal" {
        return Some(
            policy_values
                .iter()
                .any(|v| boolean(v) == Some(vals.is_empty())),
        );
    }
    let negate = base.contains("not_equal");
    if vals.is_empty() {
        return Some(if_exist || qual == "for_all_value" || (qual.is_empty() && negate));
    }
    let pv: Vec<String> = policy_values.iter().map(|v| subst(v, r)).collect();
    // positive test of one request value against any policy value
    let single = |v: &str| -> Option<bool> {
        let cmp = |ord: std::cmp::Ordering| -> bool {
            use std::cmp::Ordering::*;
            if base.ends_with("greater_than_equal") {
                ord != Less
            } else if base.ends_with("greater_than") {
                ord == Greater
            } else if base.ends_with("less_than_equal") {
                ord != Greater
            } else if base.ends_with("less_than") {
                ord == Less
            } else {
                ord == Equal
            }
        };
        if base.starts_with("string_") && base.ends_with("ignore_case") {
            Some(pv.iter().any(|p| p.to_lowercase() == v.to_lowercase()))
        } else if base.starts_with("string_") || base == "binary_equal" {
            Some(pv.iter().any(|p| p == v))
        } else if base.starts_with("ip_") {
            let ip = parse_ip(v)?;
            Some(pv.iter().any(|c| in_cidr(ip, c)))
        } else if base.starts_with("numeric_") {
            let n = num(v)?;
            Some(
                pv.iter()
                    .any(|p| cmp(n.partial_cmp(&num(p).unwrap()).unwrap())),
            )
        } else if base.starts_with("date_") {
            let t = camd::policy::parse_time_ms(v)?;
            Some(
                pv.iter()
                    .any(|p| cmp(t.cmp(&camd::policy::parse_time_ms(p).unwrap()))),
            )
        } else if base == "bool_equal" {
            let b = boolean(v)?;
            Some(pv.iter().any(|p| boolean(p) == Some(b)))
        } else {
            panic!("reference does not know {base}")
        }
    };
    let mut singles = Vec::new();
    for v in &vals {
        singles.push(single(v)?);
    }
    Some(match qual {
        "for_any_value" => singles.iter().any(|s| *s != negate),
        "for_all_value" => singles.iter().all(|s| *s != negate),
        _ => singles.iter().any(|s| *s) != negate,
    })
}

/// Some(met) or None when any clause is unevaluable.
fn conditions(cond: Option<&Value>, r: &Req) -> Option<bool> {
    let Some(Value::Object(ops)) = cond else {
        return Some(true);
    };
    let mut all = true;
    let mut unevaluable = false;
    for (op, keys) in ops {
        for (key, vals) in keys.as_object().unwrap() {
            match clause(op, key, &list(vals), r) {
                Some(m) => all &= m,
                None => unevaluable = true,
            }
        }
    }
    if unevaluable { None } else { Some(all) }
}

/// Evaluates documents (JSON values) for a request.
pub fn evaluate(docs: &[Value], r: &Req) -> RefDecision {
    if r.uin == r.owner_uin {
        return RefDecision::Allow;
    }
    let op_level = actions::lookup_action(r.action.strip_prefix("name/").unwrap_or(&r.action))
        .is_some_and(|a| a.level == actions::Level::Operation);
    let mut allowed = false;
    for doc in docs {
        for st in doc["statement"].as_array().unwrap() {
            let actions = list(&st["action"]);
            let resources = list(&st["resource"]);
            if !actions.iter().any(|a| action_matches(a, &r.action)) {
                continue;
            }
            let res_ok = if op_level {
                resources.iter().any(|x| x == "*")
            } else {
                resources.iter().any(|x| resource_matches(x, r))
            };
            if !res_ok {
                continue;
            }
            let met = conditions(st.get("condition"), r);
            match st["effect"].as_str().unwrap() {
                "deny" if met != Some(false) => return RefDecision::ExplicitDeny,
                "allow" if met == Some(true) => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        RefDecision::Allow
    } else {
        RefDecision::ImplicitDeny
    }
}

/// Evaluates documents bounded by a permissions boundary: a deny in either
/// wins; an allow needs both the documents and the boundary.
pub fn evaluate_bounded(docs: &[Value], boundary: Option<&Value>, r: &Req) -> RefDecision {
    let own = evaluate(docs, r);
    let Some(b) = boundary else {
        return own;
    };
    if r.uin == r.owner_uin || own == RefDecision::ExplicitDeny {
        return own;
    }
    match (own, evaluate(std::slice::from_ref(b), r)) {
        (_, RefDecision::ExplicitDeny) => RefDecision::ExplicitDeny,
        (RefDecision::Allow, RefDecision::Allow) => RefDecision::Allow,
        _ => RefDecision::ImplicitDeny,
    }
}
