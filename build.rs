//! Finds which tools the integration tests need are missing here, so that
//! those tests are reported as skipped (ignored, with the reason and what to
//! install) instead of passing without running. With `CAMD_REQUIRE_TOOLS`
//! set (as `.ci/run` sets it after installing them) nothing is skipped:
//! a missing tool fails its test.

use std::path::PathBuf;

/// (cfg set when missing, the programs it stands for).
const TOOLS: &[(&str, &[&str])] = &[
    ("camd_missing_etcd", &["etcd"]),
    ("camd_missing_strace", &["strace"]),
    ("camd_missing_go", &["go"]),
    ("camd_missing_node", &["node"]),
    ("camd_missing_php", &["php", "phpunit"]),
    ("camd_missing_java", &["java", "javac"]),
    (
        "camd_missing_systemd_tools",
        &["systemd-analyze", "systemd-socket-activate"],
    ),
];

/// JUnit 5's console launcher, from Debian's junit5 package.
const JUNIT: &str = "/usr/share/java/junit-platform-console-standalone.jar";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CAMD_REQUIRE_TOOLS");
    println!("cargo:rerun-if-env-changed=PATH");
    for (cfg, _) in TOOLS {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo:rustc-check-cfg=cfg(camd_missing_venv)");
    println!("cargo:rustc-check-cfg=cfg(camd_missing_junit)");
    println!("cargo:rerun-if-changed={JUNIT}");
    // Installing a tool changes the folder it lands in.
    if let Some(p) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&p).filter(|d: &PathBuf| d.is_dir()) {
            println!("cargo:rerun-if-changed={}", d.display());
        }
    }
    if std::env::var_os("CAMD_REQUIRE_TOOLS").is_some() {
        return;
    }
    for (cfg, programs) in TOOLS {
        if !programs.iter().all(|p| on_path(p)) {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
    if !std::path::Path::new(JUNIT).is_file() {
        println!("cargo:rustc-cfg=camd_missing_junit");
    }
    let venv = std::process::Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv {
        println!("cargo:rustc-cfg=camd_missing_venv");
    }
}
