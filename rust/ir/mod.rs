//! The IR's Rust side: canonical JSON and fingerprints, and validation.
//!
//! * `canonical` — RFC 8785 canonical JSON over a borrowing parse tree, SHA-256 fingerprints.
//! * `schema` — the structural rules, compiled from msgspec's JSON Schema of the IR types.
//! * `validate` — a parsed document against a compiled schema, every problem collected.
//! * `jsonl` — bulk validation of JSON Lines, streamed and parallel.
//! * `datetime` — RFC 3339 date-times as msgspec accepts them.

pub mod canonical;
pub mod datetime;
pub mod jsonl;
pub mod schema;
pub mod validate;
