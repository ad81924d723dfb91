//! Store and snapshot benchmarks, printed as a table of medians and ratios
//! measured in this run:
//! - 1,000 sequential durable attaches against 1,000 concurrent ones (group commit);
//! - opening a 100,000-user, 1,000,000-attachment database until the snapshot is published, and RSS;
//! - decision latency by user with 100,000 users against 1,000 users;
//! - the cost of authorizing by access key over authorizing by user.
//!
//! `cargo bench --bench store` (add `-- --quick` for a smaller, faster run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use camd::authz::{Ask, Authorizer, Publisher, SignedAsk, Snapshot, Who};
use camd::catalog::Catalog;
use camd::client::{Call, sign_post};
use camd::credentials::{KeyHasher, Keyring, Pepper, generate_secret_id, generate_secret_key, tc3};
use camd::policy::Policy;
use camd::store::{AddUser, AuditNote, Limits, NewKey, Owner, Store, Writer};
use ring::rand::SystemRandom;

const OWNER: u64 = 100000000001;
const POOL: usize = 1000;
const APP: &str = "qcs::im::uin/100000000001:sdkappid/1400000001";

fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::with_custom((0..POOL).map(|i| {
        let doc = format!(
            r#"{{"version":"2.0","statement":[
              {{"effect":"allow","action":["im:Get*","im:Send*"],"resource":"qcs::im::uin/{OWNER}:sdkappid/{}*"}},
              {{"effect":"deny","action":"im:DestroyGroup","resource":"*","condition":{{"ip_not_equal":{{"qcs:ip":"10.0.0.0/8"}}}}}}]}}"#,
            1400000000 + i
        );
        Arc::new(Policy::parse(&format!("Custom{i}"), &doc).unwrap().policy)
    })))
}

fn limits() -> Limits {
    Limits {
        users: 1_000_000,
        groups: 10_000,
        users_per_group: 1_000_000,
        attachments: 200,
        ..Limits::default()
    }
}

struct Open {
    writer: Writer<Publisher>,
    authz: Authorizer,
    hasher: KeyHasher,
    join: std::thread::JoinHandle<Store>,
}

fn open(path: &Path, catalog: Arc<Catalog>) -> Open {
    let store = Store::open(path, limits(), OWNER).unwrap();
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let (writer, join) =
        Writer::spawn(store, Publisher::new(shared.clone(), catalog, OWNER)).unwrap();
    let hasher = KeyHasher::new(&Pepper::from_bytes([3; 32]));
    Open {
        writer,
        authz: Authorizer::new(
            shared,
            hasher.clone(),
            Arc::new(Keyring::from_bytes([3; 32], None).unwrap()),
        ),
        hasher,
        join,
    }
}

impl Open {
    fn close(self) {
        drop(self.writer);
        self.join.join().unwrap();
    }
}

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camd-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("camd.redb")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

/// Adds `n` users with `per_user` policies each, through the writer, in large concurrent batches.
fn populate(o: &Open, n: usize, per_user: usize) {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for chunk in (0..n).collect::<Vec<_>>().chunks(20_000) {
        let rxs: Vec<_> = chunk
            .iter()
            .map(|i| {
                let policies = (0..per_user)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        format!("Custom{}", x % POOL as u64)
                    })
                    .collect();
                let new = AddUser {
                    name: format!("user{i}"),
                    policies,
                    ..AddUser::default()
                };
                o.writer
                    .change(note(), move |s, c, ch| s.add_user(new.clone(), c, ch))
                    .unwrap()
            })
            .collect();
        for rx in rxs {
            rx.blocking_recv().unwrap().unwrap();
        }
    }
}

/// The audit entry of a change the bench makes.
fn note() -> AuditNote {
    AuditNote {
        actor: "bench".into(),
        action: "bench".into(),
        target: String::new(),
        outcome: None,
    }
}

