//! Wildcard patterns (`*` matches any run of characters) with the policy
//! variables `${uin}` and `${owner_uin}`, pre-parsed and matched without allocating.

/// A policy variable, resolved per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `${uin}`: the caller's uin.
    Uin,
    /// `${owner_uin}`: the root account's uin.
    OwnerUin,
}

/// The values policy variables take for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vars {
    /// The caller's uin.
    pub uin: u64,
    /// The root account's uin.
    pub owner_uin: u64,
}

impl Vars {
    fn get(self, var: Var) -> u64 {
        match var {
            Var::Uin => self.uin,
            Var::OwnerUin => self.owner_uin,
        }
    }
}

/// A u64 rendered in decimal into a stack buffer.
#[derive(Debug, Clone, Copy)]
pub struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    /// Renders `n`.
    pub fn new(mut n: u64) -> Self {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        loop {
            start -= 1;
            if let Some(slot) = buf.get_mut(start) {
                *slot = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || start == 0 {
                break;
            }
        }
        Self { buf, start }
    }

    /// The digits.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

/// Texts up to this long are matched through a stack copy (lowercased,
/// or a run with its variables resolved); requests carry none longer.
const SCRATCH: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(Box<[u8]>),
    Var(Var),
}

/// Why a pattern could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

/// A pre-parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The runs between `*`s (one run when there is no `*`).
    parts: Vec<Vec<Piece>>,
    /// Literals are stored lowercase and compared ASCII-case-insensitively.
    ignore_case: bool,
    /// True when the pattern uses a policy variable.
    has_vars: bool,
    /// A faster way to match the common shapes.
    shape: Shape,
}

/// The shapes matched without walking `parts`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// A lone `*`.
    Any,
    /// A literal without wildcards or variables.
    Exact(Box<[u8]>),
    /// A literal followed by one `*`.
    Prefix(Box<[u8]>),
    /// Anything else.
    General,
}

impl Shape {
    fn of(parts: &[Vec<Piece>]) -> Self {
        let literal = |part: &[Piece]| -> Option<Box<[u8]>> {
            match part {
                [] => Some(Box::from(&b""[..])),
                [Piece::Lit(l)] => Some(l.clone()),
                _ => None,
            }
        };
        match parts {
            [a, b] if a.is_empty() && b.is_empty() => Shape::Any,
            [only] => literal(only).map_or(Shape::General, Shape::Exact),
            [first, last] if last.is_empty() => {
                literal(first).map_or(Shape::General, Shape::Prefix)
            }
            _ => Shape::General,
        }
    }
}

fn same(text: &[u8], lit: &[u8], ignore_case: bool) -> bool {
    if ignore_case {
        text.len() == lit.len()
            && text
                .iter()
                .zip(lit)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
    } else {
        text == lit
    }
}

impl Pattern {
    /// Parses `text`; with `wildcards` a `*` matches any run, otherwise it is literal.
    /// With `vars`, `${uin}` and `${owner_uin}` are variables and any other `${` is an error.
    pub fn parse(
        text: &str,
        wildcards: bool,
        vars: bool,
        ignore_case: bool,
    ) -> Result<Self, PatternError> {
        let mut parts = vec![Vec::new()];
        let mut lit: Vec<u8> = Vec::new();
        let mut has_vars = false;
        let mut rest = text;
        fn flush(parts: &mut [Vec<Piece>], lit: &mut Vec<u8>) {
            if !lit.is_empty() {
                if let Some(last) = parts.last_mut() {
                    last.push(Piece::Lit(std::mem::take(lit).into_boxed_slice()));
                }
            }
        }
        while let Some(c) = rest.chars().next() {
            if wildcards && c == '*' {
                flush(&mut parts, &mut lit);
                parts.push(Vec::new());
                rest = rest.get(1..).unwrap_or_default();
                continue;
            }
            if vars && rest.starts_with("${") {
                let end = rest.find('}').ok_or_else(|| {
                    PatternError(format!("unterminated policy variable in `{text}`"))
                })?;
                let name = rest.get(2..end).unwrap_or_default();
                let var = match name {
                    "uin" => Var::Uin,
                    "owner_uin" => Var::OwnerUin,
                    _ => {
                        return Err(PatternError(format!(
                            "unknown policy variable `${{{name}}}` (known: `${{uin}}`, `${{owner_uin}}`)"
                        )));
                    }
                };
                flush(&mut parts, &mut lit);
                if let Some(last) = parts.last_mut() {
                    last.push(Piece::Var(var));
                }
                has_vars = true;
                rest = rest.get(end + 1..).unwrap_or_default();
                continue;
            }
            let mut buf = [0u8; 4];
            let encoded = c.encode_utf8(&mut buf);
            if ignore_case {
                encoded.make_ascii_lowercase();
            }
            lit.extend_from_slice(encoded.as_bytes());
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        flush(&mut parts, &mut lit);
        Ok(Self {
            shape: Shape::of(&parts),
            parts,
            ignore_case,
            has_vars,
        })
    }

    /// True for a pattern that is a lone `*`.
    pub fn is_any(&self) -> bool {
        self.parts.len() == 2 && self.parts.iter().all(Vec::is_empty)
    }

    /// True when the pattern contains a `*` wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.parts.len() > 1
    }

