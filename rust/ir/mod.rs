//! The IR's Rust side: canonical JSON and fingerprints, and validation.
//!
//! * `parser` — strict JSON into the borrowing tree every other module reads.
//! * `scan` — byte-level lexing of JSON strings and numbers (the parser's and the trace
//!   canonicalizer's).
//! * `canonical` — RFC 8785 canonical JSON over a borrowing parse tree, SHA-256 fingerprints.
//! * `schema` — the structural rules, compiled from msgspec's JSON Schema of the IR types.
//! * `bounds` — numeric bounds and lengths, compared as Python compares numbers.
//! * `validate` — a parsed document against a compiled schema, every problem collected.
//! * `rules` — the semantic rules, run on documents of the right shape.
//! * `jsonl` — bulk validation of JSON Lines, streamed and parallel.
//! * `datetime` — RFC 3339 date-times as msgspec accepts them.

pub mod bounds;
pub mod canonical;
pub mod datetime;
pub mod jsonl;
pub mod parser;
pub mod rules;
pub mod scan;
pub mod schema;
pub mod validate;
