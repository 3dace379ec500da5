//! Sealing a batch of new events: their chained hashes, from one JSON array of documents.
//!
//! The events arrive as one array (one msgspec encode call for the whole batch on the
//! Python side costs half of one call per event). Reading the array is sequential (an
//! element's end is only known once it has been read), and so is the chain (each hash
//! feeds the next), so the two cores are used as a pipeline instead: this thread reads
//! and canonicalizes elements into batches of bytes, a second thread hashes them in order.
//! Small batches (a single `Chain.add`) are canonicalized straight into the hasher on the
//! calling thread, since starting a thread would cost more than the work. Elements already
//! in canonical member order (every event `Event` encodes) take the one-pass
//! [`inorder`] path.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::ir::scan::error_at;
use crate::trace::canon::Canonicalizer;
use crate::trace::inorder;

/// The members an event's own hash does not cover.
pub const HASH_FIELDS: [&str; 2] = ["hash", "prev_hash"];

/// Below this many bytes of input, hash on the calling thread alone.
const PIPELINE_MIN: usize = 256 * 1024;
/// Canonical bytes handed to the hashing thread at a time.
const BATCH_BYTES: usize = 64 * 1024;

/// One element of the input array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    /// Byte range of the element's document in the input.
    pub start: usize,
    pub end: usize,
    /// Whether it already has a top-level `hash` or `prev_hash` member.
    pub linked: bool,
    /// Whether it is the empty object `{}`.
    pub empty: bool,
}

/// The hashes of a sealed batch, and where each event's document is in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub hashes: Vec<[u8; 32]>,
    pub elements: Vec<Element>,
}

fn at_event(i: usize, err: CoreError) -> CoreError {
    match err {
        CoreError::Serialization(msg) => CoreError::Serialization(format!("event {i}: {msg}")),
        other => other,
    }
}

/// Reads the elements of a JSON array of event objects one at a time.
struct ArrayReader<'a> {
    text: &'a str,
    pos: usize,
    count: usize,
    /// The index of the array's first event in the whole batch (for error messages).
    base: usize,
    done: bool,
}

impl<'a> ArrayReader<'a> {
    fn new(blob: &'a [u8], base: usize) -> CoreResult<Self> {
        let text = std::str::from_utf8(blob).map_err(|e| {
            CoreError::Serialization(format!(
                "invalid UTF-8 at byte {} of the events",
                e.valid_up_to()
            ))
        })?;
        let pos = skip_ws(blob, 0);
        if blob.get(pos) != Some(&b'[') {
            return Err(error_at("expected a JSON array of events", pos));
        }
        Ok(ArrayReader {
            text,
            pos: pos + 1,
            count: 0,
            base,
            done: false,
        })
    }

    /// Moves past the separator before the next element: where it starts, or None after
    /// the closing bracket.
    fn advance(&mut self) -> CoreResult<Option<usize>> {
        if self.done {
            return Ok(None);
        }
        let bytes = self.text.as_bytes();
        let mut at = skip_ws(bytes, self.pos);
        match bytes.get(at) {
            Some(b']') => {
                self.done = true;
                let end = skip_ws(bytes, at + 1);
                return if end == bytes.len() {
                    Ok(None)
                } else {
                    Err(error_at("trailing characters after the array", end))
                };
            }
            Some(b',') if self.count > 0 => at += 1,
            _ if self.count == 0 => {}
            _ => {
                let after = self.base + self.count - 1;
                return Err(error_at(
                    &format!("after event {after}: expected ',' or ']'"),
                    at,
                ));
            }
        }
        Ok(Some(skip_ws(bytes, at)))
    }

