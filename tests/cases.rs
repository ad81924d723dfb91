//! Data-driven policy cases from `tests/cases/*.json`: documents, requests,
//! and the expected decision and deciding statement, or the expected errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use camd::policy::{Policy, PolicySet, Principal, Request, Severity, parse_time_ms, preset};
use serde_json::Value;

pub const OWNER: u64 = 100000000001;
pub const USER: u64 = 200000000001;
const DEFAULT_RESOURCE: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";
const DEFAULT_TIME: &str = "2026-06-01T00:00:00Z";

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Compiles the case's named policies and presets into a set.
fn policy_set(case: &Value, failures: &mut Vec<String>, name: &str) -> Option<PolicySet> {
    let mut policies: Vec<Arc<Policy>> = Vec::new();
    if let Some(map) = case.get("policies").and_then(Value::as_object) {
        for (pname, doc) in map {
            match Policy::parse(pname, &doc.to_string()) {
                Ok(c)
                    if case.get("lint_clean") == Some(&Value::Bool(true))
                        && !c.warnings.is_empty() =>
                {
                    failures.push(format!(
                        "{name}: policy {pname} does not lint clean: {:?}",
                        c.warnings
                    ));
                    return None;
                }
                Ok(c) => policies.push(Arc::new(c.policy)),
                Err(e) => {
                    failures.push(format!("{name}: policy {pname} does not compile: {e}"));
                    return None;
                }
            }
        }
    }
    for p in case
        .get("presets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pname = p.as_str().unwrap();
        policies.push(preset::preset(pname).unwrap_or_else(|| panic!("{name}: no preset {pname}")));
    }
    let boundary = match case.get("boundary").and_then(Value::as_object) {
        Some(map) => {
            let (bname, doc) = map.iter().next()?;
            match Policy::parse(bname, &doc.to_string()) {
                Ok(c) => Some(Arc::new(PolicySet::new([Arc::new(c.policy)]))),
                Err(e) => {
                    failures.push(format!("{name}: boundary {bname} does not compile: {e}"));
                    return None;
                }
            }
        }
        None => None,
    };
    Some(PolicySet::new(policies).bounded(boundary))
}

fn run_check(set: &PolicySet, check: &Value, name: &str) -> Result<(), String> {
    let action = str_of(check, "action").ok_or("check without action")?;
    let resource = str_of(check, "resource").unwrap_or(DEFAULT_RESOURCE);
    let uin = check.get("uin").and_then(Value::as_u64).unwrap_or(USER);
    let owner_uin = check
        .get("owner_uin")
        .and_then(Value::as_u64)
        .unwrap_or(OWNER);
    let now_ms = parse_time_ms(str_of(check, "time").unwrap_or(DEFAULT_TIME)).ok_or("bad time")?;
    let mut context: Vec<(String, String)> = Vec::new();
    if let Some(ctx) = check.get("context").and_then(Value::as_object) {
        for (k, v) in ctx {
            match v {
                Value::Array(vs) => context.extend(
                    vs.iter()
                        .map(|x| (k.clone(), x.as_str().unwrap().to_string())),
                ),
                Value::String(s) => context.push((k.clone(), s.clone())),
                _ => return Err(format!("{name}: context values are strings")),
            }
        }
    }
    let pairs: Vec<(&str, &str)> = context
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request::new(
        action,
        resource,
        Principal { uin, owner_uin },
        now_ms,
        &pairs,
    )
    .map_err(|e| format!("{name}: bad request: {e}"))?;
    let d = set.evaluate(&req);
    let want = str_of(check, "expect").ok_or("check without expect")?;
    let got = d.reason_code();
    if got != want {
        return Err(format!(
            "{name}: {action} on {resource}: expected {want}, got {got} ({d})"
        ));
    }
    if let Some(by) = str_of(check, "by") {
        let (pol, idx) = by.split_once('#').ok_or("by is POLICY#INDEX")?;
        let st = d
            .statement()
            .ok_or_else(|| format!("{name}: expected statement {by}, got none"))?;
        if st.policy != pol || st.statement.to_string() != idx {
            return Err(format!(
                "{name}: {action}: expected {by}, got {}#{}",
                st.policy, st.statement
            ));
        }
    }
    if let Some(want) = str_of(check, "policy") {
        if d.policy() != Some(want) {
            return Err(format!(
                "{name}: {action}: expected policy {want}, got {:?} ({d})",
                d.policy()
            ));
        }
    }
    if let Some(want) = str_of(check, "message") {
        if !d.to_string().contains(want) {
            return Err(format!("{name}: {action}: `{d}` does not say `{want}`"));
        }
    }
    if let Some(by) = str_of(check, "unevaluable") {
        let st = d
            .unevaluable_allow
            .ok_or_else(|| format!("{name}: expected unevaluable allow {by}"))?;
        if format!("{}#{}", st.policy, st.statement) != by {
            return Err(format!(
                "{name}: unevaluable allow is {}#{}",
                st.policy, st.statement
            ));
        }
    }
    Ok(())
}

