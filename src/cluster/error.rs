//! Why a host could not join its cluster, or its replica could not apply
//! what etcd holds.

use thiserror::Error;

use crate::etcd::EtcdError;
use crate::store::ApplyError;

use super::join::CheckError;

/// Why joining failed (camd does not start).
#[derive(Debug, Error)]
pub enum JoinError {
    /// The etcd client options are wrong.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The cluster's secrets differ from this host's, or could not be checked.
    #[error(transparent)]
    Secrets(#[from] CheckError),
    /// The etcd user's password is not configured or not readable.
    #[error("{0}")]
    Password(String),
    /// The host id could not be read or written.
    #[error("{0}")]
    HostId(String),
    /// The state folder holds a standalone database.
    #[error(
        "this state folder holds a standalone database; a host joins a cluster with an empty state folder"
    )]
    Standalone,
    /// The cluster's state could not be read or installed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// Why the replica could not read or apply the cluster's state.
#[derive(Debug, Error)]
pub enum ReplicaError {
    /// The cluster's state could not be read whole.
    #[error("cannot read the cluster's state: {0}")]
    Read(#[from] EtcdError),
    /// Records in etcd are old records put back.
    #[error(
        "{0} records in etcd are old records put back (see `camctl status`, Quarantined): the state is not installed; restore them (write them again through camd) and this host retries"
    )]
    Replayed(usize),
    /// The store's writer has stopped.
    #[error("the store writer has stopped")]
    WriterGone,
    /// What was read could not be installed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}
