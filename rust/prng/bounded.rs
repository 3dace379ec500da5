//! Bounded integers in `[off, off + rng]`, exactly as NumPy's `Generator.integers`.
//!
//! NumPy uses Lemire's multiply-and-reject method. 8- and 16-bit draws are cut from a
//! 32-bit word kept in a [`Buffer`] that lives for one call (one fill, or one broadcast
//! loop); 32-bit draws come from the bit generator's own buffered `next_u32`. A 64-bit
//! range that fits in 32 bits also draws 32-bit words. Signed dtypes run the unsigned
//! kernel with `off` = low reinterpreted, and wrap, as NumPy's C code does.

use super::BitSource;

/// The per-call 32-bit buffer NumPy keeps for sub-32-bit draws.
#[derive(Clone, Copy, Debug, Default)]
pub struct Buffer {
    count: u32,
    word: u32,
}

impl Buffer {
    #[inline]
    fn take<R: BitSource>(&mut self, rng: &mut R, refill: u32, shift: u32) -> u32 {
        if self.count == 0 {
            self.word = rng.next_u32();
            self.count = refill;
        } else {
            self.word >>= shift;
            self.count -= 1;
        }
        self.word
    }
}

#[inline]
fn draw_u8<R: BitSource>(rng: &mut R, buf: &mut Buffer) -> u8 {
    buf.take(rng, 3, 8) as u8
}

#[inline]
fn draw_u16<R: BitSource>(rng: &mut R, buf: &mut Buffer) -> u16 {
    buf.take(rng, 1, 16) as u16
}

#[inline]
fn draw_u32<R: BitSource>(rng: &mut R, _buf: &mut Buffer) -> u32 {
    rng.next_u32()
}

macro_rules! lemire {
    ($name:ident, $t:ty, $wide:ty, $draw:ident) => {
        /// Lemire's method on `rng + 1` outcomes; `rng` must not be the type's maximum.
        #[inline]
        fn $name<R: BitSource>(rng: &mut R, range: $t, buf: &mut Buffer) -> $t {
            let excl = range.wrapping_add(1);
            let bits = <$t>::BITS;
            let mut m = <$wide>::from($draw(rng, buf)) * <$wide>::from(excl);
            let mut leftover = m as $t;
            if leftover < excl {
                let threshold = (<$t>::MAX - range) % excl;
                while leftover < threshold {
                    m = <$wide>::from($draw(rng, buf)) * <$wide>::from(excl);
                    leftover = m as $t;
                }
            }
            (m >> bits) as $t
        }
    };
}

lemire!(lemire_u8, u8, u16, draw_u8);
lemire!(lemire_u16, u16, u32, draw_u16);
lemire!(lemire_u32, u32, u64, draw_u32);

#[inline]
fn draw_u64<R: BitSource>(rng: &mut R, _buf: &mut Buffer) -> u64 {
    rng.next_u64()
}
lemire!(lemire_u64, u64, u128, draw_u64);

macro_rules! bounded_small {
    ($name:ident, $t:ty, $draw:ident, $lemire:ident) => {
        /// One draw in `[off, off + range]` (wrapping), sharing `buf` across a call.
        #[inline]
        pub fn $name<R: BitSource>(rng: &mut R, off: $t, range: $t, buf: &mut Buffer) -> $t {
            if range == 0 {
                off
            } else if range == <$t>::MAX {
                off.wrapping_add($draw(rng, buf))
            } else {
                off.wrapping_add($lemire(rng, range, buf))
            }
        }
    };
}

bounded_small!(bounded_u8, u8, draw_u8, lemire_u8);
bounded_small!(bounded_u16, u16, draw_u16, lemire_u16);
bounded_small!(bounded_u32, u32, draw_u32, lemire_u32);

/// One draw in `[off, off + range]` for 64-bit dtypes (NumPy's `random_bounded_uint64`).
#[inline]
pub fn bounded_u64<R: BitSource>(rng: &mut R, off: u64, range: u64) -> u64 {
    let mut unused = Buffer::default();
    if range == 0 {
        off
    } else if range <= u64::from(u32::MAX) {
        off.wrapping_add(u64::from(bounded_u32(rng, 0, range as u32, &mut unused)))
    } else if range == u64::MAX {
        off.wrapping_add(rng.next_u64())
    } else {
        off.wrapping_add(lemire_u64(rng, range, &mut unused))
    }
}

/// One boolean draw: one bit of a buffered 32-bit word.
#[inline]
pub fn bounded_bool<R: BitSource>(rng: &mut R, off: bool, range: bool, buf: &mut Buffer) -> bool {
    if !range {
        return off;
    }
    buf.take(rng, 31, 1) & 1 == 1
}

/// Lemire's method as a pure function of one 32-bit draw: the value in `[0, range]`, or
/// `None` when the draw is rejected (and the next one must be tried). `range` must be
/// neither 0 nor `u32::MAX`. This is what lets bounded fills run in parallel.
#[inline]
pub fn lemire_u32_accept(range: u32) -> impl Fn(u32) -> Option<u32> + Sync + Send + Copy {
    let excl = range.wrapping_add(1);
    let threshold = (u32::MAX - range) % excl;
    move |draw| {
        let m = u64::from(draw) * u64::from(excl);
        ((m as u32) >= threshold).then_some((m >> 32) as u32)
    }
}

