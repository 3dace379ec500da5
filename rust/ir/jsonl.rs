//! Bulk validation of JSON Lines: millions of documents checked on all cores, nothing
//! built in Python for a valid line, files streamed in blocks so their size is unbounded.
//!
//! A block is cut at its last newline; its lines are split into chunks validated in
//! parallel, and problems come back in line order (1-based line numbers, as editors count).
//! Blank lines are skipped; a line that is not one JSON document gets code `json`.

use std::io::Read;

use rayon::prelude::*;

use super::canonical::parse;
use super::validate::Problem;
use crate::error::{CoreError, CoreResult};

/// Anything that checks one parsed document (a compiled schema, plus semantic rules).
pub trait Check: Sync {
    fn problems(&self, doc: &[u8]) -> Vec<Problem>;
}

/// One problem of one line.
pub type LineProblem = (usize, Problem);

/// Lines per parallel task.
const CHUNK_LINES: usize = 2048;

/// Bytes read per block when streaming a file.
pub const BLOCK: usize = 8 << 20;

/// Problems of every line of `data` (lines numbered from `first_line`).
pub fn validate_block<C: Check>(data: &[u8], first_line: usize, check: &C) -> Vec<LineProblem> {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let last = if data.last() == Some(&b'\n') {
        lines.len().saturating_sub(1)
    } else {
        lines.len()
    };
    lines[..last]
        .par_chunks(CHUNK_LINES)
        .enumerate()
        .flat_map_iter(|(c, chunk)| {
            let base = first_line + c * CHUNK_LINES;
            chunk.iter().enumerate().flat_map(move |(i, line)| {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let found = if line.iter().all(u8::is_ascii_whitespace) {
                    Vec::new()
                } else {
                    check.problems(line)
                };
                found.into_iter().map(move |p| (base + i, p))
            })
        })
        .collect()
}

/// Streams `reader` in blocks of about [`BLOCK`] bytes and validates every line; returns
/// the problems and the number of lines read. `on_block(bytes_so_far)` reports progress.
pub fn validate_reader<C: Check, R: Read>(
    mut reader: R,
    check: &C,
    mut on_block: impl FnMut(u64),
) -> CoreResult<(Vec<LineProblem>, usize)> {
    let mut problems = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut next_line = 1;
    let mut total = 0_u64;
    let mut block = vec![0_u8; BLOCK];
    loop {
        let read = reader
            .read(&mut block)
            .map_err(|e| CoreError::InvalidArgument(format!("cannot read input: {e}")))?;
        total += read as u64;
        let at_end = read == 0;
        carry.extend_from_slice(&block[..read]);
        let cut = if at_end {
            carry.len()
        } else {
            match carry.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => continue,
            }
        };
        if cut > 0 {
            let complete = &carry[..cut];
            problems.extend(validate_block(complete, next_line, check));
            next_line += complete.iter().filter(|&&b| b == b'\n').count();
            if at_end && complete.last() != Some(&b'\n') {
                next_line += 1;
            }
            carry.drain(..cut);
        }
        on_block(total);
        if at_end {
            return Ok((problems, next_line - 1));
        }
    }
}

/// Problems of one document that does not parse.
pub fn parse_problem(doc: &[u8]) -> Option<Problem> {
    parse(doc).err().map(|e| Problem {
        pointer: String::new(),
        code: "json",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flags documents whose canonical form has an "error" member.
    struct HasError;

    impl Check for HasError {
        fn problems(&self, doc: &[u8]) -> Vec<Problem> {
            if let Some(p) = parse_problem(doc) {
                return vec![p];
            }
            if std::str::from_utf8(doc).is_ok_and(|s| s.contains("\"error\"")) {
                vec![Problem {
                    pointer: "/error".into(),
                    code: "rule",
                    message: "has an error".into(),
                }]
            } else {
                Vec::new()
            }
        }
    }

    #[test]
    fn numbers_lines_across_chunks_and_blocks() {
        let mut data = Vec::new();
        for i in 0..10_000 {
            match i {
                17 | 4099 | 9998 => data.extend_from_slice(b"{\"error\":1}\n"),
                5000 => data.extend_from_slice(b"{\"broken\":\n"),
                7000 => data.extend_from_slice(b"\n"),
                _ => data.extend_from_slice(format!("{{\"i\":{i}}}\r\n").as_bytes()),
            }
        }
        data.extend_from_slice(b"{\"error\":2}");
        let want = vec![18, 4100, 5001, 9999, 10_001];
        let lines: Vec<usize> = validate_block(&data, 1, &HasError)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(lines, want);
        let mut seen = Vec::new();
        let (found, count) =
            validate_reader(std::io::Cursor::new(&data), &HasError, |n| seen.push(n)).unwrap();
        assert_eq!(found.iter().map(|p| p.0).collect::<Vec<_>>(), want);
        assert_eq!(count, 10_001);
        assert_eq!(found[2].1.code, "json");
        assert_eq!(seen.last(), Some(&(data.len() as u64)));
    }
}
