//! camd under systemd's own tools: socket activation through
//! `systemd-socket-activate`, the `sd_notify` messages it sends to a notify
//! socket the test holds, journald log prefixes, and every system call its
//! workload makes checked against the unit's `SystemCallFilter=`.
//!
//! These need `systemd-socket-activate`, `systemd-analyze` (Debian's
//! `systemd`) and `strace`. Without them the tests say so and pass, unless
//! `CAMD_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs them).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use camd::client::{Client, by_user};

use crate::harness::{APP, temp_dir, tool};

/// The notify socket systemd would hold: a thread reads `sd_notify`
/// datagrams as they come (as systemd does) and keeps them, timestamped.
struct NotifySocket {
    rx: std::sync::mpsc::Receiver<(Instant, String)>,
    path: PathBuf,
}

impl NotifySocket {
    fn bind(dir: &Path) -> Self {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                if tx.send((Instant::now(), m)).is_err() {
                    return;
                }
            }
        });
        Self { rx, path }
    }

    /// The next message, or `None` after `within`.
    fn next(&self, within: Duration) -> Option<(Instant, String)> {
        self.rx.recv_timeout(within).ok()
    }

    /// Drops what has arrived so far.
    fn clear(&self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Waits for a message with the line `line`; returns the messages seen up to it.
    fn wait_for(&self, line: &str, within: Duration) -> Vec<(Instant, String)> {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let Some(m) = self.next(left) else { break };
            let hit = m.1.lines().any(|l| l == line);
            seen.push(m);
            if hit {
                return seen;
            }
        }
        panic!("no `{line}` within {within:?}; got {seen:?}");
    }
}

/// A test folder with a config whose socket and policy folder live inside it.
fn folder(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        format!(
            "socket = \"{d}/unused.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\n",
            d = dir.display()
        ),
    )
    .unwrap();
    dir
}

