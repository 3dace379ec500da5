//! Streaming RFC 8785 canonical JSON for hashing trace events.
//!
//! Byte for byte the output of [`crate::ir::canonical::canonicalize`] (same sorting by
//! UTF-16 code units, same string escapes, same number forms including exact 64-bit
//! integers, same duplicate-name and nesting errors; `canon_tests.rs` checks it on
//! generated documents), but built for throughput: one validating pass onto a reusable
//! tape ([`crate::trace::tape`]), then one writing pass that copies every span already in
//! canonical form (strings without escapes, integers, literals) wholesale, sorts an
//! object's members only when they are out of order, and streams into any [`Sink`]; for
//! the hash chain that is [`HashSink`], so no canonical document is ever materialised.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::ir::scan::{error_at, Piece, Pieces};
use crate::trace::members::{self, Member, OrderCache};
use crate::trace::tape::{read_value, skip, Tok};

/// Where canonical bytes go.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

const HASH_BUFFER: usize = 4096;

/// A SHA-256 fed through a small buffer: canonical output arrives in many short pieces
/// (punctuation, names), and one `update` per piece would cost more than the copy.
pub struct HashSink {
    hasher: Sha256,
    buf: [u8; HASH_BUFFER],
    len: usize,
}

impl Default for HashSink {
    fn default() -> Self {
        HashSink {
            hasher: Sha256::new(),
            buf: [0; HASH_BUFFER],
            len: 0,
        }
    }
}

impl HashSink {
    /// Starts a new hash whose input begins with `prefix`.
    pub fn start(&mut self, prefix: &[u8]) {
        self.hasher = Sha256::new();
        self.len = 0;
        self.put(prefix);
    }

    /// The digest of everything put since [`HashSink::start`].
    pub fn finish(&mut self) -> [u8; 32] {
        self.flush();
        std::mem::take(&mut self.hasher).finalize().into()
    }

    fn flush(&mut self) {
        self.hasher
            .update(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

impl Sink for HashSink {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if let Some(slot) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            slot.copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            self.flush();
            match self.buf.get_mut(..bytes.len()) {
                Some(slot) if bytes.len() < HASH_BUFFER / 2 => {
                    slot.copy_from_slice(bytes);
                    self.len = bytes.len();
                }
                _ => self.hasher.update(bytes),
            }
        }
    }
}

/// Reusable scratch space for canonicalizing many documents (one per thread).
#[derive(Default)]
pub struct Canonicalizer {
    tape: Vec<Tok>,
    stack: Vec<usize>,
    members: Vec<Member>,
    top_order: OrderCache,
}

impl Canonicalizer {
    /// Reads the JSON value at byte `at` of `text` (leading whitespace allowed); returns
    /// the index just past it. The value is then available to the other methods.
    pub fn read(&mut self, text: &str, at: usize) -> CoreResult<usize> {
        read_value(text.as_bytes(), at, &mut self.tape, &mut self.stack)
    }

