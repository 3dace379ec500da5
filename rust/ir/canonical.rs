//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and content fingerprints.
//!
//! Two documents that mean the same thing canonicalize to the same bytes, so their SHA-256
//! is a content address: object members sorted by the UTF-16 code units of their names, no
//! insignificant whitespace, strings with only the mandatory escapes (`\"`, `\\`, the
//! short forms `\b \f \n \r \t`, other control characters as lower-case `\u00xx`),
//! and every fractional or exponent-form number written as ECMAScript's
//! `Number.prototype.toString` writes that IEEE-754 double. One deliberate extension,
//! shared with `crucible.ir.canonical`: integer literals that fit 64 bits are written
//! exactly (RFC 8785 would round those beyond 2⁵³ to a double and lose digits, which
//! content addressing must not do; below 2⁵³ the two agree).
//! Non-finite numbers cannot occur in JSON; a duplicate member name is an error (the RFC
//! requires unique names, and silently keeping one would hide a tampered field).

use std::borrow::Cow;
use std::cmp::Ordering;

use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

pub use super::parser::parse;

/// A parsed JSON document that borrows unescaped strings from its source. Members keep
/// their source order until written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Num),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// A JSON number as written: integers stay integers so that a schema can tell `1` from
/// `1.0`; canonical JSON writes every kind as the double it denotes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(v) => v as f64,
            Num::UInt(v) => v as f64,
            Num::Float(v) => v,
        }
    }

    pub fn is_integer(self) -> bool {
        !matches!(self, Num::Float(_))
    }
}

/// Parses `json` and writes its canonical form, leaving out the top-level members named
/// in `drop` (a trace event's own hash fields, say).
pub fn canonicalize(json: &[u8], drop: &[&str]) -> CoreResult<Vec<u8>> {
    let node = parse(json)?;
    let mut out = Vec::with_capacity(json.len());
    write_canonical(&node, drop, &mut out)?;
    Ok(out)
}

/// Writes `node` canonically, without the top-level members named in `drop`.
pub fn write_canonical(node: &Node<'_>, drop: &[&str], out: &mut Vec<u8>) -> CoreResult<()> {
    match node {
        Node::Object(members) if !drop.is_empty() => {
            let kept: Vec<&(Cow<'_, str>, Node<'_>)> = members
                .iter()
                .filter(|(k, _)| !drop.contains(&k.as_ref()))
                .collect();
            write_members(kept, out)
        }
        other => write_node(other, out),
    }
}

/// SHA-256 of the canonical form, as lower-case hex.
pub fn fingerprint(json: &[u8]) -> CoreResult<String> {
    Ok(to_hex(&Sha256::digest(canonicalize(json, &[])?)))
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn write_node(node: &Node<'_>, out: &mut Vec<u8>) -> CoreResult<()> {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        Node::Number(Num::Int(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        Node::Number(Num::UInt(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        Node::Number(Num::Float(x)) => write_number(*x, out),
        Node::String(s) => write_string(s, out),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_node(item, out)?;
            }
            out.push(b']');
        }
        Node::Object(members) => write_members(members.iter().collect(), out)?,
    }
    Ok(())
}

fn write_members(mut members: Vec<&(Cow<'_, str>, Node<'_>)>, out: &mut Vec<u8>) -> CoreResult<()> {
    members.sort_by(|a, b| utf16_order(&a.0, &b.0));
    // The RFC requires unique names; keeping either copy would hide a tampered field.
    if let Some(pair) = members.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(CoreError::Serialization(format!(
            "duplicate member name {:?} in a JSON object",
            pair[0].0
        )));
    }
    write_sorted_object(
        members.into_iter().map(|(k, v)| (k.as_ref(), v)),
        out,
        write_node,
    )
}

/// `{"name":value,...}` of members already in canonical order, each value written by
/// `value` (shared by the tree writer here and the writer of Python values).
pub(crate) fn write_sorted_object<'m, T, E>(
    members: impl Iterator<Item = (&'m str, T)>,
    out: &mut Vec<u8>,
    mut value: impl FnMut(T, &mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    out.push(b'{');
    for (i, (name, item)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        value(item, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Member order of RFC 8785: by UTF-16 code units (differs from UTF-8 byte order only
/// between supplementary-plane characters and U+E000..U+FFFF).
pub(crate) fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// ECMAScript's Number-to-String for a finite double (`-0` is written `0`).
pub(crate) fn write_number(x: f64, out: &mut Vec<u8>) {
    if x == 0.0 {
        out.push(b'0');
        return;
    }
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(x).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        String::from_utf8(canonicalize(s.as_bytes(), &[]).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_numbers() {
        // The RFC's appendix B table (IEEE-754 value -> canonical text), written as JSON.
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("5e-324", "5e-324"),
            ("-5e-324", "-5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740993", "9007199254740993"),
            ("9007199254740993.0", "9007199254740992"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            ("295147905179352830000", "295147905179352830000"),
            ("1e21", "1e+21"),
            ("999999999999999900000", "999999999999999900000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("333333333.3333333", "333333333.3333333"),
            ("1e23", "1e+23"),
            ("-1.5", "-1.5"),
            ("100", "100"),
        ];
        for (input, want) in cases {
            assert_eq!(canon(&format!("[{input}]")), format!("[{want}]"), "{input}");
        }
    }

    #[test]
    fn rfc8785_sorting_and_strings() {
        // The RFC's sorting example: names compared as UTF-16 code units.
        let doc = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(doc), want);
        assert_eq!(
            canon("{\"b\" : [1, true, null], \"a\":\"\\u001f\\u00e9\\/\"}"),
            "{\"a\":\"\\u001fé/\",\"b\":[1,true,null]}"
        );
    }

    #[test]
    fn drops_named_top_level_members_only() {
        let doc = br#"{"hash":"x","id":1,"inner":{"hash":"kept"},"prev_hash":"y"}"#;
        let out = canonicalize(doc, &["hash", "prev_hash"]).unwrap();
        assert_eq!(out, br#"{"id":1,"inner":{"hash":"kept"}}"#);
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [&b"{\"a\":1,\"a\":2}"[..], b"[1,", b"\xff", b"{} {}", b"NaN"] {
            assert!(
                matches!(canonicalize(bad, &[]), Err(CoreError::Serialization(_))),
                "{bad:?}"
            );
        }
        assert!(canonicalize(br#"[{"a":{"b":1,"b":2}}]"#, &[]).is_err());
    }

    #[test]
    fn fingerprint_is_sha256_of_canonical_bytes() {
        // sha256(b'{"a":1}')
        assert_eq!(
            fingerprint(b"{ \"a\" : 1.0 }").unwrap(),
            "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        );
    }
}
