//! Decision logs against the real daemon: every kind of decision recorded
//! once with its reply's fields, rules and sampling, masking, no secrets,
//! hot reload, a failing sink, a full queue, and rotation under 64 clients.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use camd::client::{by_key, by_user};
use camd::protocol::{Authorize, DecisionLogStatus};
use serde_json::Value;

use crate::harness::{APP, Camd, json, wait_for};

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn log_config(dir_name: &str, body: &str) -> (std::path::PathBuf, String) {
    let dir = crate::harness::temp_dir(dir_name);
    let file = dir.join("decisions.log");
    (
        dir,
        format!("[decision_log]\nfile = \"{}\"\n{body}", file.display()),
    )
}

/// Every whole record in the log file and its rotated copies, read while
/// camd may be writing and rotating (a file renamed away meanwhile, or a
/// last line not yet whole, is left for the next poll).
fn records(d: &Camd) -> Vec<Value> {
    read_records(&d.dir, false)
}

/// Every record in `dir`, once camd has stopped: every line must be whole.
fn final_records(dir: &Path) -> Vec<Value> {
    read_records(dir, true)
}

fn read_records(dir: &Path, strict: bool) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("decisions.log"))
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let Ok(text) = std::fs::read_to_string(&p) else {
            assert!(!strict, "{} vanished", p.display());
            continue;
        };
        assert!(
            !strict || text.is_empty() || text.ends_with('\n'),
            "{}: a torn last line",
            p.display()
        );
        for l in text.lines().take(text.matches('\n').count()) {
            out.push(
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{}: torn line {l}: {e}", p.display())),
            );
        }
    }
    out
}

fn wait_records(d: &Camd, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    wait_for(Duration::from_secs(10), || {
        last = records(d);
        last.len() >= n
    });
    last
}

fn ask_user(user: &str, action: &str, ip: &str) -> Authorize {
    by_user(user, action, APP, &[("qcs:ip", ip)])
}

fn start(name: &str, body: &str) -> Camd {
    let (_, extra) = log_config(name, body);
    let dir = Camd::prepare(name, &extra);
    Camd::start_in(dir)
}