fn group_commit(rounds: usize, n: usize) -> (f64, f64) {
    let path = fresh("group-commit");
    let o = open(&path, catalog());
    populate(&o, 1, 0);
    let (mut seq, mut conc) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let t = Instant::now();
        for i in 0..n {
            let policy = format!("Custom{}", (r * n + i) % POOL);
            let attached = policy.clone();
            o.writer
                .change(note(), move |s, c, ch| {
                    s.attach_user_policy("user0", &attached, c, ch)
                })
                .unwrap()
                .blocking_recv()
                .ok();
            o.writer
                .change(note(), move |s, c, ch| {
                    s.detach_user_policy("user0", &policy, c, ch)
                })
                .unwrap()
                .blocking_recv()
                .ok();
        }
        // Two commits per iteration above: halve to get one attach's worth.
        seq.push(t.elapsed().as_secs_f64() / 2.0);
        let t = Instant::now();
        let rxs: Vec<_> = (0..n)
            .map(|i| {
                o.writer
                    .change(note(), move |s, c, ch| {
                        s.create_group(&format!("r{r}g{i}"), "", c, ch)
                    })
                    .unwrap()
            })
            .collect();
        for rx in rxs {
            rx.blocking_recv().unwrap().unwrap();
        }
        conc.push(t.elapsed().as_secs_f64());
    }
    o.close();
    (median(seq), median(conc))
}

/// The 1,024 users both decision measurements ask about, spread over `users`.
fn sampled_names(users: usize) -> Vec<String> {
    (0..1024)
        .map(|i| format!("user{}", (i * 7919) % users))
        .collect()
}

/// Median ns per decision by user, over `users` users.
fn decision_ns(o: &Open, users: usize, rounds: usize) -> f64 {
    let names = sampled_names(users);
    let ctx = [("qcs:ip", "10.1.2.3")];
    let mut out = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let iters = 200_000;
        for i in 0..iters {
            let ask = Ask {
                action: "im:SendMessage",
                resource: APP,
                context: &ctx,
                now_ms: 0,
            };
            black_box(
                o.authz
                    .by_user(Who::Name(&names[i % names.len()]), ask, |r| {
                        r.map(|(_, d)| d.is_allowed()).is_ok()
                    }),
            );
        }
        out.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    median(out)
}

/// The bare engine on the requests `decision_ns` makes: each user's
/// compiled set taken out of the snapshot beforehand, then `Request::new`
/// and `evaluate` only (median ns).
fn engine_ns(o: &Open, users: usize, rounds: usize) -> f64 {
    let snap = o.authz.snapshot();
    let sets: Vec<(u64, Arc<camd::policy::PolicySet>)> = sampled_names(users)
        .iter()
        .map(|n| {
            let e = snap.names.get(n.as_str()).unwrap();
            (e.uin, e.policies.clone())
        })
        .collect();
    let ctx = [("qcs:ip", "10.1.2.3")];
    let mut out = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let iters = 200_000;
        for i in 0..iters {
            let (uin, set) = &sets[i % sets.len()];
            let principal = camd::policy::Principal {
                uin: *uin,
                owner_uin: OWNER,
            };
            let req =
                camd::policy::Request::new("im:SendMessage", APP, principal, 0, black_box(&ctx))
                    .unwrap();
            black_box(set.evaluate(&req).is_allowed());
        }
        out.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    median(out)
}

/// Publishing one write at `n` users (in memory: the commit's fsync is not
/// counted) while a reader holds the previous snapshot: median µs of one
/// write's publication, of publishing everyone, and of republishing after
/// a reload that changed one policy held by 10 users.
fn publication_us(n: usize, rounds: usize) -> (f64, f64, f64) {
    use camd::store::{Changes, Ctx, Publish, State};
    let limits = Limits {
        users: n + 1,
        ..limits()
    };
    let known = |p: &str| match p {
        "Ten" => Some(p.to_string()),
        _ => camd::policy::preset::canonical_name(p).map(str::to_string),
    };
    let ctx = Ctx {
        limits: &limits,
        now_ms: 0,
        owner_uin: OWNER,
        known_policy: &known,
    };
    // Uins start at FIRST_UIN from an empty state.
    let mut state = State::default();
    let mut everyone = Changes::default();
    for i in 0..n {
        let user = AddUser {
            name: format!("user{i}"),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        };
        state.add_user(user, &ctx, &mut everyone).unwrap();
    }
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let mut p = Publisher::new(shared.clone(), Arc::new(Catalog::presets_only()), OWNER);
    let t = Instant::now();
    p.publish(&state, &everyone, true);
    let full = t.elapsed().as_secs_f64() * 1e6;
    // A reload that changes one policy held by 10 users.
    let mut reloads = Vec::new();
    for r in 0..rounds * 20 {
        for i in 0..10 {
            let mut ch = Changes::default();
            let _ = state.attach_user_policy(&format!("user{i}"), "Ten", &ctx, &mut ch);
            p.publish(&state, &ch, false);
        }
        let action = if r % 2 == 0 {
            "im:SendMessage"
        } else {
            "im:DestroyGroup"
        };
        let doc = format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"{action}","resource":"*"}}]}}"#
        );
        let ten = Arc::new(Policy::parse("Ten", &doc).unwrap().policy);
        let _reader = shared.load_full();
        let t = Instant::now();
        p.set_catalog(Arc::new(Catalog::with_custom([ten])));
        p.republish(&state);
        reloads.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mut one = Vec::new();
    for r in 0..rounds * 100 {
        let name = format!("user{}", r % n);
        let mut ch = Changes::default();
        let policy = if r % 2 == 0 {
            "QcloudAVCFullAccess"
        } else {
            "AdministratorAccess"
        };
        state
            .attach_user_policy(&name, policy, &ctx, &mut ch)
            .unwrap();
        let _reader = shared.load_full();
        let t = Instant::now();
        p.publish(&state, &ch, false);
        one.push(t.elapsed().as_secs_f64() * 1e6);
    }
    (median(one), full, median(reloads))
}

