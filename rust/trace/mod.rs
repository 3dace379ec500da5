//! Trace kernels: the tamper-evident hash chain.
//!
//! * `chain` — build, verify and sign SHA-256 hash chains of canonical JSON events.

pub mod chain;
