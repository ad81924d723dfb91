//! Soak: 64 client processes (this test binary, re-run) against the real
//! daemon, mixing decisions by key and by user, batches, admin writes,
//! reloads (requested and by file) and 2 % malformed frames, for
//! `CAMD_SOAK_SECS` seconds (10 by default; 60 for the full run). Every
//! decision is checked against the expected answer; the daemon's RSS may not
//! grow by 10 % after warm-up, and its open descriptors return to baseline.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use camd::client::{Client, by_key, by_user};
use camd::protocol::{
    Authorize, CreateGroup, Decision, DeleteGroup, KeyAuth, PROTOCOL_VERSION, ReloadPolicies,
    Status, decode_response, encode_hello,
};
use serde_json::Value;

use crate::harness::{APP, Camd, fd_targets, fds, rss_kb, settled_fds};

const CLIENTS: usize = 64;
/// Latency histogram: 10 µs buckets up to 100 ms (the last catches the rest).
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 10_000;

const SOAK_POLICY: &str =
    r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:Get*","resource":"*"}]}"#;
/// The same policy written differently: a reload, the same decisions.
const SOAK_POLICY_AGAIN: &str = "{\n  \"statement\": [ { \"resource\": \"*\", \"action\": [\"im:Get*\"], \"effect\": \"allow\" } ],\n  \"version\": \"2.0\"\n}\n";

/// (user, action, expected) for decisions by user.
const BY_USER: [(&str, &str, bool); 6] = [
    ("reader", "im:GetGroupInfo", true),
    ("reader", "im:SendMessage", false),
    ("writer", "im:SendMessage", true),
    ("writer", "im:DestroyGroup", true),
    ("custom", "im:GetGroupInfo", true),
    ("custom", "im:SendMessage", false),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap()
}

#[test]
#[ignore = "one client process of soak_64_client_processes"]
fn soak_client() {
    let Ok(socket) = std::env::var("CAMD_SOAK_SOCKET") else {
        return;
    };
    let secs: u64 = env("CAMD_SOAK_SECS").parse().unwrap();
    let mut client = SoakClient::new(socket);
    let mut hist = vec![0u64; BUCKETS];
    let mut requests = 0u64;
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let t = Instant::now();
        client.one_request();
        let us = t.elapsed().as_micros() as u64;
        hist[((us / BUCKET_US) as usize).min(BUCKETS - 1)] += 1;
        requests += 1;
    }
    let buckets: Vec<String> = hist
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| format!("{i}:{c}"))
        .collect();
    println!(
        "\nRESULT {requests} {} {} {}",
        client.decisions,
        client.unexpected,
        buckets.join(",")
    );
}