/// `systemd-socket-activate` listening on `dir/camd.sock`, to exec camd on
/// the first connection.
fn activate(dir: &Path, env: &[(&str, &str)]) -> Option<Child> {
    let activate = tool("systemd-socket-activate")?;
    let mut cmd = Command::new(activate);
    cmd.arg("-l").arg(dir.join("camd.sock"));
    for (k, v) in env {
        cmd.arg("-E").arg(format!("{k}={v}"));
    }
    cmd.arg(env!("CARGO_BIN_EXE_camd"))
        .arg("--config")
        .arg(dir.join("camd.toml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("camd.log")).unwrap());
    Some(cmd.spawn().unwrap())
}

/// Connects once the activation socket exists (this starts camd).
fn connect(socket: &Path) -> Client {
    let start = Instant::now();
    loop {
        match Client::connect(socket) {
            Ok(c) => return c,
            Err(e) if start.elapsed() > Duration::from_secs(10) => panic!("cannot connect: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Kills the started process (and any pids added) if the test ends early.
struct Reap {
    child: Child,
    also: Vec<u32>,
}

impl Drop for Reap {
    fn drop(&mut self) {
        for pid in &self.also {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> ExitStatus {
    let end = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("camd did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[cfg_attr(
    camd_missing_systemd_tools,
    ignore = "needs systemd-socket-activate and systemd-analyze: apt-get install systemd (.ci/run installs it)"
)]
fn notify_protocol_under_socket_activation() {
    let dir = folder("systemd-notify");
    let notify = NotifySocket::bind(&dir);
    let watchdog_usec: u64 = 1_000_000;
    let Some(child) = activate(
        &dir,
        &[
            ("NOTIFY_SOCKET", notify.path.to_str().unwrap()),
            ("WATCHDOG_USEC", &watchdog_usec.to_string()),
        ],
    ) else {
        return;
    };
    let mut reap = Reap {
        child,
        also: Vec::new(),
    };
    let pid = reap.child.id();
    let log = || std::fs::read_to_string(dir.join("camd.log")).unwrap_or_default();
    // The first connection makes systemd-socket-activate exec camd, which
    // must take the passed socket and serve this very connection.
    let mut client = connect(&dir.join("camd.sock"));
    let started = Instant::now();
    let msgs = notify.wait_for("READY=1", Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(5));
    let ready = &msgs.last().unwrap().1;
    assert!(
        ready.contains("STATUS=serving 0 users"),
        "READY=1 comes with a status: {ready}"
    );
    let e = client
        .authorize(by_user("nobody", "im:SendMessage", APP, &[]))
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFound.UserNotExist"));
    assert!(
        !dir.join("unused.sock").exists(),
        "camd bound its own socket"
    );
    assert!(log().contains("(from systemd)"), "{}", log());

    // WATCHDOG=1 at least every half WATCHDOG_USEC (3 s of pings).
    let mut pings = Vec::new();
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        if let Some((at, m)) = notify.next(Duration::from_secs(2)) {
            if m.lines().any(|l| l == "WATCHDOG=1") {
                pings.push(at);
            }
        }
    }
    let mut gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort();
    assert!(pings.len() >= 4, "only {} WATCHDOG=1 in 3 s", pings.len());
    let half = Duration::from_micros(watchdog_usec / 2);
    let median = gaps[gaps.len() / 2];
    assert!(
        median <= half + Duration::from_millis(100),
        "median gap {median:?}"
    );
    assert!(
        *gaps.last().unwrap() < Duration::from_micros(watchdog_usec),
        "a gap of {:?} would let systemd's watchdog fire",
        gaps.last().unwrap()
    );

    // SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1.
    signal(pid, "-HUP");
    let msgs = notify.wait_for("READY=1", Duration::from_secs(5));
    let reloading = msgs
        .iter()
        .position(|(_, m)| m.lines().any(|l| l == "RELOADING=1"))
        .expect("RELOADING=1 before READY=1");
    assert!(msgs[reloading].1.contains("MONOTONIC_USEC="));
    assert!(msgs.last().unwrap().1.contains("last reload applied"));

    // SIGTERM: STOPPING=1 and exit 0.
    signal(pid, "-TERM");
    notify.wait_for("STOPPING=1", Duration::from_secs(5));
    let status = wait_exit(&mut reap.child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", log());
    assert!(
        dir.join("camd.sock").exists(),
        "camd must leave the socket systemd passed alone"
    );
}

#[test]
fn log_has_journal_prefixes_only_when_stderr_is_the_journal() {
    let dir = folder("systemd-journal");
    let run = |journal_stream: Option<String>, rust_log: Option<&str>| -> String {
        let log_path = dir.join("camd.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let meta = log.metadata().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_camd"));
        cmd.arg("--config")
            .arg(dir.join("camd.toml"))
            .arg("--socket")
            .arg(dir.join("camd.sock"))
            .env_remove("RUST_LOG")
            .env_remove("CAMD_LOG")
            .stderr(log);
        if let Some(j) = journal_stream {
            cmd.env(
                "JOURNAL_STREAM",
                j.replace("DEV", &meta.dev().to_string())
                    .replace("INO", &meta.ino().to_string()),
            );
        }
        if let Some(l) = rust_log {
            cmd.env("RUST_LOG", l);
        }
        let mut reap = Reap {
            child: cmd.spawn().unwrap(),
            also: Vec::new(),
        };
        let mut c = connect(&dir.join("camd.sock"));
        c.ping().unwrap();
        signal(reap.child.id(), "-TERM");
        assert_eq!(
            wait_exit(&mut reap.child, Duration::from_secs(15)).code(),
            Some(0)
        );
        std::fs::read_to_string(&log_path).unwrap()
    };
    let journal = run(Some("DEV:INO".into()), None);
    assert!(journal.starts_with("<6>ready on"), "{journal}");
    assert!(journal.lines().all(|l| l.starts_with('<')), "{journal}");
    // Another stream's numbers: plain lines.
    let plain = run(Some("1:INO".into()), None);
    assert!(plain.starts_with("camd: ready on"), "{plain}");
    // RUST_LOG filters: `warn` hides the info lines.
    let quiet = run(None, Some("warn"));
    assert_eq!(quiet, "");
    let bad = run(None, Some("loud"));
    assert!(
        bad.starts_with("camd: warning: ignoring CAMD_LOG/RUST_LOG: unknown log level `loud`"),
        "{bad}"
    );
}

/// The syscalls `SystemCallFilter=` in systemd/camd.service allows, expanded
/// with `systemd-analyze syscall-filter`.
fn unit_allowed_syscalls(analyze: &Path) -> BTreeSet<String> {
    let unit =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/camd.service"))
            .unwrap();
    let mut allowed = BTreeSet::new();
    for line in unit.lines() {
        let Some(v) = line.strip_prefix("SystemCallFilter=") else {
            continue;
        };
        let (deny, items) = match v.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, v),
        };
        for item in items.split_whitespace() {
            let set = expand(analyze, item);
            assert!(!set.is_empty(), "`{item}` expands to nothing");
            if deny {
                allowed.retain(|s| !set.contains(s));
            } else {
                allowed.extend(set);
            }
        }
    }
    allowed
}

fn expand(analyze: &Path, item: &str) -> BTreeSet<String> {
    if !item.starts_with('@') {
        return [item.to_string()].into();
    }
    let out = Command::new(analyze)
        .args(["syscall-filter", "--no-pager", item])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut set = BTreeSet::new();
    for l in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('@') {
            set.extend(expand(analyze, l));
        } else {
            set.insert(l.to_string());
        }
    }
    set
}

/// The pids whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        if after.split_whitespace().nth(1) == Some(&pid.to_string()) {
            out.extend(e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()));
        }
    }
    out
}

/// (syscall names, socket families) that camd's process made in an
/// `strace -f` output, counting only what follows its `execve`.
fn syscalls_after_exec(trace: &str, exe: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut families = BTreeSet::new();
    let start = trace
        .lines()
        .position(|l| l.contains(&format!("execve(\"{exe}\"")) && l.contains("= 0"))
        .expect("camd's execve in the trace");
    for line in trace.lines().skip(start + 1) {
        let rest = line.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        let name = if let Some(r) = rest.strip_prefix("<... ") {
            r.split(' ').next().unwrap_or("")
        } else {
            rest.split('(').next().unwrap_or("")
        };
        if name.is_empty()
            || name.starts_with("---")
            || name.starts_with("+++")
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        names.insert(name.to_string());
        if (name == "socket" || name == "socketpair") && !rest.starts_with("<...") {
            let fam = rest
                .split_once('(')
                .map(|(_, a)| a.split([',', ')']).next().unwrap_or("").to_string())
                .unwrap_or_default();
            families.insert(fam);
        }
    }
    (names, families)
}

#[test]
#[cfg_attr(
    any(camd_missing_strace, camd_missing_systemd_tools),
    ignore = "needs strace, systemd-analyze and systemd-socket-activate: apt-get install strace systemd (.ci/run installs them)"
)]
fn every_syscall_of_the_workload_is_allowed_by_the_unit() {
    let (Some(strace), Some(analyze)) = (tool("strace"), tool("systemd-analyze")) else {
        return;
    };
    let dir = folder("systemd-strace");
    let notify = NotifySocket::bind(&dir);
    let trace_path = dir.join("trace.txt");
    // strace runs around systemd-socket-activate, which execs camd in the
    // same process (so LISTEN_PID matches); only what follows that execve is
    // camd's.
    let Some(activate) = tool("systemd-socket-activate") else {
        return;
    };
    let child = Command::new(&strace)
        .args(["-f", "-qq", "-o"])
        .arg(&trace_path)
        .arg(activate)
        .arg("-l")
        .arg(dir.join("camd.sock"))
        .arg("-E")
        .arg(format!("NOTIFY_SOCKET={}", notify.path.display()))
        .arg("-E")
        .arg("WATCHDOG_USEC=400000")
        .arg(env!("CARGO_BIN_EXE_camd"))
        .arg("--config")
        .arg(dir.join("camd.toml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("camd.log")).unwrap())
        .spawn()
        .unwrap();
    let mut reap = Reap {
        child,
        also: Vec::new(),
    };
    let socket = dir.join("camd.sock");
    let mut c = connect(&socket);
    notify.wait_for("READY=1", Duration::from_secs(10));
    let camd_pid = children(reap.child.id())
        .into_iter()
        .next()
        .expect("camd under strace");
    reap.also.push(camd_pid);

    workload(&dir, &mut c, &notify, camd_pid);
    // Watchdog pings happened on the way.
    std::thread::sleep(Duration::from_millis(500));
    drop(c);
    signal(camd_pid, "-TERM");
    let status = wait_exit(&mut reap.child, Duration::from_secs(20));
    assert!(status.success());
    reap.also.clear();

    check_trace(&trace_path, &analyze);
}

/// What camd does under strace: admin writes, keys, decisions by user, key
/// and batch, policy reloads by file, request and SIGHUP, status.
fn workload(dir: &Path, c: &mut Client, notify: &NotifySocket, camd_pid: u32) {
    let socket = dir.join("camd.sock");
    let camctl = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_camctl"))
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "camctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    camctl(&["user", "add", "alice", "--api-key"]);
    camctl(&["group", "create", "ops"]);
    camctl(&["group", "add-user", "ops", "alice"]);
    camctl(&["policy", "attach", "QcloudAVCFullAccess", "--group", "ops"]);
    std::fs::write(
        dir.join("policies/Reader.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:Get*","resource":"*"}]}"#,
    )
    .unwrap();
    camctl(&["policy", "reload"]);
    camctl(&["policy", "attach", "Reader", "--user", "alice"]);
    assert_eq!(
        camctl(&[
            "check",
            "--user",
            "alice",
            "--action",
            "im:SendMessage",
            "--resource",
            APP
        ])
        .status
        .code(),
        Some(0)
    );
    let batch: Vec<_> = (0..100)
        .map(|i| {
            by_user(
                "alice",
                if i % 2 == 0 {
                    "im:GetGroupInfo"
                } else {
                    "cam:AddUser"
                },
                APP,
                &[],
            )
        })
        .collect();
    let decisions = c.authorize_batch(batch).unwrap();
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d.as_ref().unwrap().allowed)
            .count(),
        50
    );
    camctl(&["key", "create", "alice"]);
    camctl(&["status"]);
    camctl(&["policy", "status"]);
    notify.clear();
    signal(camd_pid, "-HUP");
    notify.wait_for("RELOADING=1", Duration::from_secs(5));
    notify.wait_for("READY=1", Duration::from_secs(5));
    std::fs::remove_file(dir.join("policies/Reader.json")).unwrap();
    let start = Instant::now();
    while camctl(&[
        "check",
        "--user",
        "alice",
        "--action",
        "im:GetGroupInfo",
        "--resource",
        "qcs::im::uin/1:sdkappid/2",
    ])
    .status
    .code()
        == Some(0)
        && start.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every syscall camd made after its execve is allowed by the unit's
