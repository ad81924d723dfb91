//! Every client in `clients/` against the Rust client, in one run: the real
//! camd with the clients' scene and camd-api in front of it; each client's
//! `clients/LANG/bench` program (one JSON line of figures: one decision in
//! flight p50/p99, batched decisions per second, and the same language
//! calling camd-api over loopback HTTP as the baseline of a local policy
//! server), unpinned and then with everything on one CPU (`taskset`), as
//! socket.rs compares. Prints a table of medians and ratios to the Rust
//! client measured in the same run.
//!
//! `cargo bench --bench clients` (`-- --quick` for a short run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use camd::client::{Call, Client, by_user, sign_post};
use camd::protocol::{AddUser, CreateAccessKey};

const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";
const LANGS: &[&str] = &["c", "go", "java", "python", "node", "php"];

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How much each measurement does.
#[derive(Clone, Copy)]
struct Sizes {
    single: usize,
    batch: usize,
    batches: usize,
    http: usize,
}

/// One client's figures (µs, decisions/s).
#[derive(Default, Clone)]
struct Figures {
    wire: String,
    p50: f64,
    p99: f64,
    batched: Option<f64>,
    http50: Option<f64>,
    http99: Option<f64>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wait_for(what: impl Fn() -> bool) {
    let start = Instant::now();
    while !what() {
        assert!(start.elapsed() < Duration::from_secs(20), "did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// camd with the clients' scene: `reader` (Chat read-only) and `benchadmin`
/// (may call cam:GetUser, with a key for the HTTP baseline).
fn start_camd(dir: &Path) -> (Proc, String, String) {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("policies/BenchReader.json"),
        r#"{"version":"2.0","statement":[{"effect":"allow","action":["cam:GetUser"],"resource":"*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        format!(
            "socket = \"{d}/camd.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let camd = Proc(
        Command::new(env!("CARGO_BIN_EXE_camd"))
            .args(["--config", dir.join("camd.toml").to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let sock = dir.join("camd.sock");
    wait_for(|| Client::connect(&sock).is_ok());
    let mut admin = Client::connect(&sock).unwrap();
    for (name, policy) in [
        ("reader", "QcloudChatReadOnlyAccess"),
        ("benchadmin", "BenchReader"),
    ] {
        admin
            .call(AddUser {
                name: name.into(),
                policies: vec![policy.into()],
                ..AddUser::default()
            })
            .unwrap();
    }
    let key = admin
        .call(CreateAccessKey {
            user: Some("benchadmin".into()),
            description: String::new(),
        })
        .unwrap();
    (camd, key.secret_id.unwrap(), key.secret_key.unwrap())
}

/// camd-api on a free loopback port: (process, port).
fn start_api(dir: &Path) -> (Proc, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = Proc(
        Command::new(env!("CARGO_BIN_EXE_camd-api"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--socket"])
            .arg(dir.join("camd.sock"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(|| TcpStream::connect(("127.0.0.1", port)).is_ok());
    (api, port)
}

/// The folder of a libcamd.so built now with this bench's profile (a
/// bench build makes no cdylib of the workspace's other members).
fn libcamd_dir() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--profile",
            "bench",
            "-p",
            "camd-c",
            "--message-format=json",
        ])
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo build -p camd-c failed");
    let lib = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "camd")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "so"))
        .expect("cargo built no libcamd.so");
    lib.parent().unwrap().display().to_string()
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The Rust client: the reference every other client is compared with.
fn rust_figures(sock: &Path, port: u16, key: (&str, &str), n: Sizes) -> Figures {
    let mut c = Client::connect(sock).unwrap();
    let ask = || by_user("reader", "im:GetGroupInfo", APP, &[]);
    for _ in 0..1000 {
        assert!(c.authorize(ask()).unwrap().allowed);
    }
    let times: Vec<f64> = (0..n.single)
        .map(|_| {
            let t = Instant::now();
            assert!(c.authorize(ask()).unwrap().allowed);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let (p50, p99) = percentiles(times);
    let t = Instant::now();
    for _ in 0..n.batches {
        let answers = c
            .authorize_batch((0..n.batch).map(|_| ask()).collect())
            .unwrap();
        assert!(answers.iter().all(|a| a.as_ref().is_ok_and(|d| d.allowed)));
    }
    let batched = (n.batch * n.batches) as f64 / t.elapsed().as_secs_f64();
    let (h50, h99) = http_figures(port, key, n.http);
    Figures {
        wire: "binary".into(),
        p50,
        p99,
        batched: Some(batched),
        http50: Some(h50),
        http99: Some(h99),
    }
}

/// A TC3-signed GetUser to camd-api over one keep-alive connection.
fn http_figures(port: u16, (id, secret): (&str, &str), n: usize) -> (f64, f64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let host = format!("127.0.0.1:{port}");
    let mut one = || {
        let body = br#"{"Name":"reader"}"#;
        let req = sign_post(&Call {
            secret_id: id,
            secret_key: secret,
            service: "cam",
            action: "GetUser",
            host: &host,
            version: "2019-01-16",
            region: "",
            timestamp: camd::clock::now_ms() / 1000,
            body,
        })
        .unwrap();
        let mut head = String::from("POST / HTTP/1.1\r\n");
        for (k, v) in &req.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let t = Instant::now();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut len = 0;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut answer = vec![0; len];
        r.read_exact(&mut answer).unwrap();
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        let text = String::from_utf8_lossy(&answer);
        assert!(!text.contains("\"Error\""), "camd-api: {text}");
        elapsed
    };
    for _ in 0..100 {
        one();
    }
    percentiles((0..n).map(|_| one()).collect())
}

/// Runs `clients/LANG/bench` (pinned to CPU 0 when `pin`); `Err` why not.
fn client_figures(lang: &str, pin: bool, env: &[(&str, String)]) -> Result<Figures, String> {
    let program = root().join("clients").join(lang).join("bench");
    if !program.exists() {
        return Err("no bench program".into());
    }
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    cmd.current_dir(program.parent().unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_string());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).map_err(|e| e.to_string())?;
    let f = |k: &str| v[k].as_f64();
    Ok(Figures {
        wire: v["wire"].as_str().unwrap_or("?").to_string(),
        p50: f("single_p50_us").ok_or("no single_p50_us")?,
        p99: f("single_p99_us").ok_or("no single_p99_us")?,
        batched: f("batched_per_sec"),
        http50: f("http_p50_us"),
        http99: f("http_p99_us"),
    })
}

/// Pins every thread of `pid` to `cpus` ("0", or "0-N" to unpin).
fn pin(pid: u32, cpus: &str) {
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status();
}

fn row(name: &str, f: &Figures, rust: &Figures) {
    let http = match (f.http50, f.http99) {
        (Some(a), Some(b)) => format!("{a:.1} / {b:.1} µs ({:.1}x its socket p50)", a / f.p50),
        _ => "—".into(),
    };
    let batched = match (f.batched, rust.batched) {
        (Some(b), Some(r)) => format!("{b:.0} | {:.2}x", b / r),
        _ => "— | —".into(),
    };
    println!(
        "| {name} | {} | {:.1} / {:.1} µs | {:.2}x / {:.2}x | {batched} | {http} |",
        f.wire,
        f.p50,
        f.p99,
        f.p50 / rust.p50,
        f.p99 / rust.p99,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick" || a == "--test");
    let n = if quick {
        Sizes {
            single: 2_000,
            batch: 200,
            batches: 20,
            http: 200,
        }
    } else {
        Sizes {
            single: 20_000,
            batch: 1_000,
            batches: 200,
            http: 2_000,
        }
    };
    let rounds = if quick { 1 } else { 3 };
    let dir = std::env::temp_dir().join(format!("camd-bench-clients-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (camd, key_id, key_secret) = start_camd(&dir);
    let (api, port) = start_api(&dir);
    let sock = dir.join("camd.sock");
    let lib_dir = libcamd_dir();
    let env = [
        ("CAMD_SOCKET", sock.display().to_string()),
        ("CAMD_BENCH_N", n.single.to_string()),
        ("CAMD_BENCH_BATCH", n.batch.to_string()),
        ("CAMD_BENCH_BATCHES", n.batches.to_string()),
        ("CAMD_BENCH_HTTP", format!("http://127.0.0.1:{port}/")),
        ("CAMD_BENCH_HTTP_N", n.http.to_string()),
        ("CAMD_BENCH_KEY_ID", key_id.clone()),
        ("CAMD_BENCH_KEY_SECRET", key_secret.clone()),
        ("CAMD_LIB_DIR", lib_dir),
    ];
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all = format!("0-{}", cpus.saturating_sub(1));
    for pinned in [false, true] {
        let cpu = if pinned { "0" } else { all.as_str() };
        for pid in [camd.0.id(), api.0.id(), std::process::id()] {
            pin(pid, cpu);
        }
        // Round by round, every client in turn; the median of each figure.
        let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); LANGS.len() + 1];
        let mut missing: Vec<Option<String>> = vec![None; LANGS.len()];
        for _ in 0..rounds {
            runs[0].push(rust_figures(&sock, port, (&key_id, &key_secret), n));
            for (i, lang) in LANGS.iter().enumerate() {
                match client_figures(lang, pinned, &env) {
                    Ok(f) => runs[i + 1].push(f),
                    Err(why) => missing[i] = Some(why),
                }
            }
        }
        let med = |v: &[Figures]| -> Figures {
            let m = |g: fn(&Figures) -> f64| median(v.iter().map(g).collect());
            let o = |g: fn(&Figures) -> Option<f64>| {
                v.iter().map(g).collect::<Option<Vec<_>>>().map(median)
            };
            Figures {
                wire: v[0].wire.clone(),
                p50: m(|f| f.p50),
                p99: m(|f| f.p99),
                batched: o(|f| f.batched),
                http50: o(|f| f.http50),
                http99: o(|f| f.http99),
            }
        };
        let rust = med(&runs[0]);
        println!(
            "\n{} (medians of {rounds} rounds)\n\n| client | wire | one in flight p50 / p99 | / Rust | batched decisions/s | / Rust | camd-api over HTTP p50 / p99 |\n|---|---|---|---|---|---|---|",
            if pinned {
                "pinned: camd, camd-api and the client on CPU 0"
            } else {
                "unpinned"
            }
        );
        row("Rust", &rust, &rust);
        for (i, lang) in LANGS.iter().enumerate() {
            if runs[i + 1].len() < rounds {
                let why = missing[i].as_deref().unwrap_or("failed");
                println!("| {lang} | not run: {why} | | | | | |");
                // CI installs every toolchain: there a client that did not
                // run is a failure, not a gap in the table.
                assert!(
                    std::env::var_os("CAMD_REQUIRE_TOOLS").is_none(),
                    "the {lang} client's bench did not run: {why}"
                );
            } else {
                row(lang, &med(&runs[i + 1]), &rust);
            }
        }
    }
    drop(api);
    drop(camd);
    let _ = std::fs::remove_dir_all(&dir);
}
