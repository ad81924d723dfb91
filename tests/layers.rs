//! The module layers, read from the source: a module may import only
//! modules of lower layers. ARCHITECTURE.md draws the same layers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// src/'s top-level modules, lowest layer first.
const TOP: &[&[&str]] = &[
    &["code", "clock", "logging", "manual", "process"],
    &["policy", "credentials", "protocol", "metrics"],
    &[
        "catalog",
        "store",
        "systemd",
        "client",
        "api",
        "etcd",
        "decisions",
    ],
    &["authz", "config", "simulate", "gateway", "shutdown"],
    &["reload", "cluster"],
    &["ops"],
    &["server"],
    &["app"],
];

/// policy/'s files, lowest layer first.
const POLICY: &[&[&str]] = &[
    &[
        "json", "pattern", "error", "cidr", "time", "actions", "decision",
    ],
    &["checker", "request"],
    &["resource", "action"],
    &["condition"],
    &["statement"],
    &["escalation"],
    &["document"],
    &["trust", "prefilter"],
    &["preset", "set", "permissions"],
];

/// The files of each module with files of its own, lowest layer first: a
/// file may import (`super::…`) only files of lower layers, so no module
/// holds a circle either.
const INNER: &[(&str, &[&[&str]])] = &[
    ("policy", POLICY),
    (
        "protocol",
        &[
            &["kind", "decision_id"],
            &["managed", "account", "decision_log"],
            &["roles"],
            &["messages"],
            &["ops"],
            &["envelope"],
            &["codec"],
            &["borrowed", "replies"],
        ],
    ),
    (
        "api",
        &[
            &["ids", "params"],
            &["fields"],
            &["action"],
            &[
                "users",
                "groups",
                "policies",
                "attachments",
                "keys",
                "versions",
                "boundaries",
                "account",
                "roles",
            ],
            &["service"],
        ],
    ),
    (
        "decisions",
        &[
            &["settings", "ids"],
            &["record"],
            &["rules"],
            &["render", "sink"],
            &["writer"],
        ],
    ),
    (
        "server",
        &[
            &[
                "acceptor", "budget", "listener", "per_uid", "throttle", "tracing",
            ],
            &["peer"],
            &["proof", "answer"],
            &["daemon"],
            &["admin", "signed"],
            &["handler"],
            &["api"],
            &["connection"],
        ],
    ),
    (
        "store",
        &[
            &["command", "error", "limits", "tables"],
            &["records", "audit", "migrate"],
            &["state"],
            &["kind"],
            &["file"],
            &["replica"],
            &["rules"],
            &["settings"],
            &["users", "groups", "attachments", "keys", "reads", "managed"],
            &["roles"],
            &["writer"],
        ],
    ),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules `text` names after `prefix` (`crate::` or `super::`),
/// including each name in a `prefix{a, b::c}` group.
fn imported(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in text.match_indices(prefix) {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn layer_of(layers: &[&[&str]], name: &str) -> Option<usize> {
    layers.iter().position(|l| l.contains(&name))
}

/// Every import of a same- or higher-layer module, as `file: a -> b`.
fn upward(
    root: &Path,
    layers: &[&[&str]],
    prefix: &str,
    module_of: impl Fn(&Path) -> Option<String>,
) -> Vec<String> {
    let mut all = Vec::new();
    files(root, &mut all);
    let mut bad = Vec::new();
    for f in all {
        let Some(from) = module_of(&f) else { continue };
        let from_layer = layer_of(layers, &from)
            .unwrap_or_else(|| panic!("{} (module `{from}`) has no layer: add it", f.display()));
        let text = std::fs::read_to_string(&f).unwrap();
        for to in imported(&text, prefix) {
            // The log macros are exported at the crate root.
            let to = if to.starts_with("log_") {
                "logging".to_string()
            } else {
                to
            };
            if to == from || to == "self" {
                continue;
            }
            let Some(to_layer) = layer_of(layers, &to) else {
                continue;
            };
            if to_layer >= from_layer {
                bad.push(format!("{}: `{from}` imports `{to}`", f.display()));
            }
        }
    }
    bad
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let top = |f: &Path| -> Option<String> {
        let rel = f.strip_prefix(&src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?.to_string();
        match first.as_str() {
            "bin" | "lib.rs" => None,
            _ => Some(first.trim_end_matches(".rs").to_string()),
        }
    };
    let bad = upward(&src, TOP, "crate::", top);
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));

    let inner = |f: &Path| -> Option<String> {
        let stem = f.file_stem()?.to_str()?;
        (stem != "mod").then(|| stem.to_string())
    };
    for (module, layers) in INNER {
        let bad = upward(&src.join(module), layers, "super::", inner);
        assert!(
            bad.is_empty(),
            "upward imports in {module}/:\n{}",
            bad.join("\n")
        );
    }
}

#[test]
fn the_scan_sees_grouped_and_plain_imports() {
    let text = "use crate::{store::X, authz};\nlet a = crate::server::now();\nfoo::crate::no;";
    let got: Vec<String> = imported(text, "crate::").into_iter().collect();
    assert_eq!(got, ["authz", "server", "store"]);
}
