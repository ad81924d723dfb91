//! Condition operators: compiling a statement's `condition` block and
//! evaluating it against a request, without allocating.

use std::net::IpAddr;

use super::checker::Checker;
use super::cidr::Cidr;
use super::error::Code;
use super::json::{Key, Node, Value};
use super::pattern::{Digits, Pattern, Vars};
use super::request::Request;
use super::time::{TimeText, parse_ms};

/// How an ordered comparison compares the request value with the policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `_equal` (and, negated, `_not_equal`).
    Eq,
    /// `_greater_than`.
    Gt,
    /// `_greater_than_equal`.
    Ge,
    /// `_less_than`.
    Lt,
    /// `_less_than_equal`.
    Le,
}

impl Cmp {
    fn test<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
        }
    }
}

/// The values of one condition key, typed by its operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// `string_equal` / `string_not_equal`: exact, case-sensitive, with policy variables.
    Str(Vec<Pattern>),
    /// `string_*_ignore_case`: ASCII case-insensitive, with policy variables.
    StrIgnoreCase(Vec<Pattern>),
    /// `binary_equal`: base64 text compared exactly.
    Binary(Vec<Box<str>>),
    /// `date_*`: milliseconds since the epoch.
    Date(Cmp, Vec<i64>),
    /// `ip_equal` / `ip_not_equal`.
    Ip(Vec<Cidr>),
    /// `numeric_*`.
    Numeric(Cmp, Vec<f64>),
    /// `bool_equal`.
    Bool(Vec<bool>),
    /// `null_equal`: `true` means "the key is absent".
    Null(Vec<bool>),
}

/// `for_any_value:` / `for_all_value:`, for multi-valued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// No qualifier: met when some request value matches (negated: when none does).
    None,
    /// Met when at least one request value satisfies the operator; an absent key never does.
    ForAnyValue,
    /// Met when every request value satisfies the operator; an absent key always does.
    ForAllValue,
}

/// Where a clause's request values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The request context.
    Context,
    /// `qcs:uin`, filled by the engine.
    Uin,
    /// `qcs:owner_uin`, filled by the engine.
    OwnerUin,
    /// `qcs:current_time`, filled by the engine.
    CurrentTime,
}

impl Source {
    fn of(key: &str) -> Self {
        if key.eq_ignore_ascii_case("qcs:uin") {
            Source::Uin
        } else if key.eq_ignore_ascii_case("qcs:owner_uin") {
            Source::OwnerUin
        } else if key.eq_ignore_ascii_case("qcs:current_time") {
            Source::CurrentTime
        } else {
            Source::Context
        }
    }
}

/// One operator applied to one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The condition key as written, e.g. `qcs:ip`.
    pub key: Box<str>,
    /// Where its request values come from.
    pub source: Source,
    /// The policy's values, typed.
    pub values: Values,
    /// A `*_not_equal` operator: the negation of its `*_equal`.
    pub negate: bool,
    /// `_if_exist`: met when the key is absent.
    pub if_exist: bool,
    /// Multi-valued qualifier.
    pub qualifier: Qualifier,
    /// The clause as written, `operator key: values` (for display only).
    pub shown: Box<str>,
}

/// The result of evaluating a clause or a statement's conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Met.
    True,
    /// Not met.
    False,
    /// Could not be evaluated (a request value does not parse as the operator's type).
    Error,
}

/// The global condition keys camd knows (`qcs:tag/<k>` is matched by prefix).
const GLOBAL_KEYS: &[&str] = &[
    "qcs:ip",
    "qcs:current_time",
    "qcs:uin",
    "qcs:owner_uin",
    "qcs:mfa",
    "qcs:resource_tag",
    "qcs:request_tag",
];

enum Base {
    Str,
    StrIgnoreCase,
    Binary,
    Date(Cmp),
    Ip,
    Numeric(Cmp),
    Bool,
    Null,
}

