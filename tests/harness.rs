//! What the integration tests share: a temporary folder, the real `camd`
//! on its own socket and state, `camctl` run as this or another uid, this
//! test binary re-run as another uid, output and process probes, waiting
//! for a condition.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use camd::client::Client;
use serde_json::Value;

/// A fresh temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camd-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";

pub const USER_ADMIN: &str = r#"{"version":"2.0","statement":[
  {"effect":"allow","action":["cam:AddUser","cam:GetUser","cam:ListUsers","cam:AttachUserPolicy","cam:CreateAccessKey"],"resource":"*"},
  {"effect":"deny","action":"cam:AttachUserPolicy","resource":"*","condition":{"string_equal":{"cam:policy_name":"AdministratorAccess"}}}]}"#;

/// A running camd with its own folder.
pub struct Camd {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl Camd {
    pub fn start(name: &str) -> Self {
        Self::start_with(name, "")
    }

    /// Starts with `extra` appended to the test config (TOML tables).
    pub fn start_with(name: &str, extra: &str) -> Self {
        Self::start_in(Self::prepare(name, extra))
    }

    /// A fresh folder with a policy and the test config (plus `extra`).
    pub fn prepare(name: &str, extra: &str) -> PathBuf {
        let dir = temp_dir(name);
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::write(dir.join("policies/UserAdmin.json"), USER_ADMIN).unwrap();
        std::fs::write(
            dir.join("camd.toml"),
            format!(
                "socket = \"{d}/camd.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\nsocket_mode = \"0666\"\nidle_timeout_secs = 5\nmax_frame_bytes = 65536\n{extra}",
                d = dir.display()
            ),
        )
        .unwrap();
        dir
    }

    pub fn start_in(dir: PathBuf) -> Self {
        let child = Self::spawn(&dir);
        let socket = dir.join("camd.sock");
        let c = Self { child, dir, socket };
        c.wait_ready();
        c
    }

    pub fn spawn(dir: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("camd.log"))
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_camd"))
            .args(["--config", dir.join("camd.toml").to_str().unwrap()])
            .stderr(log)
            .spawn()
            .unwrap()
    }

    pub fn wait_ready(&self) {
        let up = || Client::connect(&self.socket).is_ok_and(|mut c| c.ping().is_ok());
        assert!(
            wait_for(Duration::from_secs(10), up),
            "camd did not become ready: {}",
            self.log()
        );
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket).unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("camd.log")).unwrap_or_default()
    }

    /// A sub-user with `policy` attached and an access key, made with
    /// `camctl user add --api-key`: (SecretId, SecretKey).
    pub fn user_with_key(&self, name: &str, policy: &str) -> (String, String) {
        let out = self.camctl(&[
            "--json",
            "user",
            "add",
            name,
            "--api-key",
            "--policy",
            policy,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v = json(&out);
        let field = |f: &str| v[f].as_str().unwrap().to_string();
        (field("SecretId"), field("SecretKey"))
    }

    /// `camctl check` on the test app; the exit code (0 Allow, 1 Deny).
    pub fn check(&self, user: &str, action: &str) -> Option<i32> {
        self.camctl(&[
            "check",
            "--user",
            user,
            "--action",
            action,
            "--resource",
            APP,
        ])
        .status
        .code()
    }

    pub fn camctl(&self, args: &[&str]) -> Output {
        self.camctl_as(None, &[], args)
    }

    pub fn camctl_as(&self, uid: Option<u32>, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.camctl_fed(uid, env, args, None)
    }

    /// camctl as `uid` with `input` on its stdin (None: no stdin).
    pub fn camctl_fed(
        &self,
        uid: Option<u32>,
        env: &[(&str, &str)],
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_camctl"));
        cmd.arg("--socket")
            .arg(&self.socket)
            .args(args)
            .current_dir(&self.dir)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(u) = uid {
            cmd.uid(u).gid(u);
        }
        let mut child = cmd.spawn().unwrap();
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(bytes).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// `camctl auth` as `uid` (None: this process's): decides `action` on
    /// the test app with access key `id`, its SecretKey in the environment.
    pub fn auth(&self, uid: Option<u32>, id: &str, secret: &str, action: &str) -> Output {
        self.camctl_as(
            uid,
            &[("CAMD_SECRET_KEY", secret)],
            &[
                "auth",
                "--secret-id",
                id,
                "--action",
                action,
                "--resource",
                APP,
            ],
        )
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Camd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// camctl's stdout as JSON (panics with the text when it is not).
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// camctl's stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Asserts that camctl failed (exit 2) with the CAM code `code`.
pub fn refused(out: &Output, code: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr(out).contains(code), "{}", stderr(out));
}

/// Waits up to `limit` for `cond`; true when it held.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// The effective uid, read from /proc (no unsafe, no libc).
pub fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap()
}

pub const NOBODY: u32 = 65534;

/// This test binary, running `test` (an ignored child test) as uid 65534.
pub fn hostile_child(test: &str, env: &[(&str, &str)], nofile: u32) -> Child {
    let exe = std::env::current_exe().unwrap();
    // `ulimit -n` so the child may hold many sockets.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -n {nofile} && exec \"$0\" --exact {test} --ignored --nocapture --test-threads=1"
        ))
        .arg(exe)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .uid(NOBODY)
        .gid(NOBODY);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// What each descriptor points at (for the failure message).
pub fn fd_targets(pid: u32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            let link = std::fs::read_link(e.path()).unwrap_or_default();
            format!("{} -> {}", e.file_name().to_string_lossy(), link.display())
        })
        .collect();
    v.sort();
    v
}

