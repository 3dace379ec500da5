//! A strict JSON parser (RFC 8259) into the borrowing [`Node`] tree.
//!
//! Why not serde_json: its visitor interface grows every container's `Vec` one push at a
//! time and copies member names through a second visitor; parsing was half of the time of
//! validating a document. This parser is one recursive descent over the validated UTF-8
//! text that:
//!
//! * collects the items of every open container on two shared scratch stacks and moves
//!   them into an exactly sized `Vec` when the container closes (one allocation per
//!   container, none for growth);
//! * finds the end of a string eight bytes at a time ([`super::scan::find_special`], shared
//!   with the trace canonicalizer) and borrows it from the input unless it has escapes;
//! * reads numbers as serde_json does, so every verdict built on the tree stays the same:
//!   a non-negative integer that fits is `UInt`, a negative one `Int`, `-0` and every
//!   integer beyond 64 bits a `Float`, fractions and exponents `Float` (correctly rounded by
//!   the standard library), and a double that overflows is an error.
//!
//! Nesting is bounded by [`MAX_DEPTH`] so that hostile input cannot overflow the stack;
//! errors name the byte offset, line and column.

use std::borrow::Cow;

use super::canonical::{Node, Num};
use super::scan::find_special;
use crate::error::{CoreError, CoreResult};

/// The deepest nesting of arrays and objects read.
pub const MAX_DEPTH: usize = 512;

type Member<'a> = (Cow<'a, str>, Node<'a>);

/// Parsing stopped; the error itself waits in [`Parser::failure`]. A zero-sized error keeps
/// `Result<Node, Stop>` as small as a node, so results move through registers.
struct Stop;

type Step<T> = Result<T, Stop>;

/// Parses exactly one JSON document (surrounding whitespace allowed).
pub fn parse(json: &[u8]) -> CoreResult<Node<'_>> {
    let text = std::str::from_utf8(json).map_err(|e| {
        CoreError::Serialization(format!("invalid UTF-8 at byte {}", e.valid_up_to()))
    })?;
    let mut parser = Parser {
        text,
        bytes: json,
        pos: 0,
        depth: 0,
        items: Vec::new(),
        members: Vec::new(),
        failure: None,
    };
    parser.skip_ws();
    let parsed = parser.value().and_then(|node| {
        parser.skip_ws();
        if parser.pos == json.len() {
            Ok(node)
        } else {
            Err(parser.error("trailing characters after the document"))
        }
    });
    parsed.map_err(|Stop| {
        parser
            .failure
            .take()
            .unwrap_or_else(|| CoreError::Serialization("invalid JSON".into()))
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    items: Vec<Node<'a>>,
    members: Vec<Member<'a>>,
    failure: Option<CoreError>,
}

impl<'a> Parser<'a> {
    /// Records why parsing stops here (cold: valid documents never come here).
    #[cold]
    fn error(&mut self, what: &str) -> Stop {
        let before = &self.bytes[..self.pos.min(self.bytes.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        self.failure = Some(CoreError::Serialization(format!(
            "{what} at byte {} (line {line}, column {column})",
            self.pos
        )));
        Stop
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Step<Node<'a>> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Node::Number),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of input, expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Step<Node<'a>> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(node)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn enter(&mut self) -> Step<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        self.pos += 1; // the opening bracket
        self.skip_ws();
        Ok(())
    }

    /// After an item: `,` (more follow) or the closing bracket (returns false).
    fn next_or_close(&mut self, close: u8, what: &str) -> Step<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                Ok(true)
            }
            Some(b) if b == close => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            _ => Err(self.error(what)),
        }
    }

    fn array(&mut self) -> Step<Node<'a>> {
        self.enter()?;
        let start = self.items.len();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Node::Array(Vec::new()));
        }
        loop {
            let item = self.value()?;
            self.items.push(item);
            if !self.next_or_close(b']', "expected ',' or ']' in an array")? {
                break;
            }
        }
        Ok(Node::Array(self.items.drain(start..).collect()))
    }

    fn object(&mut self) -> Step<Node<'a>> {
        self.enter()?;
        let start = self.members.len();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Node::Object(Vec::new()));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name (a string) in an object"));
            }
            let name = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after a member name"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            self.members.push((name, value));
            if !self.next_or_close(b'}', "expected ',' or '}' in an object")? {
                break;
            }
        }
        Ok(Node::Object(self.members.drain(start..).collect()))
    }

    /// Index of the first `"`, `\` or control byte at or after `from`, if any.
    fn special_from(&self, from: usize) -> Option<usize> {
        let at = find_special(self.bytes, from);
        (at < self.bytes.len()).then_some(at)
    }

    fn string(&mut self) -> Step<Cow<'a, str>> {
        let start = self.pos + 1;
        let Some(end) = self.special_from(start) else {
            self.pos = self.bytes.len();
            return Err(self.error("unterminated string"));
        };
        if self.bytes[end] == b'"' {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(&self.text[start..end]));
        }
        let mut owned = String::with_capacity(end - start + 16);
        owned.push_str(&self.text[start..end]);
        self.pos = end;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => self.escape(&mut owned)?,
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
            let run = self.pos;
            let Some(next) = self.special_from(run) else {
                self.pos = self.bytes.len();
                return Err(self.error("unterminated string"));
            };
            owned.push_str(&self.text[run..next]);
            self.pos = next;
        }
    }

    fn escape(&mut self, out: &mut String) -> Step<()> {
        let Some(&kind) = self.bytes.get(self.pos + 1) else {
            self.pos = self.bytes.len();
            return Err(self.error("unterminated string"));
        };
        self.pos += 2;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(out),
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape in a string"));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Step<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let mut value = 0_u32;
        for &b in digits.unwrap_or(&[]) {
            let digit = char::from(b)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value * 16 + digit;
        }
        if digits.is_none() {
            return Err(self.error("invalid \\u escape"));
        }
        self.pos += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self, out: &mut String) -> Step<()> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.error("lone leading surrogate in a \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone leading surrogate in a \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in a \\u escape")),
            other => other,
        };
        let c = char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?;
        out.push(c);
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Step<Num> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("leading zero in a number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let int_end = self.pos;
        let mut fractional = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after '.'"));
            }
            fractional = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in an exponent"));
            }
            fractional = true;
        }
        if !fractional {
            if let Some(n) = integer(&self.bytes[int_start..int_end], negative) {
                return Ok(n);
            }
        }
        match self.text[start..self.pos].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Num::Float(x)),
            _ => Err(self.error("number out of the range of a double")),
        }
    }
}

/// An integer literal's value as serde_json reads it, or None when it must be a double
/// (beyond 64 bits, or `-0`).
fn integer(digits: &[u8], negative: bool) -> Option<Num> {
    let mut value = 0_u64;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if !negative {
        return Some(Num::UInt(value));
    }
    match value {
        0 => None,
        v if v <= 1 << 63 => Some(Num::Int((v as i64).wrapping_neg())),
        _ => None,
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
