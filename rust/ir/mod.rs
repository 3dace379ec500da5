//! The IR's Rust side: canonical JSON and fingerprints (validation joins later).
//!
//! * `canonical` — RFC 8785 canonical JSON over a borrowed parse tree, SHA-256 fingerprints.

pub mod canonical;
