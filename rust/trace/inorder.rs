//! The fast path of trace canonicalization: documents whose members are already in order.
//!
//! `Event` declares its fields in RFC 8785 order (the two hash fields last), so a stored
//! event document is, nearly always, its own canonical form plus the hash members, with
//! perhaps a few numbers or escaped strings spelled differently. For such a document the
//! general path ([`crate::trace::canon`]: tokenize onto a tape, sort, write) does work
//! whose result is known in advance. This pass reads the document once, checks that every
//! object's member names strictly increase (hash fields aside), rewrites only the tokens
//! not canonical as written, leaves out the hash members, and streams everything else to
//! the sink as a few long slices of the input: no tape, no member list.
//!
//! It answers only when it is sure. Anything it does not handle in one pass (whitespace,
//! names out of order or repeated, names with escapes or non-ASCII bytes, where byte order
//! and UTF-16 order could differ, nesting deeper than [`DEPTH`], any syntax error) returns
//! `None`, with part of the output possibly written; the caller discards it and takes the
//! general path, which then gives the answer (or the error) it always gave. When it does
//! answer, the bytes are those of the general path: in-order members with unique names
//! are exactly what sorting them yields, and every rewritten token goes through the same
//! writers ([`crate::trace::canon::put_escaped`], [`crate::trace::canon::put_double`]).

use crate::ir::scan::{self, Number};
use crate::trace::canon::{put_double, put_escaped, Sink};

/// Nesting handled here; deeper documents take the general path (iterative, 512 levels).
pub const DEPTH: usize = 64;

/// Byte range of a string's content in the input.
pub type Span = (usize, usize);

/// What the pass found besides the canonical bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InOrder {
    /// The index just past the document's object.
    pub end: usize,
    /// The contents of the top-level `hash` and `prev_hash` strings, when present.
    pub hash: Option<Span>,
    pub prev_hash: Option<Span>,
    /// Whether the object has no members at all.
    pub empty: bool,
}

impl InOrder {
    /// How many hash members were left out.
    pub fn dropped(&self) -> usize {
        usize::from(self.hash.is_some()) + usize::from(self.prev_hash.is_some())
    }
}

/// Writes the canonical form of the object at byte `at` of `text`, without its top-level
/// `hash` and `prev_hash` members, if the object is in canonical member order (see the
/// module docs); `None` otherwise.
pub fn write<S: Sink>(text: &str, at: usize, sink: &mut S) -> Option<InOrder> {
    let mut pass = Pass {
        b: text.as_bytes(),
        text,
        sink,
        run: at,
    };
    let found = pass.top(at)?;
    pass.flush_to(found.end);
    Some(found)
}

/// A member name at `at` of `b`: its raw bytes and the index just past its colon. Only
/// plain ASCII names, immediately followed by the colon.
fn name(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let (end, escaped) = scan::string(b, at).ok()?;
    let name = b.get(at + 1..end - 1)?;
    if escaped || !name.is_ascii() || b.get(end) != Some(&b':') {
        return None;
    }
    Some((name, end + 1))
}

struct Pass<'a, S> {
    b: &'a [u8],
    text: &'a str,
    sink: &'a mut S,
    /// Start of the input not yet written (everything before it is in the sink or dropped).
    run: usize,
}

