//! Object members in RFC 8785 order, cheaply.
//!
//! Members sort by the UTF-16 code units of their unescaped names. Two names without
//! escapes that first differ in an ASCII byte (almost every pair) compare as bytes, since
//! UTF-8 and UTF-16 order agree there; only the rest go code unit by code unit. Objects already in order are left alone after one linear check. And since
//! every event of one struct type is encoded with the same member names in the same
//! (declaration, not sorted) order, [`OrderCache`] remembers the permutation found for
//! the last top-level object and reuses it when the names match, which makes sorting an
//! event's members a comparison of each name with the cached one.

use std::cmp::Ordering;

use crate::error::{CoreError, CoreResult};
use crate::ir::scan::Units;
use crate::trace::tape::Tok;

/// An object member: where its name's raw content is, and the tape indices of its name
/// and value tokens.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    key_start: u32,
    key_end: u32,
    escaped: bool,
    /// Position among the object's members in the source.
    pub pos: u32,
    /// Tape index of the name (the value's is the next one).
    name: u32,
}

impl Member {
    /// The member whose name token is at tape index `name`.
    pub fn new(tape: &[Tok], name: usize, pos: u32) -> Member {
        let (key_start, key_end, escaped) = match tape.get(name) {
            Some(&Tok::Raw { start, end }) => (start + 1, end.saturating_sub(1), false),
            Some(&Tok::Escaped { start, end }) => (start, end, true),
            _ => (0, 0, false),
        };
        Member {
            key_start,
            key_end,
            escaped,
            pos,
            name: name as u32,
        }
    }

    pub fn name(&self) -> usize {
        self.name as usize
    }

    pub fn value(&self) -> usize {
        self.name as usize + 1
    }

    /// The name's raw content (between the quotes, escapes as written).
    pub fn key<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.key_start as usize..self.key_end as usize)
            .unwrap_or_default()
    }

    fn key_bytes<'a>(&self, text: &'a str) -> &'a [u8] {
        text.as_bytes()
            .get(self.key_start as usize..self.key_end as usize)
            .unwrap_or_default()
    }

    pub fn escaped(&self) -> bool {
        self.escaped
    }

    /// Byte range of the name as written, quotes included (for names without escapes).
    pub fn quoted_span(&self) -> (usize, usize) {
        (self.key_start as usize - 1, self.key_end as usize + 1)
    }

    /// Whether the unescaped name is `want`.
    pub fn is(&self, text: &str, want: &str) -> bool {
        if self.escaped {
            Units::new(self.key(text)).eq(want.encode_utf16())
        } else {
            same_bytes(self.key_bytes(text), want.as_bytes())
        }
    }
}

/// RFC 8785 order of two names. Names without escapes whose first difference is an ASCII
/// byte (or one a prefix of the other) compare as bytes, where UTF-8 and UTF-16 agree;
/// the rest go code unit by code unit.
fn order(text: &str, a: &Member, b: &Member) -> Ordering {
    if !a.escaped && !b.escaped {
        let (x, y) = (a.key_bytes(text), b.key_bytes(text));
        match x.iter().zip(y).find(|(p, q)| p != q) {
            None => return x.len().cmp(&y.len()),
            Some((p, q)) if p.is_ascii() && q.is_ascii() => return p.cmp(q),
            Some(_) => {}
        }
    }
    Units::new(a.key(text)).cmp(Units::new(b.key(text)))
}

/// Sorts an object's members; a name that occurs twice is an error (RFC 8785 requires
/// unique names, and keeping either copy would hide a tampered field).
pub fn sort(text: &str, members: &mut [Member]) -> CoreResult<()> {
    if members
        .windows(2)
        .all(|w| order(text, &w[0], &w[1]) == Ordering::Less)
    {
        return Ok(());
    }
    members.sort_unstable_by(|a, b| order(text, a, b));
    match members
        .windows(2)
        .find(|w| order(text, &w[0], &w[1]) == Ordering::Equal)
    {
        Some(w) => Err(CoreError::Serialization(format!(
            "duplicate member name {:?} in a JSON object",
            w[0].key(text)
        ))),
        None => Ok(()),
    }
}

/// Slice equality for short names without a `memcmp` call per name.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// What the last object arranged through it looked like, and the order found for it.
#[derive(Default)]
pub struct OrderCache {
    /// Its member names (raw, back to back) with the end of each and whether escaped.
    keys: Vec<u8>,
    names: Vec<(usize, bool)>,
    /// Source positions of the kept members, in canonical order.
    order: Vec<u32>,
    dropped: usize,
    /// The names that were to be left out, and whether the entry may be used at all.
    drop: Vec<String>,
    valid: bool,
    scratch: Vec<Member>,
}

