//! Random numbers that are bit-for-bit NumPy's.
//!
//! * `pcg64` — the PCG64 (XSL-RR 128/64) bit generator with NumPy's seeding, 32-bit
//!   buffering and O(log n) `advance`.
//! * `seed_sequence` — NumPy's `SeedSequence` entropy mixing.
//! * `distributions` — uniform, ziggurat normal and exponential, as `numpy.random.Generator`.
//! * `bounded` — bounded integers (Lemire's method, NumPy's buffering rules).
//! * `shuffle` — Fisher-Yates shuffles and sampling without replacement.
//! * `parallel` — fills a fixed-width stream from several threads: each chunk starts from
//!   the state advanced to its offset, so the output does not depend on the thread count.
//!
//! Every generic routine takes a [`BitSource`], so tests can drive them from a scripted
//! source and production code monomorphises them onto [`pcg64::Pcg64`].

pub mod bounded;
pub mod distributions;
pub mod parallel;
pub mod pcg64;
pub mod seed_sequence;
pub mod shuffle;
pub mod splitmix;
#[rustfmt::skip] // generated data, laid out by tools/ziggurat_tables.py
mod ziggurat_tables;

/// A source of raw random words, as NumPy's `bitgen_t` sees one.
pub trait BitSource {
    fn next_u64(&mut self) -> u64;
    /// 32 bits; PCG64 hands out the low then the high half of one 64-bit draw.
    fn next_u32(&mut self) -> u32;

    /// A double in [0, 1) from the top 53 bits of one 64-bit draw.
    #[inline]
    fn next_f64(&mut self) -> f64 {
        distributions::unit_f64(self.next_u64())
    }

    /// A float in [0, 1) from the top 24 bits of one 32-bit draw.
    #[inline]
    fn next_f32(&mut self) -> f32 {
        distributions::unit_f32(self.next_u32())
    }
}