fn base_operator(name: &str) -> Option<(Base, bool)> {
    let ordered = |rest: &str| -> Option<(Cmp, bool)> {
        Some(match rest {
            "equal" => (Cmp::Eq, false),
            "not_equal" => (Cmp::Eq, true),
            "greater_than" => (Cmp::Gt, false),
            "greater_than_equal" => (Cmp::Ge, false),
            "less_than" => (Cmp::Lt, false),
            "less_than_equal" => (Cmp::Le, false),
            _ => return None,
        })
    };
    Some(match name {
        "string_equal" => (Base::Str, false),
        "string_not_equal" => (Base::Str, true),
        "string_equal_ignore_case" => (Base::StrIgnoreCase, false),
        "string_not_equal_ignore_case" => (Base::StrIgnoreCase, true),
        "binary_equal" => (Base::Binary, false),
        "ip_equal" => (Base::Ip, false),
        "ip_not_equal" => (Base::Ip, true),
        "bool_equal" => (Base::Bool, false),
        "null_equal" => (Base::Null, false),
        _ => {
            if let Some(rest) = name.strip_prefix("date_") {
                let (c, n) = ordered(rest)?;
                (Base::Date(c), n)
            } else if let Some(rest) = name.strip_prefix("numeric_") {
                let (c, n) = ordered(rest)?;
                (Base::Numeric(c), n)
            } else {
                return None;
            }
        }
    })
}

fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b.iter()
            .take(b.len() - pad)
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// A scalar condition value as text (numbers as written, booleans as `true`/`false`).
fn scalar_text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(raw, _) => Some(raw),
        Value::Bool(true) => Some("true"),
        Value::Bool(false) => Some("false"),
        _ => None,
    }
}

/// A condition operator's name, taken apart.
struct Operator {
    /// The operator's type (and, when ordered, its comparison).
    base: Base,
    /// A `*_not_equal` operator.
    negate: bool,
    /// `_if_exist`.
    if_exist: bool,
    /// `for_any_value:` / `for_all_value:`.
    qualifier: Qualifier,
}

/// Compiles a statement's `condition` object; errors go to `ck`.
pub(crate) fn compile(node: &Node, path: &str, ck: &mut Checker<'_>) -> Vec<Clause> {
    let mut clauses = Vec::new();
    let Value::Object(ops) = &node.value else {
        ck.error(
            Code::ConditionError,
            path,
            node.offset,
            format!("`condition` must be an object, not {}", node.value.kind()),
        );
        return clauses;
    };
    if ops.is_empty() {
        ck.error(
            Code::ConditionError,
            path,
            node.offset,
            "`condition` is empty".into(),
        );
    }
    for (op_key, op_node) in ops {
        let op_name = op_key.name.as_str();
        let op_path = format!("{path}.{op_name}");
        let Some(op) = operator(op_key, &op_path, ck) else {
            continue;
        };
        let Some(keys) = operator_keys(op_name, &op_path, op_node, ck) else {
            continue;
        };
        for (key, vnode) in keys {
            if let Some(c) = clause(op_name, &op, &op_path, key, vnode, ck) {
                clauses.push(c);
            }
        }
    }
    clauses
}

/// Takes an operator's name apart, reporting an operator camd does not know
/// (and `null_equal` with `_if_exist` or a qualifier).
fn operator(op_key: &Key, op_path: &str, ck: &mut Checker<'_>) -> Option<Operator> {
    let op_name = op_key.name.as_str();
    let (qualifier, rest) = if let Some(r) = op_name.strip_prefix("for_any_value:") {
        (Qualifier::ForAnyValue, r)
    } else if let Some(r) = op_name.strip_prefix("for_all_value:") {
        (Qualifier::ForAllValue, r)
    } else {
        (Qualifier::None, op_name)
    };
    let (if_exist, base_name) = match rest.strip_suffix("_if_exist") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let Some((base, negate)) = base_operator(base_name) else {
        ck.error(
            Code::ConditionTypeError,
            op_path,
            op_key.offset,
            format!("unknown condition operator `{op_name}`"),
        );
        return None;
    };
    if matches!(base, Base::Null) && (if_exist || qualifier != Qualifier::None) {
        ck.error(
            Code::ConditionTypeError,
            op_path,
            op_key.offset,
            format!("`null_equal` takes neither `_if_exist` nor a qualifier, in `{op_name}`"),
        );
        return None;
    }
    Some(Operator {
        base,
        negate,
        if_exist,
        qualifier,
    })
}

/// The keys an operator maps to values, reporting an operator that is not
/// an object (and one that names no key).
fn operator_keys<'n>(
    op_name: &str,
    op_path: &str,
    op_node: &'n Node,
    ck: &mut Checker<'_>,
) -> Option<&'n [(Key, Node)]> {
    let Value::Object(keys) = &op_node.value else {
        ck.error(
            Code::ConditionError,
            op_path,
            op_node.offset,
            format!(
                "operator `{op_name}` must map keys to values, not be {}",
                op_node.value.kind()
            ),
        );
        return None;
    };
    if keys.is_empty() {
        ck.error(
            Code::ConditionError,
            op_path,
            op_node.offset,
            format!("operator `{op_name}` names no key"),
        );
    }
    Some(keys.as_slice())
}

