//! camd hosts joined to real etcd for the cluster tests (the members
//! themselves: `etcd_members.rs`).

use std::time::Duration;

pub use crate::etcd_members::{EtcdCluster, shared_secrets};
use crate::harness::{Camd, json, temp_dir, tool, wait_for};

/// `n` etcd members, or `None` when etcd is not installed (and not required).
pub fn etcd(name: &str, n: usize) -> Option<EtcdCluster> {
    let bin = tool("etcd")?;
    Some(EtcdCluster::start_in(
        bin,
        temp_dir(&format!("etcd-{name}")),
        n,
        &[],
    ))
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
        &format!("[cluster]\nendpoints = [{endpoints}]\nprefix = \"/test/\"\ntimeout_ms = 3000\n"),
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