/// A signed POST of `body` with `headers`.
fn signed_call<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> tc3::Signed<'a> {
    tc3::Signed {
        method: "POST",
        path: "/",
        query: "",
        headers,
        payload: tc3::Payload::Bytes(body),
    }
}

/// Median ns per decision by key, by user, and by a signed request with a
/// 1 KiB body (verify plus decide), for the same user.
fn key_overhead(o: &Open, rounds: usize) -> (f64, f64, f64) {
    let rng = SystemRandom::new();
    let id = generate_secret_id(&rng).unwrap();
    let secret = generate_secret_key(&rng).unwrap();
    let key = NewKey {
        secret_id: id.clone(),
        hash: o.hasher.hash(secret.expose()),
        sealed: o.authz.keyring().seal(&id, secret.expose()).unwrap(),
        description: String::new(),
    };
    o.writer
        .change(note(), move |s, c, ch| {
            s.create_access_key(&Owner::User("user1".into()), key.clone(), c, ch)
        })
        .unwrap()
        .blocking_recv()
        .unwrap()
        .unwrap();
    let ctx = [("qcs:ip", "10.1.2.3")];
    let ask = Ask {
        action: "im:SendMessage",
        resource: APP,
        context: &ctx,
        now_ms: 0,
    };
    let body = vec![b'x'; 1024];
    let now = camd::clock::now_ms() / 1000;
    let request = sign_post(&Call {
        secret_id: &id,
        secret_key: secret.expose(),
        service: "im",
        action: "SendMessage",
        host: "chat.example",
        version: "2019-01-16",
        region: "",
        timestamp: now,
        body: &body,
    })
    .unwrap();
    let headers = request.headers;
    let (mut by_key, mut by_user, mut signed) = (Vec::new(), Vec::new(), Vec::new());
    let iters = 200_000;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(
                o.authz
                    .by_key(black_box(&id), black_box(secret.expose()), ask, |r| {
                        r.is_ok()
                    }),
            );
        }
        by_key.push(t.elapsed().as_nanos() as f64 / iters as f64);
        let t = Instant::now();
        for _ in 0..iters {
            black_box(
                o.authz
                    .by_user(Who::Name(black_box("user1")), ask, |r| r.is_ok()),
            );
        }
        by_user.push(t.elapsed().as_nanos() as f64 / iters as f64);
        let s = SignedAsk {
            call: signed_call(&headers, &body),
            auth: None,
            service: None,
            now_secs: now,
            window_secs: 300,
        };
        let t = Instant::now();
        let n = iters / 20;
        for _ in 0..n {
            black_box(o.authz.by_signature(black_box(&s), Some(ask), |r| {
                r.is_ok_and(|(_, d)| d.is_some_and(|d| d.is_allowed()))
            }));
        }
        signed.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    assert!(o.authz.by_signature(
        &SignedAsk {
            call: signed_call(&headers, &body),
            auth: None,
            service: None,
            now_secs: now,
            window_secs: 300
        },
        Some(ask),
        |r| r.is_ok()
    ));
    (median(by_key), median(by_user), median(signed))
}

