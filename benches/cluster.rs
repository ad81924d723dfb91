//! Cluster mode against a 3-member etcd on loopback, everything in one run:
//! a write acknowledged through camd against a bare etcd transaction of the
//! same size, propagation from host A to host B, decision latency on B
//! during a stream of writes against quiet, and a fresh host resyncing a
//! large state. Prints a table. `cargo bench --bench cluster` (`-- --quick`
//! for a short run). Needs Debian's `etcd` on PATH (else it says so).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/etcd_members.rs"]
#[allow(dead_code)]
mod etcd_members;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use camd::client::{Client, by_user};
use camd::etcd::{Etcd, Op, prefix_end};
use camd::protocol::AddUser;
use camd::store::{AddUser as StoreAddUser, Changes, Ctx, Limits, State};

use etcd_members::{EtcdCluster, shared_secrets};

const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";
const PREFIX: &str = "/bench/";
/// Numbers the users the write streams create.
static STREAM: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Host {
    child: Child,
    dir: PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Host {
    fn client(&self) -> Client {
        Client::connect(self.dir.join("camd.sock")).unwrap()
    }
    fn peak_rss_mb(&self) -> f64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = s
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }
}

fn host(base: &Path, name: &str, etcd: &EtcdCluster, users: usize) -> Host {
    let endpoints: Vec<String> = etcd
        .endpoints()
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect();
    start_camd(
        base,
        name,
        users,
        &format!(
            "[cluster]\nendpoints = [{}]\nprefix = \"{PREFIX}\"\ntimeout_ms = 5000\n",
            endpoints.join(", ")
        ),
    )
}

