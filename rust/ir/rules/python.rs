//! Python's reading of JSON values, for rules whose verdicts and messages must match the
//! Python objects the documents decode to: truthiness, equality (`1 == 1.0 == True`, maps
//! regardless of order), `repr`, `format(x, "g")` and `math.fsum`.

use std::cmp::Ordering;

use super::super::canonical::{Node, Num};

/// `bool(value)`.
pub fn truthy(node: &Node<'_>) -> bool {
    match node {
        Node::Null => false,
        Node::Bool(b) => *b,
        Node::Number(n) => n.as_f64() != 0.0,
        Node::String(s) => !s.is_empty(),
        Node::Array(items) => !items.is_empty(),
        Node::Object(members) => !members.is_empty(),
    }
}

fn numeric(node: &Node<'_>) -> Option<Num> {
    match node {
        Node::Bool(b) => Some(Num::Int(i64::from(*b))),
        Node::Number(n) => Some(*n),
        _ => None,
    }
}

fn same_number(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x == y,
        (Num::UInt(x), Num::UInt(y)) => x == y,
        (Num::Int(x), Num::UInt(y)) | (Num::UInt(y), Num::Int(x)) => {
            u64::try_from(x).is_ok_and(|x| x == y)
        }
        (x, y) => x.as_f64() == y.as_f64(),
    }
}

/// `a == b` for decoded JSON values.
pub fn py_eq(a: &Node<'_>, b: &Node<'_>) -> bool {
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return same_number(x, y);
    }
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::String(x), Node::String(y)) => x == y,
        (Node::Array(x), Node::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Node::Object(x), Node::Object(y)) => {
            // Member names are unique (the parser rejects duplicates).
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| k2 == k)
                        .is_some_and(|(_, w)| py_eq(v, w))
                })
        }
        _ => false,
    }
}

/// `repr(text)`.
pub fn repr_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// `str.isprintable` for one character: not a control, format, separator (other than
/// the space), private-use or unassigned character. The common ranges are listed; small
/// unassigned gaps inside the assigned planes are not, so their `repr` may differ.
fn printable(c: char) -> bool {
    let u = c as u32;
    !(u < 0x20
        || (0x7f..=0xa0).contains(&u)
        || u == 0xad
        || u == 0x1680
        || (0x2000..=0x200f).contains(&u)
        || (0x2028..=0x202f).contains(&u)
        || (0x205f..=0x2064).contains(&u)
        || (0x2066..=0x206f).contains(&u)
        || u == 0x3000
        || u == 0xfeff
        || (0xe000..=0xf8ff).contains(&u)
        || (0xfff9..=0xfffb).contains(&u)
        // planes 3 to 16 past the CJK extensions: unassigned, tags or private use
        || (0x2fa20..=0x2ffff).contains(&u)
        || (0x3134b..=0x3134f).contains(&u)
        || (0x323b0..=0xe00ff).contains(&u)
        || u >= 0xe01f0)
}

/// `repr(x)` for a float: the shortest digits that round-trip, in positional notation
/// for exponents -4..16 and scientific notation (`1e-05`, `1.5e+16`) otherwise.
pub fn repr_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{}{}.0", digits, "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        };
        format!("{sign}{body}")
    } else {
        let (head, tail) = digits.split_at(1.min(digits.len()));
        let frac = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{head}{frac}e{esign}{:02}", exp.unsigned_abs())
    }
}

/// `repr(n)` for a number as Python decodes it into a float field.
pub fn repr_as_float(n: Num) -> String {
    repr_float(n.as_f64())
}

/// `repr(n)` for a number as decoded JSON (ints stay ints).
pub fn repr_num(n: Num) -> String {
    match n {
        Num::Int(v) => v.to_string(),
        Num::UInt(v) => v.to_string(),
        Num::Float(v) => repr_float(v),
    }
}

/// `repr(value)` for a decoded JSON value.
pub fn repr(node: &Node<'_>) -> String {
    match node {
        Node::Null => "None".into(),
        Node::Bool(true) => "True".into(),
        Node::Bool(false) => "False".into(),
        Node::Number(n) => repr_num(*n),
        Node::String(s) => repr_str(s),
        Node::Array(items) => {
            let inner: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Node::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// `format(x, "g")`: six significant digits, trailing zeros dropped, scientific notation
/// below 1e-4 and from 1e6.
pub fn format_g(x: f64) -> String {
    if !x.is_finite() {
        return repr_float(x);
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = (5 - exp).max(0) as usize;
        trim(format!("{x:.decimals$}"))
    } else {
        let esign = if exp < 0 { '-' } else { '+' };
        format!(
            "{}e{esign}{:02}",
            trim(mantissa.to_owned()),
            exp.unsigned_abs()
        )
    }
}

/// `math.fsum`: the correctly rounded sum (Shewchuk's exact partials).
pub fn fsum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in values {
        let mut kept = 0;
        for i in 0..partials.len() {
            let Some(&y) = partials.get(i) else { break };
            let (a, b) = if x.abs() < y.abs() { (y, x) } else { (x, y) };
            let hi = a + b;
            let lo = b - (hi - a);
            if lo != 0.0 {
                if let Some(slot) = partials.get_mut(kept) {
                    *slot = lo;
                }
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    // Round the partials' sum correctly, from the largest down (as CPython does).
    let mut hi = 0.0;
    let mut n = partials.len();
    if n > 0 {
        n -= 1;
        hi = partials.get(n).copied().unwrap_or(0.0);
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials.get(n).copied().unwrap_or(0.0);
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 {
            let next = partials.get(n - 1).copied().unwrap_or(0.0);
            if (lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0) {
                let y = lo * 2.0;
                let x = hi + y;
                if y == x - hi {
                    hi = x;
                }
            }
        }
    }
    hi
}

/// The zero of every run of Unicode decimal digits (category Nd; each run holds 0..9).
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// The value of a decimal digit of any script, as Python's `int`, `float` and `\d` read it.
pub fn digit_value(c: char) -> Option<u32> {
    let u = c as u32;
    let zero = match DIGIT_ZEROS.binary_search(&u) {
        Ok(i) => DIGIT_ZEROS.get(i),
        Err(i) => DIGIT_ZEROS.get(i.checked_sub(1)?),
    }?;
    (u - zero < 10).then_some(u - zero)
}

/// `text` with every decimal digit written as its ASCII digit (other characters kept).
pub fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from_digit(d, 10).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// `a < b`, `a == b`, `a > b` as Python decides between ints and floats: exactly, never
/// through a rounding conversion (`2**63 - 1 > 2**63 - 2`, `2**53 + 1 > 2.0**53`). None
/// when a NaN is involved.
pub fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    let exact = |n: Num| match n {
        Num::Int(v) => Some(i128::from(v)),
        Num::UInt(v) => Some(i128::from(v)),
        Num::Float(_) => None,
    };
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (Some(x), None) => int_float_cmp(x, b.as_f64()),
        (None, Some(y)) => int_float_cmp(y, a.as_f64()).map(Ordering::reverse),
        (None, None) => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

fn int_float_cmp(x: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i64/u64 lies within ±2^65; beyond that the float decides on its own.
    const WIDE: f64 = 36_893_488_147_419_103_232.0; // 2^65
    if f >= WIDE {
        return Some(Ordering::Less);
    }
    if f <= -WIDE {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // |whole| < 2^65, so the conversion is exact.
    let whole_int = whole as i128;
    Some(x.cmp(&whole_int).then(if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    }))
}