    /// Reads a whole document: valid UTF-8, one value, whitespace around it allowed.
    pub fn read_document<'a>(&mut self, doc: &'a [u8]) -> CoreResult<&'a str> {
        let text = std::str::from_utf8(doc).map_err(|e| {
            CoreError::Serialization(format!("invalid UTF-8 at byte {}", e.valid_up_to()))
        })?;
        let end = self.read(text, 0)?;
        let rest = doc.get(end..).unwrap_or_default();
        match rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            Some(k) => Err(error_at("trailing characters", end + k)),
            None => Ok(text),
        }
    }

    /// Whether the value read is an object with no members.
    pub fn is_object(&self) -> Option<bool> {
        match self.tape.first() {
            Some(Tok::Object { next }) => Some(*next == 1),
            _ => None,
        }
    }

    /// For each of `names`, the first top-level member of that name of the object read,
    /// if its value is a string: that string's content, unescaped. One pass over the
    /// members, comparing raw names by length first.
    pub fn top_strings<'a, const N: usize>(
        &self,
        text: &'a str,
        names: [&str; N],
    ) -> [Option<Cow<'a, str>>; N] {
        let mut found: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
        let Some(&Tok::Object { next }) = self.tape.first() else {
            return found;
        };
        let mut i = 1;
        while i < next as usize {
            let member = Member::new(&self.tape, i, 0);
            for (slot, name) in found.iter_mut().zip(names) {
                if slot.is_none() && member.is(text, name) {
                    *slot = self.tape.get(i + 1).and_then(|tok| string_value(text, tok));
                }
            }
            i = skip(&self.tape, i + 1);
        }
        found
    }

    /// Whether one of `names` (at most 64) names more than one top-level member of the
    /// object read.
    pub fn repeats_top(&self, text: &str, names: &[&str]) -> bool {
        let Some(&Tok::Object { next }) = self.tape.first() else {
            return false;
        };
        let mut seen = 0_u64;
        let mut i = 1;
        while i < next as usize {
            let member = Member::new(&self.tape, i, 0);
            for (k, name) in names.iter().enumerate().take(64) {
                if member.is(text, name) {
                    if seen & (1 << k) != 0 {
                        return true;
                    }
                    seen |= 1 << k;
                }
            }
            i = skip(&self.tape, i + 1);
        }
        false
    }

    /// Writes the value read in canonical form, leaving out the top-level members named in
    /// `drop` (if it is an object); returns how many were left out.
    pub fn write<S: Sink>(&mut self, text: &str, drop: &[&str], sink: &mut S) -> CoreResult<usize> {
        self.members.clear();
        let mut writer = Writer {
            tape: &self.tape,
            text,
            members: &mut self.members,
            top_order: &mut self.top_order,
            sink,
        };
        match self.tape.first() {
            Some(Tok::Object { .. }) => writer.object(0, drop),
            Some(_) => writer.value(0).map(|()| 0),
            None => Err(CoreError::Serialization("no JSON value was read".into())),
        }
    }
}

/// The unescaped content of a string token (None for other tokens).
fn string_value<'a>(text: &'a str, tok: &Tok) -> Option<Cow<'a, str>> {
    match *tok {
        Tok::Raw { start, end } => {
            let s = text.get(start as usize..end as usize)?;
            s.strip_prefix('"')?.strip_suffix('"').map(Cow::Borrowed)
        }
        Tok::Escaped { start, end } => {
            let raw = text.get(start as usize..end as usize)?;
            let mut out = String::with_capacity(raw.len());
            for piece in Pieces::new(raw) {
                match piece {
                    Piece::Run(run) => out.push_str(run),
                    Piece::Char(c) => out.push(c),
                }
            }
            Some(Cow::Owned(out))
        }
        _ => None,
    }
}

/// Canonical bytes of a whole JSON document without the top-level members in `drop`.
pub fn canonicalize(doc: &[u8], drop: &[&str]) -> CoreResult<Vec<u8>> {
    let mut canon = Canonicalizer::default();
    let text = canon.read_document(doc)?;
    let mut out = Vec::with_capacity(doc.len());
    canon.write(text, drop, &mut out)?;
    Ok(out)
}

struct Writer<'w, S> {
    tape: &'w [Tok],
    text: &'w str,
    members: &'w mut Vec<Member>,
    top_order: &'w mut OrderCache,
    sink: &'w mut S,
}