fn run_validation(case: &Value, name: &str) -> Result<(), String> {
    let mut text = match (case.get("document"), str_of(case, "text")) {
        (Some(doc), _) => doc.to_string(),
        (None, Some(t)) => t.to_string(),
        _ => return Err(format!("{name}: validation case without document or text")),
    };
    if let Some(pad) = case.get("pad").and_then(Value::as_u64) {
        text.push_str(&" ".repeat(pad as usize));
    }
    let want: Vec<(String, String)> = case
        .get("errors")
        .and_then(Value::as_array)
        .map(|es| {
            es.iter()
                .map(|e| {
                    (
                        e[0].as_str().unwrap().to_string(),
                        e[1].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    match Policy::parse("Case", &text) {
        Ok(c) => {
            if !want.is_empty() {
                return Err(format!(
                    "{name}: expected errors {want:?}, document was accepted"
                ));
            }
            for (key, severity) in [("warnings", Severity::Warning), ("notes", Severity::Note)] {
                let want = case.get(key).and_then(Value::as_u64).unwrap_or(0) as usize;
                let got = c.warnings.iter().filter(|w| w.severity == severity).count();
                if got != want {
                    return Err(format!(
                        "{name}: expected {want} {key}, got {:?}",
                        c.warnings
                    ));
                }
            }
            Ok(())
        }
        Err(errs) => {
            let got: Vec<(String, String)> = errs
                .0
                .iter()
                .map(|e| {
                    (
                        e.code
                            .as_str()
                            .trim_start_matches("InvalidParameter.")
                            .to_string(),
                        e.path.clone(),
                    )
                })
                .collect();
            let mut got_sorted = got.clone();
            got_sorted.sort();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            if got_sorted != want_sorted {
                return Err(format!(
                    "{name}: expected errors {want:?}, got {got:?} ({errs})"
                ));
            }
            for e in &errs.0 {
                assert!(
                    e.position.line >= 1 && e.position.column >= 1,
                    "{name}: no position"
                );
                let first = e.message.chars().next().unwrap_or('x');
                if first.is_uppercase() || e.message.ends_with('.') {
                    return Err(format!(
                        "{name}: message is not lowercase without a final period: {}",
                        e.message
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Runs every case file; returns (cases run, failures).
pub fn run_all() -> (usize, Vec<String>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut count = 0;
    let mut failures = Vec::new();
    let mut by_file = BTreeMap::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        let cases: Vec<Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let before = count;
        for case in &cases {
            let name = format!("{stem}: {}", str_of(case, "name").unwrap_or("?"));
            if case.get("checks").is_some() {
                let Some(set) = policy_set(case, &mut failures, &name) else {
                    continue;
                };
                for check in case["checks"].as_array().unwrap() {
                    count += 1;
                    if let Err(e) = run_check(&set, check, &name) {
                        failures.push(e);
                    }
                }
            } else {
                count += 1;
                if let Err(e) = run_validation(case, &name) {
                    failures.push(e);
                }
            }
        }
        by_file.insert(stem, count - before);
    }
    eprintln!("policy cases per file: {by_file:?}");
    (count, failures)
}

#[test]
fn data_driven_policy_cases() {
    let (count, failures) = run_all();
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 150, "only {count} cases");
}