/// filter, and it opened AF_UNIX sockets only.
fn check_trace(trace_path: &Path, analyze: &Path) {
    let trace = std::fs::read_to_string(trace_path).unwrap();
    let (used, families) = syscalls_after_exec(&trace, env!("CARGO_BIN_EXE_camd"));
    assert!(used.len() > 20, "too few syscalls seen: {used:?}");
    for must in ["accept4", "inotify_init1", "fdatasync", "sendto"] {
        assert!(
            used.iter()
                .any(|u| u.starts_with(must.trim_end_matches("4"))),
            "the workload never called {must}: {used:?}"
        );
    }
    let allowed = unit_allowed_syscalls(analyze);
    let refused: Vec<&String> = used.iter().filter(|s| !allowed.contains(*s)).collect();
    assert!(
        refused.is_empty(),
        "camd made syscalls the unit's filter refuses: {refused:?}"
    );
    assert_eq!(
        families.iter().map(String::as_str).collect::<Vec<_>>(),
        ["AF_UNIX"],
        "socket families other than AF_UNIX"
    );
    eprintln!(
        "{} distinct syscalls, all allowed by the unit; socket families {families:?}",
        used.len()
    );
}

#[test]
fn install_script_stages_everything_and_keeps_operator_files() {
    let dest = temp_dir("systemd-install");
    let bin = Path::new(env!("CARGO_BIN_EXE_camd")).parent().unwrap();
    let install = || {
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/install.sh"))
            .env("DESTDIR", &dest)
            .env("BIN", bin)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    install();
    for f in [
        "usr/local/bin/camd",
        "usr/local/bin/camctl",
        "usr/local/bin/camd-api",
        "etc/systemd/system/camd.service",
        "etc/systemd/system/camd.socket",
        "etc/systemd/system/camd-api.service",
        "etc/systemd/system/camd-api.socket",
        "etc/camd/api/tls.crt",
        "etc/camd/api/tls.key",
        "usr/lib/sysusers.d/camd.conf",
        "usr/lib/tmpfiles.d/camd.conf",
        "etc/camd/camd.toml",
        "usr/local/share/man/man1/camd.1",
        "usr/local/share/man/man1/camctl.1",
        "usr/local/share/man/man1/camctl-user-add.1",
        "usr/share/bash-completion/completions/camctl",
        "usr/share/bash-completion/completions/camd",
        "usr/share/zsh/vendor-completions/_camctl",
        "usr/share/fish/vendor_completions.d/camctl.fish",
        "usr/local/share/doc/camd/monitoring/camd-alerts.yml",
        "usr/local/share/doc/camd/monitoring/camd-dashboard.json",
    ] {
        assert!(dest.join(f).is_file(), "{f} not installed");
    }
    assert!(dest.join("etc/camd/policies").is_dir());
    use std::os::unix::fs::PermissionsExt;
    let pepper = dest.join("etc/camd/pepper");
    let meta = std::fs::metadata(&pepper).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);
    let sealing = dest.join("etc/camd/sealing-key");
    let meta = std::fs::metadata(&sealing).unwrap();
    assert_eq!((meta.permissions().mode() & 0o777, meta.len()), (0o600, 32));
    assert_ne!(
        std::fs::read(&sealing).unwrap(),
        std::fs::read(&pepper).unwrap()
    );
    let tls_key = dest.join("etc/camd/api/tls.key");
    assert_eq!(
        std::fs::metadata(&tls_key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    camd::gateway::tls_acceptor(&dest.join("etc/camd/api/tls.crt"), &tls_key).unwrap();

    // The installed config is valid and agrees with the units' folders.
    let config = camd::config::Config::load(Some(&dest.join("etc/camd/camd.toml"))).unwrap();
    assert_eq!(config.state_dir, Path::new("/var/lib/camd"));
    assert_eq!(config.policy_dir, Path::new("/etc/camd/policies"));
    assert_eq!(config.socket, Path::new("/run/camd/camd.sock"));
    let unit = std::fs::read_to_string(dest.join("etc/systemd/system/camd.service")).unwrap();
    for line in [
        "StateDirectory=camd",
        "ConfigurationDirectory=camd",
        "RuntimeDirectory=camd",
        "LoadCredential=pepper:/etc/camd/pepper",
        "LoadCredential=sealing-key:/etc/camd/sealing-key",
        "ExecStart=/usr/local/bin/camd --config /etc/camd/camd.toml",
        "Type=notify",
        "UMask=0077",
    ] {
        assert!(unit.lines().any(|l| l == line), "camd.service lacks {line}");
    }
    assert!(!unit.lines().any(|l| l.starts_with("PrivateUsers=")));
    let socket = std::fs::read_to_string(dest.join("etc/systemd/system/camd.socket")).unwrap();
    assert!(socket.contains("ListenStream=/run/camd/camd.sock"));

    // A second run keeps the operator's config, pepper, sealing key and certificate.
    std::fs::write(dest.join("etc/camd/camd.toml"), "# edited\n").unwrap();
    let before = std::fs::read(&pepper).unwrap();
    let kept = [sealing.clone(), tls_key.clone()].map(|f| std::fs::read(f).unwrap());
    install();
    assert_eq!([sealing, tls_key].map(|f| std::fs::read(f).unwrap()), kept);
    assert_eq!(
        std::fs::read_to_string(dest.join("etc/camd/camd.toml")).unwrap(),
        "# edited\n"
    );
    assert_eq!(std::fs::read(&pepper).unwrap(), before);
}

/// camd-api under `systemd-socket-activate` on a TCP port: it serves the
/// connection that started it on the passed socket, and a TC3-signed call
/// reaches camd and comes back as CAM's JSON.
#[test]
#[cfg_attr(
    camd_missing_systemd_tools,
    ignore = "needs systemd-socket-activate and systemd-analyze: apt-get install systemd (.ci/run installs it)"
)]
fn camd_api_serves_the_socket_systemd_passes() {
    let Some(activate) = tool("systemd-socket-activate") else {
        return;
    };
    let d = crate::harness::Camd::start("systemd-api");
    let out = d.camctl(&[
        "--json",
        "user",
        "add",
        "ops",
        "--api-key",
        "--policy",
        "AdministratorAccess",
    ]);
    let v = crate::harness::json(&out);
    let (id, key) = (
        v["SecretId"].as_str().unwrap(),
        v["SecretKey"].as_str().unwrap(),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(activate)
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .arg(env!("CARGO_BIN_EXE_camd-api"))
        .args([
            "--socket",
            d.socket.to_str().unwrap(),
            "--listen",
            "127.0.0.1:1",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.dir.join("api.log")).unwrap())
        .spawn()
        .unwrap();
    let _reap = Reap {
        child,
        also: Vec::new(),
    };
    let host = format!("127.0.0.1:{port}");
    let request = crate::harness::signed_api_request(&host, id, key, "ListUsers", "");
    let mut stream = None;
    crate::harness::wait_for(Duration::from_secs(10), || {
        stream = std::net::TcpStream::connect(&host).ok();
        stream.is_some()
    });
    let mut stream = stream.expect("systemd-socket-activate never listened");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json\r\n"),
        "{response}"
    );
    let json = response.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["Response"]["Data"][0]["Name"], "ops", "{v}");
    assert!(
        v["Response"]["RequestId"]
            .as_str()
            .is_some_and(|r| r.len() == 36)
    );
}
