//! Prometheus metrics from the real daemon: they parse (prometheus-parse,
//! and promtool's own parser), move by exactly what the test does, carry no
//! secret or user name, are the operator's alone, and reach a textfile that
//! is replaced atomically and keeps its mode. Also the dashboard and alert
//! rules shipped for them, and shell completions and man pages.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use camd::client::{by_key, by_user};
use camd::protocol::{ADMIN_OPS, AddUser};
use prometheus_parse::{Scrape, Value};

use crate::harness::{APP, Camd, NOBODY, effective_uid, refused, stderr, temp_dir, tool, wait_for};

/// `promtool check metrics` on `text` (the Prometheus text format parser and linter).
fn promtool_accepts(text: &str) {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Samples by (metric, sorted labels): counters' and gauges' values.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

/// The exposition as `camctl metrics` prints it, and parsed.
fn scrape(d: &Camd) -> (String, Samples) {
    let out = d.camctl(&["metrics"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    (text.clone(), parse(&text))
}

fn parse(text: &str) -> Samples {
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let mut out = HashMap::new();
    for s in scrape.samples {
        let v = match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => continue,
        };
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        out.insert((s.metric, labels), v);
    }
    out
}

fn key(metric: &str, labels: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    (metric.to_string(), l)
}

#[test]
fn counters_move_by_exactly_what_was_done() {
    let d = Camd::start("metrics-counts");
    let mut c = d.client();
    let viewer = c
        .call(AddUser {
            name: "viewer".into(),
            use_api: true,
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        })
        .unwrap();
    let (text, before) = scrape(&d);
    promtool_accepts(&text);
    let get = |k: &(String, Vec<(String, String)>), m: &HashMap<_, f64>| *m.get(k).unwrap_or(&0.0);
    let decisions = |way: &str, outcome: &str| {
        key(
            "camd_decisions_total",
            &[("way", way), ("outcome", outcome)],
        )
    };

    for _ in 0..7 {
        assert!(
            c.authorize(by_user("viewer", "im:GetGroupInfo", APP, &[]))
                .unwrap()
                .allowed
        );
    }
    for _ in 0..3 {
        assert!(
            !c.authorize(by_user("viewer", "im:SendMessage", APP, &[]))
                .unwrap()
                .allowed
        );
    }
    let id = viewer.secret_id.unwrap();
    let good = viewer.secret_key.unwrap();
    assert!(
        c.authorize(by_key(&id, &good, "im:GetGroupInfo", APP, &[]))
            .unwrap()
            .allowed
    );
    for _ in 0..2 {
        assert!(
            c.authorize(by_key(&id, "wrong", "im:GetGroupInfo", APP, &[]))
                .is_err()
        );
    }
    let batch = vec![by_user("viewer", "im:GetGroupInfo", APP, &[]); 5];
    assert_eq!(c.authorize_batch(batch).unwrap().len(), 5);
    // Admin operations: one that works, one refused by the store.
    let again = AddUser {
        name: "viewer".into(),
        ..AddUser::default()
    };
    assert!(c.call(again).is_err());
    assert_eq!(d.camctl(&["group", "create", "g"]).status.code(), Some(0));
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));

    let (text, after) = scrape(&d);
    promtool_accepts(&text);
    let delta = |k: (String, Vec<(String, String)>)| get(&k, &after) - get(&k, &before);
    assert_eq!(delta(decisions("by_user", "allow")), 7.0);
    assert_eq!(delta(decisions("by_user", "implicit_deny")), 3.0);
    assert_eq!(delta(decisions("by_key", "allow")), 1.0);
    assert_eq!(delta(decisions("by_key", "unauthenticated")), 2.0);
    assert_eq!(delta(decisions("batch", "allow")), 5.0);
    let admin = |action: &str, outcome: &str| {
        key(
            "camd_admin_operations_total",
            &[("action", action), ("outcome", outcome)],
        )
    };
    assert_eq!(
        delta(admin("AddUser", "InvalidParameter.SubUserNameInUse")),
        1.0
    );
    assert_eq!(delta(admin("CreateGroup", "ok")), 1.0);
    assert_eq!(delta(admin("ReloadPolicies", "ok")), 1.0);
    assert_eq!(
        delta(key("camd_reloads_total", &[("outcome", "applied")])),
        1.0
    );
    assert_eq!(get(&key("camd_snapshot_users", &[]), &after), 1.0);
    assert_eq!(get(&key("camd_snapshot_access_keys", &[]), &after), 1.0);
    assert_eq!(get(&key("camd_snapshot_attachments", &[]), &after), 1.0);
    assert!(get(&key("camd_connections", &[]), &after) >= 1.0);
    assert_eq!(
        get(
            &key("camd_build_info", &[("version", env!("CARGO_PKG_VERSION"))]),
            &after
        ),
        1.0
    );
    // Status shows the same counters.
    let st: serde_json::Value =
        serde_json::from_slice(&d.camctl(&["--json", "status"]).stdout).unwrap();
    assert_eq!(st["Decisions"]["Unauthenticated"], 2);
}

