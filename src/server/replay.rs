//! A signature binds the action of the first CAM API call it verified, when
//! either is a change. TC3 signs the body, but Tencent's SDKs sign only the
//! `content-type` and `host` headers, so a captured call could be resent
//! within its timestamp window with another `X-TC-Action` over the same
//! signed body: a `GetUser {"Name": "a"}` turned into `DeleteUser`. TC3 has
//! no nonce, so an honest client's calls collide too: the same call twice
//! in one second, or two reads with the same body (`ListAccessKeys` and
//! `ListAttachedUserPolicies` of one `TargetUin`), carry one signature. So
//! a signature may be used again for the same action, or for another read
//! after a read; never for a change after another action, nor for another
//! action after a change. Entries expire with their window; the set is
//! bounded.

use std::collections::HashMap;
use std::sync::Mutex;

/// Signatures seen and the action each was first used for, until their
/// windows close.
pub struct Replays {
    seen: Mutex<HashMap<[u8; 32], (String, i64)>>,
    max: usize,
}

/// Why a signature may not be used for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Used before, within its window, for another action.
    Rebound,
    /// Too many signatures are in their window to remember another.
    Full,
}

impl Replays {
    /// Remembers at most `max` signatures.
    pub fn new(max: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// Records that `signature` (valid until `expires`, in seconds) was
    /// used for `action`; refuses it for another action when either is a
    /// change (`is_change`).
    pub fn bind(
        &self,
        signature: [u8; 32],
        action: &str,
        expires: i64,
        now: i64,
        is_change: impl Fn(&str) -> bool,
    ) -> Result<(), Refused> {
        let Ok(mut seen) = self.seen.lock() else {
            return Err(Refused::Full);
        };
        match seen.get(&signature) {
            Some((first, until)) if *until >= now => {
                return if first == action || !(is_change(first) || is_change(action)) {
                    Ok(())
                } else {
                    Err(Refused::Rebound)
                };
            }
            _ => {}
        }
        if seen.len() >= self.max {
            seen.retain(|_, (_, until)| *until >= now);
            if seen.len() >= self.max {
                return Err(Refused::Full);
            }
        }
        seen.insert(signature, (action.to_string(), expires));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(a: &str) -> bool {
        !(a.starts_with("Get") || a.starts_with("List"))
    }

    #[test]
    fn a_signature_keeps_its_first_action_within_its_window_and_the_set_is_bounded() {
        let r = Replays::new(2);
        let bind = |sig: u8, action: &str, expires: i64, now: i64| {
            r.bind([sig; 32], action, expires, now, change)
        };
        assert_eq!(bind(1, "GetUser", 100, 0), Ok(()));
        assert_eq!(bind(1, "GetUser", 100, 50), Ok(()));
        assert_eq!(bind(1, "ListAccessKeys", 100, 50), Ok(()));
        assert_eq!(bind(1, "DeleteUser", 100, 50), Err(Refused::Rebound));
        assert_eq!(bind(2, "DeleteUser", 100, 50), Ok(()));
        assert_eq!(bind(2, "DeleteUser", 100, 50), Ok(()));
        assert_eq!(bind(2, "GetUser", 100, 50), Err(Refused::Rebound));
        assert_eq!(bind(3, "ListUsers", 100, 50), Err(Refused::Full));
        // Once the windows close, the old entries go.
        assert_eq!(bind(3, "ListUsers", 300, 101), Ok(()));
        assert_eq!(bind(1, "DeleteUser", 300, 101), Ok(()));
    }
}
