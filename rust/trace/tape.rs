//! One validating pass over a JSON value into a flat tape of tokens.
//!
//! Canonical JSON needs an object's members sorted before any of them is written, so
//! something must remember where each member is; a tree of owned nodes (what
//! [`crate::ir::canonical`] builds) allocates per string, per array and per object. The
//! tape is one reusable `Vec` of 16-byte tokens that point back into the source: scalars
//! as byte spans (strings without escapes and 64-bit integers are canonical as written
//! and are later copied wholesale), containers as the tape index just past their last
//! token, so a writer can skip a member's value in O(1).
//!
//! The pass is iterative (an explicit stack, never recursion), so nesting cannot overflow
//! the thread's stack; like the IR parser, it refuses documents nested deeper than
//! [`MAX_DEPTH`] (512) levels.

use crate::error::CoreResult;
use crate::ir::scan::{self, error_at, Number};

/// The nesting the IR parser accepts, so both read the same documents.
pub const MAX_DEPTH: usize = crate::ir::parser::MAX_DEPTH;

/// A token of the tape. Spans are byte offsets into the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tok {
    /// Canonical as written: a string without escapes (quotes included), a 64-bit
    /// integer, a short plain decimal, `true`, `false` or `null`.
    Raw { start: u32, end: u32 },
    /// The content (between the quotes) of a string holding escapes.
    Escaped { start: u32, end: u32 },
    /// A number written in ECMAScript form.
    Double(f64),
    /// An array; `next` is the tape index just past its last token.
    Array { next: u32 },
    /// An object of alternating name and value tokens; `next` as for arrays.
    Object { next: u32 },
}

fn offset(at: usize) -> CoreResult<u32> {
    u32::try_from(at).map_err(|_| error_at("document larger than 4 GiB", 0))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Reads the string at `at` (which must be a quote) onto the tape; returns the index past it.
fn push_string(bytes: &[u8], at: usize, tape: &mut Vec<Tok>) -> CoreResult<usize> {
    let (end, escaped) = scan::string(bytes, at)?;
    tape.push(if escaped {
        Tok::Escaped {
            start: offset(at + 1)?,
            end: offset(end - 1)?,
        }
    } else {
        Tok::Raw {
            start: offset(at)?,
            end: offset(end)?,
        }
    });
    Ok(end)
}

/// Reads `"name" :` at `at` (after whitespace); returns the index past the colon.
fn push_name(bytes: &[u8], at: usize, tape: &mut Vec<Tok>) -> CoreResult<usize> {
    let at = skip_ws(bytes, at);
    if bytes.get(at) != Some(&b'"') {
        return Err(error_at("expected a member name", at));
    }
    let end = skip_ws(bytes, push_string(bytes, at, tape)?);
    if bytes.get(end) != Some(&b':') {
        return Err(error_at("expected ':'", end));
    }
    Ok(end + 1)
}

/// Tokenizes the JSON value starting at `at` (leading whitespace allowed) onto `tape`
/// (cleared first); returns the index just past the value. `stack` is scratch space.
pub fn read_value(
    bytes: &[u8],
    at: usize,
    tape: &mut Vec<Tok>,
    stack: &mut Vec<usize>,
) -> CoreResult<usize> {
    tape.clear();
    stack.clear();
    let mut i = at;
    'value: loop {
        i = skip_ws(bytes, i);
        let Some(&b) = bytes.get(i) else {
            return Err(error_at("expected a value, found the end", i));
        };
        match b {
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err(error_at("nested too deeply", i));
                }
                stack.push(tape.len());
                tape.push(if b == b'{' {
                    Tok::Object { next: 0 }
                } else {
                    Tok::Array { next: 0 }
                });
                let close = if b == b'{' { b'}' } else { b']' };
                let first = skip_ws(bytes, i + 1);
                if bytes.get(first) == Some(&close) {
                    // Step back one byte so that the closing code below finds the bracket.
                    i = first - 1;
                } else {
                    i = if b == b'{' {
                        push_name(bytes, first, tape)?
                    } else {
                        first
                    };
                    continue 'value;
                }
            }
            b'"' => i = push_string(bytes, i, tape)? - 1,
            b'-' | b'0'..=b'9' => {
                let (end, kind) = scan::number(bytes, i)?;
                tape.push(match kind {
                    Number::AsWritten => Tok::Raw {
                        start: offset(i)?,
                        end: offset(end)?,
                    },
                    Number::Double(x) => Tok::Double(x),
                });
                i = end - 1;
            }
            _ => {
                let word: &[u8] = match b {
                    b't' => b"true",
                    b'f' => b"false",
                    b'n' => b"null",
                    _ => return Err(error_at("expected a value", i)),
                };
                if bytes.get(i..i + word.len()) != Some(word) {
                    return Err(error_at("expected a value", i));
                }
                tape.push(Tok::Raw {
                    start: offset(i)?,
                    end: offset(i + word.len())?,
                });
                i += word.len() - 1;
            }
        }
        // `i` is the last byte of a complete value (or of an empty container's opening):
        // close containers until one wants another element.
        i += 1;
        loop {
            let Some(&open) = stack.last() else {
                return Ok(i);
            };
            let is_object = matches!(tape.get(open), Some(Tok::Object { .. }));
            i = skip_ws(bytes, i);
            match bytes.get(i) {
                Some(b',') => {
                    i = if is_object {
                        push_name(bytes, i + 1, tape)?
                    } else {
                        i + 1
                    };
                    continue 'value;
                }
                Some(b'}') if is_object => {}
                Some(b']') if !is_object => {}
                _ => return Err(error_at("expected ',' or the end of a container", i)),
            }
            let next = offset(tape.len())?;
            if let Some(slot) = tape.get_mut(open) {
                *slot = if is_object {
                    Tok::Object { next }
                } else {
                    Tok::Array { next }
                };
            }
            stack.pop();
            i += 1;
        }
    }
}

