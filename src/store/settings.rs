//! The rules of account-wide settings: CAM's password rules and the
//! remarks (aliases) of preset policies.

use super::error::AdminError;
use super::records::{PasswordRules, Setting};
use super::rules::{Ctx, MAX_REMARK, check_len};
use super::state::{Changes, PASSWORD_RULES, State, preset_alias_key};

/// The character classes `MustContain` may name.
pub const CLASSES: &str = "Aa0#";
/// The password lengths camd takes (CAM's documented 8-32).
pub const PASSWORD_LENGTHS: std::ops::RangeInclusive<u32> = 8..=32;
/// The longest forced-change period, in days (ten years).
const MAX_FORCE_CHANGE_DAYS: u32 = 3650;
/// The most earlier passwords remembered.
pub const MAX_REUSE_LIMIT: u32 = 24;
/// The most wrong passwords allowed before a lock.
const MAX_RETRY_LIMIT: u32 = 100;

/// Checks password rules; the error names the bad one.
pub fn check_password_rules(r: &PasswordRules) -> Result<(), AdminError> {
    let bad = |what: String| Err(AdminError::PasswordRule(what));
    if !PASSWORD_LENGTHS.contains(&r.minimum_length) {
        return bad(format!(
            "MinimumLength is {}; it must be 8-32",
            r.minimum_length
        ));
    }
    if r.must_contain.len() > CLASSES.len() {
        return bad(format!(
            "MustContain is {} characters; it names each of `Aa0#` at most once",
            r.must_contain.len()
        ));
    }
    if let Some(c) = r.must_contain.chars().find(|c| !CLASSES.contains(*c)) {
        return bad(format!(
            "MustContain has `{c}`; it takes `A` (upper case), `a` (lower case), `0` (digits) and `#` (symbols)"
        ));
    }
    if r.force_change_days > MAX_FORCE_CHANGE_DAYS {
        return bad(format!(
            "ForcePasswordChange is {} days; at most {MAX_FORCE_CHANGE_DAYS}",
            r.force_change_days
        ));
    }
    if r.reuse_limit > MAX_REUSE_LIMIT {
        return bad(format!(
            "ReusePasswordLimit is {}; at most {MAX_REUSE_LIMIT}",
            r.reuse_limit
        ));
    }
    if r.retry_limit > MAX_RETRY_LIMIT {
        return bad(format!(
            "RetryPasswordLimit is {}; at most {MAX_RETRY_LIMIT}",
            r.retry_limit
        ));
    }
    if !(1..=2).contains(&r.expiration_invalidation) {
        return bad(format!(
            "PasswordExpirationInvalidation is {}; it must be 1 or 2",
            r.expiration_invalidation
        ));
    }
    Ok(())
}

impl State {
    /// Replaces the password rules, noting who changed them and when.
    pub fn update_password_rules(
        &mut self,
        mut rules: PasswordRules,
        modifier: &str,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_password_rules(&rules)?;
        rules.updated_ms = ctx.now_ms;
        rules.modifier = modifier.to_string();
        self.put_setting(PASSWORD_RULES, Some(Setting::PasswordRules(rules)));
        changes.settings.insert(PASSWORD_RULES.to_string());
        Ok(())
    }

    /// Sets (or, empty, clears) a preset policy's alias.
    pub fn set_preset_alias(
        &mut self,
        preset: &str,
        alias: &str,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        check_len("alias", alias, MAX_REMARK)?;
        let key = preset_alias_key(preset);
        let v = (!alias.is_empty()).then(|| Setting::PresetAlias(alias.to_string()));
        self.put_setting(&key, v);
        changes.settings.insert(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_out_of_range_are_refused_by_name() {
        assert!(check_password_rules(&PasswordRules::default()).is_ok());
        for (r, word) in [
            (
                PasswordRules {
                    minimum_length: 7,
                    ..PasswordRules::default()
                },
                "MinimumLength",
            ),
            (
                PasswordRules {
                    must_contain: "Az".into(),
                    ..PasswordRules::default()
                },
                "`z`",
            ),
            (
                PasswordRules {
                    reuse_limit: 99,
                    ..PasswordRules::default()
                },
                "ReusePasswordLimit",
            ),
            (
                PasswordRules {
                    expiration_invalidation: 0,
                    ..PasswordRules::default()
                },
                "Expiration",
            ),
        ] {
            let e = check_password_rules(&r).unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
    }
}