/// The descriptor count once it has stopped moving: a camctl that just
/// exited may still have its connection open in the daemon for a moment.
pub fn settled_fds(pid: u32) -> usize {
    let start = Instant::now();
    let (mut last, mut same) = (fds(pid), 0);
    while same < 5 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        let now = fds(pid);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

/// A tool a test needs, on PATH; or `None`, after saying so, when it is
/// missing and not required. With CAMD_REQUIRE_TOOLS set (as `.ci/run`
/// does after installing them) a missing tool fails the test instead.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CAMD_REQUIRE_TOOLS").is_none(),
            "`{name}` is required (.ci/run installs it from Debian's packages)"
        );
        eprintln!(
            "SKIPPED: `{name}` is not installed (.ci/run installs it from Debian's packages)"
        );
    }
    found
}

/// camd-api on a free loopback port for `d`'s camd, with `extra` arguments,
/// as `uid` (None: this process's): the child and its port.
pub fn camd_api_as(d: &Camd, extra: &[&str], uid: Option<u32>) -> (Child, u16) {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = d.dir.join(format!("api-{n}.log"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_camd-api"));
    cmd.args([
        "--socket",
        d.socket.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .args(extra)
    .stderr(std::fs::File::create(&log).unwrap())
    .stdout(Stdio::null());
    if let Some(u) = uid {
        cmd.uid(u).gid(u);
    }
    let child = cmd.spawn().unwrap();
    let mut port = None;
    let found = wait_for(Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        port = text
            .split("://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok());
        port.is_some()
    });
    assert!(
        found,
        "camd-api did not start: {:?}",
        std::fs::read_to_string(&log)
    );
    (child, port.unwrap_or_default())
}

/// camd-api as this process's uid (see [`camd_api_as`]).
pub fn camd_api(d: &Camd, extra: &[&str]) -> (Child, u16) {
    camd_api_as(d, extra, None)
}

/// A CAM API call to camd-api at `host`, signed as Tencent's SDKs sign it
/// (body `{}`), as raw HTTP/1.1 closing after the response; `extra` holds
/// more header lines (each ending in CRLF).
pub fn signed_api_request(host: &str, id: &str, key: &str, action: &str, extra: &str) -> String {
    let body = "{}";
    let signed = camd::client::sign_post(&camd::client::Call {
        secret_id: id,
        secret_key: key,
        service: "cam",
        action,
        host,
        version: "2019-01-16",
        region: "",
        timestamp: camd::clock::now_ms() / 1000,
        body: body.as_bytes(),
    })
    .unwrap();
    let mut request = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &signed.headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!(
        "{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    request
}
