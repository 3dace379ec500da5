//! NumPy's `integers(0, n)` index stream, read from any position at full speed.
//!
//! For n ≤ 2³² NumPy draws each index from one 32-bit half of a PCG64 word (low half
//! first) by Lemire's method, rejecting a half whose low product falls under a threshold.
//! Rejections are rare (under n / 2³² per draw), so the stream is generated in blocks of
//! words (four interleaved LCG chains, see [`Pcg64::fill_words`]) and converted without a
//! branch per draw; only a block that holds a rejection takes the draw-by-draw path.

use crate::prng::pcg64::Pcg64;
use crate::prng::BitSource;

/// How a 32-bit half becomes an index, or is rejected.
pub trait Accept: Copy + Send + Sync {
    fn accept(self, half: u32) -> Option<u32>;

    /// Indices for every half, or `false` (leaving `out` partly written) if any half is
    /// rejected.
    fn accept_all(self, halves: &[u32], out: &mut [u32]) -> bool {
        for (slot, &half) in out.iter_mut().zip(halves) {
            match self.accept(half) {
                Some(index) => *slot = index,
                None => return false,
            }
        }
        true
    }
}

/// Lemire's rule for `integers(0, n)`, as NumPy applies it to 32-bit halves.
#[derive(Clone, Copy, Debug)]
pub struct Lemire {
    excl: u32,
    threshold: u32,
}

impl Lemire {
    /// Indices below `n` (2 ≤ n ≤ u32::MAX).
    pub fn below(n: u32) -> Self {
        Lemire {
            excl: n,
            threshold: n.wrapping_neg() % n,
        }
    }

    /// Chance that a half is rejected.
    pub fn rejection_rate(self) -> f64 {
        f64::from(self.threshold) / 4_294_967_296.0
    }
}

impl Accept for Lemire {
    #[inline]
    fn accept(self, half: u32) -> Option<u32> {
        let m = u64::from(half) * u64::from(self.excl);
        ((m as u32) >= self.threshold).then_some((m >> 32) as u32)
    }

    #[inline]
    fn accept_all(self, halves: &[u32], out: &mut [u32]) -> bool {
        let mut low_min = u32::MAX;
        for (slot, &half) in out.iter_mut().zip(halves) {
            let m = u64::from(half) * u64::from(self.excl);
            *slot = (m >> 32) as u32;
            low_min = low_min.min(m as u32);
        }
        low_min >= self.threshold
    }
}

/// Words generated per refill.
const WORDS: usize = 1024;

/// The half-word stream from a given position, buffered.
pub struct HalfStream {
    rng: Pcg64,
    words: Vec<[u32; 2]>,
    at: usize,
}

impl HalfStream {
    /// The stream whose first half is half number `position` after `base`'s state.
    pub fn at(base: &Pcg64, position: u64) -> Self {
        let mut stream = HalfStream {
            rng: base.ahead(u128::from(position / 2)),
            words: vec![[0; 2]; WORDS],
            at: 0,
        };
        stream.refill();
        stream.at = (position % 2) as usize;
        stream
    }

    fn refill(&mut self) {
        self.rng.fill_halves(&mut self.words);
        self.at = 0;
    }

    /// Fills `out` with accepted indices; returns how many halves were rejected.
    pub fn take<A: Accept>(&mut self, accept: A, out: &mut [u32]) -> u64 {
        let mut filled = 0;
        let mut rejected = 0;
        while filled < out.len() {
            if self.at == 2 * WORDS {
                self.refill();
            }
            let k = (out.len() - filled).min(2 * WORDS - self.at);
            let halves = &self.words.as_flattened()[self.at..self.at + k];
            if accept.accept_all(halves, &mut out[filled..filled + k]) {
                self.at += k;
                filled += k;
                continue;
            }
            // A rejection somewhere in this stretch: draw by draw up to its end.
            for &half in halves {
                self.at += 1;
                match accept.accept(half) {
                    Some(index) => {
                        out[filled] = index;
                        filled += 1;
                    }
                    None => rejected += 1,
                }
            }
        }
        rejected
    }

    fn next(&mut self) -> u32 {
        if self.at == 2 * WORDS {
            self.refill();
        }
        self.at += 1;
        self.words.as_flattened()[self.at - 1]
    }

    /// Positions (from here) of the halves rejected before `accepted` draws are accepted.
    pub fn rejections_before<A: Accept>(&mut self, accept: A, accepted: u64) -> Vec<u64> {
        let mut found = self.rejections_among(accept, accepted);
        let mut position = accepted;
        // Each rejection displaced one accepted draw past the scanned stretch.
        let mut missing = found.len();
        while missing > 0 {
            if accept.accept(self.next()).is_none() {
                found.push(position);
            } else {
                missing -= 1;
            }
            position += 1;
        }
        found
    }

