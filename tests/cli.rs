//! camctl's local policy tools (`policy lint`, `policy simulate`), run as the real binary.

use crate::harness::temp_dir;
use std::process::{Command, Output};

use serde_json::Value;

pub fn camctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_camctl"))
        .args(args)
        .output()
        .unwrap()
}

const GOOD: &str = r#"{"version": "2.0", "statement": [
  {"effect": "allow", "action": ["im:Send*", "im:Get*"], "resource": "qcs::im::uin/100000000001:sdkappid/1400000001",
   "condition": {"ip_equal": {"qcs:ip": "10.0.0.0/8"}}},
  {"effect": "deny", "action": "im:SendGroupMessage", "resource": "*"}]}"#;

const BAD: &str = "{\"version\": \"2.0\",\n \"statement\": [{\"effect\": \"allow\", \"action\": \"im:Nope\", \"resource\": \"*\",\n   \"condition\": {\"ip_equal\": {\"qcs:ip\": [\"10.0.0.0/8\", \"10.0.0.0/33\"]}}}]}";

#[test]
fn lint_reports_codes_paths_and_positions() {
    let dir = temp_dir("lint");
    let good = dir.join("ChatOps.json");
    let bad = dir.join("Broken.json");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();

    let out = camctl(&["policy", "lint", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = camctl(&[
        "policy",
        "lint",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ChatOps.json: ok"), "{text}");
    assert!(
        text.contains(":2:46: InvalidParameter.ActionNotExist at `statement[0].action`"),
        "{text}"
    );
    assert!(
        text.contains(":3:56: InvalidParameter.ConditionContentError at `statement[0].condition.ip_equal.qcs:ip[1]`"),
        "{text}"
    );

    let bin = dir.join("Binary.json");
    std::fs::write(&bin, [0xff, 0xfe, b'{']).unwrap();
    let bad_name = dir.join("bad name.json");
    std::fs::write(&bad_name, GOOD).unwrap();
    let out = camctl(&[
        "policy",
        "lint",
        bin.to_str().unwrap(),
        bad_name.to_str().unwrap(),
        "/nonexistent/x.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("is not UTF-8"), "{text}");
    assert!(text.contains("InvalidParameter.PolicyNameError"), "{text}");
    assert!(text.contains("cannot read `/nonexistent/x.json`"), "{text}");
}

#[test]
fn simulate_decides_and_explains_with_a_custom_policy() {
    let dir = temp_dir("simulate");
    let good = dir.join("ChatOps.json");
    std::fs::write(&good, GOOD).unwrap();
    let g = good.to_str().unwrap();
    let app = "qcs::im::uin/100000000001:sdkappid/1400000001";

    let out = camctl(&[
        "policy",
        "simulate",
        "--policy",
        g,
        "--action",
        "im:SendMessage",
        "--resource",
        app,
        "--context",
        "qcs:ip=10.1.2.3",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Decision"], "Allow");
    assert_eq!(v["Reason"], "Allow");
    assert_eq!(v["PolicyName"], "ChatOps");
    assert_eq!(v["StatementIndex"], 0);

    let out = camctl(&[
        "policy",
        "simulate",
        "--policy",
        g,
        "--action",
        "im:SendGroupMessage",
        "--resource",
        app,
        "--context",
        "qcs:ip=10.1.2.3",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["Decision"].as_str(),
            v["Reason"].as_str(),
            v["StatementIndex"].as_u64()
        ),
        (Some("Deny"), Some("ExplicitDeny"), Some(1))
    );

    // An unparseable context value never allows.
    let out = camctl(&[
        "policy",
        "simulate",
        "--policy",
        g,
        "--action",
        "im:SendMessage",
        "--resource",
        app,
        "--context",
        "qcs:ip=nonsense",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("could not be evaluated"));
}

#[test]
fn simulate_presets_the_root_account_and_multi_valued_context() {
    let dir = temp_dir("simulate-presets");
    let app = "qcs::im::uin/100000000001:sdkappid/1400000001";

    // Presets by name (and the old alias); the root account.
    let out = camctl(&[
        "policy",
        "simulate",
        "--policy",
        "QcloudIMReadOnlyAccess",
        "--action",
        "im:GetGroupInfo",
        "--resource",
        app,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["PolicyName"], "QcloudChatReadOnlyAccess");
    let out = camctl(&[
        "policy",
        "simulate",
        "--policy",
        "QcloudChatReadOnlyAccess",
        "--action",
        "im:SendMessage",
        "--resource",
        app,
        "--uin",
        "100000000001",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Reason"], "Root");
    assert_eq!(v["PolicyName"], Value::Null);

    // Multi-valued context: a key given twice.
    let tagged = dir.join("Tagged.json");
    std::fs::write(
        &tagged,
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:*","resource":"*",
        "condition":{"for_all_value:string_equal":{"qcs:tag/team":["a","b"]}}}]}"#,
    )
    .unwrap();
    let t = tagged.to_str().unwrap();
    let run = |ctx: &[&str]| {
        let mut args = vec![
            "policy",
            "simulate",
            "--policy",
            t,
            "--action",
            "im:SendMessage",
            "--resource",
            app,
        ];
        for c in ctx {
            args.extend(["--context", c]);
        }
        camctl(&args).status.code()
    };
    assert_eq!(run(&["qcs:tag/team=a", "qcs:tag/team=b"]), Some(0));
    assert_eq!(run(&["qcs:tag/team=a", "qcs:tag/team=c"]), Some(1));
}

#[test]
fn simulate_errors_exit_2_and_name_the_bad_input() {
    let dir = temp_dir("simulate-errors");
    let good = dir.join("ChatOps.json");
    std::fs::write(&good, GOOD).unwrap();
    let g = good.to_str().unwrap();
    let app = "qcs::im::uin/100000000001:sdkappid/1400000001";

    // Errors exit 2 and name the bad input.
    for (args, needle) in [
        (
            vec![
                "--policy",
                "NoSuchPreset",
                "--action",
                "im:SendMessage",
                "--resource",
                app,
            ],
            "`NoSuchPreset`",
        ),
        (
            vec!["--policy", g, "--action", "SendMessage", "--resource", app],
            "action `SendMessage`",
        ),
        (
            vec![
                "--policy",
                g,
                "--action",
                "im:SendMessage",
                "--resource",
                "app1",
            ],
            "resource `app1`",
        ),
        (
            vec![
                "--policy",
                g,
                "--action",
                "im:SendMessage",
                "--resource",
                app,
                "--context",
                "novalue",
            ],
            "context `novalue`",
        ),
        (
            vec![
                "--policy",
                g,
                "--action",
                "im:SendMessage",
                "--resource",
                app,
                "--time",
                "noon",
            ],
            "time `noon`",
        ),
    ] {
        let mut full = vec!["policy", "simulate"];
        full.extend(args);
        let out = camctl(&full);
        assert_eq!(out.status.code(), Some(2), "{full:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{full:?}: {err}");
    }
}

/// The newcomer's rough edges: errors as JSON with `--json`, `--user`
/// wherever a user is named, a hint when camd is not running, the
/// credentials' warning only for what was shown, and camd-api's man pages.
#[test]
fn cli_rough_edges_are_smoothed() {
    let d = crate::harness::Camd::start("cli-edges");
    let out = d.camctl(&["--json", "user", "get", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Error"]["Code"], "ResourceNotFound.UserNotExist", "{v}");
    assert!(v["Error"]["Message"].as_str().unwrap().contains("nosuch"));
    assert!(d.camctl(&["user", "add", "kit"]).status.success());
    let out = d.camctl(&["key", "create", "--user", "kit"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("Store these now: the SecretKey is not shown again."),
        "{text}"
    );
    let listed = crate::harness::json(&d.camctl(&["--json", "key", "list", "--user", "kit"]));
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let listed = crate::harness::json(&d.camctl(&["--json", "key", "list", "kit"]));
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the positional form still works"
    );
    let out = d.camctl(&["user", "add", "plain"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Store these now"));
    assert!(d.stop().success());
    // camd is not running there.
    let dir = temp_dir("cli-nosocket");
    let out = camctl(&[
        "--socket",
        dir.join("camd.sock").to_str().unwrap(),
        "user",
        "list",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is camd running?") && err.contains("--socket"),
        "{err}"
    );
    let man = dir.join("man");
    let out = Command::new(env!("CARGO_BIN_EXE_camd-api"))
        .args(["--man", man.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(man.join("camd-api.1").exists());
}

/// A reader that stops reading is not an error (`camctl ... | head`).
#[test]
fn a_closed_pipe_ends_camctl_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_camctl"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end is closed before camctl has started writing.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A problem of a whole file is printed without a position, its code once.
#[test]
fn whole_file_problems_have_no_position_and_one_code() {
    let dir = temp_dir("lint-whole");
    let bad = dir.join("bad name!.json");
    std::fs::write(&bad, GOOD).unwrap();
    let out = camctl(&["policy", "lint", bad.to_str().unwrap()]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(!text.contains(":0:0"), "{text}");
    assert_eq!(
        text.matches("InvalidParameter.PolicyNameError").count(),
        1,
        "{text}"
    );
}

/// `policy lint --json`: one array, each file with its errors' CAM codes,
/// paths and positions (a whole-file problem at line 0), and the exit code
/// as without `--json`.
#[test]
fn lint_speaks_json_when_asked() {
    let dir = temp_dir("lint-json");
    let good = dir.join("ChatOps.json");
    let bad = dir.join("Broken.json");
    let bad_name = dir.join("bad name!.json");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(&bad_name, GOOD).unwrap();
    let out = camctl(&[
        "policy",
        "lint",
        "--json",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        bad_name.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["Ok"], true);
    assert_eq!(files[0]["Errors"].as_array().unwrap().len(), 0);
    assert_eq!(files[1]["Ok"], false);
    let e = &files[1]["Errors"][0];
    assert_eq!(e["Code"], "InvalidParameter.ActionNotExist");
    assert_eq!(e["Path"], "statement[0].action");
    assert_eq!(
        (e["Line"].as_u64(), e["Column"].as_u64()),
        (Some(2), Some(46))
    );
    assert_eq!(
        files[1]["Errors"][1]["Code"],
        "InvalidParameter.ConditionContentError"
    );
    assert_eq!(
        files[2]["Errors"][0]["Code"],
        "InvalidParameter.PolicyNameError"
    );
    assert_eq!(files[2]["Errors"][0]["Line"], 0);
}

/// `policy simulate --policy NAME` finds a policy by its name in the
/// policy folder, and names what it could not find.
#[test]
fn simulate_finds_a_policy_by_name_in_the_policy_folder() {
    let dir = temp_dir("simulate-name");
    std::fs::write(dir.join("ChatOps.json"), GOOD).unwrap();
    let app = "qcs::im::uin/100000000001:sdkappid/1400000001";
    let d = dir.to_str().unwrap();
    let base = [
        "policy",
        "simulate",
        "--policy-dir",
        d,
        "--action",
        "im:SendMessage",
        "--resource",
        app,
        "--context",
        "qcs:ip=10.1.2.3",
        "--socket",
        "/nonexistent/camd.sock",
    ];
    let mut args = base.to_vec();
    args.extend(["--policy", "ChatOps"]);
    let out = camctl(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut args = base.to_vec();
    args.extend(["--policy", "NoSuchPolicy"]);
    let out = camctl(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`NoSuchPolicy` is neither"),
        "{out:?}"
    );
}

/// The help of a command that never talks to camd leaves out `--socket`
/// and `--as-key` (they still parse there); the others keep them.
#[test]
fn offline_commands_do_not_offer_the_daemon_options() {
    let help = |args: &[&str]| String::from_utf8(camctl(args).stdout).unwrap();
    let lint = help(&["policy", "lint", "--help"]);
    assert!(
        !lint.contains("--socket") && !lint.contains("--as-key"),
        "{lint}"
    );
    assert!(lint.contains("--json"), "{lint}");
    let sign = help(&["sign", "--help"]);
    assert!(
        !sign.contains("--socket") && !sign.contains("--as-key"),
        "{sign}"
    );
    let simulate = help(&["policy", "simulate", "--help"]);
    assert!(
        simulate.contains("--socket") && !simulate.contains("--as-key"),
        "{simulate}"
    );
    let add = help(&["user", "add", "--help"]);
    assert!(
        add.contains("--socket") && add.contains("--as-key"),
        "{add}"
    );
    let out = camctl(&["policy", "lint", "--socket", "/x", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
