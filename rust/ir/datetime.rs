//! RFC 3339 date-times as msgspec reads them, checked without building a value.
//!
//! `YYYY-MM-DD` (year 1..=9999, real calendar days), `T`, `t` or a space, `HH:MM:SS`
//! (seconds below 60), an optional `.` and one or more fraction digits, then optionally
//! `Z`/`z`, `±HH:MM` or `±HHMM` (offsets below 24 hours).

fn digits(bytes: &[u8], at: usize, count: usize) -> Option<u32> {
    let part = bytes.get(at..at + count)?;
    part.iter().try_fold(0_u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `Some(has_offset)` for a valid date-time, `None` otherwise.
pub fn parse_rfc3339(text: &str) -> Option<bool> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b.get(i) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let fraction = b
            .get(at + 1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if fraction == 0 {
            return None;
        }
        at += 1 + fraction;
    }
    match b.get(at..)? {
        [] => Some(false),
        [b'Z' | b'z'] => Some(true),
        [b'+' | b'-', rest @ ..] => {
            let (h, m) = match rest {
                [_, _, b':', _, _] => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                [_, _, _, _] => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                _ => return None,
            };
            (h < 24 && m < 60).then_some(true)
        }
        _ => None,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A valid date-time as the instant it denotes, in microseconds since the Unix epoch
/// (fractions rounded to the microsecond, as Python's `datetime` keeps them; no offset
/// reads as UTC). None when `text` is not a date-time.
pub fn instant(text: &str) -> Option<i64> {
    parse_rfc3339(text)?;
    let b = text.as_bytes();
    let field = |at: usize, n: usize| digits(b, at, n).map(i64::from);
    let days = days_from_civil(field(0, 4)?, field(5, 2)?, field(8, 2)?);
    let mut micros = ((days * 24 + field(11, 2)?) * 60 + field(14, 2)?) * 60 + field(17, 2)?;
    micros *= 1_000_000;
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        let frac: Vec<i64> = b
            .get(at + 1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .map(|&c| i64::from(c - b'0'))
            .collect();
        at += 1 + frac.len();
        let mut value = 0;
        for i in 0..6 {
            value = value * 10 + frac.get(i).copied().unwrap_or(0);
        }
        if frac.get(6).is_some_and(|&d| d >= 5) {
            value += 1;
        }
        micros += value;
    }
    let offset = match b.get(at..)? {
        [b'+' | b'-', rest @ ..] => {
            let (h, m) = match rest {
                [_, _, b':', _, _] => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
            };
            let minutes = i64::from(h * 60 + m);
            if b.get(at) == Some(&b'-') {
                -minutes
            } else {
                minutes
            }
        }
        _ => 0,
    };
    Some(micros - offset * 60_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_as_msgspec_does() {
        let cases = [
            ("2026-11-23T10:00:00", Some(false)),
            ("2026-11-23t10:00:00z", Some(true)),
            ("2026-11-23 10:00:00Z", Some(true)),
            ("2026-11-23T10:00:00.1234567Z", Some(true)),
            ("2026-11-23T10:00:00+0100", Some(true)),
            ("2024-02-29T10:00:00Z", Some(true)),
            ("2026-11-23T10:00:00-23:59", Some(true)),
            ("2026-11-23T10:00Z", None),
            ("2026-11-23T10:00:00,5Z", None),
            ("2026-11-23T10:00:00+01", None),
            ("2026-02-29T10:00:00Z", None),
            ("2026-11-23T24:00:00Z", None),
            ("2026-11-23T23:59:60Z", None),
            ("2026-11-23", None),
            ("2026-11-23T10:00:00+24:00", None),
            ("0000-01-01T00:00:00Z", None),
            ("2026-11-23T10:00:00.Z", None),
            (" 2026-11-23T10:00:00Z", None),
            ("2026-11-23T10:00:00Zjunk", None),
            ("２026-11-23T10:00:00Z", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_rfc3339(text), want, "{text}");
        }
    }
}
