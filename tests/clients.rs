//! The clients in other languages (`clients/LANG/`) against the real camd:
//! one scene (tests/clients/cases.json), the Rust client's answers to its
//! cases as the reference, and each client's own test suite run with the
//! scene in its environment. A client whose toolchain is missing is
//! skipped with what to install (and fails under `CAMD_REQUIRE_TOOLS`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use camd::client::{Client, by_key, by_user};
use serde_json::Value;

use crate::harness::{Camd, json, stderr};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Value {
    let text = std::fs::read_to_string(root().join("tests/clients/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// camd with the scene's policies, users and keys; the environment each
/// client's tests get.
struct Scene {
    socket: PathBuf,
    env: Vec<(String, String)>,
    restarts: Restarts,
}

/// camd restarted on request, as systemd restarts it: a Unix socket where
/// each line a client's test writes gets camd SIGKILLed and started again
/// on the same socket and state, then `ok` once it serves (`error ...` if
/// it does not). The scene's camd lives here.
struct Restarts {
    path: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Restarts {
    fn serve(d: Camd) -> Self {
        use std::io::{BufRead, Write};
        use std::sync::atomic::Ordering;
        let path = d.dir.join("restart.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut d = d;
            while !stopping.load(Ordering::Relaxed) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut line = String::new();
                let mut reader = std::io::BufReader::new(&conn);
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let _ = d.child.kill();
                let _ = d.child.wait();
                d.child = Camd::spawn(&d.dir);
                let up = crate::harness::wait_for(Duration::from_secs(10), || {
                    Client::connect(&d.socket).is_ok_and(|mut c| c.ping().is_ok())
                });
                let answer = if up {
                    "ok\n".to_string()
                } else {
                    format!("error camd did not come back: {}\n", d.log())
                };
                let _ = (&conn).write_all(answer.as_bytes());
            }
        });
        Self {
            path,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Restarts {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Scene {
    fn start(name: &str) -> Self {
        // Every client asks the wrong-key cases several times: a throttle
        // wide enough for all of them.
        // The decision log on: every client checks that its decisions carry
        // the id of their record (CAMD_TEST_DECISION_LOG).
        let log = crate::harness::temp_dir(name).join("decisions.log");
        let dir = Camd::prepare(
            name,
            &format!(
                "[throttle]\nburst = 100000\nrefill_per_sec = 1000.0\n[decision_log]\nfile = \"{}\"\n",
                log.display()
            ),
        );
        let scene = &cases()["scene"];
        for (p, doc) in scene["policies"].as_object().unwrap() {
            std::fs::write(dir.join(format!("policies/{p}.json")), doc.to_string()).unwrap();
        }
        let d = Camd::start_in(dir);
        for (user, policy) in scene["users"].as_object().unwrap() {
            let out = d.camctl(&["user", "add", user, "--policy", policy.as_str().unwrap()]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
        let key = |user: &str| {
            let k = json(&d.camctl(&["--json", "key", "create", user]));
            let f = |n: &str| k[n].as_str().unwrap().to_string();
            (f("SecretId"), f("SecretKey"))
        };
        let (id, secret) = key("keeper");
        let (off_id, off_secret) = key("keeper");
        assert_eq!(
            d.camctl(&["key", "disable", &off_id]).status.code(),
            Some(0)
        );
        let env = vec![
            ("CAMD_SOCKET".into(), d.socket.display().to_string()),
            (
                "CAMD_TEST_CASES".into(),
                root()
                    .join("tests/clients/cases.json")
                    .display()
                    .to_string(),
            ),
            (
                "CAMD_TEST_WIRE".into(),
                root().join("tests/wire").display().to_string(),
            ),
            ("CAMD_TEST_DECISION_LOG".into(), log.display().to_string()),
            ("CAMD_TEST_KEY_ID".into(), id),
            ("CAMD_TEST_KEY_SECRET".into(), secret),
            ("CAMD_TEST_DISABLED_KEY_ID".into(), off_id),
            ("CAMD_TEST_DISABLED_KEY_SECRET".into(), off_secret),
            (
                "CAMD_TEST_CAMCTL".into(),
                env!("CARGO_BIN_EXE_camctl").into(),
            ),
        ];
        let socket = d.socket.clone();
        let restarts = Restarts::serve(d);
        let mut env = env;
        env.push((
            "CAMD_TEST_RESTART_SOCKET".into(),
            restarts.path.display().to_string(),
        ));
        Self {
            socket,
            env,
            restarts,
        }
    }

    /// `${NAME}` in a case's string, from the scene's environment.
    fn fill(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.env {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    /// Runs a client's test command in `dir` with the scene's environment;
    /// its output (stdout and stderr) for the caller to check that tests ran.
    fn run(&self, dir: &Path, program: &str, args: &[&str], extra: &[(&str, String)]) -> String {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(dir);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = within(cmd, Duration::from_secs(300));
        let all = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(
            out.status.success(),
            "{program} {args:?} in {}:\n{all}",
            dir.display()
        );
        all
    }
}

/// Runs `cmd` to its end, or kills it after `limit` (a suite that hangs
/// fails instead of holding CI).
fn within(mut cmd: Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let s = child.wait().unwrap();
            let text = String::from_utf8_lossy(&out.join().unwrap()).to_string();
            panic!("killed after {limit:?} (it hung):\n{text}\n{s:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// True when `program` runs; else skipped (or, in CI, a failure).
fn have(program: &str, version_arg: &str, install: &str) -> bool {
    let ok = Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CAMD_REQUIRE_TOOLS").is_none(),
            "{program} is missing: {install}"
        );
        eprintln!("SKIPPED: {program} is missing: {install}");
    }
    ok
}

/// The reference: the Rust client gives the answers the case file states.
#[test]
fn the_rust_client_answers_every_shared_case() {
    let s = Scene::start("clients-rust");
    let mut c = Client::connect(&s.socket).unwrap();
    for case in cases()["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let ask = &case["ask"];
        let f = |k: &str| ask[k].as_str().map(|v| s.fill(v));
        let (action, resource) = (f("action").unwrap(), f("resource").unwrap());
        let context: Vec<(String, String)> = ask["context"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        let ctx: Vec<(&str, &str)> = context
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = match f("user") {
            Some(u) => by_user(&u, &action, &resource, &ctx),
            None => by_key(
                &f("secret_id").unwrap(),
                &f("secret_key").unwrap(),
                &action,
                &resource,
                &ctx,
            ),
        };
        let want = &case["expect"];
        match (c.authorize(a), want["error"].as_str()) {
            (Ok(d), None) => {
                assert_eq!(
                    d.allowed,
                    want["allowed"].as_bool().unwrap(),
                    "{name}: {d:?}"
                );
                assert_eq!(d.reason, want["reason"].as_str().unwrap(), "{name}: {d:?}");
                assert_eq!(
                    d.policy.as_deref(),
                    want["policy"].as_str(),
                    "{name}: {d:?}"
                );
                assert_eq!(
                    d.statement.map(u64::from),
                    want["statement"].as_u64(),
                    "{name}: {d:?}"
                );
            }
            (Err(e), Some(code)) => assert_eq!(e.code(), Some(code), "{name}: {e}"),
            (got, _) => panic!("{name}: expected {want}, got {got:?}"),
        }
    }
}

#[test]
fn the_python_client_passes_its_tests() {
    if !have("python3", "--version", "apt-get install python3") {
        return;
    }
    let s = Scene::start("clients-python");
    let dir = root().join("clients/python");
    let src = dir.join("src").display().to_string();
    let out = s.run(
        &dir,
        "python3",
        &["-m", "unittest", "discover", "-s", "tests", "-v"],
        &[("PYTHONPATH", src), ("PYTHONDONTWRITEBYTECODE", "1".into())],
    );
    let ran = out.lines().find_map(|l| {
        l.strip_prefix("Ran ")?
            .split(' ')
            .next()?
            .parse::<u32>()
            .ok()
    });
    assert!(
        ran.is_some_and(|n| n >= 10),
        "too few Python tests ran:\n{out}"
    );
    assert!(
        !out.lines().any(|l| l.contains(") ... skipped")),
        "Python tests skipped:\n{out}"
    );
}

#[test]
#[cfg_attr(
    camd_missing_go,
    ignore = "needs Go: apt-get install golang-go (.ci/run installs it)"
)]
fn the_go_client_passes_its_tests() {
    if !have(
        "go",
        "version",
        "apt-get install golang-go (.ci/run installs it)",
    ) {
        return;
    }
    let s = Scene::start("clients-go");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-cache");
    let out = s.run(
        &root().join("clients/go"),
        "go",
        // -p 1: the restart test restarts the camd every package shares, so
        // packages must not run at the same time.
        &["test", "-p", "1", "-count=1", "-v", "./..."],
        &[
            ("GOCACHE", cache.display().to_string()),
            ("GOFLAGS", "-mod=mod".into()),
            ("GOPROXY", "off".into()),
        ],
    );
    let passed = out.matches("--- PASS").count();
    assert!(passed >= 10, "too few Go tests passed ({passed}):\n{out}");
    assert!(!out.contains("--- SKIP"), "Go tests skipped:\n{out}");
}

#[test]
#[cfg_attr(
    camd_missing_node,
    ignore = "needs Node.js 20+: apt-get install nodejs"
)]
fn the_node_client_passes_its_tests() {
    if !have("node", "--version", "apt-get install nodejs") {
        return;
    }
    let s = Scene::start("clients-node");
    s.run(
        &root().join("clients/node"),
        "node",
        &["--test", "test/"],
        &[],
    );
}

#[test]
#[cfg_attr(
    any(camd_missing_java, camd_missing_junit),
    ignore = "needs a JDK and JUnit 5: apt-get install default-jdk-headless junit5 (.ci/run installs junit5)"
)]
fn the_java_client_passes_its_tests() {
    let s = Scene::start("clients-java");
    let out = s.run(&root().join("clients/java"), "./run-tests", &[], &[]);
    let count = |key: &str| {
        out.lines()
            .find_map(|l| {
                let l = l.trim().trim_start_matches('[').trim();
                l.split_once(key)
                    .and_then(|(n, _)| n.trim().parse::<u32>().ok())
            })
            .unwrap_or(0)
    };
    assert!(
        count("tests successful") >= 10,
        "too few Java tests passed:\n{out}"
    );
    // JUnit reports a failed assumption as aborted.
    for what in ["tests skipped", "tests aborted", "tests failed"] {
        assert_eq!(count(what), 0, "Java {what}:\n{out}");
    }
}

#[test]
#[cfg_attr(
    camd_missing_php,
    ignore = "needs PHP and PHPUnit: apt-get install php-cli phpunit (.ci/run installs them)"
)]
fn the_php_client_passes_its_tests() {
    let s = Scene::start("clients-php");
    let out = s.run(&root().join("clients/php"), "phpunit", &["tests"], &[]);
    let ok = out.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("OK (")?;
        rest.split(' ').next()?.parse::<u32>().ok()
    });
    assert!(
        ok.is_some_and(|n| n >= 10),
        "too few PHP tests passed, or some skipped:\n{out}"
    );
}

/// Builds libcamd.so as it is now (a test build does not make a cdylib)
/// and returns where it is.
fn build_libcamd() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-p", "camd-c", "--message-format=json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo build -p camd-c: {}",
        stderr(&out)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "camd")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "so"))
        .expect("cargo built no libcamd.so")
}