/// One key of an operator as a clause, reporting a key camd does not know
/// and values that do not fit the operator.
fn clause(
    op_name: &str,
    op: &Operator,
    op_path: &str,
    key: &Key,
    vnode: &Node,
    ck: &mut Checker<'_>,
) -> Option<Clause> {
    let key_path = format!("{op_path}.{}", key.name);
    if !key_ok(&key.name) {
        ck.error(
            Code::ConditionError,
            &key_path,
            key.offset,
            format!(
                "condition key `{}` is not a known `qcs:` key nor of the form `service:key`",
                key.name
            ),
        );
        return None;
    }
    let items = key_items(&key_path, key, vnode, ck)?;
    let values = typed_values(&op.base, &items, ck)?;
    let written: Vec<String> = items.iter().map(|(_, n)| written(&n.value)).collect();
    Some(Clause {
        shown: format!("{op_name} {}: {}", key.name, written.join(", ")).into(),
        source: Source::of(&key.name),
        key: key.name.clone().into_boxed_str(),
        values,
        negate: op.negate,
        if_exist: op.if_exist,
        qualifier: op.qualifier,
    })
}

/// A key's values, each with its path: the value itself, or each item of
/// an array (an empty array is reported).
fn key_items<'n>(
    key_path: &str,
    key: &Key,
    vnode: &'n Node,
    ck: &mut Checker<'_>,
) -> Option<Vec<(String, &'n Node)>> {
    Some(match &vnode.value {
        Value::Array(items) if items.is_empty() => {
            ck.error(
                Code::ConditionContentError,
                key_path,
                vnode.offset,
                format!("condition key `{}` has no values", key.name),
            );
            return None;
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{key_path}[{i}]"), n))
            .collect(),
        _ => vec![(key_path.to_string(), vnode)],
    })
}

/// A condition value as written.
fn written(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(text, _) => text.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.kind().to_string(),
    }
}