    /// True when the pattern uses a policy variable.
    pub fn has_vars(&self) -> bool {
        self.has_vars
    }

    /// The literal of a case-sensitive pattern that is one literal
    /// (`Some((literal, false))`) or one literal and a trailing `*`
    /// (`Some((literal, true))`).
    pub(super) fn literal(&self) -> Option<(&[u8], bool)> {
        match &self.shape {
            _ if self.ignore_case => None,
            Shape::Exact(l) => Some((l, false)),
            Shape::Prefix(l) => Some((l, true)),
            Shape::Any | Shape::General => None,
        }
    }

    /// Whether `text` matches, with variables resolved from `vars`. Linear
    /// in the lengths of `text` and the pattern: each run between `*`s is
    /// found with a substring search (a pathological pattern cannot make a
    /// decision slow).
    pub fn matches(&self, text: &str, vars: Vars) -> bool {
        let t = text.as_bytes();
        if self.ignore_case && t.len() <= SCRATCH {
            // Literals are stored lowercase: match a lowercase copy exactly.
            let mut buf = [0u8; SCRATCH];
            let Some(lower) = buf.get_mut(..t.len()) else {
                return false;
            };
            for (d, s) in lower.iter_mut().zip(t) {
                *d = s.to_ascii_lowercase();
            }
            return self.matches_bytes(lower, false, vars);
        }
        self.matches_bytes(t, self.ignore_case, vars)
    }