/// libcamd.so (built with the workspace) and its header: the functions
/// `camd.h` declares are the ones the library exports, a C program
/// compiled with every warning an error links against both and passes its
/// checks against the real camd, and against servers that break.
#[test]
fn the_c_library_matches_its_header_and_passes_its_tests() {
    let lib = build_libcamd();
    let lib_dir = lib.parent().unwrap().to_path_buf();
    let header = std::fs::read_to_string(root().join("clients/c/include/camd.h")).unwrap();
    // Every `camd_NAME(` the header declares.
    let declared: std::collections::BTreeSet<String> = header
        .match_indices("camd_")
        .filter_map(|(i, _)| {
            let rest = &header[i..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
            rest[end..]
                .starts_with('(')
                .then(|| rest[..end].to_string())
        })
        .collect();
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .unwrap();
    let exported: std::collections::BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("camd_"))
        .map(str::to_string)
        .collect();
    assert_eq!(declared, exported, "camd.h and libcamd.so disagree");
    let s = Scene::start("clients-c");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test_camd");
    let out = Command::new("gcc")
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pthread",
            "-D_POSIX_C_SOURCE=200809L",
        ])
        .arg("-I")
        .arg(root().join("clients/c/include"))
        .arg(root().join("clients/c/tests/test_camd.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lcamd")
        .output()
        .unwrap();
    assert!(out.status.success(), "gcc: {}", stderr(&out));
    s.run(&root(), exe.to_str().unwrap(), &["daemon"], &[]);
    // The check program, with camctl check's arguments and exit codes.
    let check = |args: &[&str]| {
        let mut cmd = Command::new(root().join("clients/c/check"));
        cmd.args(["--socket", s.socket.to_str().unwrap()])
            .args(args)
            .env("CAMD_LIB_DIR", &lib_dir)
            .env("HOME", env!("CARGO_TARGET_TMPDIR"));
        let out = within(cmd, Duration::from_secs(120));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string() + &stderr(&out),
        )
    };
    let app = crate::harness::APP;
    let (code, text) = check(&[
        "--user",
        "reader",
        "--action",
        "im:GetGroupInfo",
        "--resource",
        app,
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("Allow"), "{text}");
    let (code, text) = check(&[
        "--user",
        "reader",
        "--action",
        "im:SendMessage",
        "--resource",
        app,
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with("Deny"), "{text}");
    let (code, text) = check(&[
        "--user",
        "nobody",
        "--action",
        "im:SendMessage",
        "--resource",
        app,
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("ResourceNotFound.UserNotExist"), "{text}");
    // A server that reads the hello and closes; one that answers the hello
    // and then never again.
    for (mode, answers_hello) in [("closes", false), ("silent", true)] {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("c-{mode}.sock"));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            // Waits a bounded time: a client that never comes ends it.
            let start = Instant::now();
            let mut conn = loop {
                match listener.accept() {
                    Ok((c, _)) => break c,
                    Err(_) if start.elapsed() < Duration::from_secs(30) => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => panic!("no client came: {e}"),
                }
            };
            conn.set_nonblocking(false).unwrap();
            let mut hello = [0u8; camd::protocol::HELLO_LEN];
            let _ = conn.read_exact(&mut hello);
            if answers_hello {
                conn.write_all(&camd::protocol::encode_hello(
                    camd::protocol::PROTOCOL_VERSION,
                ))
                .unwrap();
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
        });
        s.run(
            &root(),
            exe.to_str().unwrap(),
            &[mode, path.to_str().unwrap()],
            &[],
        );
        server.join().unwrap();
    }
}

/// Asks the scene's restart service to restart camd; returns once it serves.
fn restart(s: &Scene) {
    use std::io::{Read, Write};
    let mut conn = std::os::unix::net::UnixStream::connect(&s.restarts.path).unwrap();
    conn.write_all(b"restart\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "ok\n");
}

/// The reference for every client's restart test: the same Rust client
/// answers rightly before and after camd is killed and started again.
#[test]
fn the_rust_client_reconnects_after_a_real_restart() {
    let s = Scene::start("clients-restart");
    let mut c = Client::connect(&s.socket).unwrap();
    let ask = || by_user("reader", "im:GetGroupInfo", crate::harness::APP, &[]);
    assert!(c.authorize(ask()).unwrap().allowed);
    for _ in 0..2 {
        restart(&s);
        let d = c.authorize(ask()).unwrap();
        assert!(d.allowed, "{d:?}");
    }
}