fn key_ok(key: &str) -> bool {
    if let Some(rest) = key.strip_prefix("qcs:") {
        return GLOBAL_KEYS.contains(&key)
            || rest.strip_prefix("tag/").is_some_and(|t| !t.is_empty());
    }
    match key.split_once(':') {
        Some((svc, name)) => {
            !svc.is_empty()
                && !name.is_empty()
                && svc
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// Converts each value to the operator's type, reporting every one that does not fit.
fn typed_values(base: &Base, items: &[(String, &Node)], ck: &mut Checker<'_>) -> Option<Values> {
    let mut ok = true;
    let mut bad = |ck: &mut Checker<'_>, path: &str, node: &Node, want: &str| {
        let shown = scalar_text(&node.value)
            .map_or_else(|| node.value.kind().to_string(), |t| format!("`{t}`"));
        ck.error(
            Code::ConditionContentError,
            path,
            node.offset,
            format!("condition value {shown} is not {want}"),
        );
        ok = false;
    };
    macro_rules! collect {
        ($want:expr, $conv:expr) => {{
            let mut out = Vec::with_capacity(items.len());
            for (path, node) in items {
                match scalar_text(&node.value).and_then(|t| $conv(t, &node.value)) {
                    Some(v) => out.push(v),
                    None => bad(ck, path, node, $want),
                }
            }
            out
        }};
    }
    let values =
        match base {
            Base::Str => Values::Str(collect!("a string", |t: &str, _: &Value| Pattern::parse(
                t, false, true, false
            )
            .ok())),
            Base::StrIgnoreCase => Values::StrIgnoreCase(collect!(
                "a string",
                |t: &str, _: &Value| Pattern::parse(t, false, true, true).ok()
            )),
            Base::Binary => Values::Binary(collect!("base64 text", |t: &str, v: &Value| {
                (matches!(v, Value::String(_)) && is_base64(t)).then(|| Box::from(t))
            })),
            Base::Date(c) => Values::Date(
                *c,
                collect!(
                    "an ISO 8601 time like `2026-01-31T00:00:00Z`",
                    |t: &str, _: &Value| parse_ms(t)
                ),
            ),
            Base::Ip => Values::Ip(collect!(
                "an IP address or CIDR block",
                |t: &str, v: &Value| {
                    matches!(v, Value::String(_))
                        .then(|| Cidr::parse(t))
                        .flatten()
                }
            )),
            Base::Numeric(c) => Values::Numeric(
                *c,
                collect!("a number", |t: &str, _: &Value| parse_number(t)),
            ),
            Base::Bool => Values::Bool(collect!("`true` or `false`", |t: &str, _: &Value| {
                parse_bool(t)
            })),
            Base::Null => Values::Null(collect!("`true` or `false`", |t: &str, _: &Value| {
                parse_bool(t)
            })),
        };
    ok.then_some(values)
}

fn parse_number(t: &str) -> Option<f64> {
    let t = t.trim();
    // Rust also accepts `inf`, `nan` and a leading `+`; a condition value must be a plain number.
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_bool(t: &str) -> Option<bool> {
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A value the engine fills in itself, rendered on the stack.
enum Filled {
    Digits(Digits),
    Time(TimeText),
}

impl Filled {
    fn as_str(&self) -> &str {
        match self {
            Filled::Digits(d) => std::str::from_utf8(d.as_bytes()).unwrap_or_default(),
            Filled::Time(t) => t.as_str(),
        }
    }
}

fn filled(source: Source, req: &Request<'_>) -> Option<Filled> {
    match source {
        Source::Uin => Some(Filled::Digits(Digits::new(req.principal.uin))),
        Source::OwnerUin => Some(Filled::Digits(Digits::new(req.principal.owner_uin))),
        Source::CurrentTime => Some(Filled::Time(TimeText::new(req.now_ms))),
        Source::Context => None,
    }
}

impl Clause {
    /// Whether one request value matches any of the policy's values (the positive operator).
    fn single(&self, v: &str, vars: Vars) -> Result<bool, ()> {
        Ok(match &self.values {
            Values::Str(ps) | Values::StrIgnoreCase(ps) => ps.iter().any(|p| p.matches(v, vars)),
            Values::Binary(bs) => bs.iter().any(|b| &**b == v),
            Values::Date(c, ds) => {
                let t = parse_ms(v).ok_or(())?;
                ds.iter().any(|d| c.test(t, *d))
            }
            Values::Ip(cs) => {
                let ip = v.trim().parse::<IpAddr>().map_err(|_| ())?;
                cs.iter().any(|c| c.contains(ip))
            }
            Values::Numeric(c, ns) => {
                let n = parse_number(v).ok_or(())?;
                ns.iter().any(|x| c.test(n, *x))
            }
            Values::Bool(bs) => {
                let b = parse_bool(v).ok_or(())?;
                bs.contains(&b)
            }
            Values::Null(_) => false,
        })
    }

    /// Evaluates the clause against the request.
    pub fn eval(&self, req: &Request<'_>) -> Outcome {
        let vars = Vars {
            uin: req.principal.uin,
            owner_uin: req.principal.owner_uin,
        };
        let own = filled(self.source, req);
        let mut count = 0usize;
        let mut any_single = false;
        let mut any_per = false;
        let mut all_per = true;
        let mut error = false;
        let mut visit = |v: &str| {
            count += 1;
            match self.single(v, vars) {
                Ok(s) => {
                    let per = s != self.negate;
                    any_single |= s;
                    any_per |= per;
                    all_per &= per;
                }
                Err(()) => error = true,
            }
        };
        match &own {
            Some(f) => visit(f.as_str()),
            None => req
                .context
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(&self.key))
                .for_each(|(_, v)| visit(v)),
        }
        let met = if let Values::Null(want) = &self.values {
            want.contains(&(count == 0))
        } else if count == 0 {
            self.if_exist
                || match self.qualifier {
                    Qualifier::ForAllValue => true,
                    Qualifier::ForAnyValue => false,
                    Qualifier::None => self.negate,
                }
        } else if error {
            return Outcome::Error;
        } else {
            match self.qualifier {
                Qualifier::None => any_single != self.negate,
                Qualifier::ForAnyValue => any_per,
                Qualifier::ForAllValue => all_per,
            }
        };
        if met { Outcome::True } else { Outcome::False }
    }
}

/// Evaluates clauses AND'ed together: any error makes the whole `Error`.
pub fn eval_all(clauses: &[Clause], req: &Request<'_>) -> Outcome {
    let mut result = Outcome::True;
    for c in clauses {
        match c.eval(req) {
            Outcome::True => {}
            Outcome::False => result = Outcome::False,
            Outcome::Error => return Outcome::Error,
        }
    }
    result
}