/// camd in `base/name` with `extra` config (none: standalone).
fn start_camd(base: &Path, name: &str, users: usize, extra: &str) -> Host {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    shared_secrets(&dir.join("state"));
    std::fs::write(
        dir.join("camd.toml"),
        format!(
            "socket = \"{d}/camd.sock\"\nstate_dir = \"{d}/state\"\npolicy_dir = \"{d}/policies\"\nowner_uin = 100000000001\n[limits]\nusers = {}\n{extra}",
            users + 10,
            d = dir.display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("camd.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_camd"))
        .args(["--config", dir.join("camd.toml").to_str().unwrap()])
        .stderr(log)
        .spawn()
        .unwrap();
    let h = Host { child, dir };
    let start = Instant::now();
    while Client::connect(h.dir.join("camd.sock")).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "camd did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Median ms of bare etcd transactions of the shape a write takes (a
/// compare on the state prefix; user record, uin counter and audit entry),
/// with the revision read first, each on the ids after `from`.
fn bare_txns(etcd: &EtcdCluster, e: &Etcd, from: usize, n: usize) -> f64 {
    let state = format!("{PREFIX}x/").into_bytes();
    let end = prefix_end(&state);
    let mut bare = Vec::new();
    for i in from..from + n {
        let ops = vec![
            Op::Put(format!("{PREFIX}x/u/{i:020}").into_bytes(), vec![7u8; 120]),
            Op::Put(format!("{PREFIX}x/n").into_bytes(), vec![1u8; 8]),
            Op::Put(format!("{PREFIX}y/a/{i}").into_bytes(), vec![3u8; 80]),
        ];
        let t = Instant::now();
        let rev = etcd.block_on(e.revision()).unwrap();
        let r = etcd
            .block_on(e.txn_unchanged_since(&state, &end, rev, &ops))
            .unwrap();
        assert!(r.succeeded);
        bare.push(t.elapsed().as_secs_f64() * 1e3);
    }
    pct(bare, 0.5)
}

/// Median ms of bare transactions with a new connection per call, and with
/// connections kept (what camd's client does), alternating rounds.
fn connection_reuse(etcd: &EtcdCluster, n: usize) -> (f64, f64) {
    let fresh = Etcd::new(&camd::etcd::EtcdConfig {
        endpoints: etcd.endpoints(),
        timeout: Duration::from_secs(2),
        fresh_connections: true,
        ..camd::etcd::EtcdConfig::default()
    })
    .unwrap();
    let kept = etcd.client();
    let (mut f, mut k) = (Vec::new(), Vec::new());
    for round in 0..4 {
        f.push(bare_txns(etcd, &fresh, 1_000_000 + round * 2 * n, n));
        k.push(bare_txns(etcd, &kept, 1_000_000 + (round * 2 + 1) * n, n));
    }
    (pct(f, 0.5), pct(k, 0.5))
}

/// Median ms of writes through camd, and of bare etcd transactions of the
/// same shape.
fn writes(a: &Host, etcd: &EtcdCluster, n: usize) -> (f64, f64) {
    let mut c = a.client();
    let mut through = Vec::new();
    for i in 0..n {
        let t = Instant::now();
        c.call(AddUser {
            name: format!("w{i}"),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        })
        .unwrap();
        through.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let e: Etcd = etcd.client();
    let bare = bare_txns(etcd, &e, 0, n);
    (pct(through, 0.5), bare)
}

/// ms from a write acknowledged on A until B decides with it: (p50, p99).
fn propagation(a: &Host, b: &Host, n: usize) -> (f64, f64) {
    let mut ca = a.client();
    let mut cb = b.client();
    let mut times = Vec::new();
    for i in 0..n {
        let name = format!("p{i}");
        ca.call(AddUser {
            name: name.clone(),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        })
        .unwrap();
        let t = Instant::now();
        loop {
            // Until the user arrives, B answers UserNotExist.
            if matches!(cb.authorize(by_user(&name, "im:GetGroupInfo", APP, &[])), Ok(d) if d.allowed)
            {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "never arrived");
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (pct(times.clone(), 0.5), pct(times, 0.99))
}

/// p99 µs of decisions of users `{prefix}0..20` on `b`, quiet and while
/// `a` takes writes continuously.
fn decisions_while(a: &Host, b: &Host, n: usize, prefix: &str) -> (f64, f64) {
    let mut cb = b.client();
    let mut measure = || {
        (0..n)
            .map(|i| {
                let t = Instant::now();
                cb.authorize(by_user(
                    &format!("{prefix}{}", i % 20),
                    "im:GetGroupInfo",
                    APP,
                    &[],
                ))
                .unwrap();
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect::<Vec<_>>()
    };
    let quiet = pct(measure(), 0.99);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut ca = a.client();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                ca.call(AddUser {
                    name: format!(
                        "stream{}",
                        STREAM.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    ),
                    ..AddUser::default()
                })
                .unwrap();
                i += 1;
            }
            i
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let busy = pct(measure(), 0.99);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    eprintln!("  ({written} writes on A while B decided)");
    (quiet, busy)
}

/// Puts `users` users with `per_user` attachments each (and the policies
/// they name) straight into etcd, as camd's records.
fn seed(etcd: &EtcdCluster, base: &Path, users: usize, per_user: usize) {
    let _ = base;
    let limits = Limits {
        users: users + 10,
        ..Limits::default()
    };
    let known = |_: &str| None;
    let ctx = Ctx {
        limits: &limits,
        now_ms: 0,
        owner_uin: 100_000_000_001,
        known_policy: &known,
    };
    let mut state = State::default();
    let mut ch = Changes::default();
    let doc = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:GetGroupInfo","resource":"*"}]}"#;
    for p in 0..per_user {
        state
            .create_policy(&format!("P{p}"), "", doc.to_string(), &[], &ctx, &mut ch)
            .unwrap();
    }
    let policies: Vec<String> = (0..per_user).map(|p| format!("P{p}")).collect();
    for u in 0..users {
        state
            .add_user(
                StoreAddUser {
                    name: format!("big{u}"),
                    policies: policies.clone(),
                    ..StoreAddUser::default()
                },
                &ctx,
                &mut ch,
            )
            .unwrap();
    }
    let recs = state.all_records().unwrap();
    let e = etcd.client();
    // Sealed as camd seals them, under the pepper `shared_secrets` writes,
    // each chunk from the revision the one before it made.
    let integrity = camd::cluster::Integrity::new(&camd::credentials::KeyHasher::new(
        &camd::credentials::Pepper::from_bytes([7; 32]),
    ));
    let mut base = 0;
    for chunk in recs.chunks(500) {
        let ops: Vec<Op> = chunk
            .iter()
            .map(|r| {
                let key = camd::cluster::record_key(PREFIX, &r.key);
                let value = integrity.seal(&key, base, r.value.as_deref());
                Op::Put(key, value)
            })
            .collect();
        let r = etcd
            .block_on(e.txn_unchanged_since(b"\0", b"\0", i64::MAX - 1, &ops))
            .unwrap();
        assert!(r.succeeded);
        base = r.revision;
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a == "--test");
    let Some(bin) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("etcd"))
            .find(|f| f.is_file())
    }) else {
        println!("etcd is not installed (Debian's etcd-server): nothing measured");
        return;
    };
    let base = std::env::temp_dir().join(format!("camd-bench-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let (n_writes, n_prop, n_dec, big_users) = if quick {
        (30, 30, 2_000, 10_000)
    } else {
        (300, 300, 20_000, 100_000)
    };
    let etcd = EtcdCluster::start_in(
        bin.clone(),
        base.join("etcd"),
        3,
        &[
            "--max-txn-ops",
            "10000",
            "--max-request-bytes",
            "10485760",
            "--quota-backend-bytes",
            "8589934592",
        ],
    );
    let a = host(&base, "a", &etcd, 100_000);
    let b = host(&base, "b", &etcd, 100_000);
    let (through, bare) = writes(&a, &etcd, n_writes);
    let (fresh, kept) = connection_reuse(&etcd, n_writes);
    let (p50, p99) = propagation(&a, &b, n_prop);
    // The floor: a standalone camd on the same machine, which replicates
    // nothing, measured the same way during the same kind of write stream;
    // rounds alternate, medians reported.
    let solo = start_camd(&base, "solo", 100, "");
    let mut cs = solo.client();
    for i in 0..100 {
        cs.call(AddUser {
            name: format!("solo{}-{}", i / 20, i % 20),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        })
        .unwrap();
    }
    let (mut qs, mut bs, mut sqs, mut sbs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..if quick { 1 } else { 5 } {
        let (q, b_) = decisions_while(&a, &b, n_dec, "w");
        let (sq, sb) = decisions_while(&a, &solo, n_dec, &format!("solo{round}-"));
        qs.push(q);
        bs.push(b_);
        sqs.push(sq);
        sbs.push(sb);
    }
    let (quiet, busy) = (pct(qs, 0.5), pct(bs, 0.5));
    let (solo_quiet, solo_busy) = (pct(sqs, 0.5), pct(sbs, 0.5));
    drop((a, b, solo));
    // A fresh cluster holding a large state; a fresh host joins it.
    let big = EtcdCluster::start_in(
        bin,
        base.join("etcd-big"),
        3,
        &[
            "--max-txn-ops",
            "10000",
            "--max-request-bytes",
            "10485760",
            "--quota-backend-bytes",
            "8589934592",
        ],
    );
    seed(&big, &base, big_users, 10);
    let t = Instant::now();
    let c = host(&base, "c", &big, big_users);
    // Serving once the first request is answered (the socket is bound
    // before the join).
    let users = c.client().call(camd::protocol::ListUsers).unwrap().len();
    let joined = t.elapsed().as_secs_f64();
    let rss = c.peak_rss_mb();
    assert_eq!(users, big_users);
    println!("\n| measurement (3-member etcd on loopback) | result | target |\n|---|---|---|");
    println!(
        "| write acknowledged through camd vs a bare etcd txn of the same size (median) | {through:.2} ms vs {bare:.2} ms = {:.2}x | <= 1.5x |",
        through / bare
    );
    println!(
        "| bare etcd txn (with its revision read) on a new connection per call vs kept connections (camd's client) | {fresh:.2} ms vs {kept:.2} ms = {:.2}x | |",
        kept / fresh
    );
    println!(
        "| propagation A -> B deciding with it | p50 {p50:.2} ms, p99 {p99:.2} ms | p99 <= 100 ms |"
    );
    println!(
        "| decision p99 on B during writes on A vs quiet | {busy:.1} us vs {quiet:.1} us = {:.2}x | <= 1.5x |",
        busy / quiet
    );
    println!(
        "| (floor) the same on a standalone camd beside them, replicating nothing | {solo_busy:.1} us vs {solo_quiet:.1} us = {:.2}x | |",
        solo_busy / solo_quiet
    );
    println!(
        "| resync of {big_users} users and {} attachments into a fresh host | {joined:.2} s, peak RSS {rss:.0} MB | <= 10 s, <= 500 MB |",
        big_users * 10
    );
    drop(c);
    let _ = std::fs::remove_dir_all(&base);
}