#[test]
fn labels_are_bounded_and_carry_no_secret_or_name() {
    let d = Camd::start("metrics-labels");
    let out = d.camctl(&["--json", "user", "add", "zz-secretive-name", "--api-key"]);
    let cred: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = cred["SecretKey"].as_str().unwrap();
    let id = cred["SecretId"].as_str().unwrap();
    let auth = d.auth(None, id, secret, "im:GetGroupInfo");
    assert_eq!(auth.status.code(), Some(1));
    d.camctl(&["user", "get", "no-such-user-zz"]);
    let (text, _) = scrape(&d);
    for s in [secret, id, "zz-secretive-name", "no-such-user-zz"] {
        assert!(!text.contains(s), "`{s}` is in the metrics");
    }
    let codes: Vec<&str> = camd::code::Code::ALL.iter().map(|c| c.as_str()).collect();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    for s in &scrape.samples {
        for (k, v) in s.labels.iter() {
            let bounded = match k.as_str() {
                "way" => ["by_user", "by_key", "signed", "batch"].contains(&v.as_str()),
                "outcome" => {
                    [
                        "allow",
                        "explicit_deny",
                        "implicit_deny",
                        "fail_closed_deny",
                        "unauthenticated",
                        "throttled",
                        "applied",
                        "rejected",
                        "ok",
                    ]
                    .contains(&v.as_str())
                        || codes.contains(&v.as_str())
                }
                "action" => ADMIN_OPS.contains(&v.as_str()),
                "reason" => ["cap", "rate", "queue_full", "sink_failed"].contains(&v.as_str()),
                "stage" => ["queued", "written"].contains(&v.as_str()),
                "version" => v == env!("CARGO_PKG_VERSION"),
                "le" => true,
                _ => false,
            };
            assert!(
                bounded,
                "{}: label {k}={v} is not from a fixed set",
                s.metric
            );
        }
    }
}

#[test]
fn metrics_are_the_operators_alone() {
    if effective_uid() != 0 {
        eprintln!("SKIPPED: needs root to run camctl as another uid");
        return;
    }
    let d = Camd::start("metrics-operator");
    let out = d.camctl_as(Some(NOBODY), &[], &["metrics"]);
    refused(&out, "AuthFailure.UnauthorizedOperation");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_textfile_is_replaced_atomically_and_keeps_its_mode() {
    let dir = temp_dir("metrics-textfile-out");
    let file = dir.join("camd.prom");
    let d = Camd::start_with(
        "metrics-textfile",
        &format!(
            "[metrics]\ntextfile = \"{}\"\ntextfile_interval_secs = 1\n",
            file.display()
        ),
    );
    assert!(
        wait_for(Duration::from_secs(5), || file.exists()),
        "no textfile"
    );
    assert_eq!(mode(&file), 0o644);
    promtool_accepts(&std::fs::read_to_string(&file).unwrap());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let first = std::fs::metadata(&file).unwrap().modified().unwrap();
    // Read it over and over across rewrites: always whole.
    let last_line = format!(
        "camd_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let mut reads = 0;
    let mut rewritten = false;
    while reads < 2000 && !(rewritten && reads >= 200) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.trim_end().ends_with(&last_line),
            "a partial file:\n{text}"
        );
        reads += 1;
        rewritten |= std::fs::metadata(&file).unwrap().modified().unwrap() != first;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(rewritten, "not rewritten within {reads} reads");
    assert_eq!(mode(&file), 0o640, "the rewrite changed the file's mode");
    let users = d.camctl(&["user", "add", "late"]);
    assert_eq!(users.status.code(), Some(0));
    let has_user = || {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        parse(&text).get(&key("camd_snapshot_users", &[])) == Some(&1.0)
    };
    assert!(wait_for(Duration::from_secs(5), has_user));
}

#[test]
fn shipped_alert_rules_and_dashboard_use_exported_metrics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/monitoring");
    let rules = root.join("camd-alerts.yml");
    if let Some(promtool) = tool("promtool") {
        let out = Command::new(promtool)
            .arg("check")
            .arg("rules")
            .arg(&rules)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // Every camd_ metric the rules and the dashboard query is one camd exports.
    let d = Camd::start("metrics-names");
    let (text, _) = scrape(&d);
    let exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("camd-dashboard.json")).unwrap())
            .unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    assert!(exprs.len() >= 10);
    exprs.push(std::fs::read_to_string(&rules).unwrap());
    for e in &exprs {
        for word in e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some(base) = word.strip_prefix("camd_") {
                let known = exported.iter().any(|x| {
                    let x = x.strip_prefix("camd_").unwrap_or(x);
                    base == x
                        || ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| base.strip_suffix(s) == Some(x))
                });
                assert!(known, "`{word}` is queried but camd does not export it");
            }
        }
    }
}

#[test]
fn completions_parse_and_man_pages_cover_every_subcommand() {
    let camctl = env!("CARGO_BIN_EXE_camctl");
    let bash = Command::new(camctl)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success() && bash.stdout.len() > 1000);
    let dir = temp_dir("metrics-manual");
    let script = dir.join("camctl.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish"] {
        let out = Command::new(camctl)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
    let camd_bash = Command::new(env!("CARGO_BIN_EXE_camd"))
        .args(["--completions", "bash"])
        .output()
        .unwrap();
    assert!(camd_bash.status.success() && !camd_bash.stdout.is_empty());

    let man = dir.join("man1");
    let out = Command::new(camctl).arg("man").arg(&man).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_camd"))
        .arg("--man")
        .arg(&man)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(man.join("camd.1").exists());
    // Every subcommand, nested ones too, as `camctl --help` lists them.
    let top = std::fs::read_to_string(man.join("camctl.1")).unwrap();
    let help =
        String::from_utf8(Command::new(camctl).arg("--help").output().unwrap().stdout).unwrap();
    let subcommands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .collect();
    assert!(subcommands.len() >= 10, "{subcommands:?}");
    for sub in &subcommands {
        assert!(top.contains(sub), "camctl.1 does not mention `{sub}`");
        let page = man.join(format!("camctl-{sub}.1"));
        assert!(page.exists(), "no man page for `camctl {sub}`");
    }
    for nested in [
        "camctl-user-add.1",
        "camctl-policy-attach.1",
        "camctl-key-disable.1",
    ] {
        let page = std::fs::read_to_string(man.join(nested)).unwrap();
        assert!(page.contains(".TH"), "{nested} is not a man page");
    }
}
