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
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, slots)| {
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
    rest.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, slots)| {
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

/// Moves each chunk's `produced[k]` leading outputs left so they follow one another;
/// returns how many outputs there are in all.
fn compact<T: Copy>(out: &mut [T], produced: &[usize]) -> usize {
    let mut write = 0;
    for (chunk, &count) in produced.iter().enumerate() {
        let src = chunk * CHUNK;
        if src != write {
            out.copy_within(src..src + count, write);
        }
        write += count;
    }
    write
}

/// Outputs that are a filter-map of the 64-bit word stream: a word either yields a value
/// or is rejected and the next word is tried (Lemire's method on a fixed 64-bit range).
/// Chunks of words are filtered in parallel, compacted, and the rare shortfall left by
/// rejections is drawn sequentially, so the result equals the sequential stream.
pub fn fill_filtered_u64<T, F>(rng: &mut Pcg64, out: &mut [T], f: F)
where
    T: Copy + Send,
    F: Fn(u64) -> Option<T> + Sync,
{
    let mut done = 0;
    if out.len() >= PARALLEL_MIN {
        let base = *rng;
        let produced: Vec<usize> = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(chunk, slots)| {
                let mut local = base.ahead((chunk * CHUNK) as u128);
                let mut count = 0;
                for _ in 0..slots.len() {
                    if let Some(value) = f(local.next_u64()) {
                        slots[count] = value;
                        count += 1;
                    }
                }
                count
            })
            .collect();
        done = compact(out, &produced);
        rng.advance_lcg(out.len() as u128);
    }
    for slot in &mut out[done..] {
        *slot = loop {
            if let Some(value) = f(rng.next_u64()) {
                break value;
            }
        };
    }
}

/// As [`fill_filtered_u64`] over the 32-bit half-word stream, honouring and updating the
/// generator's 32-bit buffer exactly as a sequential fill would.
pub fn fill_filtered_u32<T, F>(rng: &mut Pcg64, out: &mut [T], f: F)
where
    T: Copy + Send,
    F: Fn(u32) -> Option<T> + Sync,
{
    let mut done = 0;
    // Use up a buffered half first, so the parallel part starts on a word boundary.
    while rng.has_uint32 && done < out.len() {
        if let Some(value) = f(rng.next_u32()) {
            out[done] = value;
            done += 1;
        }
    }
    let rest = &mut out[done..];
    let mut filled = 0;
    if rest.len() >= PARALLEL_MIN {
        let base = *rng;
        let produced: Vec<usize> = rest
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(chunk, slots)| {
                let mut local = base.ahead((chunk * CHUNK / 2) as u128);
                let mut count = 0;
                let mut halves = 0;
                while halves < slots.len() {
                    let word = local.next_u64();
                    for half in [word as u32, (word >> 32) as u32] {
                        if halves == slots.len() {
                            break;
                        }
                        halves += 1;
                        if let Some(value) = f(half) {
                            slots[count] = value;
                            count += 1;
                        }
                    }
                }
                count
            })
            .collect();
        filled = compact(rest, &produced);
        let halves = rest.len();
        rng.advance_lcg(((halves - 1) / 2) as u128);
        let last = rng.next_u64();
        rng.uinteger = (last >> 32) as u32;
        rng.has_uint32 = halves % 2 == 1;
    }
    for slot in &mut rest[filled..] {
        *slot = loop {
            if let Some(value) = f(rng.next_u32()) {
                break value;
            }
        };
    }
}

/// One draw of a variable number of words, generic over the word source (a closure
/// cannot be generic, and the counting source must inline as well as the plain one).
pub trait Draw: Sync {
    type Output: Copy + Send;
    fn draw<R: BitSource>(&self, rng: &mut R) -> Self::Output;
}

/// A generator that counts the 64-bit words it has drawn, so a parse knows where it is.
struct Counted {
    rng: Pcg64,
    pos: u128,
}

impl BitSource for Counted {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.pos += 1;
        self.rng.next_u64()
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        if !self.rng.has_uint32 {
            self.pos += 1;
        }
        self.rng.next_u32()
    }
}

/// How many token starts of each chunk are kept for re-synchronisation.
const SYNC_WINDOW: usize = 16;

struct Parsed {
    count: usize,
    starts: Vec<u128>,
    end: u128,
}