/// One soak client process: a random mix of decisions by key and by user,
/// batches, admin writes, requested reloads, malformed frames and status,
/// every answer checked.
struct SoakClient {
    socket: String,
    rng: Rng,
    /// The reader's and the writer's keys, each with what it may do.
    keys: [(KeyAuth, [(&'static str, bool); 2]); 2],
    c: Client,
    /// Carries only the malformed frames.
    raw: UnixStream,
    raw_used: Instant,
    n: u64,
    decisions: u64,
    unexpected: u64,
}

impl SoakClient {
    fn new(socket: String) -> Self {
        let key = |id: &str, secret: &str| KeyAuth {
            secret_id: env(id),
            secret_key: env(secret),
        };
        let keys = [
            (
                key("CAMD_SOAK_READER_ID", "CAMD_SOAK_READER_KEY"),
                [("im:GetGroupInfo", true), ("im:SendMessage", false)],
            ),
            (
                key("CAMD_SOAK_WRITER_ID", "CAMD_SOAK_WRITER_KEY"),
                [("im:GetGroupInfo", true), ("im:SendMessage", true)],
            ),
        ];
        Self {
            rng: Rng(env("CAMD_SOAK_SEED").parse::<u64>().unwrap() * 2_654_435_761 + 1),
            keys,
            c: Client::connect(&socket).unwrap(),
            raw: open_raw(&socket),
            raw_used: Instant::now(),
            socket,
            n: 0,
            decisions: 0,
            unexpected: 0,
        }
    }

    fn complain(&mut self, what: String) {
        self.unexpected += 1;
        if self.unexpected <= 5 {
            eprintln!("UNEXPECTED {what}");
        }
    }

    fn decided(&mut self, got: Result<Decision, String>, want: bool, what: String) {
        match got {
            Ok(d) if d.allowed == want => self.decisions += 1,
            other => self.complain(format!("{what}: {other:?}")),
        }
    }

    fn one_request(&mut self) {
        self.n += 1;
        match self.rng.below(100) {
            0..=34 => self.by_key(),
            35..=59 => {
                let (user, action, want) = BY_USER[self.rng.below(6) as usize];
                let got = self.c.authorize(by_user(user, action, APP, &[]));
                let got = got.map_err(|e| e.to_string());
                self.decided(got, want, format!("by user {user} {action}"));
            }
            60..=74 => self.batch(),
            75..=75 => {
                let g = format!("s{}x{}", std::process::id(), self.n);
                let made = self.c.call(CreateGroup {
                    name: g.clone(),
                    remark: String::new(),
                });
                let gone = self.c.call(DeleteGroup { name: g });
                if made.is_err() || gone.is_err() {
                    self.complain(format!("admin write: {made:?} {gone:?}"));
                }
            }
            76..=76 if self.rng.below(4) == 0 => match self.c.call(ReloadPolicies) {
                Ok(r) if r.applied => {}
                other => self.complain(format!("reload: {other:?}")),
            },
            77..=78 => self.malformed(),
            _ => {
                if let Err(e) = self.c.call(Status) {
                    self.complain(format!("status: {e}"));
                }
            }
        }
    }

    fn by_key(&mut self) {
        let (key, cases) = &self.keys[self.rng.below(2) as usize];
        let (action, want) = cases[self.rng.below(2) as usize];
        let ask = by_key(&key.secret_id, &key.secret_key, action, APP, &[]);
        let got = self.c.authorize(ask).map_err(|e| e.to_string());
        self.decided(got, want, format!("by key {action}"));
    }

    fn batch(&mut self) {
        let picks: Vec<usize> = (0..50).map(|_| self.rng.below(6) as usize).collect();
        let batch: Vec<Authorize> = picks
            .iter()
            .map(|&i| by_user(BY_USER[i].0, BY_USER[i].1, APP, &[]))
            .collect();
        match self.c.authorize_batch(batch) {
            Ok(ds) if ds.len() == 50 => {
                for (d, &i) in ds.into_iter().zip(&picks) {
                    let d = d.map_err(|e| format!("{e:?}"));
                    self.decided(d, BY_USER[i].2, "batch item".into());
                }
            }
            other => self.complain(format!("batch: {other:?}")),
        }
    }

    /// A malformed but well-framed request (id 1, no auth, body variant 200,
    /// which does not exist, junk): an error reply, and the connection goes on.
    fn malformed(&mut self) {
        let mut body = vec![0x01, 0x00, 0xc8, 0x01];
        body.extend((0..self.rng.below(40)).map(|_| self.rng.next() as u8));
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend(body);
        // The raw connection can sit silent past the test config's 5 s idle
        // timeout (camd then closes it, as it should): reopen after 4 s unused.
        if self.raw_used.elapsed() > Duration::from_secs(4) {
            self.raw = open_raw(&self.socket);
        }
        self.raw_used = Instant::now();
        self.raw.write_all(&frame).unwrap();
        let mut header = [0u8; 4];
        self.raw.read_exact(&mut header).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        self.raw.read_exact(&mut body).unwrap();
        match decode_response(&body).map(|r| r.result) {
            Ok(Err(e)) if e.code == "InvalidParameter.MalformedRequest" => {}
            other => self.complain(format!("malformed frame: {other:?}")),
        }
    }
}

/// A binary connection, hello exchanged.
fn open_raw(socket: &str) -> UnixStream {
    let mut raw = UnixStream::connect(socket).unwrap();
    raw.write_all(&encode_hello(PROTOCOL_VERSION)).unwrap();
    let mut hello = [0u8; 6];
    raw.read_exact(&mut hello).unwrap();
    raw
}

#[test]
fn soak_64_client_processes() {
    let secs: u64 = std::env::var("CAMD_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let d = Camd::start_with("soak", "");
    let (reader, writer) = soak_users(&d);
    let pid = d.child.id();
    let base_fds = settled_fds(pid);
    let base_targets = fd_targets(pid);

    let start = Instant::now();
    let children = spawn_clients(&d, secs, &reader, &writer);
    // Policy edits by file while the clients run (same meaning each time),
    // and the RSS after warm-up (a quarter of the run). Each edit is written
    // beside the folder and renamed in, as a careful operator does: clients
    // request reloads at any moment, and one that read a half-written file
    // would (rightly) be rejected.
    let mut warm_rss = None;
    let mut edits = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(500));
        let text = if edits % 2 == 0 {
            SOAK_POLICY_AGAIN
        } else {
            SOAK_POLICY
        };
        let tmp = d.dir.join("Soak.json.new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, d.dir.join("policies/Soak.json")).unwrap();
        edits += 1;
        if warm_rss.is_none() && start.elapsed() >= Duration::from_secs(secs) / 4 {
            warm_rss = Some(rss_kb(pid));
        }
    }
    let end_rss = rss_kb(pid);
    let Totals {
        requests,
        decisions,
        unexpected,
        hist,
    } = collect(children);
    let elapsed = start.elapsed();
    let quantile = |q: f64| {
        let target = (requests as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, c) in hist.iter().enumerate() {
            seen += c;
            if seen >= target {
                return Duration::from_micros(i as u64 * BUCKET_US);
            }
        }
        Duration::MAX
    };
    // Descriptors settle once the last connections are closed.
    let settle = Instant::now();
    while fds(pid) != base_fds && settle.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let warm = warm_rss.unwrap_or(end_rss);
    let growth = end_rss as f64 / warm as f64 - 1.0;
    eprintln!(
        "soak: {CLIENTS} client processes, {secs} s: {requests} requests ({:.0}/s), {decisions} decisions checked, {unexpected} unexpected; p50 {:?}, p99 {:?}; {edits} policy edits; RSS {warm} kB after warm-up, {end_rss} kB at the end ({:+.1} %); fds {base_fds} before, {} after",
        requests as f64 / elapsed.as_secs_f64(),
        quantile(0.50),
        quantile(0.99),
        growth * 100.0,
        fds(pid)
    );
    assert_eq!(unexpected, 0, "unexpected replies");
    assert!(decisions > 1000, "too few decisions: {decisions}");
    assert!(
        growth < 0.10,
        "RSS grew {:.1} % after warm-up",
        growth * 100.0
    );
    assert_eq!(
        fds(pid),
        base_fds,
        "descriptors not back to baseline: before {base_targets:?}, after {:?}",
        fd_targets(pid)
    );
    assert!(d.client().ping().is_ok());
}

/// The policy and the users the clients act as: (reader key, writer key).
fn soak_users(d: &Camd) -> ((String, String), (String, String)) {
    std::fs::write(d.dir.join("policies/Soak.json"), SOAK_POLICY).unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let key = |args: &[&str]| {
        let out = d.camctl(args);
        assert_eq!(out.status.code(), Some(0));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["SecretId"].as_str().unwrap().to_string(),
            v["SecretKey"].as_str().unwrap().to_string(),
        )
    };
    let reader = key(&[
        "--json",
        "user",
        "add",
        "reader",
        "--api-key",
        "--policy",
        "QcloudChatReadOnlyAccess",
    ]);
    let writer = key(&[
        "--json",
        "user",
        "add",
        "writer",
        "--api-key",
        "--policy",
        "QcloudAVCFullAccess",
    ]);
    assert_eq!(
        d.camctl(&["user", "add", "custom", "--policy", "Soak"])
            .status
            .code(),
        Some(0)
    );
    (reader, writer)
}

/// Starts the client processes (this test binary re-run on `soak_client`).
fn spawn_clients(
    d: &Camd,
    secs: u64,
    reader: &(String, String),
    writer: &(String, String),
) -> Vec<std::process::Child> {
    let exe = std::env::current_exe().unwrap();
    (0..CLIENTS)
        .map(|i| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "soak::soak_client",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("CAMD_SOAK_SOCKET", &d.socket)
                .env("CAMD_SOAK_SECS", secs.to_string())
                .env("CAMD_SOAK_SEED", (i + 1).to_string())
                .env("CAMD_SOAK_READER_ID", &reader.0)
                .env("CAMD_SOAK_READER_KEY", &reader.1)
                .env("CAMD_SOAK_WRITER_ID", &writer.0)
                .env("CAMD_SOAK_WRITER_KEY", &writer.1)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect()
}

/// What the clients reported, added up.
struct Totals {
    requests: u64,
    decisions: u64,
    unexpected: u64,
    hist: Vec<u64>,
}

fn collect(children: Vec<std::process::Child>) -> Totals {
    let mut hist = vec![0u64; BUCKETS];
    let (mut requests, mut decisions, mut unexpected) = (0u64, 0u64, 0u64);
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .unwrap_or_else(|| {
                panic!(
                    "a client gave no result: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let f: Vec<&str> = line.split(' ').collect();
        requests += f[1].parse::<u64>().unwrap();
        decisions += f[2].parse::<u64>().unwrap();
        let bad: u64 = f[3].parse().unwrap();
        if bad > 0 {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        unexpected += bad;
        for b in f.get(4).unwrap_or(&"").split(',').filter(|b| !b.is_empty()) {
            let (i, c) = b.split_once(':').unwrap();
            hist[i.parse::<usize>().unwrap()] += c.parse::<u64>().unwrap();
        }
    }
    Totals {
        requests,
        decisions,
        unexpected,
        hist,
    }
}
