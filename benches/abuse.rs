//! Hostile peers against the real camd (release build): the p99 latency of a
//! well-behaved client (one request in flight, reconnecting every 100
//! requests) while another uid (65534) opens 10,000 connections (and again,
//! for the whole measurement), connects and hangs up in a loop, sends
//! requests one byte at a time on 200 connections, or pipelines on 50
//! connections without ever reading a reply; each against quiet, measured
//! in the same round. Requests on established connections and new
//! connections (connect + first request) are reported apart. Prints medians
//! over rounds and the ratios (target: request p99 within 2x of quiet).
//! Needs root to run the hostile side as another uid; without it, it says
//! so and measures nothing.
//!
//! `cargo bench --bench abuse` (`-- --quick` for a short run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use camd::client::{Client, by_user};
use camd::protocol::{AddUser, Body, PROTOCOL_VERSION, Request, encode_hello, encode_request};

const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";
const MODES: [&str; 5] = ["elsewhere", "connections", "churn", "slow", "noread"];

fn request_frame(id: u64) -> Vec<u8> {
    encode_request(&Request {
        id,
        auth: None,
        body: Body::Authorize(by_user("viewer", "im:GetGroupInfo", APP, &[])),
        traceparent: None,
    })
    .unwrap()
}

/// Child mode: the hostile peer. Prints `ACTIVE` once it is under way.
fn abuser(socket: &str, mode: &str) {
    let hello = encode_hello(PROTOCOL_VERSION);
    match mode {
        "connections" => {
            // 10,000 connections held, then closed and opened again, for
            // as long as the measurement runs.
            for round in 0.. {
                let mut held = Vec::with_capacity(10_000);
                for i in 0..10_000 {
                    if let Ok(s) = UnixStream::connect(socket) {
                        held.push(s);
                    }
                    if round == 0 && i == 500 {
                        println!("ACTIVE");
                    }
                }
            }
        }
        "churn" => {
            // Connect and hang up, as fast as it can, for the whole round.
            for i in 0u64.. {
                drop(UnixStream::connect(socket));
                if i == 500 {
                    println!("ACTIVE");
                }
            }
        }
        "slow" => {
            let mut bytes = hello.to_vec();
            bytes.extend(request_frame(1));
            let mut conns: Vec<UnixStream> = (0..200)
                .filter_map(|_| UnixStream::connect(socket).ok())
                .collect();
            println!("ACTIVE");
            for at in 0.. {
                for s in &mut conns {
                    let _ = s.write_all(&bytes[at % bytes.len()..][..1]);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        _ => {
            let frames: Vec<u8> = (0..1000).flat_map(request_frame).collect();
            for _ in 0..50 {
                let (socket, frames) = (socket.to_string(), frames.clone());
                std::thread::spawn(move || {
                    let Ok(mut s) = UnixStream::connect(&socket) else {
                        return;
                    };
                    let _ = s.write_all(&hello);
                    while s.write_all(&frames).is_ok() {}
                });
            }
            std::thread::sleep(Duration::from_millis(500));
            println!("ACTIVE");
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// Child mode: another server, which takes every connection off its own
/// socket and closes it (what camd does to a uid over its cap). Flooding it
/// instead of camd shows what the flood alone costs the machine.
fn sink(socket: &str) {
    let listener = camd::server::bind(Path::new(socket), 0o666, None, 128).unwrap();
    listener.set_nonblocking(false).unwrap();
    println!("READY");
    loop {
        if let Ok((s, _)) = listener.accept() {
            let _ = rustix::net::sockopt::socket_peercred(&s);
        }
    }
}

/// Spawns `cmd` and waits for its first line, which must be `first`.
fn start(cmd: &mut Command, first: &str) -> Child {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), first, "{cmd:?} did not start");
    child
}

fn start_sink(socket: &Path) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg("--sink").arg(socket);
    start(&mut cmd, "READY")
}

fn start_abuser(socket: &Path, mode: &str) -> Child {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -n 20000 && exec \"$0\" --abuser \"$1\" \"$2\"")
        .arg(std::env::current_exe().unwrap())
        .arg(socket)
        .arg(mode)
        .uid(65534)
        .gid(65534);
    start(&mut cmd, "ACTIVE")
}

/// A well-behaved client's `n` decisions, reconnecting every 100: the p99 of
/// requests on established connections, and the p99 of a new connection's
/// connect plus first request (µs). Every one must be served.
fn p99(socket: &Path, n: usize) -> (f64, f64) {
    let mut requests = Vec::with_capacity(n);
    let mut connects = Vec::with_capacity(n / 100 + 1);
    let mut c = None;
    for i in 0..n {
        let t = Instant::now();
        let fresh = i % 100 == 0;
        if fresh {
            c = Some(Client::connect(socket).expect("a new client connects"));
        }
        let d = c
            .as_mut()
            .unwrap()
            .authorize(by_user("viewer", "im:GetGroupInfo", APP, &[]))
            .expect("a well-behaved client is served");
        assert!(d.allowed);
        let us = t.elapsed().as_secs_f64() * 1e6;
        if fresh {
            connects.push(us)
        } else {
            requests.push(us)
        }
    }
    let pick = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[(v.len() * 99 / 100).min(v.len() - 1)]
    };
    (pick(requests), pick(connects))
}

/// Waits until camd has used no CPU for 100 ms (at most 5 s), so work left
/// by a killed hostile peer (its closed sockets, its buffered requests) does
/// not land in the next measurement.
fn settle(pid: u32) {
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let start = Instant::now();
    let mut last = cpu();
    while start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu();
        if now == last {
            return;
        }
        last = now;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sink") {
        sink(&args[i + 1]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--abuser") {
        abuser(&args[i + 1], &args[i + 2]);
        return;
    }
    if effective_uid() != 0 {
        println!("abuse bench: skipped (needs root to run the hostile peer as uid 65534)");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick" || a == "--test");
    let (n, rounds) = if quick { (1_000, 1) } else { (2_000, 9) };
    let dir = std::env::temp_dir().join(format!("camd-bench-abuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("camd.toml"),
        format!(
            "socket = \"{d}/camd.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\nsocket_mode = \"0666\"\nidle_timeout_secs = 30\nmax_connections_per_uid = 64\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let mut camd = Command::new(env!("CARGO_BIN_EXE_camd"))
        .args(["--config", dir.join("camd.toml").to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = dir.join("camd.sock");
    let start = Instant::now();
    let mut admin = loop {
        if let Ok(c) = Client::connect(&socket) {
            break c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "camd did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    admin
        .call_body(Body::AddUser(AddUser {
            name: "viewer".into(),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        }))
        .unwrap();

    // Each hostile measurement is paired with a quiet one just before it:
    // this VM's host takes CPU away in bursts (steal time), which moves a
    // quiet p99 by up to 10x from one second to the next.
    let mut quiet = (Vec::new(), Vec::new());
    let mut under: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); MODES.len()];
    let mut ratios: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); MODES.len()];
    for _ in 0..rounds {
        for (m, mode) in MODES.iter().enumerate() {
            settle(camd.id());
            let (q, qc) = p99(&socket, n);
            let mut other = (*mode == "elsewhere").then(|| start_sink(&dir.join("other.sock")));
            let mut child = match &other {
                Some(_) => start_abuser(&dir.join("other.sock"), "connections"),
                None => start_abuser(&socket, mode),
            };
            let (u, uc) = p99(&socket, n);
            let _ = child.kill();
            let _ = child.wait();
            if let Some(o) = other.as_mut() {
                let _ = o.kill();
                let _ = o.wait();
                let _ = std::fs::remove_file(dir.join("other.sock"));
            }
            quiet.0.push(q);
            quiet.1.push(qc);
            under[m].0.push(u);
            under[m].1.push(uc);
            ratios[m].0.push(u / q);
            ratios[m].1.push(uc / qc);
        }
    }
    let _ = camd.kill();
    let _ = camd.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "\nabuse: a well-behaved client (reconnecting every 100 requests), medians of {rounds} round(s) x {n} decisions, each hostile run against a quiet run just before it"
    );
    println!(
        "| hostile peer (uid 65534) | request p99 (vs quiet) | new connection + first request p99 (vs quiet) | target |"
    );
    println!("|---|---|---|---|");
    let (q, qc) = (median(quiet.0), median(quiet.1));
    println!("| none (quiet) | {q:.0} µs | {qc:.0} µs | |");
    for (m, mode) in MODES.iter().enumerate() {
        let what = match *mode {
            "elsewhere" => {
                "(control) 10,000 connections, over and over, to another server's socket"
            }
            "connections" => "10,000 connections, over and over",
            "churn" => "connect and hang up in a loop",
            "slow" => "one byte at a time, 200 connections",
            _ => "never reads replies, 50 connections",
        };
        println!(
            "| {what} | {:.0} µs ({:.2}x) | {:.0} µs ({:.2}x) | {} |",
            median(under[m].0.clone()),
            median(ratios[m].0.clone()),
            median(under[m].1.clone()),
            median(ratios[m].1.clone()),
            if *mode == "elsewhere" {
                "the machine's floor"
            } else {
                "request p99 <= 2x"
            }
        );
    }
}
