//! README.md's walkthroughs, run as a newcomer pastes them: every block
//! with `$ ` prompts runs (trycmd) against a fresh daemon started as the
//! README's first command starts it (embedded default config, from the
//! repository's folder), and its output is compared with what the README
//! shows (`[..]` where it differs each run, `...` for lines left out);
//! then its `sh` blocks, in one shell, as pasted (`readme_shell.rs`): those
//! of the walkthroughs against the same daemon, the cluster section's with
//! etcd, and camd-api's with Tencent's Python SDK, each in a test of its own.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{temp_dir, wait_for};
use crate::readme_shell::{Block, blocks, run as run_blocks, runs, workdir};

/// The sections whose blocks need a tool of their own (a test each).
const CLUSTER: &str = "Many hosts: cluster mode on etcd";
const API: &str = "CAM's own API over HTTP: `camd-api`";

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn the_readme_runs_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("readme");
    let socket = dir.join("camd.sock");
    let log = std::fs::File::create(dir.join("camd.log")).unwrap();
    let mut camd = Command::new(env!("CARGO_BIN_EXE_camd"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--socket")
        .arg(&socket)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    assert!(
        wait_for(std::time::Duration::from_secs(20), || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        }),
        "camd did not start: {}",
        std::fs::read_to_string(dir.join("camd.log")).unwrap_or_default()
    );
    let run = std::panic::catch_unwind(|| {
        trycmd::TestCases::new()
            .register_bin("camctl", Path::new(env!("CARGO_BIN_EXE_camctl")))
            .env("CAMD_SOCKET", socket.display().to_string())
            .env("NO_COLOR", "1")
            .case(root.join("README.md"))
            .run();
    });
    // The shell blocks of every other section, against the same daemon
    // (the walkthrough's users exist), from a folder laid out as the
    // repository.
    let run = run.and_then(|()| {
        std::panic::catch_unwind(|| {
            let all = blocks(&readme());
            let mine: Vec<&Block> = all
                .iter()
                .filter(|b| b.section != CLUSTER && b.section != API && runs(b).is_ok())
                .collect();
            assert!(mine.len() >= 6, "too few blocks found: {mine:?}");
            let env = [("CAMD_SOCKET", socket.display().to_string())];
            run_blocks(&workdir("readme-sh"), &mine, &env, None);
        })
    });
    let _ = camd.kill();
    let _ = camd.wait();
    if let Err(e) = run {
        std::panic::resume_unwind(e);
    }
}

/// Every block is run by one of these tests or named, with why, in
/// `NOT_RUN`; and every `NOT_RUN` entry still names a block.
#[test]
fn every_readme_block_is_run_or_says_why_not() {
    let all = blocks(&readme());
    for (start, why) in crate::readme_shell::NOT_RUN {
        assert!(
            all.iter().any(|b| b.code.starts_with(start)),
            "NOT_RUN names no block any more: `{start}` ({why})"
        );
    }
    for b in &all {
        if let Err(why) = runs(b) {
            eprintln!("not run: `{}`: {why}", b.code.lines().next().unwrap_or(""));
        }
    }
    assert!(all.iter().any(|b| b.section == CLUSTER) && all.iter().any(|b| b.section == API));
}

/// The cluster walkthrough as pasted: etcd on its default port, two hosts.
#[test]
#[cfg_attr(
    camd_missing_etcd,
    ignore = "needs etcd: apt-get install etcd-server (.ci/run installs it)"
)]
fn the_readmes_cluster_walkthrough_runs_as_pasted() {
    if crate::harness::tool("etcd").is_none() {
        return;
    }
    assert!(
        std::net::TcpStream::connect("127.0.0.1:2379").is_err(),
        "something already listens on 127.0.0.1:2379, the README's etcd port: stop it (a system etcd: systemctl stop etcd)"
    );
    let all = blocks(&readme());
    let mine: Vec<&Block> = all.iter().filter(|b| b.section == CLUSTER).collect();
    run_blocks(&workdir("readme-cluster"), &mine, &[], None);
}

/// camd-api's section as pasted: its listeners, a certificate, and
/// Tencent's Python SDK calling it over HTTPS, against a daemon of its own.
#[test]
#[cfg_attr(
    camd_missing_venv,
    ignore = "needs python3 with venv: apt-get install python3-venv (.ci/run installs it)"
)]
fn the_readmes_camd_api_section_runs_as_pasted() {
    let Some(python) = crate::sdk::sdk_python() else {
        return;
    };
    for port in [9080, 9443] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "something already listens on 127.0.0.1:{port}, a port the README's camd-api uses"
        );
    }
    let d = crate::harness::Camd::start("readme-api");
    let all = blocks(&readme());
    let mine: Vec<&Block> = all.iter().filter(|b| b.section == API).collect();
    let env = [("CAMD_SOCKET", d.socket.display().to_string())];
    run_blocks(&workdir("readme-api-sh"), &mine, &env, Some(&python));
}
