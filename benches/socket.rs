//! Over the socket: the real camd binary against a raw Unix-socket echo
//! server (tokio, 2 workers, the same framing), measured by the same harness
//! in the same run. Prints a table of medians, p99s and ratios:
//! - one request in flight: p50 and p99 latency, camd / echo;
//! - pipelined requests and batched decisions on one connection: decisions/s;
//! - 4 concurrent clients: aggregate throughput and p99.
//!
//! `cargo bench --bench socket` (`-- --quick` for a short run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use camd::client::{Call, Client, by_key, by_user, sign_post, signed};
use camd::protocol::{
    AddUser, AskRef, Body, Credentials, HELLO_LEN, PROTOCOL_VERSION, Request, UserRefRef,
    encode_hello, encode_request,
};

const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";

/// Child mode: a framed echo server on `path`.
fn echo_server(path: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
        let _ = std::fs::remove_file(path);
        let listener = tokio::net::UnixListener::bind(path).unwrap();
        loop {
            let (s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (r, w) = s.into_split();
                let mut r = BufReader::with_capacity(64 * 1024, r);
                let mut w = BufWriter::with_capacity(64 * 1024, w);
                let mut hello = [0u8; HELLO_LEN];
                if r.read_exact(&mut hello).await.is_err() {
                    return;
                }
                w.write_all(&hello).await.unwrap();
                w.flush().await.unwrap();
                let mut body = Vec::new();
                loop {
                    let mut h = [0u8; 4];
                    if r.read_exact(&mut h).await.is_err() {
                        return;
                    }
                    body.resize(u32::from_be_bytes(h) as usize, 0);
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    w.write_all(&h).await.unwrap();
                    w.write_all(&body).await.unwrap();
                    if r.buffer().is_empty() {
                        w.flush().await.unwrap();
                    }
                }
            });
        }
    });
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while UnixStream::connect(path).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start_camd(dir: &Path) -> Server {
    start_camd_with(dir, "")
}

