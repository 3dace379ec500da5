//! The parser against serde_json (the reader it replaced) on generated and mutated text:
//! the same documents accepted, the same trees, the same number kinds.

use super::*;
use serde_json::Value;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STRINGS: &[&str] = &[
    "",
    "plain",
    "a\\\"quote",
    "back\\\\slash",
    "\\n\\t\\r\\b\\f\\/",
    "\\u00e9t\\u00E9",
    "\\ud83d\\ude00 emoji",
    "caf\u{e9} \u{1f600} \u{4e2d}",
    "exactly8",
    "sixteen bytes!!!",
    "\\u0000nul",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "7",
    "-7",
    "1.5",
    "-0.0",
    "1e3",
    "1E-3",
    "2.5e+10",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "0.1",
    "5e-324",
    "1.7976931348623157e308",
];

fn ws(rng: &mut Rng, out: &mut String) {
    for _ in 0..rng.below(3) {
        out.push([' ', '\n', '\t', '\r'][rng.below(4) as usize]);
    }
}

fn document(rng: &mut Rng, depth: u32, out: &mut String) {
    ws(rng, out);
    match rng.below(if depth > 5 { 5 } else { 7 }) {
        0 => out.push_str(["null", "true", "false"][rng.below(3) as usize]),
        1 | 2 => out.push_str(NUMBERS[rng.below(NUMBERS.len() as u64) as usize]),
        3 | 4 => {
            out.push('"');
            out.push_str(STRINGS[rng.below(STRINGS.len() as u64) as usize]);
            out.push('"');
        }
        5 => {
            out.push('[');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                document(rng, depth + 1, out);
            }
            ws(rng, out);
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(5) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                out.push_str(&format!("\"k{i}{}\"", STRINGS[rng.below(3) as usize]));
                ws(rng, out);
                out.push(':');
                document(rng, depth + 1, out);
            }
            ws(rng, out);
            out.push('}');
        }
    }
    ws(rng, out);
}

fn same(node: &Node<'_>, value: &Value) -> bool {
    match (node, value) {
        (Node::Null, Value::Null) => true,
        (Node::Bool(a), Value::Bool(b)) => a == b,
        (Node::Number(Num::UInt(a)), Value::Number(b)) => b.as_u64() == Some(*a),
        (Node::Number(Num::Int(a)), Value::Number(b)) => {
            b.is_i64() && !b.is_u64() && b.as_i64() == Some(*a)
        }
        (Node::Number(Num::Float(a)), Value::Number(b)) => {
            b.is_f64() && b.as_f64().map(f64::to_bits) == Some(a.to_bits())
        }
        (Node::String(a), Value::String(b)) => a == b,
        (Node::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Node::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

fn has_duplicate_names(node: &Node<'_>) -> bool {
    match node {
        Node::Array(items) => items.iter().any(has_duplicate_names),
        Node::Object(members) => members.iter().enumerate().any(|(i, (k, v))| {
            members[..i].iter().any(|(earlier, _)| earlier == k) || has_duplicate_names(v)
        }),
        _ => false,
    }
}

fn agree(text: &[u8]) {
    let ours = parse(text);
    if ours.as_ref().is_ok_and(has_duplicate_names) {
        return; // serde_json's map keeps one of them: nothing to compare
    }
    let theirs = serde_json::from_slice::<Value>(text);
    match (&ours, &theirs) {
        (Ok(node), Ok(value)) => assert!(same(node, value), "{:?}", String::from_utf8_lossy(text)),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "disagree on {:?}: ours {:?}, serde_json {:?}",
            String::from_utf8_lossy(text),
            ours.is_ok(),
            theirs.is_ok()
        ),
    }
}

#[test]
fn agrees_with_serde_json_on_generated_documents() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let mut text = String::new();
        document(&mut rng, 0, &mut text);
        agree(text.as_bytes());
    }
}

#[test]
fn agrees_with_serde_json_on_mutated_documents() {
    let mut rng = Rng(42);
    let alphabet = b"{}[],:\"\\ntrufalse0123456789-+.eE \x01\x7f\xc3\xa9\xff";
    for _ in 0..30_000 {
        let mut text = String::new();
        document(&mut rng, 0, &mut text);
        let mut bytes = text.into_bytes();
        for _ in 0..=rng.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.below(bytes.len() as u64) as usize;
            match rng.below(3) {
                0 => bytes[at] = alphabet[rng.below(alphabet.len() as u64) as usize],
                1 => bytes.truncate(at),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        agree(&bytes);
    }
}

#[test]
fn number_kinds_follow_serde_json() {
    for text in NUMBERS {
        agree(text.as_bytes());
    }
    for text in [
        "01", "-", "1.", ".5", "1e", "+1", "1e400", "-1e400", "0x10", "1.e3",
    ] {
        assert!(parse(text.as_bytes()).is_err(), "{text}");
    }
}

#[test]
fn strings_borrow_unless_escaped() {
    let Ok(Node::Array(items)) = parse(br#"["plain text longer than eight","a\nb"]"#) else {
        panic!("not an array");
    };
    assert!(matches!(&items[0], Node::String(Cow::Borrowed(_))));
    assert!(matches!(&items[1], Node::String(Cow::Owned(s)) if s == "a\nb"));
}

#[test]
fn errors_name_the_place_and_nesting_is_bounded() {
    let Err(CoreError::Serialization(message)) = parse(b"{\"a\":\n  [1,,2]}") else {
        panic!("accepted");
    };
    assert!(message.contains("line 2, column 6"), "{message}");
    let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(deep.as_bytes()).is_ok());
    let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert!(parse(deeper.as_bytes()).is_err());
    let hostile = "[".repeat(1 << 20);
    assert!(parse(hostile.as_bytes()).is_err());
    assert!(parse(b"\"\\ud800\"").is_err());
    assert!(parse(b"\"\\udc00\"").is_err());
    assert!(parse(b"\"\\ud800\\u0041\"").is_err());
    assert!(parse(b"\"tab\there\"").is_err());
    assert!(parse(b"nul").is_err());
    assert!(parse(b"").is_err());
    assert!(parse(b"  1  ").is_ok());
}
