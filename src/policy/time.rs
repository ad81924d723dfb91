//! ISO 8601 UTC timestamps for the `date_*` condition operators, parsed and
//! rendered without allocating.

use crate::clock::{civil_from_days, days_from_civil};

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn num(&mut self, digits: usize) -> Option<i64> {
        let mut n = 0i64;
        for _ in 0..digits {
            let d = self.b.get(self.pos).filter(|c| c.is_ascii_digit())?;
            n = n * 10 + i64::from(d - b'0');
            self.pos += 1;
        }
        Some(n)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.pos == self.b.len()
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, or a date `YYYY-MM-DD` (midnight UTC),
/// or whole seconds since the epoch, into milliseconds since the epoch.
pub fn parse_ms(text: &str) -> Option<i64> {
    if !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    let mut c = Cursor {
        b: text.as_bytes(),
        pos: 0,
    };
    let y = c.num(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.num(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.num(2)?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let day_ms = days_from_civil(y, mo, d) * 86_400_000;
    if c.done() {
        return Some(day_ms);
    }
    if !(c.eat(b'T') || c.eat(b't')) {
        return None;
    }
    let h = c.num(2)?;
    if !c.eat(b':') {
        return None;
    }
    let mi = c.num(2)?;
    if !c.eat(b':') {
        return None;
    }
    let s = c.num(2)?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut ms = 0i64;
    if c.eat(b'.') {
        let mut scale = 100;
        let mut any = false;
        while let Some(dg) = c.b.get(c.pos).filter(|x| x.is_ascii_digit()) {
            ms += i64::from(dg - b'0') * scale;
            scale /= 10;
            c.pos += 1;
            any = true;
        }
        if !any {
            return None;
        }
    }
    let offset_min = if c.eat(b'Z') || c.eat(b'z') {
        0
    } else {
        let sign = if c.eat(b'+') {
            1
        } else if c.eat(b'-') {
            -1
        } else {
            return None;
        };
        let oh = c.num(2)?;
        if !c.eat(b':') {
            return None;
        }
        let om = c.num(2)?;
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh * 60 + om)
    };
    if !c.done() {
        return None;
    }
    Some(day_ms + ((h * 60 + mi - offset_min) * 60 + s) * 1000 + ms)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in a stack buffer.
#[derive(Debug, Clone, Copy)]
pub struct TimeText {
    buf: [u8; 24],
}

impl TimeText {
    /// Renders `ms` since the epoch (years 0-9999; outside them the year is clamped).
    pub fn new(ms: i64) -> Self {
        let secs = ms.div_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        let y = y.clamp(0, 9999);
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        let fields = [
            (0, y, 4),
            (5, m, 2),
            (8, d, 2),
            (11, rem / 3600, 2),
            (14, rem / 60 % 60, 2),
            (17, rem % 60, 2),
            (20, ms.rem_euclid(1000), 3),
        ];
        for (at, mut v, width) in fields {
            for i in (0..width).rev() {
                if let Some(slot) = buf.get_mut(at + i) {
                    *slot = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        }
        Self { buf }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_ms("2026-11-28T01:02:03Z"), Some(1_795_827_723_000));
        assert_eq!(
            parse_ms("2026-11-28T09:02:03+08:00"),
            Some(1_795_827_723_000)
        );
        assert_eq!(parse_ms("2026-11-28T01:02:03.5Z"), Some(1_795_827_723_500));
        assert_eq!(parse_ms("2026-11-28"), Some(1_795_824_000_000));
        assert_eq!(parse_ms("1795827723"), Some(1_795_827_723_000));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "2026-11-28T25:00:00Z",
            "2026-11-28T01:02:03",
            "x",
            "2026-11-28T01:02:03Zx",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn renders_round_trip() {
        for ms in [0, 1_795_827_723_001, 951_782_400_000, 4_102_444_799_000] {
            let t = TimeText::new(ms);
            assert_eq!(parse_ms(t.as_str()), Some(ms), "{}", t.as_str());
        }
    }
}
