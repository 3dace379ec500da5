//! The streaming canonicalizer against the tree-based one of `crate::ir::canonical`: same
//! bytes on every generated document, same accept/reject decision on damaged ones.

use super::*;
use crate::ir::canonical as reference;

const HASH_FIELDS: [&str; 2] = ["hash", "prev_hash"];

/// SplitMix64: a tiny deterministic generator, so failures reproduce.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Spellings that exercise every branch: escapes of every kind, non-ASCII in all UTF-8
/// lengths, surrogate pairs, characters around U+E000 and U+10000 (where UTF-16 and
/// code point order differ), and names that are equal once unescaped.
const STRING_PIECES: &[&str] = &[
    "a",
    "b",
    "hash",
    "prev_hash",
    "id",
    "Z",
    "_",
    "0",
    " ",
    "é",
    "€",
    "\u{e000}",
    "\u{ffff}",
    "😀",
    "\u{10000}",
    "\u{7f}",
    "\u{80}",
    r"\n",
    r"\t",
    r"\r",
    r"\b",
    r"\f",
    r#"\""#,
    r"\\",
    r"\/",
    r"\u0000",
    r"\u001f",
    r"\u00e9",
    r"\u20ac",
    r"\uE000",
    r"\ud83d\ude00",
    r"\uD800\uDC00",
    r"\u0068ash",
    "\u{7ff}",
    "\u{800}",
    "abcdefghijklmnopqrstuvwxyz0123456789",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "42",
    "0.5",
    "-0.0",
    "1e0",
    "1E+2",
    "1e-7",
    "1.5e-7",
    "123456789012",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e21",
    "1e20",
    "123e19",
    "0.000001",
    "0.0000001",
    "5e-324",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "0.1",
    "100.000",
    "3.141592653589793238462643383279",
    "1e-400",
    "-1e-400",
    "0e500",
    "295147905179352830000",
    "4.35",
    "1.0000000000000002",
    "999999999999999999999999999999",
];

pub(crate) fn ws(rng: &mut Rng) -> &'static str {
    ["", "", "", " ", "\n", "\t ", "\r\n  "][rng.below(7)]
}

pub(crate) fn string(rng: &mut Rng) -> String {
    let n = rng.below(4);
    let mut out = String::from("\"");
    for _ in 0..n {
        out.push_str(rng.pick(STRING_PIECES));
    }
    out.push('"');
    out
}

/// A random plain decimal: digit counts around the 15-significant-digit and 1e-6 edges
/// of the as-written fast path, trailing zeros included.
fn decimal(rng: &mut Rng) -> String {
    let digits = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let int = match rng.below(3) {
        0 => "0".to_string(),
        _ => {
            let (lead, n) = (1 + rng.below(9), rng.below(17));
            format!("{lead}{}", digits(rng, n))
        }
    };
    let zeros = "0".repeat(if int == "0" { rng.below(9) } else { 0 });
    let sign = if rng.below(3) == 0 { "-" } else { "" };
    let n = 1 + rng.below(18);
    format!("{sign}{int}.{zeros}{}", digits(rng, n))
}

pub(crate) fn value(rng: &mut Rng, depth: usize) -> String {
    let kind = if depth > 4 {
        rng.below(4)
    } else {
        rng.below(7)
    };
    match kind {
        0 => rng.pick(NUMBERS).to_string(),
        1 => string(rng),
        2 => rng.pick(&["true", "false", "null"]).to_string(),
        3 if rng.below(2) == 0 => format!("{}", rng.next() as i64 >> rng.below(64)),
        3 => decimal(rng),
        4 => {
            let items: Vec<String> = (0..rng.below(5))
                .map(|_| format!("{}{}{}", ws(rng), value(rng, depth + 1), ws(rng)))
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => object(rng, depth),
    }
}

pub(crate) fn object(rng: &mut Rng, depth: usize) -> String {
    let members: Vec<String> = (0..rng.below(7))
        .map(|_| {
            let name = string(rng);
            let (a, b, c) = (ws(rng), ws(rng), ws(rng));
            format!("{a}{name}{b}:{c}{}", value(rng, depth + 1))
        })
        .collect();
    format!("{{{}}}", members.join(","))
}

fn agree(doc: &[u8], drop: &[&str]) -> bool {
    let ours = canonicalize(doc, drop);
    let theirs = reference::canonicalize(doc, drop);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "doc {:?}",
            String::from_utf8_lossy(doc)
        ),
        (Err(CoreError::Serialization(_)), Err(_)) => {}
        _ => panic!(
            "accept/reject differs on {:?}: ours {ours:?}, reference {theirs:?}",
            String::from_utf8_lossy(doc)
        ),
    }
    ours.is_ok()
}

#[test]
fn same_bytes_as_the_reference_on_generated_documents() {
    let mut rng = Rng(7);
    let mut accepted = 0;
    for round in 0..20_000 {
        let doc = if round % 3 == 0 {
            value(&mut rng, 0)
        } else {
            object(&mut rng, 0)
        };
        let doc = format!("{}{doc}{}", ws(&mut rng), ws(&mut rng));
        accepted += usize::from(agree(doc.as_bytes(), &[]));
        agree(doc.as_bytes(), &HASH_FIELDS);
    }
    // Duplicate names make some documents errors; most must be accepted.
    assert!(accepted > 10_000, "{accepted}");
}

