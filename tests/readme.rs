//! README.md's walkthroughs, run as a newcomer pastes them: every block
//! with `$ ` prompts runs (trycmd) against a fresh daemon started as the
//! README's first command starts it (embedded default config, from the
//! repository's folder), and its output is compared with what the README
//! shows (`[..]` where it differs each run, `...` for lines left out).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{temp_dir, wait_for};

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
    let _ = camd.kill();
    let _ = camd.wait();
    if let Err(e) = run {
        std::panic::resume_unwind(e);
    }
}