impl<S: Sink> Writer<'_, S> {
    fn value(&mut self, at: usize) -> CoreResult<()> {
        match self.tape.get(at) {
            Some(&Tok::Raw { start, end }) => {
                let text = self.text.as_bytes();
                self.sink
                    .put(text.get(start as usize..end as usize).unwrap_or_default());
            }
            Some(&Tok::Escaped { start, end }) => self.escaped(start, end),
            Some(&Tok::Double(x)) => put_double(self.sink, x),
            Some(&Tok::Array { next }) => {
                self.sink.put(b"[");
                let mut i = at + 1;
                while i < next as usize {
                    if i > at + 1 {
                        self.sink.put(b",");
                    }
                    self.value(i)?;
                    i = skip(self.tape, i);
                }
                self.sink.put(b"]");
            }
            Some(Tok::Object { .. }) => {
                self.object(at, &[])?;
            }
            None => return Err(CoreError::Serialization("truncated token tape".into())),
        }
        Ok(())
    }

    /// Writes the object at tape index `at` without the members named in `drop`; returns
    /// how many were dropped.
    fn object(&mut self, at: usize, drop: &[&str]) -> CoreResult<usize> {
        let next = skip(self.tape, at);
        let base = self.members.len();
        let mut i = at + 1;
        while i < next {
            let pos = (self.members.len() - base) as u32;
            self.members.push(Member::new(self.tape, i, pos));
            i = skip(self.tape, i + 1);
        }
        // Only the document's own object (tape index 0) drops members, and only it
        // recurs with the same shape from one event to the next.
        let dropped = if at == 0 {
            self.top_order
                .arrange(self.text, self.members, base, drop)?
        } else {
            members::sort(self.text, self.members.get_mut(base..).unwrap_or_default())?;
            0
        };
        let end = self.members.len();
        self.sink.put(b"{");
        for k in base..end {
            let Some(&member) = self.members.get(k) else {
                break;
            };
            self.name(&member, k == base);
            self.value(member.value())?;
        }
        self.sink.put(b"}");
        self.members.truncate(base);
        Ok(dropped)
    }

    /// Writes `,"name":` (no comma before the first member). A name without escapes is
    /// canonical as written, and in compact input it sits between its comma and colon,
    /// so all of that is usually one copy.
    fn name(&mut self, member: &Member, first: bool) {
        if member.escaped() {
            if !first {
                self.sink.put(b",");
            }
            let Some(&Tok::Escaped { start, end }) = self.tape.get(member.name()) else {
                return;
            };
            self.escaped(start, end);
            self.sink.put(b":");
            return;
        }
        let bytes = self.text.as_bytes();
        let (mut start, mut end) = member.quoted_span();
        if !first {
            if start > 0 && bytes.get(start - 1) == Some(&b',') {
                start -= 1;
            } else {
                self.sink.put(b",");
            }
        }
        let colon = bytes.get(end) == Some(&b':');
        if colon {
            end += 1;
        }
        self.sink.put(bytes.get(start..end).unwrap_or_default());
        if !colon {
            self.sink.put(b":");
        }
    }

    fn escaped(&mut self, start: u32, end: u32) {
        let raw = self
            .text
            .get(start as usize..end as usize)
            .unwrap_or_default();
        put_escaped(self.sink, raw);
    }
}

/// The canonical string whose raw (validated) content between the quotes is `raw`.
pub fn put_escaped<S: Sink>(sink: &mut S, raw: &str) {
    sink.put(b"\"");
    for piece in Pieces::new(raw) {
        match piece {
            Piece::Run(run) => sink.put(run.as_bytes()),
            Piece::Char(c) => put_char(sink, c),
        }
    }
    sink.put(b"\"");
}

fn put_char<S: Sink>(sink: &mut S, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short: &[u8] = match c {
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\n' => b"\\n",
        '\r' => b"\\r",
        '\t' => b"\\t",
        '\u{8}' => b"\\b",
        '\u{c}' => b"\\f",
        '\0'..='\u{1f}' => {
            let b = c as usize;
            sink.put(&[b'\\', b'u', b'0', b'0', HEX[b >> 4], HEX[b & 15]]);
            return;
        }
        _ => {
            let mut buf = [0_u8; 4];
            sink.put(c.encode_utf8(&mut buf).as_bytes());
            return;
        }
    };
    sink.put(short);
}

/// ECMAScript's Number-to-String for a finite double (`-0` is written `0`).
pub fn put_double<S: Sink>(sink: &mut S, x: f64) {
    if x == 0.0 {
        sink.put(b"0");
    } else {
        let mut buffer = ryu_js::Buffer::new();
        sink.put(buffer.format_finite(x).as_bytes());
    }
}

#[cfg(test)]
#[path = "canon_tests.rs"]
pub(crate) mod tests;
