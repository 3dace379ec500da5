//! Trace kernels: the tamper-evident hash chain.
//!
//! * `chain` — verify and sign SHA-256 hash chains of canonical JSON events.
//! * `seal` — hash a batch of new events (one JSON array) onto a chain.
//! * `canon` — streaming RFC 8785 canonicalization into a hasher, with
//! * `members` — object members in RFC 8785 order (with a cache for repeated shapes), over
//! * `tape` — one validating pass of a JSON value onto a flat token tape, and
//! * `scan` — the byte-level lexing of strings and numbers.

pub mod canon;
pub mod chain;
pub mod members;
pub mod scan;
pub mod seal;
pub mod tape;