/// The tape index just past the value whose first token is at `at`.
#[inline]
pub fn skip(tape: &[Tok], at: usize) -> usize {
    match tape.get(at) {
        Some(Tok::Array { next } | Tok::Object { next }) => *next as usize,
        _ => at + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tape_of(doc: &str) -> CoreResult<(usize, Vec<Tok>)> {
        let mut tape = Vec::new();
        let end = read_value(doc.as_bytes(), 0, &mut tape, &mut Vec::new())?;
        Ok((end, tape))
    }

    #[test]
    fn tokens_and_skips() {
        let (end, tape) = tape_of(r#" {"a": [1, "x\n", 2.5], "b": {}, "c": true} tail"#).unwrap();
        assert_eq!(end, 43);
        assert_eq!(tape.len(), 10);
        assert_eq!(tape[0], Tok::Object { next: 10 });
        assert_eq!(tape[2], Tok::Array { next: 6 });
        assert_eq!(tape[4], Tok::Escaped { start: 12, end: 15 });
        assert_eq!(tape[5], Tok::Raw { start: 18, end: 21 }); // 2.5: canonical as written
        assert_eq!(tape[7], Tok::Object { next: 8 });
        assert_eq!(skip(&tape, 2), 6);
        assert_eq!(skip(&tape, 1), 2);
    }

    #[test]
    fn malformed_values_are_errors() {
        for bad in [
            "",
            " ",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "[",
            "]",
            "tru",
            "nul",
            "{\"a\":1]",
            "[1}",
            "\"\\q\"",
            "-",
            "[01]",
        ] {
            let result = tape_of(bad).and_then(|(end, _)| {
                // A value followed by stray bytes is a caller's concern; make it an error here.
                if end == bad.len() {
                    Ok(())
                } else {
                    Err(error_at("trailing", end))
                }
            });
            assert!(result.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nesting_limit_matches_the_parser() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(tape_of(&deep(MAX_DEPTH)).is_ok());
        assert!(tape_of(&deep(MAX_DEPTH + 1)).is_err());
        assert!(crate::ir::parser::parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert!(crate::ir::parser::parse(deep(MAX_DEPTH + 1).as_bytes()).is_err());
        // A million unclosed brackets: an error, not a stack overflow.
        assert!(tape_of(&"[".repeat(1_000_000)).is_err());
    }
}