/// Child mode: open the database, publish the snapshot, report time and RSS, exit.
fn open_child(path: &Path) {
    let t = Instant::now();
    let o = open(path, catalog());
    let secs = t.elapsed().as_secs_f64();
    println!("OPEN {secs} {}", rss_mb());
    o.close();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-child") {
        open_child(Path::new(&args[i + 1]));
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick" || a == "--test");
    let big = if quick { 10_000 } else { 100_000 };
    let rounds = if quick { 1 } else { 3 };
    let mut rows: Vec<(String, String, String)> = Vec::new();

    let n = if quick { 100 } else { 1000 };
    let (seq, conc) = group_commit(rounds, n);
    rows.push((
        format!("{n} sequential durable attaches"),
        format!("{:.0} ms", seq * 1e3),
        String::new(),
    ));
    rows.push((
        format!("{n} concurrent durable writes"),
        format!("{:.0} ms", conc * 1e3),
        format!("{:.1}x faster (target >= 20x)", seq / conc),
    ));

    // 1,000 users.
    let small_path = fresh("small");
    let o = open(&small_path, catalog());
    populate(&o, 1000, 10);
    let (key_ns, user_ns, signed_ns) = key_overhead(&o, 11);
    let small = o;

    // 100,000 users with 10 attachments each.
    let big_path = fresh("big");
    let o = open(&big_path, catalog());
    let t = Instant::now();
    populate(&o, big, 10);
    let populate_s = t.elapsed().as_secs_f64();
    o.close();
    // Each open runs in a fresh process, as the daemon would.
    let mut opens = Vec::new();
    let mut rsses = Vec::new();
    for _ in 0..rounds {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--open-child", big_path.to_str().unwrap()])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("OPEN "))
            .expect("child reported");
        let f: Vec<f64> = line
            .split(' ')
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        opens.push(f[0]);
        rsses.push(f[1]);
    }
    let rss = median(rsses);
    let cat = catalog();
    let o = open(&big_path, cat);
    // Alternate the two populations round by round, so drift on this noisy
    // machine hits both alike; report each one's median.
    let (mut small_v, mut big_v, mut engine_v) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..11 {
        small_v.push(decision_ns(&small, 1000, 1));
        big_v.push(decision_ns(&o, big, 1));
        engine_v.push(engine_ns(&o, big, 1));
    }
    let (small_ns, big_ns, engine) = (median(small_v), median(big_v), median(engine_v));
    o.close();
    small.close();
    let (publish_small, _, reload_small) = publication_us(1000, rounds);
    let (publish_big, publish_all, reload_big) = publication_us(big, rounds);

    rows.push((
        format!("populate {big} users x 10 attachments"),
        format!("{populate_s:.1} s"),
        "(setup)".into(),
    ));
    rows.push((
        format!("open {big} users + publish snapshot"),
        format!("{:.2} s", median(opens)),
        "target <= 2 s".into(),
    ));
    rows.push((
        "RSS of a fresh process with that state loaded".into(),
        format!("{rss:.0} MB"),
        "fresh process; target <= 400 MB".into(),
    ));
    rows.push((
        "decision by user, 1,000 users".into(),
        format!("{small_ns:.0} ns"),
        String::new(),
    ));
    rows.push((
        format!("decision by user, {big} users"),
        format!("{big_ns:.0} ns"),
        format!(
            "{:.2}x the 1,000-user case (target <= 1.2x)",
            big_ns / small_ns
        ),
    ));
    rows.push((
        format!("bare engine on the same requests, {big} users' sets"),
        format!("{engine:.0} ns"),
        format!(
            "decision through the snapshot is {:.2}x (target <= 2x and <= 250 ns)",
            big_ns / engine
        ),
    ));
    rows.push((
        "publish one write, 1,000 users (no fsync)".into(),
        format!("{publish_small:.1} µs"),
        String::new(),
    ));
    rows.push((
        format!("publish one write, {big} users (no fsync)"),
        format!("{publish_big:.1} µs"),
        format!(
            "{:.2}x the 1,000-user case; publishing all {big}: {:.0} µs (target <= 50 µs)",
            publish_big / publish_small,
            publish_all
        ),
    ));
    rows.push((
        format!("reload changing 1 policy of 10 users, {big} users: republish"),
        format!("{reload_big:.0} µs"),
        format!(
            "{:.2}x at 1,000 users ({reload_small:.0} µs); the folder's load and debounce not counted (target <= 5 ms)",
            reload_big / reload_small
        ),
    ));
    rows.push((
        "decision by access key".into(),
        format!("{key_ns:.0} ns"),
        format!(
            "+{:.0} ns over by user (target <= 300 ns)",
            key_ns - user_ns
        ),
    ));
    rows.push((
        "signed request (TC3, 1 KiB body): verify + decide".into(),
        format!("{signed_ns:.0} ns"),
        format!("{:.1}x by key (target <= 3,000 ns)", signed_ns / key_ns),
    ));

    println!("\n| measurement | median | comparison |\n|---|---|---|");
    for (a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