/// [`lemire_u32_accept`] for 64-bit ranges (`range` neither 0 nor `u64::MAX`).
#[inline]
pub fn lemire_u64_accept(range: u64) -> impl Fn(u64) -> Option<u64> + Sync + Send + Copy {
    let excl = range.wrapping_add(1);
    let threshold = (u64::MAX - range) % excl;
    move |draw| {
        let m = u128::from(draw) * u128::from(excl);
        ((m as u64) >= threshold).then_some((m >> 64) as u64)
    }
}

/// Integer lanes the fills are generic over.
pub trait Lane: Copy + Send + Sync {
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, buf: &mut Buffer) -> Self;
}

impl Lane for u64 {
    #[inline]
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, _buf: &mut Buffer) -> Self {
        bounded_u64(rng, off, range)
    }
}
impl Lane for u32 {
    #[inline]
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, buf: &mut Buffer) -> Self {
        bounded_u32(rng, off, range, buf)
    }
}
impl Lane for u16 {
    #[inline]
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, buf: &mut Buffer) -> Self {
        bounded_u16(rng, off, range, buf)
    }
}
impl Lane for u8 {
    #[inline]
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, buf: &mut Buffer) -> Self {
        bounded_u8(rng, off, range, buf)
    }
}
impl Lane for bool {
    #[inline]
    fn draw<R: BitSource>(rng: &mut R, off: Self, range: Self, buf: &mut Buffer) -> Self {
        bounded_bool(rng, off, range, buf)
    }
}

/// Fills `out` with draws in `[off, off + range]`; one buffer for the whole call.
pub fn fill<T: Lane, R: BitSource>(rng: &mut R, off: T, range: T, out: &mut [T]) {
    let mut buf = Buffer::default();
    for slot in out {
        *slot = T::draw(rng, off, range, &mut buf);
    }
}

/// The broadcast form: element `i` is drawn in `[offs[i], offs[i] + ranges[i]]`.
pub fn fill_varying<T: Lane, R: BitSource>(rng: &mut R, offs: &[T], ranges: &[T], out: &mut [T]) {
    let mut buf = Buffer::default();
    for ((slot, &off), &range) in out.iter_mut().zip(offs).zip(ranges) {
        *slot = T::draw(rng, off, range, &mut buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prng::pcg64::Pcg64;
    use crate::prng::seed_sequence::{generate_state_u64, mix_entropy};

    fn numpy_seeded(seed: u32) -> Pcg64 {
        let pool = mix_entropy(&[seed], 4).unwrap();
        let w = generate_state_u64(&pool, 4);
        Pcg64::from_seed_words([w[0], w[1], w[2], w[3]])
    }

    // numpy.random.Generator(PCG64(12345)): integers(0, 1000, 5),
    // integers(-5, 2**40, 3), integers(0, 7, 5, dtype=uint8), in that order.
    #[test]
    fn matches_numpy_vectors() {
        let mut rng = numpy_seeded(12345);
        let mut a = [0_u64; 5];
        fill(&mut rng, 0, 999, &mut a);
        assert_eq!(a, [699, 227, 788, 316, 204]);
        let mut b = [0_u64; 3];
        fill(&mut rng, (-5_i64) as u64, (1_u64 << 40) - 1 + 5, &mut b);
        assert_eq!(
            b.map(|v| v as i64),
            [743_549_873_826, 430_029_498_618, 365_932_783_571]
        );
        let mut c = [0_u8; 5];
        fill(&mut rng, 0, 6, &mut c);
        assert_eq!(c, [3, 0, 0, 5, 4]);
    }

    #[test]
    fn accept_functions_agree_with_the_draw_loop() {
        for range in [1_u32, 2, 999, 1 << 31, u32::MAX - 1] {
            let accept = lemire_u32_accept(range);
            let mut a = numpy_seeded(range);
            let mut b = a;
            let mut buf = Buffer::default();
            for _ in 0..2000 {
                let want = bounded_u32(&mut a, 0, range, &mut buf);
                let got = loop {
                    if let Some(v) = accept(b.next_u32()) {
                        break v;
                    }
                };
                assert_eq!(want, got);
            }
        }
        for range in [1_u64 << 32, (1 << 63) + 12_345, u64::MAX - 1] {
            let accept = lemire_u64_accept(range);
            let mut a = numpy_seeded(7);
            let mut b = a;
            for _ in 0..2000 {
                let want = bounded_u64(&mut a, 0, range);
                let got = loop {
                    if let Some(v) = accept(b.next_u64()) {
                        break v;
                    }
                };
                assert_eq!(want, got);
            }
        }
    }

    #[test]
    fn stays_in_range_for_every_lane() {
        let mut rng = numpy_seeded(1);
        let mut out8 = [0_u8; 1000];
        fill(&mut rng, 10, 5, &mut out8);
        assert!(out8.iter().all(|&v| (10..=15).contains(&v)));
        let mut out16 = [0_u16; 1000];
        fill(&mut rng, 0, u16::MAX, &mut out16);
        let mut out64 = [0_u64; 1000];
        fill(&mut rng, 1 << 63, (1 << 40) + 3, &mut out64);
        assert!(out64
            .iter()
            .all(|&v| ((1 << 63)..=(1 << 63) + (1 << 40) + 3).contains(&v)));
        let mut bools = [false; 100];
        fill(&mut rng, false, true, &mut bools);
        assert!(bools.iter().any(|&b| b) && bools.iter().any(|&b| !b));
    }
}