#[test]
fn same_decision_as_the_reference_on_damaged_documents() {
    let mut rng = Rng(11);
    let junk: &[u8] = b"\"\\{}[],:0-+.eE \xff\xc3\xa9\x00\x1fu";
    for _ in 0..20_000 {
        let mut doc = object(&mut rng, 0).into_bytes();
        for _ in 0..1 + rng.below(2) {
            let at = rng.below(doc.len());
            match rng.below(3) {
                0 => doc[at] = junk[rng.below(junk.len())],
                1 => {
                    doc.remove(at);
                }
                _ => doc.insert(at, junk[rng.below(junk.len())]),
            }
        }
        agree(&doc, &HASH_FIELDS);
    }
}

#[test]
fn one_canonicalizer_reused_across_shapes_and_drop_lists() {
    // Same names in the same order (what the top-level order cache reuses), changing
    // values and drop lists, and random shapes in between.
    let mut canon = Canonicalizer::default();
    let mut rng = Rng(5);
    for round in 0..600 {
        let doc = if round % 4 == 3 {
            object(&mut rng, 2)
        } else {
            let (v1, v2) = (value(&mut rng, 3), value(&mut rng, 3));
            format!(r#"{{"z":{v1},"hash":"x","a":{v2},"\u0061b":0,"prev_hash":1}}"#)
        };
        for drop in [&HASH_FIELDS[..], &HASH_FIELDS[..], &[], &["a"], &[]] {
            let Ok(text) = canon.read_document(doc.as_bytes()) else {
                break;
            };
            let mut out = Vec::new();
            let ours = canon.write(text, drop, &mut out).map(|_| out);
            let theirs = reference::canonicalize(doc.as_bytes(), drop);
            assert_eq!(ours.is_ok(), theirs.is_ok(), "{doc}");
            if let (Ok(a), Ok(b)) = (ours, theirs) {
                assert_eq!(a, b, "{doc}");
            }
        }
    }
}

#[test]
fn rfc8785_examples() {
    let doc = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
    let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canonicalize(doc.as_bytes(), &[]).unwrap(), want.as_bytes());
    let numbers = r#"[1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 1e21, 1e-7]"#;
    assert_eq!(
        canonicalize(numbers.as_bytes(), &[]).unwrap(),
        b"[1e+30,4.5,0.002,1e-27,0,1e+21,1e-7]"
    );
}

#[test]
fn drops_top_level_hash_fields_only_and_reports_them() {
    let doc = br#"{"prev_hash":"p","hash":"x","id":1,"inner":{"hash":"kept"},"h\u0061sh":"y"}"#;
    let mut canon = Canonicalizer::default();
    let text = canon.read_document(doc).unwrap();
    let [hash, prev, id] = canon.top_strings(text, ["hash", "prev_hash", "id"]);
    assert_eq!(hash.as_deref(), Some("x"));
    assert_eq!(prev.as_deref(), Some("p"));
    assert_eq!(id, None);
    let mut out = Vec::new();
    assert_eq!(canon.write(text, &HASH_FIELDS, &mut out).unwrap(), 3);
    assert_eq!(out, br#"{"id":1,"inner":{"hash":"kept"}}"#);
    let escaped = br#"{"h\u0061sh":"\u0061b","hash":"later"}"#;
    let text = canon.read_document(escaped).unwrap();
    let [hash] = canon.top_strings(text, ["hash"]);
    assert_eq!(hash.as_deref(), Some("ab"));
}

#[test]
fn hash_sink_equals_hashing_the_bytes() {
    let mut rng = Rng(3);
    for _ in 0..200 {
        let doc = object(&mut rng, 0);
        let Ok(bytes) = canonicalize(doc.as_bytes(), &[]) else {
            continue;
        };
        let mut canon = Canonicalizer::default();
        let text = canon.read_document(doc.as_bytes()).unwrap();
        let mut sink = HashSink::default();
        sink.start(b"prefix");
        canon.write(text, &[], &mut sink).unwrap();
        let mut want = Sha256::new();
        want.update(b"prefix");
        want.update(&bytes);
        assert_eq!(sink.finish(), <[u8; 32]>::from(want.finalize()));
    }
    // Pieces larger than the buffer go straight to the hasher.
    let big = format!("[\"{}\",\"{}\"]", "x".repeat(3000), "y".repeat(10_000));
    let mut canon = Canonicalizer::default();
    let text = canon.read_document(big.as_bytes()).unwrap();
    let mut sink = HashSink::default();
    sink.start(&[]);
    canon.write(text, &[], &mut sink).unwrap();
    assert_eq!(
        sink.finish(),
        <[u8; 32]>::from(Sha256::digest(big.as_bytes()))
    );
}

#[test]
fn hostile_documents_are_typed_errors() {
    let deep_object = format!("{}1{}", "{\"a\":".repeat(200_000), "}".repeat(200_000));
    let deep_array = "[".repeat(5_000_000);
    let long_escapes = format!("[\"{}\"]", r"\ud800".repeat(100_000));
    let bad: [&[u8]; 8] = [
        deep_object.as_bytes(),
        deep_array.as_bytes(),
        long_escapes.as_bytes(),
        b"\xff",
        b"[\"\xc3\"]",
        b"",
        b"{} {}",
        b"[1e999]",
    ];
    for doc in bad {
        assert!(
            matches!(canonicalize(doc, &[]), Err(CoreError::Serialization(_))),
            "{:?}",
            String::from_utf8_lossy(&doc[..doc.len().min(40)])
        );
    }
    // Huge but well-formed: fine, and the same as the reference.
    let wide = format!(
        "[{}0]",
        "{\"b\":1,\"a\":[2.50,\"\\u00e9\"]},".repeat(200_000)
    );
    assert!(agree(wide.as_bytes(), &[]));
}
