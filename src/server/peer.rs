//! Who is on the other end of a connection, from SO_PEERCRED (uid and gid,
//! never pid), and whom a trusted gateway says it forwards for.

use std::net::IpAddr;

use super::throttle::Subject;

/// A connected peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its uid.
    pub uid: u32,
    /// Its gid.
    pub gid: u32,
    /// True when it acts as the root account (uid 0 or a configured admin uid/gid).
    pub operator: bool,
    /// True when it may say which client it forwards for (camd-api, a Chat
    /// service deciding for outside callers): the operator or a configured
    /// gateway uid/gid.
    pub gateway: bool,
    /// The client a gateway forwards this request for, when it said.
    pub remote: Option<IpAddr>,
    /// Its pid when it connected (SO_PEERCRED; 0: unknown), for decision logs.
    pub pid: u32,
}

impl Peer {
    /// Classifies a peer against the configured admin and gateway uids and gids.
    pub fn new(uid: u32, gid: u32, cfg: &crate::config::Config) -> Self {
        let operator = uid == 0 || cfg.admin_uids.contains(&uid) || cfg.admin_gids.contains(&gid);
        Self {
            uid,
            gid,
            operator,
            gateway: operator || cfg.gateway_uids.contains(&uid) || cfg.gateway_gids.contains(&gid),
            remote: None,
            pid: 0,
        }
    }

    /// The same peer, with the pid it connected from.
    pub fn with_pid(self, pid: u32) -> Self {
        Self { pid, ..self }
    }

    /// Whom failures and refusals of this request count against: the
    /// forwarded client's address when a gateway gave one, else the uid.
    pub fn subject(&self) -> Subject {
        match self.remote {
            Some(a) => Subject::Remote(a),
            None => Subject::Uid(self.uid),
        }
    }

    /// This peer forwarding for the client at `addr` (a header or the
    /// `qcs:ip` context key); ignored unless the peer is a gateway or
    /// `addr` does not parse.
    pub fn forwarding(self, addr: Option<&str>) -> Self {
        match addr
            .filter(|_| self.gateway)
            .and_then(|a| a.trim().parse().ok())
        {
            Some(ip) => Self {
                remote: Some(ip),
                ..self
            },
            None => self,
        }
    }
}

/// The peer forwarding for the client in the `qcs:ip` context key, when
/// the peer is a trusted gateway (failures then count against that client).
pub(super) fn forwarded(peer: Peer, context: &[(&str, &str)]) -> Peer {
    if !peer.gateway {
        return peer;
    }
    peer.forwarding(
        context
            .iter()
            .find(|(k, _)| *k == "qcs:ip")
            .map(|(_, v)| *v),
    )
}
