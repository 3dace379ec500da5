//! The SHA-256 hash chain that makes a trace tamper-evident.
//!
//! Event i's hash is SHA-256(prev ‖ canonical(event i without `hash` and `prev_hash`)),
//! where prev is the raw 32-byte hash of event i-1 (32 zero bytes before the first event)
//! and canonical is RFC 8785 JSON (the bytes of [`crate::ir::canonical`], written by the
//! streaming [`crate::trace::canon`] straight into the hasher). The chain's head is the
//! last event's hash; an HMAC-SHA256 of the head under a user key signs the whole chain.
//!
//! Building is sequential by nature (each hash feeds the next; see [`crate::trace::seal`]).
//! Verifying is fully parallel: every stored `prev_hash` is known, so each event's hash is
//! recomputed on its own, and the links are then checked in order to name the first break.

use hmac::{Hmac, Mac};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::ir::canonical::to_hex;
use crate::trace::canon::{Canonicalizer, HashSink};
use crate::trace::inorder::{self, Span};
use crate::trace::seal::HASH_FIELDS;

/// The `prev_hash` of the first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// Why verification stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The event's `prev_hash` is not the previous event's hash: an event was removed,
    /// inserted or moved here.
    Link,
    /// The event's content no longer hashes to its stored `hash`: it was edited.
    Content,
    /// The event lacks a well-formed `hash` or `prev_hash` (64 hex digits).
    Missing,
    /// The stored document is not valid JSON (damaged or torn), or has a duplicate name.
    Malformed,
}

impl Break {
    pub fn reason(&self) -> &'static str {
        match self {
            Break::Link => "prev_hash does not match the previous event's hash (an event was removed, inserted or reordered)",
            Break::Content => "content does not match its hash (the event was edited)",
            Break::Missing => "hash or prev_hash is missing or not 64 hex digits",
            Break::Malformed => "the stored event is not valid JSON (damaged or torn) or repeats a member",
        }
    }

    /// The short name Python sees.
    pub fn name(&self) -> &'static str {
        match self {
            Break::Link => "link",
            Break::Content => "content",
            Break::Missing => "missing",
            Break::Malformed => "malformed",
        }
    }
}

/// A hash as 64 lower-case hex digits (ASCII bytes).
pub fn hex64(bytes: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0_u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    out
}

/// Hex digit values, and 16 for anything that is not a lower-case hex digit.
const HEX_VALUE: [u8; 256] = {
    let mut table = [16_u8; 256];
    let mut c = 0;
    while c < 10 {
        table[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        table[b'a' as usize + c] = 10 + c as u8;
        c += 1;
    }
    table
};

/// 64 lower-case hex digits as 32 bytes. Upper case is refused: a stored hash has one
/// spelling, so flipping a letter's case is a change that verification must catch.
/// Branch-free (a table lookup per digit): verification decodes two per event.
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0_u8; 32];
    let mut bad = 0_u8;
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (high, low) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        bad |= high | low;
        *slot = (high << 4) | (low & 15);
    }
    (bad < 16).then_some(out)
}

/// An event's stored `prev_hash` and its (verified) hash.
type Linked = ([u8; 32], [u8; 32]);

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The index and kind of the first break, if any.
    pub broken: Option<(usize, Break)>,
    /// The last hash verified: the chain's head when intact, else the hash of the event
    /// before the break (the `prev` given when the first event is broken).
    pub head: [u8; 32],
}

/// Checks one stored document on its own: its stored hashes, and that its content hashes
/// to the stored `hash` from the stored `prev_hash`. A document in canonical order takes
/// the one-pass path ([`inorder`]); any other the general one, which also gives the
/// verdict on everything the one-pass path leaves to it.
fn check(
    canon: &mut Canonicalizer,
    scratch: &mut Vec<u8>,
    sink: &mut HashSink,
    doc: &[u8],
) -> Result<Linked, Break> {
    let text = std::str::from_utf8(doc).map_err(|_| Break::Malformed)?;
    scratch.clear();
    if let Some(found) = inorder::write(text, 0, scratch) {
        let stored = |span: Option<Span>| span.and_then(|(s, e)| text.get(s..e)).and_then(from_hex);
        if let (true, Some(hash), Some(prev)) = (
            found.end == doc.len(),
            stored(found.hash),
            stored(found.prev_hash),
        ) {
            let digest: [u8; 32] = Sha256::new()
                .chain_update(prev)
                .chain_update(&scratch)
                .finalize()
                .into();
            return if digest == hash {
                Ok((prev, hash))
            } else {
                Err(Break::Content)
            };
        }
    }
    let text = canon.read_document(doc).map_err(|_| Break::Malformed)?;
    if canon.repeats_top(text, &HASH_FIELDS) {
        // Two stored hashes: which one counts would be the forger's choice.
        return Err(Break::Malformed);
    }
    let [hash, prev] = canon
        .top_strings(text, HASH_FIELDS)
        .map(|found| found.and_then(|s| from_hex(&s)));
    let (Some(hash), Some(prev)) = (hash, prev) else {
        return Err(Break::Missing);
    };
    sink.start(&prev);
    canon
        .write(text, &HASH_FIELDS, sink)
        .map_err(|_| Break::Malformed)?;
    if sink.finish() == hash {
        Ok((prev, hash))
    } else {
        Err(Break::Content)
    }
}

