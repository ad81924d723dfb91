//! A policy document: checking CAM 2.0 JSON against the grammar and
//! compiling it into statements ready to evaluate.

use super::action::{ActionBits, ActionPattern};
use super::checker::Checker;
use super::condition;
use super::error::{Code, PolicyErrors, PolicyWarning};
use super::json::{self, Key, Node, Value};
use super::resource::ResourcePattern;
use super::statement::{Effect, Statement};

/// The longest policy document CAM accepts, in characters.
pub const MAX_DOCUMENT_CHARS: usize = 6144;

/// A compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The policy's name.
    pub name: String,
    /// Its statements, in document order.
    pub statements: Vec<Statement>,
}

/// A successfully compiled policy with what looked odd in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The policy.
    pub policy: Policy,
    /// Warnings (e.g. a wildcard that matches no catalogued action).
    pub warnings: Vec<PolicyWarning>,
}

/// The characters a policy name may use.
pub fn is_valid_policy_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

impl Policy {
    /// Checks and compiles `text` as a CAM 2.0 policy document named `name`.
    /// Returns every error found, each with its CAM code, path and position.
    pub fn parse(name: &str, text: &str) -> Result<Compiled, PolicyErrors> {
        let (statements, warnings) = checked(text, |root, ck| document(root, ck, statement_of))?;
        Ok(Compiled {
            policy: Policy {
                name: name.to_string(),
                statements,
            },
            warnings,
        })
    }
}

/// Checks `text` as a policy document of at most `MAX_DOCUMENT_CHARS`
/// characters and hands its JSON to `read`; what `read` built and the
/// warnings, or every error found, sorted by position.
pub(super) fn checked<T>(
    text: &str,
    read: impl FnOnce(&Node, &mut Checker<'_>) -> T,
) -> Result<(T, Vec<PolicyWarning>), PolicyErrors> {
    let mut ck = Checker {
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let chars = text.chars().count();
    if chars > MAX_DOCUMENT_CHARS {
        ck.error(
            Code::PolicyDocumentLengthOverLimit,
            "",
            0,
            format!("document is {chars} characters long; the limit is {MAX_DOCUMENT_CHARS}"),
        );
        return Err(PolicyErrors(ck.errors));
    }
    let root = match json::parse(text) {
        Ok(root) => root,
        Err(e) => {
            ck.error(
                Code::PolicyDocumentError,
                "",
                e.offset,
                format!("document is not valid JSON: {}", e.message),
            );
            return Err(PolicyErrors(ck.errors));
        }
    };
    let built = read(&root, &mut ck);
    ck.errors
        .sort_by_key(|e| (e.position.line, e.position.column));
    if ck.errors.is_empty() {
        Ok((built, ck.warnings))
    } else {
        Err(PolicyErrors(ck.errors))
    }
}

/// The document's `version` and `statement` checked, and each statement
/// read by `each` (its index, its node).
pub(super) fn document<T>(
    root: &Node,
    ck: &mut Checker<'_>,
    each: impl Fn(usize, &Node, &mut Checker<'_>) -> Option<T>,
) -> Vec<T> {
    let Value::Object(members) = &root.value else {
        ck.error(
            Code::PolicyDocumentError,
            "",
            root.offset,
            format!("document must be a JSON object, not {}", root.value.kind()),
        );
        return Vec::new();
    };
    let mut version = None;
    let mut statement = None;
    for (key, node) in members {
        match key.name.as_str() {
            "version" => version = Some(node),
            "statement" => statement = Some(node),
            other => ck.error(
                Code::PolicyDocumentError,
                other,
                key.offset,
                unknown_key(other, "document", &["version", "statement"]),
            ),
        }
    }
    match version {
        None => ck.error(
            Code::VersionError,
            "version",
            root.offset,
            "`version` is missing".into(),
        ),
        Some(n) if n.value == Value::String("2.0".into()) => {}
        Some(n) => ck.error(
            Code::VersionError,
            "version",
            n.offset,
            format!("`version` must be \"2.0\", not {}", shown(&n.value)),
        ),
    }
    let Some(st) = statement else {
        ck.error(
            Code::StatementError,
            "statement",
            root.offset,
            "`statement` is missing".into(),
        );
        return Vec::new();
    };
    let Value::Array(items) = &st.value else {
        ck.error(
            Code::StatementError,
            "statement",
            st.offset,
            format!("`statement` must be an array, not {}", st.value.kind()),
        );
        return Vec::new();
    };
    if items.is_empty() {
        ck.error(
            Code::StatementError,
            "statement",
            st.offset,
            "`statement` is empty".into(),
        );
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| each(i, n, ck))
        .collect()
}

pub(super) fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Number(raw, _) => format!("`{raw}`"),
        other => other.kind().to_string(),
    }
}

pub(super) fn unknown_key(key: &str, what: &str, known: &[&str]) -> String {
    let lower = key.to_ascii_lowercase();
    if known.contains(&lower.as_str()) {
        format!("unknown key `{key}` in {what}; keys are lowercase: `{lower}`")
    } else {
        format!(
            "unknown key `{key}` in {what}; expected one of `{}`",
            known.join("`, `")
        )
    }
}

/// A statement's members, as found in it.
#[derive(Default)]
struct Members<'n> {
    /// `effect`.
    effect: Option<&'n Node>,
    /// `action`.
    action: Option<&'n Node>,
    /// `resource`.
    resource: Option<&'n Node>,
    /// `condition`.
    condition: Option<&'n Node>,
}