#[test]
fn every_kind_of_decision_is_recorded_once_with_its_replys_fields() {
    let d = start("dlog-kinds", "mask = [\"qcs:IP\"]\n");
    let (id, secret) = d.user_with_key("alice", "QcloudChatReadOnlyAccess");
    let mut c = d.client();
    c.set_traceparent(Some(TRACE.into()));
    let mut replies: BTreeMap<String, (bool, Option<String>, &str)> = BTreeMap::new();
    // One by user, binary, read in place.
    let one = c
        .authorize(ask_user("alice", "im:GetGroupInfo", "10.9.8.7"))
        .unwrap();
    let one_id = c.last_decision_id().unwrap().to_string();
    replies.insert(
        one_id.clone(),
        (one.allowed, one.policy.clone(), "Authorize"),
    );
    // A batch: allow, deny, unknown user; consecutive ids.
    let batch = c
        .authorize_batch(vec![
            ask_user("alice", "im:GetGroupInfo", "10.9.8.7"),
            ask_user("alice", "im:DestroyGroup", "10.9.8.7"),
            ask_user("nobody", "im:GetGroupInfo", "10.9.8.7"),
        ])
        .unwrap();
    let first = c.last_decision_id().unwrap();
    for (i, r) in batch.iter().enumerate() {
        let (allowed, policy) = match r {
            Ok(d) => (d.allowed, d.policy.clone()),
            Err(_) => (false, None),
        };
        replies.insert(first.nth(i).to_string(), (allowed, policy, "Batch"));
    }
    // By key (the SecretKey must never reach the log).
    let k = c
        .authorize(by_key(&id, &secret, "im:GetGroupInfo", APP, &[]))
        .unwrap();
    replies.insert(
        c.last_decision_id().unwrap().to_string(),
        (k.allowed, k.policy.clone(), "Authorize"),
    );
    // AuthorizeAt, standalone: revision 0 is reached at once.
    let at = c
        .authorize_at(0, ask_user("alice", "im:GetGroupInfo", "10.9.8.7"))
        .unwrap();
    replies.insert(
        c.last_decision_id().unwrap().to_string(),
        (at.allowed, at.policy.clone(), "AuthorizeAt"),
    );
    // JSON lines, with a traceparent.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    writeln!(
        s,
        r#"{{"id":5,"auth":null,"body":{{"Authorize":{{"ByUser":{{"user":{{"Name":"alice"}},"action":"im:SendMessage","resource":"{APP}","context":[]}}}}}},"traceparent":"{TRACE}"}}"#
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).unwrap();
    let j: Value = serde_json::from_str(&line).unwrap();
    let jid = j["decision_id"].as_str().unwrap().to_string();
    replies.insert(
        jid,
        (
            j["result"]["Ok"]["Decision"]["allowed"].as_bool().unwrap(),
            None,
            "Authorize",
        ),
    );
    // camctl check --json says its DecisionId.
    let out = d.camctl(&[
        "--json",
        "check",
        "--user",
        "alice",
        "--action",
        "im:GetGroupInfo",
        "--resource",
        APP,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let cid = json(&out)["DecisionId"].as_str().unwrap().to_string();
    replies.insert(cid, (true, None, "Authorize"));

    let recs = wait_records(&d, replies.len());
    assert_eq!(
        recs.len(),
        replies.len(),
        "one record per decision: {recs:#?}"
    );
    let text = recs.iter().map(Value::to_string).collect::<String>();
    assert!(!text.contains(&secret), "a SecretKey reached the log");
    assert!(!text.contains("10.9.8.7"), "a masked value reached the log");
    let mut ids = BTreeSet::new();
    for r in &recs {
        let rid = r["decision_id"].as_str().unwrap();
        assert!(ids.insert(rid.to_string()), "id {rid} twice");
        let (allowed, policy, path) = replies
            .get(rid)
            .unwrap_or_else(|| panic!("no reply has id {rid}: {r}"));
        assert_eq!(r["result"]["allowed"].as_bool(), Some(*allowed), "{r}");
        assert_eq!(r["path"].as_str(), Some(*path), "{r}");
        if let Some(p) = policy {
            assert_eq!(r["result"]["policy"].as_str(), Some(p.as_str()), "{r}");
        }
        assert!(
            r["requested_by"]["uid"].is_u64() && r["requested_by"]["pid"].as_u64() > Some(0),
            "{r}"
        );
        assert!(r["timestamp"].as_str().unwrap().starts_with("20"), "{r}");
    }
    let traced: Vec<_> = recs.iter().filter(|r| r["trace_id"].is_string()).collect();
    assert_eq!(
        traced.len(),
        replies.len() - 1,
        "every request but camctl's carried the trace"
    );
    assert!(traced.iter().all(|r| r["span_id"] == "00f067aa0ba902b7"));
    let masked = recs
        .iter()
        .find(|r| r["path"] == "Authorize" && r["input"]["principal"]["name"] == "alice")
        .unwrap();
    assert_eq!(masked["input"]["context"]["qcs:ip"], "***");
    assert_eq!(masked["masked"][0], "/input/context/qcs:ip");
    let keyed = recs
        .iter()
        .find(|r| r["input"]["principal"]["secret_id"] == id.as_str())
        .unwrap();
    assert!(keyed["input"]["principal"]["uin"].as_u64().unwrap() > 0);
    let unknown = recs
        .iter()
        .find(|r| r["input"]["principal"]["name"] == "nobody")
        .unwrap();
    assert_eq!(unknown["result"]["outcome"], "error");
    assert_eq!(unknown["result"]["reason"], "ResourceNotFound.UserNotExist");
    let denied = recs
        .iter()
        .find(|r| r["input"]["action"] == "im:DestroyGroup")
        .unwrap();
    assert_eq!(denied["result"]["reason"], "ImplicitDeny");
    // camctl decisions get and tail read the same records.
    let got = d.camctl(&["--json", "decisions", "get", &one_id]);
    assert_eq!(
        got.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&got)
    );
    assert_eq!(json(&got)["decision_id"], one_id.as_str());
    let tail = d.camctl(&["--json", "decisions", "tail", "--outcome", "deny"]);
    assert_eq!(tail.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&tail.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l["result"]["outcome"] == "deny"),
        "{lines:?}"
    );
    // Another uid can neither ask camd where the log is nor read the file.
    let nobody = d.camctl_as(Some(crate::harness::NOBODY), &[], &["decisions", "status"]);
    assert_eq!(nobody.status.code(), Some(2));
    assert!(
        crate::harness::stderr(&nobody).contains("UnauthorizedOperation"),
        "{}",
        crate::harness::stderr(&nobody)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.dir.join("decisions.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    let missing = d.camctl(&["decisions", "get", "0000000000000001"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(crate::harness::stderr(&missing).contains("ResourceNotFound.DecisionNotExist"));
    d.stop();
}

#[test]
fn rules_sampling_and_hot_reload_keep_exactly_what_they_should() {
    let rules = "[[decision_log.rules]]\neffect = \"keep\"\noutcome = \"deny\"\n[[decision_log.rules]]\neffect = \"drop\"\n";
    let d = start("dlog-rules", rules);
    d.user_with_key("bob", "QcloudChatReadOnlyAccess");
    let mut c = d.client();
    let asks: Vec<Authorize> = (0..10)
        .map(|i| {
            ask_user(
                "bob",
                if i % 2 == 0 {
                    "im:GetGroupInfo"
                } else {
                    "im:DestroyGroup"
                },
                "1.1.1.1",
            )
        })
        .collect();
    let replies = c.authorize_batch(asks.clone()).unwrap();
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|d| d.allowed))
            .count(),
        5
    );
    let recs = wait_records(&d, 5);
    std::thread::sleep(Duration::from_millis(200));
    let recs2 = records(&d);
    assert_eq!(recs.len(), 5);
    assert_eq!(recs2.len(), 5, "denies only");
    assert!(recs2.iter().all(|r| r["result"]["outcome"] == "deny"));
    // Reloaded: no rules, one in two kept.
    let cfg = d.dir.join("camd.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let base = text.split("[decision_log]").next().unwrap().to_string();
    let file = d.dir.join("decisions.log");
    std::fs::write(
        &cfg,
        format!(
            "{base}[decision_log]\nfile = \"{}\"\nsample = 2\n",
            file.display()
        ),
    )
    .unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    c.authorize_batch(asks.clone()).unwrap();
    let recs = wait_records(&d, 10);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(records(&d).len(), 10, "5 more: one in two of 10: {recs:?}");
    // A bad rule changes nothing and says why.
    std::fs::write(
        &cfg,
        format!(
            "{base}[decision_log]\nfile = \"{}\"\n[[decision_log.rules]]\neffect = \"perhaps\"\n",
            file.display()
        ),
    )
    .unwrap();
    assert_eq!(d.camctl(&["policy", "reload"]).status.code(), Some(0));
    let st = c.call(DecisionLogStatus).unwrap();
    assert_eq!(st.sample, 2);
    assert!(
        st.rejected
            .as_deref()
            .unwrap_or("")
            .contains("decision_log.rules[0].effect"),
        "{st:?}"
    );
    let shown = d.camctl(&["decisions", "status"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("REJECTED"));
    d.stop();
}

#[test]
fn a_full_disk_is_reported_and_decisions_go_on() {
    let name = "dlog-full";
    let dir = crate::harness::temp_dir(name);
    let file = dir.join("decisions.log");
    let dir = Camd::prepare(
        name,
        &format!("[decision_log]\nfile = \"{}\"\n", file.display()),
    );
    // Every write to /dev/full fails with ENOSPC, as a full disk does.
    std::os::unix::fs::symlink("/dev/full", &file).unwrap();
    let d = Camd::start_in(dir);
    d.user_with_key("carol", "QcloudChatReadOnlyAccess");
    let mut c = d.client();
    for _ in 0..50 {
        assert!(
            c.authorize(ask_user("carol", "im:GetGroupInfo", "1.1.1.1"))
                .unwrap()
                .allowed
        );
    }
    let mut st = None;
    assert!(
        wait_for(Duration::from_secs(10), || {
            let s = c.call(DecisionLogStatus).unwrap();
            let failing = s.sinks.first().is_some_and(|k| !k.up && k.error.is_some())
                && s.dropped_sink_failed > 0;
            st = Some(s);
            failing
        }),
        "{st:?}"
    );
    let s = st.unwrap();
    assert!(
        s.sinks[0]
            .error
            .as_deref()
            .unwrap()
            .contains("No space left"),
        "{s:?}"
    );
    let metrics = String::from_utf8_lossy(&d.camctl(&["metrics"]).stdout).to_string();
    assert!(
        metrics.contains("camd_decision_log_dropped_total{reason=\"sink_failed\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("camd_decision_log_sinks_up 0"),
        "{metrics}"
    );
    d.stop();
}

#[test]
fn a_full_queue_drops_and_counts_and_decisions_are_unaffected() {
    // The writer sleeps 5 ms when idle; a queue of one request fills at
    // once, while its bytes bound is far off.
    let d = start("dlog-queue", "queue_len = 1\n");
    d.user_with_key("dave", "QcloudChatReadOnlyAccess");
    let mut c = d.client();
    for _ in 0..2000 {
        let r = c
            .authorize(ask_user("dave", "im:GetGroupInfo", "1.1.1.1"))
            .unwrap();
        assert!(r.allowed);
    }
    std::thread::sleep(Duration::from_millis(300));
    let st = c.call(DecisionLogStatus).unwrap();
    assert!(st.dropped_queue_full > 0, "{st:?}");
    let written = records(&d).len() as u64;
    assert!(written > 0, "some records got through");
    assert_eq!(
        written + st.dropped_queue_full,
        2000,
        "every record written or counted"
    );
    d.stop();
}

#[test]
fn rotation_keeps_every_record_whole_under_64_clients() {
    let d = start("dlog-rotate", "max_file_bytes = 65536\nmax_files = 1000\n");
    d.user_with_key("erin", "QcloudChatReadOnlyAccess");
    let socket = d.socket.clone();
    let threads: Vec<_> = (0..64)
        .map(|t| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut c = camd::client::Client::connect(&socket).unwrap();
                let mut ids = Vec::new();
                for _ in 0..20 {
                    let asks = (0..10)
                        .map(|_| ask_user("erin", "im:GetGroupInfo", &format!("10.0.0.{t}")))
                        .collect();
                    assert_eq!(c.authorize_batch(asks).unwrap().len(), 10);
                    let first = c.last_decision_id().unwrap();
                    ids.extend((0..10).map(|i| first.nth(i).to_string()));
                }
                ids
            })
        })
        .collect();
    let ids: BTreeSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 64 * 20 * 10, "ids are unique");
    wait_records(&d, ids.len());
    let dir = d.dir.clone();
    d.stop();
    let recs = final_records(&dir);
    assert_eq!(recs.len(), ids.len(), "no record twice");
    let got: BTreeSet<String> = recs
        .iter()
        .map(|r| r["decision_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, ids, "every decision recorded once, no torn line");
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("decisions.log.")
        })
        .count();
    assert!(files > 5, "rotated into {files} files");
    assert!(Path::new(&dir.join("decisions.log")).exists());
}