    fn matches_bytes(&self, t: &[u8], ignore_case: bool, vars: Vars) -> bool {
        match &self.shape {
            Shape::Any => return true,
            Shape::Exact(lit) => return same(t, lit, ignore_case),
            Shape::Prefix(lit) => {
                return t
                    .get(..lit.len())
                    .is_some_and(|head| same(head, lit, ignore_case));
            }
            Shape::General => {}
        }
        let n = self.parts.len();
        let (Some(first), Some(last)) = (self.parts.first(), self.parts.last()) else {
            return false;
        };
        if n == 1 {
            return self.match_at(first, t, 0, vars, ignore_case) == Some(t.len());
        }
        let Some(mut pos) = self.match_at(first, t, 0, vars, ignore_case) else {
            return false;
        };
        let last_len = self.len_of(last, vars);
        let Some(tail_start) = t.len().checked_sub(last_len) else {
            return false;
        };
        if tail_start < pos
            || self.match_at(last, t, tail_start, vars, ignore_case) != Some(t.len())
        {
            return false;
        }
        // Each middle run at its leftmost place in what is left, before
        // the tail (leftmost is always as good as any other).
        for part in self.parts.iter().take(n - 1).skip(1) {
            if part.is_empty() {
                continue;
            }
            match self.find(part, t, pos, tail_start, vars, ignore_case) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        true
    }

    /// The end of the leftmost occurrence of `part` inside `t[from..until]`.
    fn find(
        &self,
        part: &[Piece],
        t: &[u8],
        from: usize,
        until: usize,
        vars: Vars,
        ignore_case: bool,
    ) -> Option<usize> {
        let hay = t.get(from..until)?;
        // The run with its variables resolved, on the stack.
        let mut buf = [0u8; SCRATCH];
        let mut len = 0;
        let mut fits = !ignore_case;
        for piece in part {
            if !fits {
                break;
            }
            let digits;
            let bytes: &[u8] = match piece {
                Piece::Lit(l) => l,
                Piece::Var(v) => {
                    digits = Digits::new(vars.get(*v));
                    digits.as_bytes()
                }
            };
            match buf.get_mut(len..len + bytes.len()) {
                Some(slot) => {
                    slot.copy_from_slice(bytes);
                    len += bytes.len();
                }
                None => fits = false,
            }
        }
        if fits {
            let needle = buf.get(..len)?;
            return memchr::memmem::find(hay, needle).map(|i| from + i + len);
        }
        // Case-insensitive text too long for the scratch buffer, or a run
        // longer than it: compare at each place (only texts over
        // `SCRATCH` bytes get here, and requests carry none).
        let mut start = from;
        while start <= until {
            if let Some(end) = self.match_at(part, t, start, vars, ignore_case) {
                return (end <= until).then_some(end);
            }
            start += 1;
        }
        None
    }

    fn len_of(&self, part: &[Piece], vars: Vars) -> usize {
        part.iter()
            .map(|p| match p {
                Piece::Lit(l) => l.len(),
                Piece::Var(v) => Digits::new(vars.get(*v)).as_bytes().len(),
            })
            .sum()
    }

    /// Matches the pieces of `part` at `start`; returns the end offset.
    fn match_at(
        &self,
        part: &[Piece],
        t: &[u8],
        start: usize,
        vars: Vars,
        ignore_case: bool,
    ) -> Option<usize> {
        let mut pos = start;
        for piece in part {
            match piece {
                Piece::Lit(lit) => {
                    let end = pos.checked_add(lit.len())?;
                    if !same(t.get(pos..end)?, lit, ignore_case) {
                        return None;
                    }
                    pos = end;
                }
                Piece::Var(v) => {
                    let digits = Digits::new(vars.get(*v));
                    let d = digits.as_bytes();
                    let end = pos.checked_add(d.len())?;
                    if t.get(pos..end)? != d {
                        return None;
                    }
                    pos = end;
                }
            }
        }
        Some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Vars = Vars {
        uin: 100,
        owner_uin: 12345678,
    };

    fn m(p: &str, t: &str) -> bool {
        Pattern::parse(p, true, true, false).unwrap().matches(t, V)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "ab"));
        assert!(m("*b*", "abc"));
        assert!(!m("*d*", "abc"));
        assert!(m("a*b*b", "abbb"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("**", "x"));
        assert!(!m("abc", "abcd"));
        assert!(m("x/${uin}", "x/100"));
        assert!(!m("x/${uin}", "x/1000"));
        assert!(m("${owner_uin}*", "12345678/a"));
    }

    #[test]
    fn runs_are_found_leftmost_and_in_linear_time() {
        assert!(m("a*b*c*d", "a--b--c--d"));
        assert!(!m("a*c*b*d", "a--b--c--d"));
        assert!(m("*${uin}*", "x100y"));
        assert!(!m("x*${uin}y", "x1000y"));
        assert!(m("*aab*", "aaab"));
        // The review's pattern: `sdkappid/*` + 5,900 `a` + `b*` against a
        // long resource of `a`s: found absent without quadratic work.
        let p = format!("sdkappid/*{}b*", "a".repeat(5900));
        let text = format!("sdkappid/{}", "a".repeat(1000));
        assert!(!m(&p, &text));
        assert!(m(&p, &format!("sdkappid/x{}bz", "a".repeat(5900))));
        let p = Pattern::parse("*DESCRIBE*list", true, false, true).unwrap();
        assert!(p.matches("im:describeAccountList", V));
        assert!(!p.matches("im:describeAccount", V));
    }

    #[test]
    fn case() {
        let p = Pattern::parse("im:Describe*", true, false, true).unwrap();
        assert!(p.matches("IM:describeAccountList", V));
        let p = Pattern::parse("Abc", true, false, false).unwrap();
        assert!(!p.matches("abc", V));
    }

    #[test]
    fn variable_errors() {
        assert!(Pattern::parse("${nope}", true, true, false).is_err());
        assert!(Pattern::parse("${uin", true, true, false).is_err());
        assert!(Pattern::parse("${nope}", true, false, false).is_ok());
    }

    #[test]
    fn digits() {
        assert_eq!(Digits::new(0).as_bytes(), b"0");
        assert_eq!(Digits::new(u64::MAX).as_bytes(), b"18446744073709551615");
    }
}
