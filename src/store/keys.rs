//! The rules of access keys: create, enable or disable, delete, re-seal, last use, and the binding of a signature to the action it first served.

use super::command::{NewKey, Owner, Resealed};
use super::error::AdminError;
use super::records::{Key, KeyStatus};

use super::rules::{Ctx, MAX_SIGNATURES};
use super::state::{Changes, State};
use crate::credentials::{SealError, Sealed};

impl State {
    /// Creates an access key for a user or the root account.
    pub fn create_access_key(
        &mut self,
        owner: &Owner,
        nk: NewKey,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<Key, AdminError> {
        let (uin, label) = self.owner_uin_of(owner, ctx)?;
        let have = self.keys_of(uin).count();
        if have >= ctx.limits.keys_per_user {
            return Err(AdminError::AccessKeyOverLimit(label, have));
        }
        if self.keys.contains_key(&nk.secret_id) {
            return Err(AdminError::Storage(format!(
                "secret id `{}` collides; retry",
                nk.secret_id
            )));
        }
        let key = Key::new(nk, uin, ctx.now_ms);
        self.insert_key(key.clone());
        changes.keys.insert(key.secret_id.clone());
        Ok(key)
    }

    /// Enables or disables an access key.
    pub fn update_access_key(
        &mut self,
        id: &str,
        status: KeyStatus,
        changes: &mut Changes,
    ) -> Result<Key, AdminError> {
        let k = self
            .keys
            .get_mut(id)
            .ok_or_else(|| AdminError::SecretNotExist(id.to_string()))?;
        k.status = status;
        let key = k.clone();
        changes.keys.insert(id.to_string());
        Ok(key)
    }

    /// Deletes an access key.
    pub fn delete_access_key(&mut self, id: &str, changes: &mut Changes) -> Result<(), AdminError> {
        self.remove_key(id)
            .ok_or_else(|| AdminError::SecretNotExist(id.to_string()))?;
        changes.keys.insert(id.to_string());
        Ok(())
    }

    /// Re-seals every sealed SecretKey with `reseal` (which gives `None`
    /// for one already under the current sealing key), all or nothing.
    pub fn reseal_keys(
        &mut self,
        reseal: impl Fn(&str, &Sealed) -> Result<Option<Sealed>, SealError>,
        changes: &mut Changes,
    ) -> Result<Resealed, AdminError> {
        let mut done = Resealed::default();
        let mut new = Vec::new();
        for (id, k) in &self.keys {
            let Some(sealed) = &k.sealed else {
                done.unsealed.push(id.clone());
                continue;
            };
            match reseal(id, sealed) {
                Ok(Some(s)) => new.push((id.clone(), s)),
                Ok(None) => done.current += 1,
                Err(cause) => {
                    return Err(AdminError::Sealing {
                        id: id.clone(),
                        cause,
                    });
                }
            }
        }
        done.resealed = new.len() as u64;
        for (id, s) in new {
            if let Some(k) = self.keys.get_mut(&id) {
                k.sealed = Some(s);
                changes.keys.insert(id);
            }
        }
        done.unsealed.sort();
        Ok(done)
    }

    /// Records when keys were last used (batched from the decision path).
    pub fn record_key_use(&mut self, uses: &[(String, i64)], changes: &mut Changes) {
        for (id, at) in uses {
            if let Some(k) = self.keys.get_mut(id) {
                if k.last_used_ms.is_none_or(|t| t < *at) {
                    k.last_used_ms = Some(*at);
                    changes.keys.insert(id.clone());
                }
            }
        }
    }

    /// Binds a CAM API call's signature (its SHA-256 `digest`, valid until
    /// `expires_s`) to `action` in the key's record. TC3 signs the body,
    /// but Tencent's SDKs sign only `content-type` and `host`, so a
    /// captured call could be resent within its window with another
    /// `X-TC-Action` over the same body (`GetUser {"Name": "a"}` turned
    /// into `DeleteUser`). TC3 has no nonce, so an honest client's calls
    /// collide too (the same call twice in a second, two reads of one
    /// body): a signature may be used again for the same action, or for
    /// another read after a read; never for a change after another action,
    /// nor for another action after a change. Kept in the record, the
    /// binding holds across restarts and, in cluster mode, on every host
    /// (two hosts binding at once conflict in etcd and the rule runs again
    /// on the newer record). Expired uses are dropped; at most
    /// `MAX_SIGNATURES` are kept per key.
    pub fn bind_signature(
        &mut self,
        b: &super::command::SignatureBinding,
        is_change: impl Fn(&str) -> bool,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let super::command::SignatureBinding {
            secret_id,
            digest,
            action,
            now_s,
            expires_s,
        } = b;
        let (digest, now_s, expires_s) = (*digest, *now_s, *expires_s);
        let Some(k) = self.keys.get_mut(secret_id) else {
            return Err(AdminError::SecretNotExist(secret_id.to_string()));
        };
        let before = k.signatures.len();
        k.signatures.retain(|s| s.expires_s >= now_s);
        let pruned = k.signatures.len() != before;
        let found = k.signatures.iter().find(|s| s.digest == digest);
        let verdict = match found {
            Some(first)
                if first.action == *action || !(is_change(&first.action) || is_change(action)) =>
            {
                Ok(false)
            }
            Some(first) => Err(AdminError::SignatureRebound(first.action.clone())),
            None if k.signatures.len() >= MAX_SIGNATURES => {
                Err(AdminError::SignaturesFull(MAX_SIGNATURES))
            }
            None => {
                k.signatures.push(super::records::SignatureUse {
                    digest,
                    action: action.clone(),
                    expires_s,
                });
                Ok(true)
            }
        };
        if pruned || verdict == Ok(true) {
            changes.keys.insert(secret_id.clone());
        }
        verdict.map(drop)
    }
}
