//! Data-driven admin scenarios from `tests/steps/*.json`, each run step by
//! step against its own real camd: camctl commands with their expected exit
//! code, CAM code and JSON output, decisions, policy files written, and
//! restarts.

use std::path::Path;

use serde_json::Value;

use crate::harness::{APP, Camd, json, stderr};

/// True when `want` is contained in `got`: objects key by key, arrays item
/// by item (same length), anything else equal.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| contains(a, b))
        }
        _ => got == want,
    }
}

/// `@NAME` arguments become the path of document NAME, written into the
/// test's folder.
fn args(d: &Camd, docs: &Value, raw: &Value) -> Vec<String> {
    raw.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_str().unwrap();
            match a.strip_prefix('@') {
                Some(name) => {
                    let path = d.dir.join(format!("doc-{name}.json"));
                    std::fs::write(&path, docs[name].to_string()).unwrap();
                    path.display().to_string()
                }
                None => a.to_string(),
            }
        })
        .collect()
}

fn run_step(d: &mut Camd, docs: &Value, step: &Value, at: &str) {
    if step.get("restart").is_some() {
        let pid = d.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(d.child.wait().unwrap().success(), "{at}: {}", d.log());
        *d = Camd::start_in(d.dir.clone());
        return;
    }
    if let Some(file) = step.get("write") {
        let doc = &docs[step["document"].as_str().unwrap()];
        std::fs::write(d.dir.join(file.as_str().unwrap()), doc.to_string()).unwrap();
        return;
    }
    if let Some(file) = step.get("remove") {
        std::fs::remove_file(d.dir.join(file.as_str().unwrap())).unwrap();
        return;
    }
    if let Some(p) = step.get("permissions") {
        let user = p["user"].as_str().unwrap();
        let out = d.camctl(&["--json", "user", "permissions", user, "--service", "im"]);
        assert_eq!(out.status.code(), Some(0), "{at}: {}", stderr(&out));
        let all = json(&out);
        for (action, want) in p["expect"].as_object().unwrap() {
            let got = all
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["Action"] == action.as_str())
                .unwrap_or_else(|| panic!("{at}: no {action} in the view"));
            assert!(
                contains(got, want),
                "{at}: {action}: got {got}, want {want}"
            );
        }
        return;
    }
    if let Some(c) = step.get("check") {
        let c = c.as_array().unwrap();
        let (user, action) = (c[0].as_str().unwrap(), c[1].as_str().unwrap());
        let resource = c.get(2).and_then(Value::as_str).unwrap_or(APP);
        let out = d.camctl(&[
            "--json",
            "check",
            "--user",
            user,
            "--action",
            action,
            "--resource",
            resource,
        ]);
        let got = json(&out);
        assert!(
            contains(&got, &step["expect"]),
            "{at}: check {user} {action}: got {got}, want {}",
            step["expect"]
        );
        return;
    }
    let argv = args(d, docs, &step["camctl"]);
    let mut full = vec!["--json".to_string()];
    full.extend(argv);
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = d.camctl(&refs);
    let want_exit = step.get("exit").and_then(Value::as_i64).unwrap_or(0);
    assert_eq!(
        out.status.code(),
        Some(want_exit as i32),
        "{at}: camctl {refs:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    for key in ["code", "says"] {
        if let Some(text) = step.get(key).and_then(Value::as_str) {
            assert!(stderr(&out).contains(text), "{at}: {}", stderr(&out));
        }
    }
    if let Some(text) = step.get("stdout_has").and_then(Value::as_str) {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(text), "{at}: `{text}` not in {stdout}");
    }
    if let Some(want) = step.get("json") {
        let got = json(&out);
        assert!(contains(&got, want), "{at}: got {got}, want {want}");
    }
}

fn run_file(path: &Path) -> usize {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut d = Camd::start(&format!("steps-{name}"));
    let steps = v["steps"].as_array().unwrap();
    for (i, step) in steps.iter().enumerate() {
        let at = format!(
            "{name} step {i} ({})",
            step.get("say").and_then(Value::as_str).unwrap_or("")
        );
        run_step(&mut d, &v["documents"], step, &at);
    }
    assert!(d.stop().success());
    steps.len()
}

#[test]
fn policy_versions_steps() {
    let n = run_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/steps/versions.json"));
    assert!(n > 20);
}

#[test]
fn permissions_boundary_steps() {
    let n = run_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/steps/boundaries.json"));
    assert!(n > 15);
}

#[test]
fn permissions_view_steps() {
    let n = run_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/steps/permissions.json"));
    assert!(n > 5);
}