/// Draws that usually take one 64-bit word and sometimes more (the ziggurat's rare slow
/// path), filled in parallel and still equal to the sequential stream.
///
/// Every chunk of words is parsed speculatively as if a draw began at its first word. A
/// chunk is right as it stands when the previous chunk's last draw ends exactly at its
/// boundary (almost always); otherwise its parse falls into step with the true one at the
/// first draw both start at the same word, found among the chunk's first recorded draw
/// starts, and in the rare case it does not, the chunk is parsed again from the true
/// position. Outputs are then compacted, and the few still missing are drawn in order.
/// `draw` must use only 64-bit words (`next_u64`/`next_f64`).
pub fn fill_parsed_u64<D: Draw>(rng: &mut Pcg64, out: &mut [D::Output], draw: &D) {
    let mut done = 0;
    if out.len() >= PARALLEL_MIN {
        let base = *rng;
        let parsed: Vec<Parsed> = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(chunk, slots)| {
                let lo = (chunk * CHUNK) as u128;
                let hi = lo + slots.len() as u128;
                let mut source = Counted {
                    rng: base.ahead(lo),
                    pos: lo,
                };
                let mut starts = Vec::with_capacity(SYNC_WINDOW);
                let mut count = 0;
                while source.pos < hi {
                    if starts.len() < SYNC_WINDOW {
                        starts.push(source.pos);
                    }
                    slots[count] = draw.draw(&mut source);
                    count += 1;
                }
                Parsed {
                    count,
                    starts,
                    end: source.pos,
                }
            })
            .collect();
        let mut truth: u128 = 0;
        for (chunk, result) in parsed.iter().enumerate() {
            let lo = chunk * CHUNK;
            let hi = (lo + CHUNK).min(out.len()) as u128;
            if truth >= hi {
                continue; // swallowed whole by one long draw of the chunk before
            }
            let in_step = result.starts.iter().position(|&start| start == truth);
            match in_step {
                Some(skip) => {
                    out.copy_within(lo + skip..lo + result.count, done);
                    done += result.count - skip;
                    truth = result.end;
                }
                None => {
                    let mut source = Counted {
                        rng: base.ahead(truth),
                        pos: truth,
                    };
                    while source.pos < hi {
                        out[done] = draw.draw(&mut source);
                        done += 1;
                    }
                    truth = source.pos;
                }
            }
        }
        rng.advance_lcg(truth);
    }
    for slot in &mut out[done..] {
        *slot = draw.draw(rng);
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

    /// Rejects roughly one word in three, so every chunk needs compaction.
    fn picky(word: u64) -> Option<u64> {
        (word % 3 != 0).then_some(word)
    }

    #[test]
    fn filtered_u64_fill_equals_sequential() {
        let n = PARALLEL_MIN + 999;
        let mut seq_rng = seeded();
        let seq: Vec<u64> = (0..n)
            .map(|_| loop {
                if let Some(v) = picky(seq_rng.next_u64()) {
                    break v;
                }
            })
            .collect();
        let mut par_rng = seeded();
        let mut par = vec![0_u64; n];
        fill_filtered_u64(&mut par_rng, &mut par, picky);
        assert_eq!(seq, par);
        assert_eq!(seq_rng, par_rng);
    }

    #[test]
    fn filtered_u32_fill_equals_sequential() {
        let keep = |half: u32| (half % 5 != 0).then_some(half);
        for n in [PARALLEL_MIN + 3, PARALLEL_MIN + 4, 17] {
            for pre in [false, true] {
                let mut seq_rng = seeded();
                if pre {
                    seq_rng.next_u32();
                }
                let mut par_rng = seq_rng;
                let seq: Vec<u32> = (0..n)
                    .map(|_| loop {
                        if let Some(v) = keep(seq_rng.next_u32()) {
                            break v;
                        }
                    })
                    .collect();
                let mut par = vec![0_u32; n];
                fill_filtered_u32(&mut par_rng, &mut par, keep);
                assert_eq!(seq, par, "n={n} pre={pre}");
                assert_eq!(seq_rng, par_rng, "n={n} pre={pre}");
            }
        }
    }

    /// A parse with long, variable-length draws: word `w` takes `w % 7 == 0 ? 1 + w % 5 : 1`
    /// words, so chunk boundaries are straddled often.
    struct Lumpy;

    impl Draw for Lumpy {
        type Output = u64;
        fn draw<R: BitSource>(&self, rng: &mut R) -> u64 {
            let first = rng.next_u64();
            let mut acc = first;
            if first % 7 == 0 {
                for _ in 0..first % 5 {
                    acc ^= rng.next_u64();
                }
            }
            acc
        }
    }

    #[test]
    fn parsed_fill_equals_sequential() {
        for n in [PARALLEL_MIN + 4321, 100] {
            let mut seq_rng = seeded();
            let seq: Vec<u64> = (0..n).map(|_| Lumpy.draw(&mut seq_rng)).collect();
            let mut par_rng = seeded();
            let mut par = vec![0_u64; n];
            fill_parsed_u64(&mut par_rng, &mut par, &Lumpy);
            assert_eq!(seq, par, "n={n}");
            assert_eq!(seq_rng, par_rng, "n={n}");
        }
    }
}