impl OrderCache {
    /// Leaves out the members named in `drop` from `members` (all of one object's, in
    /// source order, `pos` their index) and sorts the rest like [`sort`]; returns how
    /// many were left out. When the names are the same, in the same order, as last time,
    /// the last answer is reused without comparing names with each other.
    pub fn arrange(
        &mut self,
        text: &str,
        members: &mut Vec<Member>,
        base: usize,
        drop: &[&str],
    ) -> CoreResult<usize> {
        let own = members.get(base..).unwrap_or_default();
        if self.matches(text, own, drop) {
            self.scratch.clear();
            self.scratch.extend(
                self.order
                    .iter()
                    .filter_map(|&p| own.get(p as usize).copied()),
            );
            members.truncate(base);
            members.extend_from_slice(&self.scratch);
            return Ok(self.dropped);
        }
        self.keys.clear();
        self.names.clear();
        self.order.clear();
        self.drop.clear();
        self.drop.extend(drop.iter().map(|d| d.to_string()));
        for m in own {
            self.keys.extend_from_slice(m.key_bytes(text));
            self.names.push((self.keys.len(), m.escaped));
        }
        let before = members.len();
        let mut k = base;
        members.retain(|m| {
            k += 1;
            k <= base || !drop.iter().any(|want| m.is(text, want))
        });
        self.dropped = before - members.len();
        let sorted = sort(text, members.get_mut(base..).unwrap_or_default());
        self.valid = sorted.is_ok(); // never reuse the answer for an object that failed
        if self.valid {
            let kept = members.get(base..).unwrap_or_default();
            self.order.extend(kept.iter().map(|m| m.pos));
        }
        sorted.map(|()| self.dropped)
    }

    fn matches(&self, text: &str, members: &[Member], drop: &[&str]) -> bool {
        if !self.valid
            || members.len() != self.names.len()
            || !self
                .drop
                .iter()
                .map(String::as_str)
                .eq(drop.iter().copied())
        {
            return false;
        }
        let mut start = 0;
        members.iter().zip(&self.names).all(|(m, &(end, escaped))| {
            let key = self.keys.get(start..end).unwrap_or_default();
            start = end;
            m.escaped == escaped && same_bytes(m.key_bytes(text), key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::tape::read_value;

    fn members(doc: &str, tape: &mut Vec<Tok>) -> Vec<Member> {
        read_value(doc.as_bytes(), 0, tape, &mut Vec::new()).unwrap();
        let mut out = Vec::new();
        let mut i = 1;
        while i < tape.len() {
            out.push(Member::new(tape, i, out.len() as u32));
            i = crate::trace::tape::skip(tape, i + 1);
        }
        out
    }

    fn cached_len(doc: &str) -> usize {
        members(doc, &mut Vec::new()).len()
    }

    fn keys(doc: &str, ms: &[Member]) -> Vec<String> {
        ms.iter().map(|m| m.key(doc).to_string()).collect()
    }

    #[test]
    fn utf16_order_and_duplicates() {
        let mut tape = Vec::new();
        let doc = r#"{"😀":1,"\ue000":2,"b":3,"a":4,"é":5}"#;
        let mut ms = members(doc, &mut tape);
        sort(doc, &mut ms).unwrap();
        assert_eq!(keys(doc, &ms), ["a", "b", "é", "😀", r"\ue000"]);
        let dup = r#"{"a":1,"\u0061":2}"#;
        let mut ms = members(dup, &mut tape);
        assert!(sort(dup, &mut ms).is_err());
    }

    #[test]
    fn cache_reuses_and_invalidates() {
        let mut cache = OrderCache::default();
        let mut tape = Vec::new();
        for doc in [
            r#"{"c":1,"a":2,"b":3}"#,
            r#"{"c":[5],"a":{},"b":"x"}"#,
            r#"{"c":1,"a":2,"d":3}"#,
            r#"{"c":[],"a":2,"d":{"d":3}}"#,
            r#"{"c":1,"a":2}"#,
            r#"{"c":1,"a":2,"a":3}"#,
            r#"{"c":1,"a":2,"a":3}"#,
            r#"{}"#,
            r#"{"d":1}"#,
            r#"{"d":1}"#,
            r#"{}"#,
            r#"{"c":1,"\u0061":2,"b":3}"#,
        ] {
            let mut cached = members(doc, &mut tape);
            let mut fresh = cached.clone();
            let got = cache
                .arrange(doc, &mut cached, 0, &["d"])
                .map(|n| (n, keys(doc, &cached)));
            fresh.retain(|m| m.key(doc) != "d");
            let want =
                sort(doc, &mut fresh).map(|()| (cached_len(doc) - fresh.len(), keys(doc, &fresh)));
            assert_eq!(got, want, "{doc}");
        }
    }
}
