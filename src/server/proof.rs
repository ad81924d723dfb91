//! Who is acting, in one place: what proves a request's caller, whether
//! the peer with that proof acts as the operator (the root account), and
//! how the audit trail names the actor.

use crate::protocol::KeyAuth;

use super::peer::Peer;

/// What proves a delegated admin request's caller.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// Nothing: only the operator may.
    None,
    /// An access key presented with the request.
    Key(&'a KeyAuth),
    /// A TC3 signature camd verified: the key's id and its owner. Its
    /// owner's policies decide, even when the peer is the operator (the
    /// HTTP front runs as one).
    Signed {
        /// The key.
        secret_id: &'a str,
        /// Its owner's uin.
        uin: u64,
    },
}

impl Proof<'_> {
    /// Whether `peer` with this proof acts as the root account: the local
    /// operator presenting nothing. A presented key or a signature acts as
    /// its owner, also from the operator's uid (`camctl --as-key` in a root
    /// shell proves the key, never the root account).
    pub fn acts_as_operator(&self, peer: Peer) -> bool {
        peer.operator && matches!(self, Proof::None)
    }
}

/// Who a peer is, for the audit trail (never a SecretKey).
pub fn actor(peer: Peer, proof: Proof<'_>) -> String {
    let who = actor_of(peer);
    match proof {
        Proof::Key(k) => format!("{who} key {}", shown_id(&k.secret_id)),
        Proof::Signed { secret_id, .. } => format!("{who} signed by {}", shown_id(secret_id)),
        Proof::None => who,
    }
}

/// A peer as the audit trail names it: `uid N`, and the client a gateway
/// forwards for (`uid N for 192.0.2.7`).
pub fn actor_of(peer: Peer) -> String {
    match peer.remote {
        Some(a) => format!("uid {} for {a}", peer.uid),
        None => format!("uid {}", peer.uid),
    }
}

/// A SecretId as the audit trail and log show it: only what looks like one
/// (a caller could put anything, a SecretKey even, in the field).
pub fn shown_id(id: &str) -> &str {
    if id.len() <= 64 && id.starts_with("AKID") && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        id
    } else {
        "<malformed SecretId>"
    }
}