/// A signed POST to camd-api for CAM action `action`, with a `traceparent`
/// header, as raw HTTP/1.1; the response.
fn api_call(port: u16, id: &str, key: &str, action: &str) -> String {
    let host = format!("127.0.0.1:{port}");
    let request = crate::harness::signed_api_request(
        &host,
        id,
        key,
        action,
        &format!("traceparent: {TRACE}\r\n"),
    );
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut s, &mut response).unwrap();
    response
}

#[test]
fn api_calls_and_signed_decisions_reach_the_file_the_journal_and_a_collector() {
    let name = "dlog-sinks";
    let dir = crate::harness::temp_dir(name);
    let (journal, collector) = (dir.join("journal.sock"), dir.join("collector.sock"));
    let dir = Camd::prepare(
        name,
        &format!(
            "[decision_log]\nfile = \"{}\"\njournald = true\njournald_socket = \"{}\"\nsocket = \"{}\"\nsocket_type = \"datagram\"\n",
            dir.join("decisions.log").display(),
            journal.display(),
            collector.display()
        ),
    );
    // The journal's and a collector's sockets, bound before camd writes.
    let journal = std::os::unix::net::UnixDatagram::bind(&journal).unwrap();
    let collector = std::os::unix::net::UnixDatagram::bind(&collector).unwrap();
    for s in [&journal, &collector] {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    let d = Camd::start_in(dir);
    let (id, secret) = d.user_with_key("frank", "UserAdmin");
    let (mut api, port) = crate::harness::camd_api(&d, &[]);
    let response = api_call(port, &id, &secret, "ListUsers");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // AuthorizeSigned over the socket: a request signed for service `im`.
    let mut c = d.client();
    let req = camd::client::sign_post(&camd::client::Call {
        secret_id: &id,
        secret_key: &secret,
        service: "im",
        action: "SendMessage",
        host: "im.example.com",
        version: "2019-01-16",
        region: "",
        timestamp: camd::clock::now_ms() / 1000,
        body: b"{}",
    })
    .unwrap();
    let signed = c
        .authorize_signed(camd::client::signed(req, APP, Some("im:SendMessage"), &[]))
        .unwrap();
    let signed_id = c.last_decision_id().unwrap().to_string();
    let mut recs = Vec::new();
    wait_for(Duration::from_secs(10), || {
        recs = records(&d);
        recs.iter().any(|r| r["decision_id"] == signed_id.as_str())
    });
    let _ = api.kill();
    let _ = api.wait();
    let api_rec = recs
        .iter()
        .find(|r| r["path"] == "CallApi")
        .unwrap_or_else(|| panic!("no CallApi record: {recs:#?}"));
    assert_eq!(api_rec["input"]["action"], "cam:ListUsers");
    assert_eq!(api_rec["input"]["principal"]["secret_id"], id.as_str());
    assert_eq!(api_rec["result"]["allowed"], true);
    assert_eq!(
        api_rec["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "{api_rec}"
    );
    let s = recs
        .iter()
        .find(|r| r["decision_id"] == signed_id.as_str())
        .unwrap();
    assert_eq!(s["path"], "AuthorizeSigned");
    assert_eq!(s["result"]["allowed"].as_bool(), Some(signed.allowed));
    assert_eq!(s["input"]["action"], "im:SendMessage");
    let text = recs.iter().map(Value::to_string).collect::<String>();
    assert!(!text.contains(&secret), "a SecretKey reached the log");
    // The journal got each record in its native protocol, the collector the line.
    let mut buf = vec![0u8; 65536];
    let n = journal.recv(&mut buf).unwrap();
    let entry = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        entry.contains("SYSLOG_IDENTIFIER=camd-decisions\n"),
        "{entry}"
    );
    let jid = entry
        .lines()
        .find_map(|l| l.strip_prefix("CAMD_DECISION_ID="))
        .unwrap();
    let message: Value = serde_json::from_str(
        entry
            .lines()
            .find_map(|l| l.strip_prefix("MESSAGE="))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(message["decision_id"], jid);
    let n = collector.recv(&mut buf).unwrap();
    let line: Value = serde_json::from_slice(&buf[..n]).unwrap();
    assert!(recs.iter().any(|r| r["decision_id"] == line["decision_id"]));
    d.stop();
}
