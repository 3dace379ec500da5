//! Byte-level lexing of JSON strings and numbers, shared by the IR parser
//! ([`super::parser`]) and the trace's streaming canonicalizer (`crate::trace::canon`).
//!
//! Trace events are mostly string bytes, so the string scan is the hot loop: it looks at
//! eight bytes at a time (SWAR: SIMD within a register, portable and safe) for the only
//! bytes that end a plain run inside a JSON string: `"`, `\` and control characters.
//! Everything between them is copied to the canonical output as it stands.
//!
//! The rules are serde_json's, which the IR parser ([`super::parser`]) keeps, so a document
//! is accepted by the trace canonicalizer if and only if the parser accepts it: escapes
//! are `\" \\ \/ \b \f \n \r \t \uXXXX` (hex digits of either case), surrogates must
//! come as a leading `\uD8xx..\uDBxx` followed directly by a trailing `\uDCxx..\uDFxx`, raw
//! control characters are refused, and numbers follow the JSON grammar.

use std::str::Chars;

use crate::error::{CoreError, CoreResult};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte of `word` that may be `"`, `\` or below 0x20; the lowest flagged byte
/// is always a true match (borrows only spread upwards), which is all the scan needs.
#[inline]
fn specials(word: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    zero(word ^ (ONES * u64::from(b'"')))
        | zero(word ^ (ONES * u64::from(b'\\')))
        | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
}

/// The index of the first `"`, `\` or control byte at or after `from`, or `bytes.len()`.
#[inline]
pub fn find_special(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    if let Some(rest) = bytes.get(from..) {
        for chunk in rest.chunks_exact(8) {
            let word = u64::from_le_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
            let found = specials(word);
            if found != 0 {
                return i + (found.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

pub fn error_at(what: &str, at: usize) -> CoreError {
    CoreError::Serialization(format!("{what} at byte {at}"))
}

/// A JSON string whose opening quote is at `at`: the index just past its closing quote,
/// and whether it holds any escape (if not, its bytes are already canonical).
pub fn string(bytes: &[u8], at: usize) -> CoreResult<(usize, bool)> {
    let mut i = at + 1;
    let mut escaped = false;
    loop {
        i = find_special(bytes, i);
        match bytes.get(i) {
            Some(b'"') => return Ok((i + 1, escaped)),
            Some(b'\\') => {
                escaped = true;
                i = escape(bytes, i)?;
            }
            Some(_) => return Err(error_at("control character in a string", i)),
            None => return Err(error_at("unterminated string", at)),
        }
    }
}

/// Validates the escape at `at` (a backslash); returns the index just past it.
fn escape(bytes: &[u8], at: usize) -> CoreResult<usize> {
    match bytes.get(at + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
        Some(b'u') => {
            let unit = hex4(bytes, at + 2).ok_or_else(|| error_at("bad \\u escape", at))?;
            match unit {
                0xDC00..=0xDFFF => Err(error_at("lone trailing surrogate", at)),
                0xD800..=0xDBFF => {
                    let low = match (bytes.get(at + 6), bytes.get(at + 7)) {
                        (Some(b'\\'), Some(b'u')) => hex4(bytes, at + 8),
                        _ => None,
                    };
                    match low {
                        Some(0xDC00..=0xDFFF) => Ok(at + 12),
                        _ => Err(error_at("lone leading surrogate", at)),
                    }
                }
                _ => Ok(at + 6),
            }
        }
        _ => Err(error_at("invalid escape", at)),
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at + 4)?;
    digits.iter().try_fold(0_u32, |acc, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

/// How a number is written canonically.
pub enum Number {
    /// Canonical as written: an integer literal that fits 64 bits (and is not `-0`), or a
    /// short plain decimal (see [`decimal_as_written`]).
    AsWritten,
    /// Anything else: the double it denotes, in ECMAScript form.
    Double(f64),
}

/// A JSON number starting at `at`: the index just past it and its canonical kind. Numbers
/// beyond the range of a double are refused, as `serde_json` refuses them.
pub fn number(bytes: &[u8], at: usize) -> CoreResult<(usize, Number)> {
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let run = |mut i: usize| {
        while digit(i) {
            i += 1;
        }
        i
    };
    let negative = bytes.get(at) == Some(&b'-');
    let first = at + usize::from(negative);
    let mut i = match bytes.get(first) {
        Some(b'0') => first + 1,
        Some(b'1'..=b'9') => run(first + 1),
        _ => return Err(error_at("invalid number", at)),
    };
    let int_end = i;
    if bytes.get(i) == Some(&b'.') {
        if !digit(i + 1) {
            return Err(error_at("invalid number", at));
        }
        i = run(i + 1);
    }
    let fraction_end = i;
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digit(i) {
            return Err(error_at("invalid number", at));
        }
        i = run(i);
    }
    let digits = bytes.get(first..int_end).unwrap_or_default();
    let as_written = if i == int_end {
        fits_64_bits(digits, negative)
    } else if i == fraction_end {
        let fraction = bytes.get(int_end + 1..i).unwrap_or_default();
        decimal_as_written(digits, fraction)
    } else {
        false
    };
    if as_written {
        return Ok((i, Number::AsWritten));
    }
    let text = bytes
        .get(at..i)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or_default();
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok((i, Number::Double(x))),
        _ => Err(error_at("number out of the range of a double", at)),
    }
}

/// Whether `int.fraction` (no exponent) is already what ECMAScript writes for the double
/// it denotes: at most 15 significant digits, no trailing zero, and at least 1e-6 (below,
/// ECMAScript switches to exponent form). Such a decimal is the shortest string that
/// parses back to its double: any two distinct decimals of at most 15 significant digits
/// round to distinct doubles (DBL_DIG is 15), so no shorter string can round to the same
/// one; and in this range ECMAScript prints those digits in plain positional form.
fn decimal_as_written(int: &[u8], fraction: &[u8]) -> bool {
    if fraction.last().is_none_or(|&d| d == b'0') {
        return false;
    }
    let significant = if int == b"0" {
        let zeros = fraction.iter().take_while(|&&d| d == b'0').count();
        if zeros > 5 {
            return false;
        }
        fraction.len() - zeros
    } else {
        int.len() + fraction.len()
    };
    significant <= 15
}

/// Whether an integer literal's digits (no sign, no leading zero) fit an i64 (negative)
/// or a u64 (positive). `-0` does not count: it is the double -0, written `0`.
fn fits_64_bits(digits: &[u8], negative: bool) -> bool {
    let limit: &[u8] = if negative {
        b"9223372036854775808"
    } else {
        b"18446744073709551615"
    };
    if negative && digits == b"0" {
        return false;
    }
    digits.len() < limit.len() || (digits.len() == limit.len() && digits <= limit)
}

/// One piece of a string's raw (validated) content: a run of bytes that is canonical as
/// it stands, or the character one escape stands for.
pub enum Piece<'a> {
    Run(&'a str),
    Char(char),
}

/// The pieces of a validated string's raw content (between its quotes).
pub struct Pieces<'a> {
    raw: &'a str,
}

impl<'a> Pieces<'a> {
    pub fn new(raw: &'a str) -> Self {
        Pieces { raw }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        if self.raw.is_empty() {
            return None;
        }
        match self.raw.find('\\') {
            Some(0) => {
                let (c, len) = unescape(self.raw.as_bytes());
                self.raw = self.raw.get(len..).unwrap_or_default();
                Some(Piece::Char(c))
            }
            Some(k) => {
                let (run, rest) = self.raw.split_at_checked(k)?;
                self.raw = rest;
                Some(Piece::Run(run))
            }
            None => Some(Piece::Run(std::mem::take(&mut self.raw))),
        }
    }
}

/// The character of a validated escape at the start of `raw`, and the escape's length.
fn unescape(raw: &[u8]) -> (char, usize) {
    let simple = |c: char| (c, 2);
    match raw.get(1) {
        Some(b'b') => simple('\u{8}'),
        Some(b'f') => simple('\u{c}'),
        Some(b'n') => simple('\n'),
        Some(b'r') => simple('\r'),
        Some(b't') => simple('\t'),
        Some(b'u') => {
            let high = hex4(raw, 2).unwrap_or(0xFFFD);
            if (0xD800..=0xDBFF).contains(&high) {
                let low = hex4(raw, 8).unwrap_or(0xDC00);
                let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                (char::from_u32(code).unwrap_or('\u{FFFD}'), 12)
            } else {
                (char::from_u32(high).unwrap_or('\u{FFFD}'), 6)
            }
        }
        Some(&c) => simple(char::from(c)),
        None => simple('\\'),
    }
}

/// The UTF-16 code units of a validated string's content: RFC 8785 sorts member names by
/// them (they differ from UTF-8 byte order between U+E000..U+FFFF and U+10000 and above).
pub struct Units<'a> {
    pieces: Pieces<'a>,
    run: Chars<'a>,
    pending: [u16; 2],
    queued: usize,
}

impl<'a> Units<'a> {
    pub fn new(raw: &'a str) -> Self {
        Units {
            pieces: Pieces::new(raw),
            run: "".chars(),
            pending: [0; 2],
            queued: 0,
        }
    }
}

impl Iterator for Units<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        loop {
            if self.queued > 0 {
                self.queued -= 1;
                return self.pending.get(self.queued).copied();
            }
            let c = match self.run.next() {
                Some(c) => c,
                None => match self.pieces.next()? {
                    Piece::Run(run) => {
                        self.run = run.chars();
                        continue;
                    }
                    Piece::Char(c) => c,
                },
            };
            let mut buf = [0_u16; 2];
            match *c.encode_utf16(&mut buf) {
                [one] => return Some(one),
                [high, low] => {
                    self.pending = [low, 0];
                    self.queued = 1;
                    return Some(high);
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_scan_finds_the_first_special_byte() {
        let text = b"abcdefghijklmnop\"rest";
        assert_eq!(find_special(text, 0), 16);
        assert_eq!(find_special(b"abc", 0), 3);
        assert_eq!(find_special(b"a\\b", 0), 1);
        assert_eq!(find_special(b"aaaaaaa\x1f", 0), 7);
        assert_eq!(find_special("ééééé\"".as_bytes(), 0), 10);
        assert_eq!(find_special(b"\x7f\x80\xff\x20\"", 0), 4);
        for pos in 0..20 {
            let mut v = vec![b'x'; 20];
            v[pos] = b'\\';
            assert_eq!(find_special(&v, 0), pos);
            assert_eq!(find_special(&v, pos + 1), 20);
        }
    }

    #[test]
    fn the_word_scan_agrees_with_a_byte_loop() {
        // Bytes on both sides of every boundary the word compare must get right.
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xff,
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 70) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|k| {
                    let r = state.rotate_left(k as u32 * 5);
                    if r % 9 == 0 {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    } else {
                        b'a' + (r >> 16) as u8 % 26
                    }
                })
                .collect();
            for from in 0..=len {
                let naive = (from..len)
                    .find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
                    .unwrap_or(len);
                assert_eq!(find_special(&bytes, from), naive, "{bytes:?} from {from}");
            }
        }
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(string(br#""abc" "#, 0).unwrap(), (5, false));
        assert_eq!(string(br#""a\"b""#, 0).unwrap(), (6, true));
        assert_eq!(string(br#""\ud83d\ude00""#, 0).unwrap(), (14, true));
        for bad in [
            &br#""abc"#[..],
            br#""\x""#,
            br#""\u12""#,
            br#""\ud83d""#,
            br#""\ude00""#,
            br#""\ud83d\u0041""#,
            b"\"a\nb\"",
        ] {
            assert!(string(bad, 0).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn units_match_std_utf16() {
        let raw = r"a\u00e9\ud83d\ude00\n\/€😀";
        let units: Vec<u16> = Units::new(raw).collect();
        let want: Vec<u16> = "aé😀\n/€😀".encode_utf16().collect();
        assert_eq!(units, want);
    }

    #[test]
    fn numbers() {
        let kind =
            |s: &str| number(s.as_bytes(), 0).map(|(end, n)| (end, matches!(n, Number::AsWritten)));
        assert_eq!(kind("12,").unwrap(), (2, true));
        assert_eq!(kind("-0").unwrap(), (2, false));
        assert_eq!(kind("18446744073709551615").unwrap(), (20, true));
        assert_eq!(kind("18446744073709551616").unwrap(), (20, false));
        assert_eq!(kind("-9223372036854775808").unwrap(), (20, true));
        assert_eq!(kind("-9223372036854775809").unwrap(), (20, false));
        assert_eq!(kind("1.5e3]").unwrap(), (5, false));
        assert_eq!(kind("-0.55").unwrap(), (5, true));
        assert_eq!(kind("0.000001").unwrap(), (8, true));
        assert_eq!(kind("0.0000001").unwrap(), (9, false));
        assert_eq!(kind("1.50").unwrap(), (4, false));
        assert_eq!(kind("123456789.012345").unwrap(), (16, true));
        assert_eq!(kind("123456789.0123456").unwrap(), (17, false));
        assert_eq!(kind("01").unwrap(), (1, true));
        for bad in ["-", "1.", "1e", "1e+", ".5", "+1", "1e400", "-1e309"] {
            assert!(kind(bad).is_err(), "{bad}");
        }
    }
}