/// Statement `i`'s path and members; `None` (reported) when it is not an object.
pub(super) fn statement_members<'n>(
    i: usize,
    node: &'n Node,
    ck: &mut Checker<'_>,
) -> Option<(String, &'n [(Key, Node)])> {
    let path = format!("statement[{i}]");
    let Value::Object(members) = &node.value else {
        ck.error(
            Code::StatementError,
            &path,
            node.offset,
            format!("a statement must be an object, not {}", node.value.kind()),
        );
        return None;
    };
    Some((path, members))
}

fn statement_of(i: usize, node: &Node, ck: &mut Checker<'_>) -> Option<Statement> {
    let (path, members) = statement_members(i, node, ck)?;
    let before = ck.errors.len();
    let found = members_of(members, &path, ck);
    let effect = effect_of(found.effect, &path, node.offset, ck);
    let actions = actions_of(found.action, &path, node.offset, ck);
    let (resources, resources_shown) = resources_of(found.resource, &path, node.offset, ck);
    let conditions = found
        .condition
        .map(|c| condition::compile(c, &format!("{path}.condition"), ck))
        .unwrap_or_default();
    if ck.errors.len() != before {
        return None;
    }
    let st = Statement {
        index: i,
        effect: effect?,
        any_resource: resources.contains(&ResourcePattern::Any),
        action_bits: ActionBits::of(&actions),
        actions,
        resources,
        resources_shown: resources_shown.into_boxed_slice(),
        conditions,
    };
    super::escalation::check(&st, &path, node.offset, ck);
    Some(st)
}

/// Sorts a statement's members out, reporting `principal` and unknown keys.
fn members_of<'n>(members: &'n [(Key, Node)], path: &str, ck: &mut Checker<'_>) -> Members<'n> {
    let mut found = Members::default();
    for (key, n) in members {
        match key.name.as_str() {
            "effect" => found.effect = Some(n),
            "action" => found.action = Some(n),
            "resource" => found.resource = Some(n),
            "condition" => found.condition = Some(n),
            "principal" => ck.error(
                Code::PrincipalError,
                &format!("{path}.principal"),
                key.offset,
                "`principal` is not allowed in a user or group policy (it belongs in role trust and bucket policies)".into(),
            ),
            other => ck.error(
                Code::StatementError,
                &format!("{path}.{other}"),
                key.offset,
                unknown_key(other, "statement", &["effect", "action", "resource", "condition"]),
            ),
        }
    }
    found
}

/// The statement's effect, `allow` or `deny`; a missing or other one is
/// reported (at the statement's `offset` when missing).
pub(super) fn effect_of(
    effect: Option<&Node>,
    path: &str,
    offset: usize,
    ck: &mut Checker<'_>,
) -> Option<Effect> {
    match effect {
        None => {
            ck.error(
                Code::EffectError,
                &format!("{path}.effect"),
                offset,
                "`effect` is missing".into(),
            );
            None
        }
        Some(n) => match &n.value {
            Value::String(s) if s == "allow" => Some(Effect::Allow),
            Value::String(s) if s == "deny" => Some(Effect::Deny),
            other => {
                ck.error(
                    Code::EffectError,
                    &format!("{path}.effect"),
                    n.offset,
                    format!(
                        "`effect` must be \"allow\" or \"deny\", not {}",
                        shown(other)
                    ),
                );
                None
            }
        },
    }
}

/// The statement's action patterns, each compiled (errors go to `ck`).
fn actions_of(
    action: Option<&Node>,
    path: &str,
    offset: usize,
    ck: &mut Checker<'_>,
) -> Vec<ActionPattern> {
    strings(
        action,
        &format!("{path}.action"),
        "action",
        Code::ActionError,
        offset,
        ck,
    )
    .into_iter()
    .filter_map(|(p, off, s)| ActionPattern::compile(&s, &p, off, ck))
    .collect::<Vec<_>>()
}

/// The statement's resource patterns, and each as written (errors go to `ck`).
fn resources_of(
    resource: Option<&Node>,
    path: &str,
    offset: usize,
    ck: &mut Checker<'_>,
) -> (Vec<ResourcePattern>, Vec<Box<str>>) {
    let mut resources_shown = Vec::new();
    let resources = strings(
        resource,
        &format!("{path}.resource"),
        "resource",
        Code::ResourceError,
        offset,
        ck,
    )
    .into_iter()
    .filter_map(|(p, off, s)| match ResourcePattern::parse(&s) {
        Ok(r) => {
            resources_shown.push(s.into_boxed_str());
            Some(r)
        }
        Err(m) => {
            ck.error(Code::ResourceError, &p, off, m);
            None
        }
    })
    .collect::<Vec<_>>();
    (resources, resources_shown)
}

/// A string or a non-empty array of strings, with each item's path and offset.
pub(super) fn strings(
    node: Option<&Node>,
    path: &str,
    what: &str,
    code: Code,
    parent_offset: usize,
    ck: &mut Checker<'_>,
) -> Vec<(String, usize, String)> {
    let Some(node) = node else {
        ck.error(code, path, parent_offset, format!("`{what}` is missing"));
        return Vec::new();
    };
    match &node.value {
        Value::String(s) => vec![(path.to_string(), node.offset, s.clone())],
        Value::Array(items) if items.is_empty() => {
            ck.error(
                code,
                path,
                node.offset,
                format!("`{what}` is an empty array"),
            );
            Vec::new()
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                match &item.value {
                    Value::String(s) => out.push((p, item.offset, s.clone())),
                    other => ck.error(
                        code,
                        &p,
                        item.offset,
                        format!("each `{what}` must be a string, not {}", other.kind()),
                    ),
                }
            }
            out
        }
        other => {
            ck.error(
                code,
                path,
                node.offset,
                format!(
                    "`{what}` must be a string or an array of strings, not {}",
                    other.kind()
                ),
            );
            Vec::new()
        }
    }
}
