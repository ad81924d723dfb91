//! End to end crash test: a load generator makes acknowledged admin writes
//! (users with keys, groups, memberships, attachments) against the real
//! daemon while it is killed with SIGKILL and restarted, 50 times by default
//! (`CAMD_E2E_KILLS=1000` for the long run). Afterwards: redb's integrity
//! check is clean, every acknowledged write is there with its audit entry,
//! and the daemon was ready again in under 2 s after every restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use camd::client::Client;
use camd::protocol::{AddUser, AddUserToGroup, AttachUserPolicy, Body, CreateGroup, Reply};
use camd::store::{Limits, Store};

use crate::harness::Camd;

/// A fact the daemon acknowledged.
#[derive(Debug, Clone)]
enum Fact {
    User(String),
    Key(String, String),
    Group(String),
    Member(String, String),
    Attach(String, String),
}

fn connect(socket: &std::path::Path, stop: &AtomicBool) -> Option<Client> {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut c) = Client::connect(socket) {
            if c.ping().is_ok() {
                return Some(c);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// Makes writes until `stop`; records what was acknowledged. Returns the
/// number of replies that were errors (not transport failures).
fn generate(
    socket: std::path::PathBuf,
    stop: Arc<AtomicBool>,
    facts: Arc<Mutex<Vec<Fact>>>,
) -> u64 {
    let mut errors = 0;
    let mut client = None;
    let mut group: Option<String> = None;
    let mut k: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        k += 1;
        if client.is_none() {
            client = connect(&socket, &stop);
        }
        let Some(c) = client.as_mut() else {
            break;
        };
        // One step: a user with a key, sometimes a new group, membership, attachment.
        let user = format!("u{k}");
        let mut steps: Vec<(Body, Fact)> = Vec::new();
        if k % 5 == 1 || group.is_none() {
            let g = format!("g{k}");
            steps.push((
                Body::CreateGroup(CreateGroup {
                    name: g.clone(),
                    remark: String::new(),
                }),
                Fact::Group(g),
            ));
        }
        steps.push((
            Body::AddUser(AddUser {
                name: user.clone(),
                use_api: true,
                ..AddUser::default()
            }),
            Fact::User(user.clone()),
        ));
        let mut ok = true;
        for (body, fact) in steps {
            match c.call_body(body) {
                Ok(Reply::Credentials(cr)) => {
                    let mut f = facts.lock().unwrap();
                    f.push(fact);
                    f.push(Fact::Key(user.clone(), cr.secret_id.unwrap()));
                }
                Ok(_) => {
                    if let Fact::Group(g) = &fact {
                        group = Some(g.clone());
                    }
                    facts.lock().unwrap().push(fact);
                }
                Err(camd::client::ClientError::Remote(e)) => {
                    errors += 1;
                    eprintln!("unexpected error reply: {e:?}");
                    ok = false;
                    break;
                }
                Err(_) => {
                    // The daemon died mid-request: the outcome is unknown.
                    if matches!(fact, Fact::Group(_)) {
                        group = None;
                    }
                    client = None;
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let Some(g) = group.clone() else { continue };
        for (body, fact) in [
            (
                Body::AddUserToGroup(AddUserToGroup {
                    group: g.clone(),
                    user: user.clone(),
                }),
                Fact::Member(g.clone(), user.clone()),
            ),
            (
                Body::AttachUserPolicy(AttachUserPolicy {
                    user: user.clone(),
                    policy: "QcloudChatReadOnlyAccess".into(),
                }),
                Fact::Attach(user.clone(), "QcloudChatReadOnlyAccess".into()),
            ),
        ] {
            let Some(c) = client.as_mut() else { break };
            match c.call_body(body) {
                Ok(_) => facts.lock().unwrap().push(fact),
                Err(camd::client::ClientError::Remote(e)) => {
                    errors += 1;
                    eprintln!("unexpected error reply: {e:?}");
                    break;
                }
                Err(_) => {
                    client = None;
                    break;
                }
            }
        }
    }
    errors
}

#[test]
fn sigkill_during_acknowledged_writes_loses_nothing() {
    let kills: usize = std::env::var("CAMD_E2E_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    // Limits high enough for a long run.
    let dir = Camd::prepare(
        "e2e-crash",
        "[limits]\nusers = 1000000\ngroups = 1000000\nusers_per_group = 1000000\n",
    );
    let socket = dir.join("camd.sock");
    // This test kills and restarts the process itself.
    let mut child = Camd::spawn(&dir);
    let stop = Arc::new(AtomicBool::new(false));
    let facts = Arc::new(Mutex::new(Vec::new()));
    let generator = {
        let (stop, facts, socket) = (stop.clone(), facts.clone(), socket.clone());
        std::thread::spawn(move || generate(socket, stop, facts))
    };
    let mut ready_times = Vec::with_capacity(kills);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for i in 0..kills {
        let wait = Duration::from_millis(50 + (seed.wrapping_add(i as u64 * 7919)) % 200);
        std::thread::sleep(wait);
        child.kill().unwrap();
        child.wait().unwrap();
        let start = Instant::now();
        child = Camd::spawn(&dir);
        loop {
            if let Ok(mut c) = Client::connect(&socket) {
                if c.ping().is_ok() {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "camd did not come back after kill {i}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        ready_times.push(start.elapsed());
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let errors = generator.join().unwrap();
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let facts = facts.lock().unwrap().clone();
    let users = check_nothing_lost(&dir, &facts);
    ready_times.sort();
    let median = ready_times[ready_times.len() / 2];
    let max = *ready_times.last().unwrap();
    eprintln!(
        "{kills} SIGKILLs, {} acknowledged writes ({} users), 0 lost; ready again: median {median:?}, max {max:?}",
        facts.len(),
        users
    );
    assert_eq!(errors, 0, "error replies to the load generator");
    assert!(max < Duration::from_secs(2), "a restart took {max:?}");
    assert!(
        facts.len() > kills,
        "too little progress: {} writes",
        facts.len()
    );
}

/// Opens the store the daemon left and checks that every acknowledged fact
/// is in it and in the audit trail; returns how many users were created.
fn check_nothing_lost(dir: &std::path::Path, facts: &[Fact]) -> usize {
    let mut store = Store::open(
        &dir.join("state/camd.redb"),
        Limits::default(),
        100000000001,
    )
    .unwrap();
    assert!(store.check_integrity().unwrap(), "integrity check failed");
    let s = store.state();
    for f in facts {
        match f {
            Fact::User(u) => assert!(s.uin_named(u).is_some(), "lost user {u}"),
            Fact::Key(u, id) => assert_eq!(
                s.keys().get(id).map(|k| k.owner),
                s.uin_named(u),
                "lost key {id}"
            ),
            Fact::Group(g) => assert!(s.groups().contains_key(g), "lost group {g}"),
            Fact::Member(g, u) => assert!(
                s.users()[&s.uin_named(u).unwrap()].groups.contains(g),
                "lost membership {g} {u}"
            ),
            Fact::Attach(u, p) => assert!(
                s.users()[&s.uin_named(u).unwrap()]
                    .policies
                    .iter()
                    .any(|a| &a.policy == p),
                "lost attachment {u} {p}"
            ),
        }
    }
    // Every acknowledged user's creation is in the audit trail.
    let audit = store.audit(0, usize::MAX).unwrap();
    let audited: std::collections::HashSet<&str> = audit
        .iter()
        .filter(|e| e.action == "cam:AddUser" && e.outcome == "ok")
        .filter_map(|e| e.target.rsplit('/').next())
        .collect();
    let users = facts.iter().filter_map(|f| match f {
        Fact::User(u) => Some(u.as_str()),
        _ => None,
    });
    for u in users.clone() {
        assert!(
            audited.contains(u),
            "acknowledged user {u} has no audit entry"
        );
    }
    assert!(
        audit.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "audit sequence has gaps"
    );

    users.count()
}
