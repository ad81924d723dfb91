//! Account-wide settings: GetPasswordRules and UpdatePasswordRules.

use crate::code::Failure;
use crate::protocol::{Done, GetPasswordRules, PasswordRulesInfo, UpdatePasswordRules};
use crate::store::PasswordRules;

use super::{Env, Exec, Resources, Right};

fn info(r: PasswordRules) -> PasswordRulesInfo {
    PasswordRulesInfo {
        minimum_length: r.minimum_length,
        must_contain: r.must_contain,
        force_change_days: r.force_change_days,
        reuse_limit: r.reuse_limit,
        retry_limit: r.retry_limit,
        expiration_invalidation: r.expiration_invalidation,
        updated_ms: r.updated_ms,
        modifier: r.modifier,
    }
}

impl Exec for GetPasswordRules {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:GetPasswordRules", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<PasswordRulesInfo, Failure> {
        env.read(|s, _| Ok(info(s.password_rules()))).await
    }
}

impl Exec for UpdatePasswordRules {
    fn rights(&self, _: &Resources<'_>) -> Vec<Right> {
        vec![Right::on("cam:UpdatePasswordRules", "*".into())]
    }

    async fn run(self, env: &Env<'_>) -> Result<Done, Failure> {
        // As CAM's Modifier: who, by uin (the audit trail has the rest).
        let modifier = env.caller_uin.to_string();
        env.change(move |s, cx, ch| {
            let u = self.clone();
            let old = s.password_rules();
            let rules = PasswordRules {
                minimum_length: u.minimum_length.unwrap_or(old.minimum_length),
                must_contain: u.must_contain.unwrap_or(old.must_contain),
                force_change_days: u.force_change_days.unwrap_or(old.force_change_days),
                reuse_limit: u.reuse_limit.unwrap_or(old.reuse_limit),
                retry_limit: u.retry_limit.unwrap_or(old.retry_limit),
                expiration_invalidation: u
                    .expiration_invalidation
                    .unwrap_or(old.expiration_invalidation),
                ..old
            };
            s.update_password_rules(rules, &modifier, cx, ch)
        })
        .await?;
        Ok(Done)
    }
}
