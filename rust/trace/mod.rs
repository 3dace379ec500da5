//! Trace kernels: the tamper-evident hash chain.
//!
//! * `chain` — verify and sign SHA-256 hash chains of canonical JSON events.
//! * `seal` — hash a batch of new events (one JSON array) onto a chain.
//! * `inorder` — the one-pass fast path for documents already in canonical order.
//! * `canon` — streaming RFC 8785 canonicalization into a hasher.
//! * `members` — object members in RFC 8785 order (with a cache for repeated shapes).
//! * `tape` — one validating pass of a JSON value onto a flat token tape.
//!
//! The byte-level lexing of strings and numbers is shared with the IR parser
//! (`crate::ir::scan`).

pub mod canon;
pub mod chain;
pub mod inorder;
pub mod members;
pub mod seal;
pub mod tape;
