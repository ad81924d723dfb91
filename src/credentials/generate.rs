//! Generating SecretIds, SecretKeys and passwords from the system's CSPRNG
//! without modulo bias, and the password rule.

use crate::code::Code;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;

use super::secret::Secret;

/// Why a credential could not be made or accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CredentialError {
    /// The system random source failed.
    #[error("{code}: the system random number generator failed", code = Code::Random)]
    Random,
    /// A given password breaks the rule.
    #[error(
        "{code}: a password needs 8-32 characters with upper case, lower case, digits and symbols",
        code = Code::PasswordViolatedRules
    )]
    PasswordViolatedRules,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SYMBOLS: &[u8] = b"!#$%&()*+,-.:;<=>?@[]^_{|}~";

/// `n` characters drawn uniformly from `alphabet` (rejection sampling: a byte
/// is used only below the largest multiple of the alphabet's size).
fn draw(rng: &SystemRandom, alphabet: &[u8], n: usize) -> Result<String, CredentialError> {
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf).map_err(|_| CredentialError::Random)?;
        for b in buf {
            if usize::from(b) < limit && out.len() < n {
                if let Some(c) = alphabet.get(usize::from(b) % size) {
                    out.push(char::from(*c));
                }
            }
        }
    }
    buf.fill(0);
    Ok(out)
}

/// A new SecretId: `AKID` and 32 characters of `[A-Za-z0-9]`.
pub fn generate_secret_id(rng: &SystemRandom) -> Result<String, CredentialError> {
    Ok(format!("AKID{}", draw(rng, ALNUM, 32)?))
}

/// True when `s` has the SecretId shape.
pub fn is_secret_id(s: &str) -> bool {
    s.len() == 36 && s.starts_with("AKID") && s.bytes().skip(4).all(|b| b.is_ascii_alphanumeric())
}

/// A new SecretKey: 32 characters of `[A-Za-z0-9]` (about 190 bits).
pub fn generate_secret_key(rng: &SystemRandom) -> Result<Secret, CredentialError> {
    draw(rng, ALNUM, 32).map(Secret::new)
}

/// A new password: 32 characters with upper case, lower case, digits and symbols.
pub fn generate_password(rng: &SystemRandom) -> Result<Secret, CredentialError> {
    let alphabet: Vec<u8> = ALNUM.iter().chain(SYMBOLS).copied().collect();
    loop {
        let p = Secret::new(draw(rng, &alphabet, 32)?);
        if check_password_rules(p.expose(), 32, "Aa0#").is_ok() {
            return Ok(p);
        }
    }
}

/// CAM's password rules: `min_length`-32 printable ASCII characters
/// without spaces, with a character of each class in `must_contain` (`A`
/// upper case, `a` lower case, `0` digits, `#` symbols). camd's default
/// (no rules set) is 8 and `Aa0#`.
pub fn check_password_rules(
    p: &str,
    min_length: usize,
    must_contain: &str,
) -> Result<(), CredentialError> {
    let n = p.chars().count();
    let has = |f: fn(&char) -> bool| p.chars().any(|c| f(&c));
    let class_ok = |class: char| match class {
        'A' => has(char::is_ascii_uppercase),
        'a' => has(char::is_ascii_lowercase),
        '0' => has(char::is_ascii_digit),
        '#' => has(char::is_ascii_punctuation),
        _ => false,
    };
    let ok = (min_length.max(1)..=32).contains(&n)
        && must_contain.chars().all(class_ok)
        && p.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(CredentialError::PasswordViolatedRules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let rng = SystemRandom::new();
        let id = generate_secret_id(&rng).unwrap();
        assert!(is_secret_id(&id), "{id}");
        let key = generate_secret_key(&rng).unwrap();
        assert_eq!(key.expose().len(), 32);
        assert!(key.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        let p = generate_password(&rng).unwrap();
        assert_eq!(p.expose().len(), 32);
        check_password_rules(p.expose(), 32, "Aa0#").unwrap();
        assert_ne!(generate_secret_id(&rng).unwrap(), id);
    }

    #[test]
    fn uniform_enough() {
        // 62 symbols, 62,000 draws: every symbol within a generous band of 1,000.
        let rng = SystemRandom::new();
        let s = draw(&rng, ALNUM, 62_000).unwrap();
        for c in ALNUM {
            let n = s.bytes().filter(|b| b == c).count();
            assert!((800..1200).contains(&n), "{} drawn {n} times", *c as char);
        }
    }

    #[test]
    fn password_rules() {
        for bad in [
            "Short1!",
            "alllowercase1!",
            "ALLUPPER1!",
            "NoDigits!!",
            "NoSymbols12",
            "Has Space1!",
            &"Aa1!".repeat(9),
        ] {
            assert_eq!(
                check_password_rules(bad, 8, "Aa0#"),
                Err(CredentialError::PasswordViolatedRules),
                "{bad}"
            );
        }
        check_password_rules("Good-Pass1", 8, "Aa0#").unwrap();
        // Rules of the account's own: longer, fewer classes.
        check_password_rules("onlylowercase", 12, "a").unwrap();
        assert!(check_password_rules("Good-Pass1", 12, "Aa0#").is_err());
        assert!(check_password_rules("nouppercase1!", 8, "A").is_err());
    }
}