    /// Positions (from here) of the rejected halves among the next `count`.
    fn rejections_among<A: Accept>(&mut self, accept: A, mut count: u64) -> Vec<u64> {
        let mut found = Vec::new();
        let mut position = 0_u64;
        let mut scratch = vec![0_u32; 2 * WORDS];
        while count > 0 {
            if self.at == 2 * WORDS {
                self.refill();
            }
            let k = (count.min((2 * WORDS - self.at) as u64)) as usize;
            let halves = &self.words.as_flattened()[self.at..self.at + k];
            if !accept.accept_all(halves, &mut scratch[..k]) {
                let rejects = halves
                    .iter()
                    .enumerate()
                    .filter(|(_, &h)| accept.accept(h).is_none());
                found.extend(rejects.map(|(i, _)| position + i as u64));
            }
            self.at += k;
            position += k as u64;
            count -= k as u64;
        }
        found
    }
}

/// Where the generator stands after `span` halves from `base`: NumPy's state, including
/// the buffered high half when the span is odd.
pub fn state_after(base: &Pcg64, span: u64) -> Pcg64 {
    let mut rng = *base;
    if span > 0 {
        rng.advance_lcg(u128::from((span - 1) / 2));
        let last = rng.next_u64();
        rng.uinteger = (last >> 32) as u32;
        rng.has_uint32 = span % 2 == 1;
    }
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Pcg64 {
        Pcg64::from_seed_words([9, 8, 7, 6])
    }

    #[derive(Clone, Copy)]
    struct EverySeventh;

    impl Accept for EverySeventh {
        fn accept(self, half: u32) -> Option<u32> {
            (half % 7 != 0).then_some(half % 50)
        }
    }

    fn sequential<A: Accept>(rng: &mut Pcg64, accept: A, count: usize) -> (Vec<u32>, u64) {
        let (mut out, mut rejected) = (Vec::new(), 0);
        while out.len() < count {
            match accept.accept(rng.next_u32()) {
                Some(i) => out.push(i),
                None => rejected += 1,
            }
        }
        (out, rejected)
    }

    #[test]
    fn takes_the_sequential_stream_from_any_position() {
        for position in [0_u64, 1, 2, 2047, 2048, 2049, 5001] {
            let mut reference = seeded();
            for _ in 0..position {
                reference.next_u32();
            }
            let mut stream = HalfStream::at(&seeded(), position);
            for (rule, count) in [(0, 3000), (1, 4500)] {
                let mut got = vec![0_u32; count];
                let (want, rejected) = if rule == 0 {
                    let r = stream.take(Lemire::below(1000), &mut got);
                    (sequential(&mut reference, Lemire::below(1000), count), r)
                } else {
                    let r = stream.take(EverySeventh, &mut got);
                    (sequential(&mut reference, EverySeventh, count), r)
                };
                assert_eq!(got, want.0, "position {position}");
                assert_eq!(rejected, want.1);
            }
        }
    }

    #[test]
    fn lemire_rejects_what_numpy_rejects() {
        // n = 3: threshold 2³² mod 3 = 1, so only a zero low product is rejected.
        let rule = Lemire::below(3);
        assert_eq!(rule.accept(0), None);
        assert_eq!(rule.accept(u32::MAX), Some(2));
        assert!(rule.rejection_rate() > 0.0);
        assert_eq!(Lemire::below(1 << 20).rejection_rate(), 0.0);
    }

    #[test]
    fn finds_rejections_at_their_positions() {
        let mut stream = HalfStream::at(&seeded(), 3);
        let found = stream.rejections_before(EverySeventh, 5000);
        let mut rng = seeded();
        for _ in 0..3 {
            rng.next_u32();
        }
        let (mut want, mut accepted, mut position) = (Vec::new(), 0, 0_u64);
        while accepted < 5000 {
            match EverySeventh.accept(rng.next_u32()) {
                Some(_) => accepted += 1,
                None => want.push(position),
            }
            position += 1;
        }
        assert_eq!(found, want);
        assert!(want.len() > 500);
    }

    #[test]
    fn state_after_matches_stepping() {
        for span in [0_u64, 1, 2, 7, 10] {
            let mut rng = seeded();
            for _ in 0..span {
                rng.next_u32();
            }
            assert_eq!(state_after(&seeded(), span), rng, "span {span}");
        }
    }
}