impl<S: Sink> Pass<'_, S> {
    fn flush_to(&mut self, i: usize) {
        if i > self.run {
            self.sink.put(self.b.get(self.run..i).unwrap_or_default());
            self.run = i;
        }
    }

    /// Replaces the input `from..to` by what `write` puts.
    fn replace(&mut self, from: usize, to: usize, write: impl FnOnce(&mut S)) {
        self.flush_to(from);
        write(self.sink);
        self.run = to;
    }

    /// After an element or member ending at `at`: `Some(true)` for a comma, `Some(false)`
    /// for the closing bracket `close`.
    fn more(&self, at: usize, close: u8) -> Option<bool> {
        match self.b.get(at) {
            Some(b',') => Some(true),
            Some(&c) if c == close => Some(false),
            _ => None,
        }
    }

    fn value(&mut self, at: usize, depth: usize) -> Option<usize> {
        match *self.b.get(at)? {
            b'{' => self.object(at, depth + 1),
            b'[' => self.array(at, depth + 1),
            b'"' => {
                let (end, escaped) = scan::string(self.b, at).ok()?;
                if escaped {
                    let raw = self.text.get(at + 1..end - 1)?;
                    self.replace(at, end, |sink| put_escaped(sink, raw));
                }
                Some(end)
            }
            b'-' | b'0'..=b'9' => {
                let (end, kind) = scan::number(self.b, at).ok()?;
                if let Number::Double(x) = kind {
                    self.replace(at, end, |sink| put_double(sink, x));
                }
                Some(end)
            }
            first => {
                let word: &[u8] = match first {
                    b't' => b"true",
                    b'f' => b"false",
                    b'n' => b"null",
                    _ => return None,
                };
                (self.b.get(at..at + word.len())? == word).then_some(at + word.len())
            }
        }
    }

    fn array(&mut self, at: usize, depth: usize) -> Option<usize> {
        if depth > DEPTH {
            return None;
        }
        let mut i = at + 1;
        if self.b.get(i) == Some(&b']') {
            return Some(i + 1);
        }
        loop {
            i = self.value(i, depth)?;
            if !self.more(i, b']')? {
                return Some(i + 1);
            }
            i += 1;
        }
    }

    fn object(&mut self, at: usize, depth: usize) -> Option<usize> {
        if depth > DEPTH {
            return None;
        }
        let mut i = at + 1;
        if self.b.get(i) == Some(&b'}') {
            return Some(i + 1);
        }
        let mut last: Option<&[u8]> = None;
        loop {
            let (name, after) = name(self.b, i)?;
            if last.is_some_and(|previous| name <= previous) {
                return None;
            }
            last = Some(name);
            i = self.value(after, depth)?;
            if !self.more(i, b'}')? {
                return Some(i + 1);
            }
            i += 1;
        }
    }

    /// The document's object: like [`Pass::object`], but the hash members are taken out
    /// (with the comma that separated each from its neighbour) and their values noted.
    fn top(&mut self, at: usize) -> Option<InOrder> {
        if self.b.get(at) != Some(&b'{') {
            return None;
        }
        let mut found = InOrder {
            end: 0,
            hash: None,
            prev_hash: None,
            empty: self.b.get(at + 1) == Some(&b'}'),
        };
        let mut i = at + 1;
        if found.empty {
            found.end = i + 1;
            return Some(found);
        }
        let mut last: Option<&[u8]> = None;
        loop {
            let member = i;
            let (name, after) = name(self.b, member)?;
            let slot = match name {
                b"hash" => Some(&mut found.hash),
                b"prev_hash" => Some(&mut found.prev_hash),
                _ => None,
            };
            if let Some(slot) = slot {
                if self.b.get(after) != Some(&b'"') || slot.is_some() {
                    return None;
                }
                let (end, escaped) = scan::string(self.b, after).ok()?;
                if escaped {
                    return None;
                }
                *slot = Some((after + 1, end - 1));
                if last.is_some() {
                    // `,"hash":"…"` goes; the separator after it stays.
                    self.flush_to(member - 1);
                    self.run = end;
                } else {
                    // Nothing kept yet: `"hash":"…",` goes, the object's `{` stays.
                    self.flush_to(member);
                    self.run = end + usize::from(self.b.get(end) == Some(&b','));
                }
                i = end;
            } else {
                if last.is_some_and(|previous| name <= previous) {
                    return None;
                }
                last = Some(name);
                i = self.value(after, 1)?;
            }
            if !self.more(i, b'}')? {
                found.end = i + 1;
                return Some(found);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
#[path = "inorder_tests.rs"]
mod tests;