    /// Reads the next element and appends its canonical form (without the hash fields) to
    /// `out`: in one pass when it is in canonical order already ([`inorder`]), else
    /// through the tape of `canon`.
    fn write_next(
        &mut self,
        canon: &mut Canonicalizer,
        out: &mut Vec<u8>,
    ) -> CoreResult<Option<Element>> {
        let Some(start) = self.advance()? else {
            return Ok(None);
        };
        let i = self.base + self.count;
        let mark = out.len();
        let element = match inorder::write(self.text, start, out) {
            Some(found) => Element {
                start,
                end: found.end,
                linked: found.dropped() > 0,
                empty: found.empty,
            },
            None => {
                out.truncate(mark);
                let end = canon.read(self.text, start).map_err(|e| at_event(i, e))?;
                let Some(empty) = canon.is_object() else {
                    return Err(CoreError::Serialization(format!(
                        "event {i}: not a JSON object"
                    )));
                };
                let dropped = canon
                    .write(self.text, &HASH_FIELDS, out)
                    .map_err(|e| at_event(i, e))?;
                Element {
                    start,
                    end,
                    linked: dropped > 0,
                    empty,
                }
            }
        };
        self.pos = element.end;
        self.count += 1;
        Ok(Some(element))
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Hashes for the events of `blob` (a JSON array of event objects), chained from `prev`
/// (GENESIS for a new chain, the head when appending). Hash fields already present are
/// ignored in the hash and reported in [`Element::linked`].
pub fn seal(blob: &[u8], prev: [u8; 32]) -> CoreResult<Sealed> {
    let reader = ArrayReader::new(blob, 0)?;
    if blob.len() < PIPELINE_MIN || rayon::current_num_threads() < 2 {
        return seal_here(reader, prev);
    }
    std::thread::scope(|scope| {
        let (to_hasher, batches) = sync_channel::<Batch>(4);
        let (recycle, spare) = sync_channel::<Batch>(8);
        let hasher = std::thread::Builder::new()
            .name("crucible-trace-seal".into())
            .spawn_scoped(scope, move || hash_batches(&batches, &recycle, prev));
        match hasher {
            Ok(hasher) => {
                let elements = canonicalize_batches(reader, &to_hasher, &spare);
                drop(to_hasher);
                let hashes = hasher
                    .join()
                    .map_err(|_| CoreError::Serialization("the hashing thread failed".into()))?;
                Ok(Sealed {
                    hashes,
                    elements: elements?,
                })
            }
            Err(_) => seal_here(reader, prev),
        }
    })
}

/// [`seal`] on the calling thread alone, for a caller that already runs it beside other
/// work (the chunked sealer of the Python bindings); `base` is the index of the array's
/// first event in the whole batch, for error messages.
pub fn seal_sequential(blob: &[u8], prev: [u8; 32], base: usize) -> CoreResult<Sealed> {
    seal_here(ArrayReader::new(blob, base)?, prev)
}

/// Canonicalize and hash on the calling thread.
fn seal_here(mut reader: ArrayReader<'_>, mut prev: [u8; 32]) -> CoreResult<Sealed> {
    let mut canon = Canonicalizer::default();
    let mut scratch = Vec::new();
    let mut sealed = Sealed {
        hashes: Vec::new(),
        elements: Vec::new(),
    };
    loop {
        scratch.clear();
        let Some(element) = reader.write_next(&mut canon, &mut scratch)? else {
            return Ok(sealed);
        };
        prev = Sha256::new()
            .chain_update(prev)
            .chain_update(&scratch)
            .finalize()
            .into();
        sealed.hashes.push(prev);
        sealed.elements.push(element);
    }
}

/// Canonical documents back to back, with the end offset of each.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

fn canonicalize_batches(
    mut reader: ArrayReader<'_>,
    to_hasher: &SyncSender<Batch>,
    spare: &Receiver<Batch>,
) -> CoreResult<Vec<Element>> {
    let mut canon = Canonicalizer::default();
    let mut elements = Vec::new();
    let mut batch = Batch::default();
    let lost = || CoreError::Serialization("the hashing thread stopped".into());
    while let Some(element) = reader.write_next(&mut canon, &mut batch.bytes)? {
        elements.push(element);
        batch.ends.push(batch.bytes.len());
        if batch.bytes.len() >= BATCH_BYTES {
            let mut next = spare.try_recv().unwrap_or_default();
            next.bytes.clear();
            next.ends.clear();
            to_hasher
                .send(std::mem::replace(&mut batch, next))
                .map_err(|_| lost())?;
        }
    }
    if !batch.ends.is_empty() {
        to_hasher.send(batch).map_err(|_| lost())?;
    }
    Ok(elements)
}

fn hash_batches(
    batches: &Receiver<Batch>,
    recycle: &SyncSender<Batch>,
    mut prev: [u8; 32],
) -> Vec<[u8; 32]> {
    let mut hashes = Vec::new();
    for batch in batches {
        let mut start = 0;
        for &end in &batch.ends {
            let mut hasher = Sha256::new();
            hasher.update(prev);
            hasher.update(batch.bytes.get(start..end).unwrap_or_default());
            prev = hasher.finalize().into();
            hashes.push(prev);
            start = end;
        }
        // The producer may have finished already; a full or closed queue just drops it.
        let _ = recycle.try_send(batch);
    }
    hashes
}

/// What [`write_sealed_doc`] appends after an event's members: `"prev_hash":"…","hash":"…"}`.
const LINK_SUFFIX: usize = 13 + 64 + 10 + 64 + 2;

/// The length of [`write_sealed_doc`]'s output for an element of `len` bytes.
pub fn sealed_doc_len(len: usize, empty: bool) -> usize {
    len.saturating_sub(1) + usize::from(!empty) + LINK_SUFFIX
}

/// The stored document of a newly sealed event: its document with `prev_hash` and `hash`
/// (hex) appended as the last members, which is what encoding the sealed event gives
/// (they are the event's last fields). `out` must be [`sealed_doc_len`] long.
pub fn write_sealed_doc(
    element: &[u8],
    empty: bool,
    prev: &[u8; 64],
    hash: &[u8; 64],
    out: &mut [u8],
) -> CoreResult<()> {
    let body = element.strip_suffix(b"}").unwrap_or(element);
    let separator: &[u8] = if empty { b"" } else { b"," };
    let parts: [&[u8]; 7] = [
        body,
        separator,
        b"\"prev_hash\":\"",
        prev,
        b"\",\"hash\":\"",
        hash,
        b"\"}",
    ];
    let mut rest = out;
    for part in parts {
        rest.write_all(part)
            .map_err(|e| CoreError::InvalidArgument(format!("sealed document buffer: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::canonical::{canonicalize, to_hex};
    use crate::trace::chain::hex64;

    fn reference(docs: &[String], mut prev: [u8; 32]) -> Vec<[u8; 32]> {
        docs.iter()
            .map(|d| {
                let canonical = canonicalize(d.as_bytes(), &HASH_FIELDS).unwrap();
                prev = Sha256::new()
                    .chain_update(prev)
                    .chain_update(canonical)
                    .finalize()
                    .into();
                prev
            })
            .collect()
    }

    fn docs(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    r#"{{"type":"t","id":"e{i}","x":{},"s":"caf\u00e9 {i}","m":{{"b":1,"a":[{i}.5]}}}}"#,
                    i as f64 / 7.0
                )
            })
            .collect()
    }

    #[test]
    fn pipelined_and_direct_paths_match_the_reference() {
        for n in [0, 1, 3, 5_000] {
            let docs = docs(n);
            let blob = format!("[{}]", docs.join(","));
            let prev = [7_u8; 32];
            let sealed = seal(blob.as_bytes(), prev).unwrap();
            assert_eq!(sealed.hashes, reference(&docs, prev), "{n}");
            if n == 5_000 {
                assert!(blob.len() >= PIPELINE_MIN);
            }
            for (el, doc) in sealed.elements.iter().zip(&docs) {
                assert_eq!(&blob.as_bytes()[el.start..el.end], doc.as_bytes());
                assert!(!el.linked && !el.empty);
            }
        }
    }

    #[test]
    fn linked_and_empty_elements_are_reported() {
        let blob = br#" [ {} , {"a":1,"hash":"x"}, {"prev_hash":"y"} ] "#;
        let sealed = seal(blob, [0; 32]).unwrap();
        let flags: Vec<(bool, bool)> = sealed
            .elements
            .iter()
            .map(|e| (e.linked, e.empty))
            .collect();
        assert_eq!(flags, [(false, true), (true, false), (true, false)]);
        let (p, h) = (hex64(&[1; 32]), hex64(&[2; 32]));
        let (ps, hs) = (to_hex(&[1; 32]), to_hex(&[2; 32]));
        for (element, empty, want) in [
            (
                &b"{}"[..],
                true,
                format!(r#"{{"prev_hash":"{ps}","hash":"{hs}"}}"#),
            ),
            (
                br#"{"a":1}"#,
                false,
                format!(r#"{{"a":1,"prev_hash":"{ps}","hash":"{hs}"}}"#),
            ),
        ] {
            let mut out = vec![0; sealed_doc_len(element.len(), empty)];
            write_sealed_doc(element, empty, &p, &h, &mut out).unwrap();
            assert_eq!(out, want.as_bytes());
            assert!(write_sealed_doc(element, empty, &p, &h, &mut out[1..]).is_err());
        }
    }

    #[test]
    fn malformed_input_is_an_error_naming_the_event() {
        let bad_event = format!("[{},{{\"a\":}}]", docs(1)[0]);
        let big_bad = format!("[{},{{\"a\":1,\"a\":2}}]", docs(3000).join(","));
        for (blob, want) in [
            (bad_event.as_str(), "event 1:"),
            (big_bad.as_str(), "event 3000:"),
            ("[1]", "event 0: not a JSON object"),
            ("[{}", "expected"),
            ("[{},]", "event 1:"),
            ("[{} {}]", "expected ','"),
            ("{}", "expected a JSON array"),
            ("[{}] x", "trailing"),
        ] {
            match seal(blob.as_bytes(), [0; 32]) {
                Err(CoreError::Serialization(msg)) => assert!(msg.contains(want), "{blob}: {msg}"),
                other => panic!("{blob}: {other:?}"),
            }
        }
        assert!(seal(b"[\"\xff\"]", [0; 32]).is_err());
    }
}
