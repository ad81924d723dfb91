//! The wall clock, in the one unit camd stores and shows: milliseconds
//! since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch (0 before it, `i64::MAX` far after).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The UTC date of `secs` since the epoch as `YYYY-MM-DD` (years clamped to 0-9999).
pub fn utc_date(secs: i64) -> [u8; 10] {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let y = y.clamp(0, 9999);
    let mut buf = *b"0000-00-00";
    for (at, mut v, width) in [(0, y, 4), (5, m, 2), (8, d, 2)] {
        for i in (0..width).rev() {
            if let Some(slot) = buf.get_mut(at + i) {
                *slot = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(&utc_date(0), b"1970-01-01");
        assert_eq!(&utc_date(1_551_113_065), b"2019-02-25");
        assert_eq!(&utc_date(-1), b"1969-12-31");
        assert_eq!(days_from_civil(2019, 2, 25), 1_551_052_800 / 86_400);
    }
}
