//! README.md's `sh` (and `python`) blocks, run as a newcomer pastes them:
//! in order, in one bash session, from a folder laid out as the
//! repository is; a `text` block right after one is what it must print,
//! compared with snapbox (`[..]` within a line, `...` for lines left out).
//! Blocks that cannot run in a test are named in `NOT_RUN` with why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::temp_dir;

/// Blocks (by their first line's start) that a test does not run, and why.
pub const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo run --release --bin camd",
        "the README's own set-up: the tests are its second command, and start camd as its first does",
    ),
    (
        "cargo build --profile dist",
        "builds for minutes and installs as root into this machine; the staged install below runs",
    ),
    ("fuzz/run.sh", ".ci/run runs every fuzz target itself"),
    ("cargo bench", ".ci/run runs every bench in its smoke mode"),
];

/// One fenced block of the README.
#[derive(Debug)]
pub struct Block {
    /// The `## ` section it is in.
    pub section: String,
    /// `sh` or `python`.
    pub lang: String,
    pub code: String,
    /// The `text` block right after it, if any.
    pub expected: Option<String>,
}

/// Every `sh` and `python` block of `readme`, in order.
pub fn blocks(readme: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut section = String::new();
    let mut lines = readme.lines().peekable();
    let mut last_closed = false;
    while let Some(line) = lines.next() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.to_string();
        }
        let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) else {
            last_closed = last_closed && line.trim().is_empty();
            continue;
        };
        let mut code = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            code.push_str(l);
            code.push('\n');
        }
        match lang {
            "text" if last_closed => {
                if let Some(b) = out.last_mut() {
                    b.expected = Some(code);
                }
            }
            "sh" | "python" => out.push(Block {
                section: section.clone(),
                lang: lang.to_string(),
                code,
                expected: None,
            }),
            _ => {}
        }
        last_closed = matches!(lang, "sh" | "python");
    }
    out
}

/// Whether a test runs `b`: `Err(why)` when `NOT_RUN` names it.
pub fn runs(b: &Block) -> Result<(), &'static str> {
    match NOT_RUN.iter().find(|(start, _)| b.code.starts_with(start)) {
        Some((_, why)) => Err(why),
        None => Ok(()),
    }
}

/// A folder laid out as the repository is for a newcomer who has built it:
/// the files the blocks use, and `target/release` and `target/dist` holding
/// the binaries under test.
pub fn workdir(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir(name);
    for d in ["examples", "config", "systemd"] {
        let out = Command::new("cp")
            .arg("-r")
            .arg(root.join(d))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "cp {d}: {out:?}");
    }
    let bins = Path::new(env!("CARGO_BIN_EXE_camctl")).parent().unwrap();
    std::fs::create_dir_all(dir.join("target")).unwrap();
    for t in ["release", "dist"] {
        std::os::unix::fs::symlink(bins, dir.join("target").join(t)).unwrap();
    }
    dir
}

/// Runs `blocks` in one bash session in `dir` with `env` (python blocks
/// with `python`), stopping every process they started at the end; checks
/// each block's output against its `text` block.
pub fn run(dir: &Path, blocks: &[&Block], env: &[(&str, String)], python: Option<&Path>) {
    const MARK: &str = "@@camd-readme-block@@";
    let mut script = String::from("set -e -o pipefail\n");
    for b in blocks {
        script.push_str(&format!("echo '{MARK}'\n"));
        match b.lang.as_str() {
            "python" => script.push_str(&format!(
                "'{}' - <<'CAMD_README_PYTHON'\n{}CAMD_README_PYTHON\n",
                python
                    .expect("a python block needs the SDK's python")
                    .display(),
                b.code
            )),
            _ => script.push_str(&b.code),
        }
    }
    std::fs::write(dir.join("readme-blocks.sh"), &script).unwrap();
    let (stdout, stderr) = (dir.join("blocks.out"), dir.join("blocks.err"));
    let bins = Path::new(env!("CARGO_BIN_EXE_camctl")).parent().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("readme-blocks.sh")
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env(
            "PATH",
            format!("{}:{}", bins.display(), std::env::var("PATH").unwrap()),
        )
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(180) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Everything the blocks left running (camd-api, etcd, camd hosts).
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
    let status =
        status.unwrap_or_else(|| panic!("the README's blocks did not end in 180 s:\n{out}\n{err}"));
    assert!(
        status.success(),
        "a README block failed ({status}):\n{out}\n--- stderr:\n{err}"
    );
    let printed: Vec<&str> = out.split(&format!("{MARK}\n")).skip(1).collect();
    assert_eq!(printed.len(), blocks.len(), "{out}");
    for (b, got) in blocks.iter().zip(printed) {
        if let Some(want) = &b.expected {
            snapbox::assert_data_eq!(got, snapbox::Data::text(want.clone()));
        }
    }
}
