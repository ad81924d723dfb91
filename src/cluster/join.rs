//! Joining a cluster: every host must hold the same pepper (SecretKey
//! hashes) and sealing key (sealed SecretKeys). The first host stores a
//! check value of both under the prefix; a host whose check value differs
//! refuses to start. The check value reveals neither key: an HMAC under
//! the pepper of a fixed label, and the sealing key's id.

use thiserror::Error;

use crate::credentials::{KeyHasher, Keyring, hex_id};
use crate::etcd::{Etcd, EtcdError, Op};

use super::keys::SECRETS;

/// This host's check value.
pub fn check_value(hasher: &KeyHasher, keyring: &Keyring) -> Vec<u8> {
    let mark: String = hasher
        .hash("camd cluster secrets check")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "pepper-hmac={mark} sealing-key-id={}",
        hex_id(&keyring.current_id())
    )
    .into_bytes()
}

/// Why the secrets check did not pass.
#[derive(Debug, Error)]
pub enum CheckError {
    /// etcd did not answer it.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// This host's secrets differ from the cluster's (the message says which).
    #[error("{0}")]
    Differs(String),
}

/// Stores `mine` as the cluster's check value if there is none; refuses
/// when the cluster's differs.
pub async fn check_secrets(etcd: &Etcd, prefix: &str, mine: &[u8]) -> Result<(), CheckError> {
    let key = format!("{prefix}{SECRETS}").into_bytes();
    let put = [Op::Put(key.clone(), mine.to_vec())];
    let r = etcd.txn_if_value(&key, None, &put).await?;
    if r.succeeded {
        crate::log_info!("cluster: this host set the cluster's secrets check");
        return Ok(());
    }
    let page = etcd.range(&key, &[], 0, 1).await?;
    let theirs = page
        .kvs
        .first()
        .map(|kv| kv.value.clone())
        .unwrap_or_default();
    if theirs == mine {
        return Ok(());
    }
    let part = |v: &[u8], name: &str| {
        String::from_utf8_lossy(v)
            .split(' ')
            .find(|p| p.starts_with(name))
            .map(str::to_string)
    };
    let which: Vec<&str> = [
        ("pepper-hmac", "the pepper"),
        ("sealing-key-id", "the sealing key"),
    ]
    .iter()
    .filter(|(k, _)| part(&theirs, k) != part(mine, k))
    .map(|(_, what)| *what)
    .collect();
    Err(CheckError::Differs(format!(
        "{code}: this host's {} differs from the cluster's (checked against `{prefix}{SECRETS}`): give every host the same pepper and sealing key (systemd credentials `pepper` and `sealing-key`)",
        which.join(" and "),
        code = crate::code::Code::ClusterSecrets
    )))
}