/// Checks a stored chain (each document carries `hash` and `prev_hash`) that should start
/// from `prev`: every document on all cores, then the links in order. A damaged document
/// is a [`Break::Malformed`] at its index, not an error, so the first break is reported
/// whatever kind it is.
pub fn verify(docs: &[&[u8]], prev: [u8; 32]) -> Verified {
    let checked: Vec<Result<Linked, Break>> = docs
        .par_iter()
        .map_init(
            || {
                let scratch = Vec::with_capacity(4096);
                (
                    Canonicalizer::default(),
                    scratch,
                    Box::<HashSink>::default(),
                )
            },
            |(canon, scratch, sink), doc| check(canon, scratch, sink, doc),
        )
        .collect();
    let mut head = prev;
    for (i, event) in checked.into_iter().enumerate() {
        let broken = match event {
            Err(kind) => kind,
            Ok((stored_prev, _)) if stored_prev != head => Break::Link,
            Ok((_, hash)) => {
                head = hash;
                continue;
            }
        };
        return Verified {
            broken: Some((i, broken)),
            head,
        };
    }
    Verified { broken: None, head }
}

/// HMAC-SHA256 of a chain head under `key`, as hex: a signature only the key holder can
/// produce, so a rewritten chain (with recomputed hashes) is still caught.
pub fn sign_head(head: &[u8; 32], key: &[u8]) -> CoreResult<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|e| CoreError::InvalidArgument(format!("bad HMAC key: {e}")))?;
    mac.update(head);
    Ok(to_hex(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::trace::seal::{seal, sealed_doc_len, write_sealed_doc};

    fn events(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(r#"{{"id":"e{i}","type":"hypothesis_formed","confidence":0.5,"n":{i}}}"#)
            })
            .collect()
    }

    fn stored(n: usize) -> Vec<String> {
        let docs = events(n);
        let blob = format!("[{}]", docs.join(","));
        let sealed = seal(blob.as_bytes(), GENESIS).unwrap();
        let mut prev = GENESIS;
        docs.iter()
            .zip(&sealed.hashes)
            .map(|(d, h)| {
                let mut out = vec![0; sealed_doc_len(d.len(), false)];
                write_sealed_doc(d.as_bytes(), false, &hex64(&prev), &hex64(h), &mut out).unwrap();
                prev = *h;
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    fn check(docs: &[String]) -> Option<(usize, Break)> {
        let refs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
        verify(&refs, GENESIS).broken
    }

    #[test]
    fn first_hash_is_sha256_of_zero_prefix_and_canonical_event() {
        let doc = br#"[{ "b": 2, "a": 1 }]"#;
        let mut hasher = Sha256::new();
        hasher.update([0_u8; 32]);
        hasher.update(br#"{"a":1,"b":2}"#);
        let want: [u8; 32] = hasher.finalize().into();
        assert_eq!(seal(doc, GENESIS).unwrap().hashes, vec![want]);
    }

    #[test]
    fn intact_chain_verifies_and_every_tampering_is_caught() {
        let docs = stored(50);
        let refs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
        let intact = verify(&refs, GENESIS);
        assert_eq!(intact.broken, None);
        assert_eq!(
            intact.head,
            seal(format!("[{}]", events(50).join(",")).as_bytes(), GENESIS)
                .unwrap()
                .hashes[49]
        );

        let mut edited = docs.clone();
        edited[17] = edited[17].replace("\"n\":17", "\"n\":18");
        assert_eq!(check(&edited), Some((17, Break::Content)));

        let mut removed = docs.clone();
        removed.remove(30);
        assert_eq!(check(&removed), Some((30, Break::Link)));

        let mut swapped = docs.clone();
        swapped.swap(3, 4);
        assert_eq!(check(&swapped), Some((3, Break::Link)));

        let mut inserted = docs.clone();
        inserted.insert(9, docs[40].clone());
        assert_eq!(check(&inserted), Some((9, Break::Link)));

        let mut stripped = docs.clone();
        stripped[5] = events(6)[5].clone();
        assert_eq!(check(&stripped), Some((5, Break::Missing)));

        let mut torn = docs.clone();
        torn[8].pop();
        torn[20] = "{".into();
        let refs: Vec<&[u8]> = torn.iter().map(|d| d.as_bytes()).collect();
        let found = verify(&refs, GENESIS);
        assert_eq!(found.broken, Some((8, Break::Malformed)));
        assert_eq!(
            found.head,
            from_hex(&docs[7][docs[7].len() - 66..docs[7].len() - 2]).unwrap()
        );

        let mut duplicated = docs.clone();
        duplicated[2] = duplicated[2].replacen("{", "{\"n\":0,", 1);
        assert_eq!(check(&duplicated), Some((2, Break::Malformed)));

        // A second stored hash (before or after the true one) is malformed, not a choice.
        for (k, extra) in [(4, "{\"hash\":\"00\","), (6, "{\"prev_hash\":\"00\",")] {
            let mut twice = docs.clone();
            twice[k] = twice[k].replacen("{", extra, 1);
            assert_eq!(check(&twice), Some((k, Break::Malformed)));
            let mut after = docs.clone();
            let field = &extra[1..extra.len() - 1];
            after[k] = format!("{},{field}}}", &after[k][..after[k].len() - 1]);
            assert_eq!(check(&after), Some((k, Break::Malformed)));
        }
    }

    #[test]
    fn hex_round_trip_and_signature() {
        let h = [0xab_u8; 32];
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(hex64(&h).as_slice(), to_hex(&h).as_bytes());
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&to_hex(&h).to_uppercase()), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" is not a
        // 32-byte head, so check determinism and key sensitivity instead.
        let a = sign_head(&h, b"key one").unwrap();
        assert_eq!(a, sign_head(&h, b"key one").unwrap());
        assert_ne!(a, sign_head(&h, b"key two").unwrap());
        assert_eq!(a.len(), 64);
    }
}
