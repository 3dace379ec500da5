//! crucible's Rust core.
//!
//! The pure algorithm modules (`prng`, `stats`, `trace`, `ir`) take and return
//! plain Rust types and know nothing of Python, so `cargo test` exercises them with no
//! interpreter. `py` (behind the `python` feature, which maturin enables) is the only
//! place that touches PyO3 and NumPy.

pub mod error;
pub mod ir;
pub mod prng;
pub mod stats;
pub mod telemetry;
pub mod trace;

#[cfg(feature = "python")]
mod py;

/// mimalloc for every Rust allocation: parse trees and per-event buffers are many small
/// short-lived blocks, which it serves markedly faster than glibc's malloc (parsing an
/// 11.7 kB document: 45 -> 39 µs). Python's own objects are unaffected.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
