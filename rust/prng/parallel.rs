//! Multi-threaded fills of fixed-width streams that stay bit-exact.
//!
//! When every output consumes exactly one 64-bit (or one 32-bit) word, output `i` depends
//! only on the word at position `i`. The output is cut into fixed-size chunks; each chunk
//! starts from the generator advanced (in O(log n)) to its first word. The chunking never
//! depends on the number of threads, so the result is the sequential stream whatever
//! rayon's pool size, and the generator is left exactly where a sequential fill leaves it.

use rayon::prelude::*;

use super::pcg64::Pcg64;
use super::BitSource;

/// Outputs per chunk. Even, so 32-bit chunks start on a word boundary.
pub const CHUNK: usize = 1 << 16;

/// Below this many outputs a single thread is faster than fanning out.
pub const PARALLEL_MIN: usize = 1 << 18;

/// `out[i] = f(word i)` over consecutive 64-bit words.
pub fn fill_u64_words<T, F>(rng: &mut Pcg64, out: &mut [T], f: F)
where
    T: Send,
    F: Fn(u64) -> T + Sync,
{
    if out.len() < PARALLEL_MIN {
        for slot in out.iter_mut() {
            *slot = f(rng.next_u64());
        }
        return;
    }
    let base = *rng;
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk, slots)| {
        let mut local = base.ahead((chunk * CHUNK) as u128);
        for slot in slots.iter_mut() {
            *slot = f(local.next_u64());
        }
    });
    rng.advance_lcg(out.len() as u128);
}

/// `out[i] = f(half-word i)` over the 32-bit stream (low half first, then high), honouring
/// and updating the generator's one-word 32-bit buffer.
pub fn fill_u32_words<T, F>(rng: &mut Pcg64, out: &mut [T], f: F)
where
    T: Send,
    F: Fn(u32) -> T + Sync,
{
    let rest = match out.split_first_mut() {
        Some((first, rest)) if rng.has_uint32 => {
            *first = f(rng.next_u32());
            rest
        }
        _ => out,
    };
    if rest.len() < PARALLEL_MIN {
        for slot in rest.iter_mut() {
            *slot = f(rng.next_u32());
        }
        return;
    }
    let base = *rng;
    let total = rest.len();
    rest.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk, slots)| {
        let mut local = base.ahead((chunk * CHUNK / 2) as u128);
        for pair in slots.chunks_mut(2) {
            let word = local.next_u64();
            pair[0] = f(word as u32);
            if let Some(high) = pair.get_mut(1) {
                *high = f((word >> 32) as u32);
            }
        }
    });
    // Leave the state exactly as the sequential loop would, stale buffer word included:
    // NumPy's state dict exposes `uinteger` even after it has been consumed.
    rng.advance_lcg((total / 2 - 1) as u128);
    let last = rng.next_u64();
    rng.uinteger = (last >> 32) as u32;
    if total % 2 == 1 {
        let word = rng.next_u64();
        rng.has_uint32 = true;
        rng.uinteger = (word >> 32) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Pcg64 {
        Pcg64::from_seed_words([11, 22, 33, 44])
    }

    #[test]
    fn parallel_u64_fill_equals_sequential() {
        let n = PARALLEL_MIN + 12_345;
        let mut seq_rng = seeded();
        let seq: Vec<u64> = (0..n).map(|_| seq_rng.next_u64()).collect();
        let mut par_rng = seeded();
        let mut par = vec![0_u64; n];
        fill_u64_words(&mut par_rng, &mut par, |w| w);
        assert_eq!(seq, par);
        assert_eq!(seq_rng, par_rng);
    }

    #[test]
    fn parallel_u32_fill_equals_sequential_with_buffer_states() {
        for n in [PARALLEL_MIN + 7, PARALLEL_MIN + 8, 5] {
            for pre in [false, true] {
                let mut seq_rng = seeded();
                if pre {
                    seq_rng.next_u32();
                }
                let mut par_rng = seq_rng;
                let seq: Vec<u32> = (0..n).map(|_| seq_rng.next_u32()).collect();
                let mut par = vec![0_u32; n];
                fill_u32_words(&mut par_rng, &mut par, |w| w);
                assert_eq!(seq, par, "n={n} pre={pre}");
                assert_eq!(seq_rng, par_rng, "n={n} pre={pre}");
            }
        }
    }
}
