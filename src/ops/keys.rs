//! Access keys: CreateAccessKey, UpdateAccessKey, DeleteAccessKey,
//! ListAccessKeys, and KeyReseal (the operator's, after a sealing-key rotation). The root account's keys are the operator's alone (the
//! executor refuses any right on the root account to a delegated key).

use crate::code::{Code, Failure};
use crate::credentials::hex_id;
use crate::credentials::{Secret, generate_secret_id, generate_secret_key};
use crate::protocol::{
    CreateAccessKey, Credentials, DeleteAccessKey, Done, KeyInfo, KeyReseal, ListAccessKeys,
    ResealInfo, UpdateAccessKey,
};
use crate::store::{self, KeyStatus, NewKey, Owner};

use super::{Env, Exec, Resources, Right};

/// The longest key description (CAM's CreateAccessKey: 1024).
const MAX_KEY_DESCRIPTION: usize = 1024;

/// CreateAccessKey's Description: at most 1024 characters of Tencent's
/// `[\w+=,.@:/-]` (letters, digits, `_`, and `+=,.@:/-`).
fn check_key_description(d: &str) -> Result<(), Failure> {
    let allowed = |c: char| c.is_alphanumeric() || "_+=,.@:/-".contains(c);
    if d.chars().count() > MAX_KEY_DESCRIPTION || !d.chars().all(allowed) {
        return Err(Failure::new(
            Code::InvalidParameterValue,
            format!(
                "a key's description is at most {MAX_KEY_DESCRIPTION} letters, digits and `_+=,.@:/-`"
            ),
        ));
    }
    Ok(())
}

/// A new key's id and hash, with its SecretKey (shown once).
pub(super) fn new_key(env: &Env<'_>, description: &str) -> Result<(NewKey, Secret), Failure> {
    let random = |e: crate::credentials::CredentialError| Failure::new(Code::Random, e.to_string());
    let id = generate_secret_id(env.rng).map_err(random)?;
    let secret = generate_secret_key(env.rng).map_err(random)?;
    let sealed = env
        .authz
        .keyring()
        .seal(&id, secret.expose())
        .map_err(|e| Failure::new(Code::SealingKey, format!("cannot seal the new key: {e}")))?;
    Ok((
        NewKey {
            hash: env.hasher.hash(secret.expose()),
            secret_id: id,
            sealed,
            description: description.to_string(),
        },
        secret,
    ))
}

/// A key as the wire shows it (never its hash).
pub(super) fn key_info(k: &store::Key) -> KeyInfo {
    KeyInfo {
        secret_id: k.secret_id.clone(),
        owner: k.owner,
        status: k.status.as_str().to_string(),
        created_ms: k.created_ms,
        last_used_ms: k.last_used_ms,
        description: k.description.clone(),
    }
}

fn owner(user: Option<String>) -> Owner {
    user.map_or(Owner::Root, Owner::User)
}

impl Exec for CreateAccessKey {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:CreateAccessKey",
            res.key_of(self.user.as_deref()),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Credentials, Failure> {
        check_key_description(&self.description)?;
        let (nk, secret) = new_key(env, &self.description)?;
        let name = self.user.clone().unwrap_or_else(|| "root".into());
        let who = owner(self.user);
        let k = env
            .change(move |s, cx, ch| s.create_access_key(&who, nk.clone(), cx, ch))
            .await?;
        Ok(Credentials {
            uin: k.owner,
            name,
            login_link: None,
            password: None,
            secret_id: Some(k.secret_id),
            secret_key: Some(secret.expose().to_string()),
        })
    }
}

impl Exec for UpdateAccessKey {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:UpdateAccessKey",
            res.key_by_id(&self.secret_id),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<KeyInfo, Failure> {
        let status = if self.active {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        };
        let k = env
            .change(move |s, _, ch| s.update_access_key(&self.secret_id, status, ch))
            .await?;
        Ok(key_info(&k))
    }
}

impl Exec for DeleteAccessKey {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:DeleteAccessKey",
            res.key_by_id(&self.secret_id),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        env.change(move |s, _, ch| s.delete_access_key(&self.secret_id, ch))
            .await?;
        Ok(Done)
    }
}

impl Exec for ListAccessKeys {
    fn rights(&self, res: &Resources<'_>) -> Vec<Right> {
        vec![Right::on(
            "cam:ListAccessKeys",
            res.key_of(self.user.as_deref()),
        )]
    }

    async fn run(self, env: &Env<'_>) -> Result<Vec<KeyInfo>, Failure> {
        let who = owner(self.user);
        env.read(move |s, cx| Ok(s.access_keys(&who, cx)?.iter().map(key_info).collect()))
            .await
    }
}

impl Exec for KeyReseal {
    const OPERATOR_ONLY: Option<&'static str> = Some("re-seal the access keys");

    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        Vec::new()
    }

    async fn run(self, env: &Env<'_>) -> Result<ResealInfo, Failure> {
        let keyring = env.authz.keyring().clone();
        let sealing_key = hex_id(&keyring.current_id());
        let done = env
            .change(move |s, _, ch| s.reseal_keys(|id, sealed| keyring.reseal(id, sealed), ch))
            .await?;
        Ok(ResealInfo {
            sealing_key,
            resealed: done.resealed,
            current: done.current,
            unsealed: done.unsealed,
        })
    }
}
