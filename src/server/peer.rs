//! Who is on the other end of a connection, from SO_PEERCRED (uid and gid, never pid).

/// A connected peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its uid.
    pub uid: u32,
    /// Its gid.
    pub gid: u32,
    /// True when it acts as the root account (uid 0 or a configured admin uid/gid).
    pub operator: bool,
}

impl Peer {
    /// Classifies a peer against the configured admin uids and gids.
    pub fn new(uid: u32, gid: u32, admin_uids: &[u32], admin_gids: &[u32]) -> Self {
        Self {
            uid,
            gid,
            operator: uid == 0 || admin_uids.contains(&uid) || admin_gids.contains(&gid),
        }
    }
}
