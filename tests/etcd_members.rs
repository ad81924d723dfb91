//! Real etcd members on loopback: a single-node or 3-member cluster of
//! Debian's `etcd` binary, each member with its own data folder and ports.
//! Shared by the cluster tests and `benches/cluster.rs` (std and camd only).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use camd::etcd::{Etcd, EtcdConfig};

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

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
    /// The members' data, removed on drop (each member writes 64 MB of WAL).
    base: PathBuf,
    bin: PathBuf,
    initial: String,
    /// Extra arguments of every member.
    pub extra: Vec<String>,
    rt: tokio::runtime::Runtime,
}

impl EtcdCluster {
    /// `n` members of the `etcd` binary `bin`, data under `base`, each
    /// started with `extra` arguments too.
    pub fn start_in(bin: PathBuf, base: PathBuf, n: usize, extra: &[&str]) -> Self {
        std::fs::create_dir_all(&base).unwrap();
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
            base: base.clone(),
            members,
            bin,
            initial,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        };
        for i in 0..n {
            c.start_member(i);
        }
        c.wait_healthy();
        c
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
            .args(&self.extra)
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
            wait_until(Duration::from_secs(20), || self
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
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The pepper and sealing key every camd host of a test cluster shares
/// (a state folder of 0700, key files of 0600, as camd demands).
pub fn shared_secrets(dir: &Path) {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for (f, b) in [("pepper", 7u8), ("sealing-key", 9u8)] {
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

/// One JSON POST to member `client` port (HTTP/1.0, blocking): the answer's body.
pub fn post(client: u16, path: &str, body: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", client)).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: {t}\r\n"));
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

impl EtcdCluster {
    /// Turns on etcd's authentication with user `root` and `password`.
    pub fn enable_auth(&self, password: &str) {
        let port = self.members[0].client;
        post(
            port,
            "/v3/auth/user/add",
            &format!(r#"{{"name":"root","password":"{password}"}}"#),
            None,
        );
        post(port, "/v3/auth/role/add", r#"{"name":"root"}"#, None);
        post(
            port,
            "/v3/auth/user/grant",
            r#"{"user":"root","role":"root"}"#,
            None,
        );
        let r = post(port, "/v3/auth/enable", "{}", None);
        assert!(!r.contains("error"), "{r}");
    }
}
