//! The one-pass fast path against the general canonicalizer: whenever it answers, the
//! bytes are the general path's; it answers for canonical documents with plain names.

use super::*;
use crate::trace::canon::canonicalize;
use crate::trace::canon::tests::{object, value, ws, Rng};
use crate::trace::seal::HASH_FIELDS;

/// The fast path's answer for a whole document, if it gives one.
fn fast(doc: &str) -> Option<(Vec<u8>, InOrder)> {
    let mut out = Vec::new();
    let found = write(doc, 0, &mut out)?;
    (found.end == doc.len()).then_some((out, found))
}

/// Checks the fast path against the general one on `doc`; whether it answered.
fn agree(doc: &str) -> bool {
    let Some((ours, found)) = fast(doc) else {
        return false;
    };
    let general = canonicalize(doc.as_bytes(), &HASH_FIELDS);
    let Ok(theirs) = general else {
        panic!("fast path accepted what the general path refuses: {doc:?}");
    };
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs),
        "doc {doc:?}"
    );
    for (span, name) in [(found.hash, "hash"), (found.prev_hash, "prev_hash")] {
        if let Some((start, end)) = span {
            let member = format!("\"{name}\":\"{}\"", &doc[start..end]);
            assert!(doc.contains(&member), "{doc:?}");
        }
    }
    true
}

/// A canonical document holding `hash` and `prev_hash` members at random places.
fn with_hash_members(rng: &mut Rng, canonical: &str) -> String {
    let inner = &canonical[1..canonical.len() - 1];
    let mut members: Vec<String> = split_top(inner);
    for name in HASH_FIELDS {
        if rng.below(4) > 0 && !canonical.contains(&format!("\"{name}\":")) {
            let at = rng.below(members.len() + 1);
            members.insert(at, format!("\"{name}\":\"{:064x}\"", rng.next()));
        }
    }
    format!("{{{}}}", members.join(","))
}

/// The top-level members of a compact object's inside.
fn split_top(inner: &str) -> Vec<String> {
    let (mut out, mut depth, mut quoted, mut escape, mut start) = (Vec::new(), 0, false, false, 0);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escape => escape = false,
            '\\' if quoted => escape = true,
            '"' => quoted = !quoted,
            '{' | '[' if !quoted => depth += 1,
            '}' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(inner[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.is_empty() {
        out.push(inner[start..].to_string());
    }
    out
}

#[test]
fn canonical_documents_take_the_fast_path_with_the_same_bytes() {
    let mut rng = Rng(3);
    let (mut tried, mut answered) = (0, 0);
    for _ in 0..20_000 {
        let doc = object(&mut rng, 0);
        let Ok(canonical) = canonicalize(doc.as_bytes(), &[]) else {
            continue;
        };
        let canonical = String::from_utf8(canonical).unwrap();
        tried += 1;
        let linked = with_hash_members(&mut rng, &canonical);
        // Hash members the generator made itself may hold anything: no promise there.
        let plain_names = !canonical.contains("hash\":");
        if agree(&linked) {
            answered += 1;
        } else if plain_names && canonical.is_ascii() && !canonical.contains('\\') {
            panic!("no fast answer for a canonical ASCII document: {linked:?}");
        }
        agree(&canonical);
    }
    assert!(answered > tried / 4, "{answered} of {tried}");
}

#[test]
fn any_document_gets_the_general_paths_bytes_or_no_answer() {
    let mut rng = Rng(5);
    for round in 0..20_000 {
        let doc = if round % 4 == 0 {
            value(&mut rng, 0)
        } else {
            object(&mut rng, 0)
        };
        agree(&format!("{}{doc}{}", ws(&mut rng), ws(&mut rng)));
        // Numbers and escaped strings are rewritten in place in ordered documents too.
        if let Ok(canonical) = canonicalize(doc.as_bytes(), &[]) {
            let canonical = String::from_utf8(canonical).unwrap();
            let respelled = canonical
                .replace(":0,", ":0.0,")
                .replace(":1,", ":1E0,")
                .replace(":true,", ":true ,");
            agree(&respelled);
        }
    }
}

#[test]
fn damaged_documents_get_no_answer_or_the_general_paths() {
    let mut rng = Rng(13);
    let junk: &[u8] = b"\"\\{}[],:0-+.eE \xc3\xa9\x1fu";
    for _ in 0..20_000 {
        let Ok(canonical) = canonicalize(object(&mut rng, 0).as_bytes(), &[]) else {
            continue;
        };
        let mut doc =
            with_hash_members(&mut rng, std::str::from_utf8(&canonical).unwrap()).into_bytes();
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
        if let Ok(text) = std::str::from_utf8(&doc) {
            agree(text);
        }
    }
}

#[test]
fn hash_members_are_left_out_wherever_they_are() {
    let h = "a".repeat(64);
    for (doc, want) in [
        (format!(r#"{{"hash":"{h}"}}"#), "{}"),
        (format!(r#"{{"hash":"{h}","prev_hash":"{h}"}}"#), "{}"),
        (
            format!(r#"{{"a":1,"hash":"{h}","b":2}}"#),
            r#"{"a":1,"b":2}"#,
        ),
        (
            format!(r#"{{"hash":"{h}","a":1,"prev_hash":"{h}"}}"#),
            r#"{"a":1}"#,
        ),
        (
            format!(r#"{{"a":[1.50],"z":{{"hash":"x"}},"prev_hash":"{h}"}}"#),
            r#"{"a":[1.5],"z":{"hash":"x"}}"#,
        ),
    ] {
        let (out, _) = fast(&doc).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), want);
        assert!(agree(&doc));
    }
    let (_, found) = fast(&format!(r#"{{"a":1,"hash":"{h}"}}"#)).unwrap();
    assert_eq!((found.dropped(), found.empty), (1, false));
    assert!(fast("{}").unwrap().1.empty);
}

#[test]
fn gives_up_where_one_pass_cannot_be_sure() {
    for doc in [
        r#"{"b":1,"a":2}"#,
        r#"{"a":1,"a":2}"#,
        r#"{"a": 1}"#,
        r#"{"é":1}"#,
        r#"{"\u0061":1}"#,
        r#"{"hash":"x","hash":"y"}"#,
        r#"{"hash":1}"#,
        r#"{"hash":"\u0061"}"#,
        r#"{"a":{"b":1,"a":2}}"#,
        "[1]",
        "{",
        r#"{"a":1,}"#,
    ] {
        assert!(fast(doc).is_none(), "{doc}");
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    assert!(fast(&deep).is_none());
    let shallow = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(DEPTH - 1),
        "]".repeat(DEPTH - 1)
    );
    assert!(agree(&shallow));
}