/// camd with `extra` appended to its config.
fn start_camd_with(dir: &Path, extra: &str) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        format!(
            "socket = \"{d}/camd.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\n{extra}",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_camd"))
        .args(["--config", dir.join("camd.toml").to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&dir.join("camd.sock"));
    Server(child)
}

/// A raw framed connection, the same for both servers.
struct Raw {
    s: UnixStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(path: &Path) -> Self {
        let mut s = UnixStream::connect(path).unwrap();
        s.write_all(&encode_hello(PROTOCOL_VERSION)).unwrap();
        let mut h = [0u8; HELLO_LEN];
        s.read_exact(&mut h).unwrap();
        Self { s, buf: Vec::new() }
    }
    fn round_trip(&mut self, frame: &[u8]) {
        self.s.write_all(frame).unwrap();
        let mut h = [0u8; 4];
        self.s.read_exact(&mut h).unwrap();
        self.buf.resize(u32::from_be_bytes(h) as usize, 0);
        self.s.read_exact(&mut self.buf).unwrap();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// (p50, p99) in µs of `n` calls of `round_trip`, after 1,000 to warm up.
fn timed(n: usize, mut round_trip: impl FnMut()) -> (f64, f64) {
    for _ in 0..1000 {
        round_trip();
    }
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            round_trip();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&v, 0.5), percentile(&v, 0.99))
}

/// (p50, p99) in µs of one-in-flight round trips.
fn latency(path: &Path, frame: &[u8], n: usize) -> (f64, f64) {
    let mut c = Raw::connect(path);
    timed(n, || c.round_trip(frame))
}

/// (p50, p99) in µs of one-in-flight round trips of a JSON line.
fn json_latency(path: &Path, line: &[u8], n: usize) -> (f64, f64) {
    use std::io::BufRead;
    let s = UnixStream::connect(path).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = std::io::BufReader::new(s);
    let mut reply = Vec::new();
    timed(n, || {
        w.write_all(line).unwrap();
        reply.clear();
        r.read_until(b'\n', &mut reply).unwrap();
        assert!(reply.starts_with(b"{\"id\":1,\"result\":{\"Ok\""));
    })
}

/// Aggregate requests/s and p99 µs over `clients` threads.
fn concurrent(path: &Path, frame: &[u8], clients: usize, n: usize) -> (f64, f64) {
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let path = path.to_path_buf();
            let frame = frame.to_vec();
            std::thread::spawn(move || {
                let mut c = Raw::connect(&path);
                (0..n)
                    .map(|_| {
                        let t = Instant::now();
                        c.round_trip(&frame);
                        t.elapsed().as_secs_f64() * 1e6
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    let mut all: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (all.len() as f64 / secs, percentile(&all, 0.99))
}

/// The question every batched measurement asks, 1,000 times per frame.
fn batch_of_asks() -> Vec<AskRef<'static>> {
    (0..1000)
        .map(|_| AskRef::ByUser {
            user: UserRefRef::Name("alice"),
            action: "im:SendMessage",
            resource: APP,
            context: Vec::new(),
        })
        .collect()
}

/// Decisions/s over `frames` pipelined frames of 1,000 by-user decisions,
/// through `Client::decide_batches` (questions and answers borrowed).
fn batched_rate(c: &mut Client, frames: usize) -> f64 {
    let asks = batch_of_asks();
    let batches: Vec<&[AskRef<'_>]> = vec![&asks; frames];
    let mut n = 0usize;
    let t = Instant::now();
    c.decide_batches(&batches, |_, a| n += usize::from(a.is_ok()))
        .unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    assert_eq!(n, frames * 1000);
    rate
}

/// The same through `Client::pipeline`: owned requests, owned replies.
fn batched_owned_rate(c: &mut Client, frames: usize) -> f64 {
    let batches: Vec<Body> = (0..frames)
        .map(|_| {
            Body::Batch(
                (0..1000)
                    .map(|_| by_user("alice", "im:SendMessage", APP, &[]))
                    .collect(),
            )
        })
        .collect();
    let t = Instant::now();
    let r = c.pipeline(batches).unwrap();
    (r.len() * 1000) as f64 / t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The frames of one decision by alice's access key, and of the same
/// decision as a TC3-signed request with a 1 KiB body.
fn key_frames(c: &Credentials) -> (Vec<u8>, Vec<u8>) {
    let (id, secret) = (c.secret_id.clone().unwrap(), c.secret_key.clone().unwrap());
    let by_key = encode_request(&Request {
        id: 1,
        auth: None,
        body: Body::Authorize(by_key(&id, &secret, "im:SendMessage", APP, &[])),
        traceparent: None,
    })
    .unwrap();
    let body = vec![b'x'; 1024];
    let request = sign_post(&Call {
        secret_id: &id,
        secret_key: &secret,
        service: "im",
        action: "SendMessage",
        host: "chat.example",
        version: "2019-01-16",
        region: "",
        timestamp: camd::clock::now_ms() / 1000,
        body: &body,
    })
    .unwrap();
    let signed_frame = encode_request(&Request {
        id: 1,
        auth: None,
        body: Body::AuthorizeSigned(signed(request, APP, Some("im"), &[])),
        traceparent: None,
    })
    .unwrap();
    (by_key, signed_frame)
}

/// The one-in-flight question both camds are asked: alice sends a message.
fn alice_request() -> Request {
    Request {
        id: 1,
        auth: None,
        body: Body::Authorize(by_user(
            "alice",
            "im:SendMessage",
            APP,
            &[("qcs:ip", "10.1.2.3")],
        )),
        traceparent: None,
    }
}

/// A camd in `dir` (the decision log on or off) with user alice.
fn camd_with_alice(dir: &Path, log: bool) -> (Server, PathBuf) {
    let extra = if log {
        format!(
            "[decision_log]\nfile = \"{}\"\nmax_file_bytes = 1073741824\n",
            dir.join("decisions.log").display()
        )
    } else {
        String::new()
    };
    let server = start_camd_with(dir, &extra);
    let sock = dir.join("camd.sock");
    Client::connect(&sock)
        .unwrap()
        .call(AddUser {
            name: "alice".into(),
            policies: vec!["QcloudAVCFullAccess".into()],
            ..AddUser::default()
        })
        .unwrap();
    (server, sock)
}

/// The decision log's cost: two camds, log off and log on (every decision
/// to a file), measured round by round alternately.
fn decision_log_figures(base: &Path, frame: &[u8], quick: bool, rounds: usize) {
    let (off, off_sock) = camd_with_alice(&base.join("log-off"), false);
    let (on, on_sock) = camd_with_alice(&base.join("log-on"), true);
    let (n, frames) = if quick { (2_000, 20) } else { (50_000, 200) };
    let (mut b_off, mut b_on, mut l_off, mut l_on) = (vec![], vec![], vec![], vec![]);
    let mut c_off = Client::connect(&off_sock).unwrap();
    let mut c_on = Client::connect(&on_sock).unwrap();
    let t = Instant::now();
    for _ in 0..rounds.max(3) {
        b_off.push(batched_rate(&mut c_off, frames));
        b_on.push(batched_rate(&mut c_on, frames));
        l_off.push(latency(&off_sock, frame, n).0);
        l_on.push(latency(&on_sock, frame, n).0);
    }
    let elapsed = t.elapsed().as_secs_f64();
    // Let the writer finish, then read what it wrote and dropped.
    std::thread::sleep(Duration::from_millis(500));
    let st = c_on.call(camd::protocol::DecisionLogStatus).unwrap();
    let written: u64 = st.sinks.iter().map(|s| s.written).sum();
    drop((off, on));
    let (b_off, b_on, l_off, l_on) = (median(b_off), median(b_on), median(l_off), median(l_on));
    println!(
        "\n| decision log | off | on (every decision to a file) | on / off |\n|---|---|---|---|"
    );
    println!(
        "| batched decisions/s (1,000 a frame) | {b_off:.0} | {b_on:.0} | {:.2}x (target >= 0.85x) |",
        b_on / b_off
    );
    println!(
        "| one in flight, p50 | {l_off:.1} µs | {l_on:.1} µs | {:.2}x (target <= 1.1x) |",
        l_on / l_off
    );
    println!(
        "| records written | | {written} ({:.0}/s over the run) | dropped: {} queue full, {} sink |",
        written as f64 / elapsed,
        st.dropped_queue_full,
        st.dropped_sink_failed
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--decision-log") {
        let quick = args.iter().any(|a| a == "--quick" || a == "--test");
        let dir = std::env::temp_dir().join(format!("camd-bench-dlog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let frame = encode_request(&alice_request()).unwrap();
        decision_log_figures(&dir, &frame, quick, if quick { 1 } else { 5 });
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--echo-server") {
        echo_server(Path::new(&args[i + 1]));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick" || a == "--test");
    // `--batched-only`: only the batched measurement, repeated, to profile it.
    let batched_only = args.iter().any(|a| a == "--batched-only");
    let (n, rounds) = if quick { (2_000, 1) } else { (50_000, 5) };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("camd-bench-socket-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let camd = start_camd(&dir);
    let camd_sock = dir.join("camd.sock");
    let mut admin = Client::connect(&camd_sock).unwrap();
    let alice = admin
        .call(AddUser {
            name: "alice".into(),
            policies: vec!["QcloudAVCFullAccess".into()],
            use_api: true,
            ..AddUser::default()
        })
        .unwrap();
    if batched_only {
        let mut c = Client::connect(&camd_sock).unwrap();
        for _ in 0..100 {
            println!("{:.0}/s", batched_rate(&mut c, 200));
        }
        return;
    }
    let (key_frame, signed_frame) = key_frames(&alice);
    let echo_sock = dir.join("echo.sock");
    let echo = Server(
        Command::new(std::env::current_exe().unwrap())
            .args(["--echo-server", echo_sock.to_str().unwrap()])
            .spawn()
            .unwrap(),
    );
    wait_for(&echo_sock);

    let request = alice_request();
    let frame = encode_request(&request).unwrap();
    let mut line = serde_json::to_vec(&request).unwrap();
    line.push(b'\n');

    // One in flight, alternating servers (and encodings) round by round.
    let (mut e50, mut e99, mut c50, mut c99) = (vec![], vec![], vec![], vec![]);
    let (mut j50, mut j99) = (vec![], vec![]);
    for _ in 0..rounds {
        let (a, b) = latency(&echo_sock, &frame, n);
        e50.push(a);
        e99.push(b);
        let (a, b) = latency(&camd_sock, &frame, n);
        c50.push(a);
        c99.push(b);
        let (a, b) = json_latency(&camd_sock, &line, n);
        j50.push(a);
        j99.push(b);
    }
    let (e50, e99, c50, c99) = (median(e50), median(e99), median(c50), median(c99));
    let (j50, j99) = (median(j50), median(j99));
    let ping = encode_request(&Request {
        id: 1,
        auth: None,
        body: Body::Ping,
        traceparent: None,
    })
    .unwrap();
    let (p50, _) = latency(&camd_sock, &ping, n);

    // By key and by a signed request (1 KiB body), alternating round by round.
    let (mut k50, mut s50) = (vec![], vec![]);
    for _ in 0..rounds {
        k50.push(latency(&camd_sock, &key_frame, n).0);
        s50.push(latency(&camd_sock, &signed_frame, n).0);
    }
    let (k50, s50) = (median(k50), median(s50));

    // Pipelined (one request per frame) and batched (1,000 decisions per frame) on one connection.
    let total = if quick { 20_000 } else { 200_000 };
    let mut pipelined = Vec::new();
    let (mut batched, mut batched_owned) = (Vec::new(), Vec::new());
    let mut c = Client::connect(&camd_sock).unwrap();
    for _ in 0..rounds {
        let bodies: Vec<Body> = (0..total)
            .map(|_| Body::Authorize(by_user("alice", "im:SendMessage", APP, &[])))
            .collect();
        let t = Instant::now();
        let r = c.pipeline(bodies).unwrap();
        pipelined.push(r.len() as f64 / t.elapsed().as_secs_f64());
        batched.push(batched_rate(&mut c, total / 1000));
        batched_owned.push(batched_owned_rate(&mut c, total / 1000));
    }

    let per = if quick { 1_000 } else { 20_000 };
    let (et, ep99) = concurrent(&echo_sock, &frame, 4, per);
    let (ct, cp99) = concurrent(&camd_sock, &frame, 4, per);
    drop(camd);
    drop(echo);

    println!("\n| measurement | echo server | camd | camd / echo |\n|---|---|---|---|");
    println!(
        "| one in flight, p50 | {e50:.1} µs | {c50:.1} µs | {:.2}x (target <= 1.2x, pinned) |",
        c50 / e50
    );
    println!(
        "| one in flight, ping (no decision), p50 | | {p50:.1} µs | {:.2}x |",
        p50 / e50
    );
    println!(
        "| one in flight, p99 | {e99:.1} µs | {c99:.1} µs | {:.2}x (target <= 1.3x, pinned) |",
        c99 / e99
    );
    println!(
        "| one in flight, JSON line, p50 / p99 | | {j50:.1} / {j99:.1} µs | {:.2}x / {:.2}x binary (target <= 2x) |",
        j50 / c50,
        j99 / c99
    );
    println!(
        "| one in flight, by access key, p50 | | {k50:.1} µs | {:.2}x |",
        k50 / e50
    );
    println!(
        "| one in flight, signed (TC3, 1 KiB body), p50 | | {s50:.1} µs | {:.2}x by key (target <= 1.3x) |",
        s50 / k50
    );
    println!(
        "| 4 clients, throughput | {et:.0}/s | {ct:.0}/s | {:.2}x |",
        ct / et
    );
    println!(
        "| 4 clients, p99 | {ep99:.1} µs | {cp99:.1} µs | {:.2}x |",
        cp99 / ep99
    );
    println!(
        "| pipelined, 1 decision per frame | | {:.0}/s | |",
        median(pipelined)
    );
    println!(
        "| batched, 1,000 decisions per frame | | {:.0}/s | (target >= 5,000,000/s) |",
        median(batched)
    );
    println!(
        "| batched, owned requests and replies (`Client::pipeline`) | | {:.0}/s | |",
        median(batched_owned)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
