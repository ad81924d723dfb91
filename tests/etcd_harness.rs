//! Real etcd for the cluster tests: single-node or 3-member clusters of
//! Debian's `etcd` binary on loopback, each member with its own data
//! folder and ports, and camd hosts joined to them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use camd::etcd::{Etcd, EtcdConfig};

use crate::harness::{Camd, json, temp_dir, tool, wait_for};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One member.
pub struct Member {
    pub name: String,
    pub client: u16,
    pub peer: u16,
    pub dir: PathBuf,
    pub child: Option<Child>,
}

/// A running etcd cluster.
pub struct EtcdCluster {
    pub members: Vec<Member>,
    bin: PathBuf,
    initial: String,
    rt: tokio::runtime::Runtime,
}

impl EtcdCluster {
    /// `n` members, or `None` when etcd is not installed (and not required).
    pub fn start(name: &str, n: usize) -> Option<Self> {
        let bin = tool("etcd")?;
        let base = temp_dir(&format!("etcd-{name}"));
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client: free_port(),
                peer: free_port(),
                dir: base.join(format!("m{i}")),
                child: None,
            })
            .collect();
        let initial = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let mut c = Self {
            members,
            bin,
            initial,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        for i in 0..n {
            c.start_member(i);
        }
        c.wait_healthy();
        Some(c)
    }

    /// (Re)starts member `i` on its data folder.
    pub fn start_member(&mut self, i: usize) {
        let m = &mut self.members[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(format!("{}.log", m.dir.display()))
            .unwrap();
        let child = Command::new(&self.bin)
            .args([
                "--name",
                &m.name,
                "--data-dir",
                m.dir.to_str().unwrap(),
                "--listen-client-urls",
                &format!("http://127.0.0.1:{}", m.client),
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{}", m.client),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{}", m.peer),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{}", m.peer),
                "--initial-cluster",
                &self.initial,
                "--initial-cluster-state",
                "new",
                "--heartbeat-interval",
                "50",
                "--election-timeout",
                "500",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        m.child = Some(child);
    }

    /// SIGKILLs member `i`.
    pub fn kill_member(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops every member.
    pub fn stop_all(&mut self) {
        for i in 0..self.members.len() {
            self.kill_member(i);
        }
    }

    /// Restarts every member.
    pub fn start_all(&mut self) {
        for i in 0..self.members.len() {
            self.start_member(i);
        }
        self.wait_healthy();
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("http://127.0.0.1:{}", m.client))
            .collect()
    }

    /// A client of the whole cluster.
    pub fn client(&self) -> Etcd {
        Etcd::new(&EtcdConfig {
            endpoints: self.endpoints(),
            timeout: Duration::from_secs(2),
            ..EtcdConfig::default()
        })
        .unwrap()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn wait_healthy(&self) {
        let c = self.client();
        assert!(
            wait_for(Duration::from_secs(20), || self
                .block_on(c.revision())
                .is_ok()),
            "etcd did not start"
        );
    }

    /// The index of the member that leads, by asking each.
    pub fn leader(&self) -> Option<usize> {
        for (i, m) in self.members.iter().enumerate() {
            if m.child.is_none() {
                continue;
            }
            let one = Etcd::new(&EtcdConfig {
                endpoints: vec![format!("http://127.0.0.1:{}", m.client)],
                timeout: Duration::from_secs(1),
                ..EtcdConfig::default()
            })
            .ok()?;
            if let Ok((me, leader)) = self.block_on(one.member_status()) {
                if me == leader {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Compacts history up to the current revision.
    pub fn compact_now(&self) -> i64 {
        let c = self.client();
        let rev = self.block_on(c.revision()).unwrap();
        self.block_on(c.compact(rev)).unwrap();
        rev
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The pepper and sealing key every host of a test cluster shares.
pub fn shared_secrets(dir: &Path) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (f, b) in [("pepper", 7u8), ("sealing-key", 9u8)] {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(dir.join(f))
            .unwrap()
            .write_all(&[b; 32])
            .unwrap();
    }
}

/// A camd host joined to `etcd`, with the shared secrets.
pub fn host(name: &str, etcd: &EtcdCluster) -> Camd {
    let endpoints = etcd
        .endpoints()
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let dir = Camd::prepare(
        name,
        &format!("[cluster]\nendpoints = [{endpoints}]\nprefix = \"/test/\"\ntimeout_ms = 1500\n"),
    );
    shared_secrets(&dir.join("state"));
    Camd::start_in(dir)
}

/// A host's `Cluster` status object.
pub fn standing(h: &Camd) -> serde_json::Value {
    let out = h.camctl(&["--json", "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&out)
    );
    json(&out)["Cluster"].clone()
}

/// Waits until every host has the same state hash at the same revision.
pub fn converged(hosts: &[&Camd]) -> bool {
    wait_for(Duration::from_secs(15), || {
        let s: Vec<_> = hosts.iter().map(|h| standing(h)).collect();
        s.windows(2).all(|w| {
            w[0]["StateHash"] == w[1]["StateHash"]
                && w[0]["AppliedRevision"] == w[1]["AppliedRevision"]
        })
    })
}
